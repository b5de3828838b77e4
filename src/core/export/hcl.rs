//! A small HCL model and its printer, for the Terraform renderers: they
//! build a [`Body`], [`super::check`] checks it, [`print`] writes it.
//! The printer follows `terraform fmt`'s layout (two-space indent, `=`
//! aligned over runs of one-line attributes) and escapes every string.

/// A file or a block's body.
pub(crate) type Body = Vec<Item>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// One `#` line per line of the text.
    Comment(String),
    Blank,
    Attr(String, Expr),
    Block(Block),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) kind: String,
    pub(crate) labels: Vec<String>,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A literal string (escaped when printed).
    Str(String),
    /// A quoted template: literal text and `${...}` references.
    Template(Vec<Piece>),
    /// A reference or keyword, printed as is (`var.cluster_name`).
    Ref(String),
    List(Vec<Expr>),
    /// An object, one attribute a line (comments and blank lines allowed).
    Object(Body),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(String),
    Ref(String),
}

impl Expr {
    pub(crate) fn str(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }

    /// The string value, with each reference of a template written as
    /// `${ref}` (for checks).
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Expr::Str(s) => Some(s.clone()),
            Expr::Template(parts) => Some(
                parts
                    .iter()
                    .map(|p| match p {
                        Piece::Lit(s) => s.clone(),
                        Piece::Ref(r) => format!("${{{r}}}"),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// The attributes of a body, in order.
pub(crate) fn attrs(body: &Body) -> impl Iterator<Item = (&str, &Expr)> {
    body.iter().filter_map(|i| match i {
        Item::Attr(k, v) => Some((k.as_str(), v)),
        _ => None,
    })
}

/// The first attribute of that name.
pub(crate) fn get<'a>(body: &'a Body, name: &str) -> Option<&'a Expr> {
    attrs(body).find(|(k, _)| *k == name).map(|(_, v)| v)
}

impl Block {
    pub(crate) fn new(kind: &str, labels: &[&str], body: Body) -> Block {
        Block {
            kind: kind.into(),
            labels: labels.iter().map(|l| (*l).to_string()).collect(),
            body,
        }
    }

    /// The first attribute of that name.
    pub(crate) fn attr(&self, name: &str) -> Option<&Expr> {
        get(&self.body, name)
    }
}

/// Adds a comment of several lines; control characters become spaces.
pub(crate) fn comment(text: &str) -> Item {
    Item::Comment(text.to_string())
}

/// HCL's quoted-string escapes, and `$${`/`%%{` for template openers.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// `"..."` with escapes.
pub(crate) fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// True for a name HCL takes bare as an object key or label-free attribute.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Prints a file body.
pub(crate) fn print(body: &Body) -> String {
    let mut out = String::new();
    print_body(&mut out, body, 0);
    out
}

fn print_body(out: &mut String, body: &Body, depth: usize) {
    let pad = "  ".repeat(depth);
    let mut i = 0;
    while i < body.len() {
        match &body[i] {
            Item::Comment(text) => {
                for line in text.lines() {
                    let line: String = line
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect();
                    let line = line.trim_end();
                    if line.is_empty() {
                        out.push_str(&format!("{pad}#\n"));
                    } else {
                        out.push_str(&format!("{pad}# {line}\n"));
                    }
                }
                i += 1;
            }
            Item::Blank => {
                out.push('\n');
                i += 1;
            }
            Item::Block(b) => {
                print_block(out, b, depth);
                i += 1;
            }
            Item::Attr(..) => {
                // A run of one-line attributes shares one `=` column.
                let mut run = Vec::new();
                while let Some(Item::Attr(k, v)) = body.get(i) {
                    if !one_line(v) {
                        break;
                    }
                    run.push((k, v));
                    i += 1;
                }
                if run.is_empty() {
                    if let Some(Item::Attr(k, v)) = body.get(i) {
                        out.push_str(&format!("{pad}{} = ", key(k)));
                        print_expr(out, v, depth);
                        out.push('\n');
                    }
                    i += 1;
                    continue;
                }
                let width = run.iter().map(|(k, _)| key(k).len()).max().unwrap_or(0);
                for (k, v) in run {
                    out.push_str(&format!("{pad}{:<width$} = ", key(k)));
                    print_expr(out, v, depth);
                    out.push('\n');
                }
            }
        }
    }
}

fn print_block(out: &mut String, b: &Block, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&pad);
    out.push_str(&b.kind);
    for l in &b.labels {
        out.push(' ');
        out.push_str(&quote(l));
    }
    if b.body.is_empty() {
        out.push_str(" {}\n");
        return;
    }
    out.push_str(" {\n");
    print_body(out, &b.body, depth + 1);
    out.push_str(&pad);
    out.push_str("}\n");
}

fn key(k: &str) -> String {
    if is_identifier(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

fn one_line(e: &Expr) -> bool {
    match e {
        Expr::Object(fields) => fields.is_empty(),
        Expr::List(items) => items.iter().all(one_line),
        _ => true,
    }
}

fn print_expr(out: &mut String, e: &Expr, depth: usize) {
    match e {
        Expr::Str(s) => out.push_str(&quote(s)),
        Expr::Template(parts) => {
            out.push('"');
            for p in parts {
                match p {
                    Piece::Lit(s) => out.push_str(&escape(s)),
                    Piece::Ref(r) => {
                        out.push_str("${");
                        out.push_str(r);
                        out.push('}');
                    }
                }
            }
            out.push('"');
        }
        Expr::Ref(r) => out.push_str(r),
        Expr::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                print_expr(out, item, depth);
            }
            out.push(']');
        }
        Expr::Object(body) => {
            if body.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            print_body(out, body, depth + 1);
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("${x} %{if} $x %x"), "$${x} %%{if} $x %x");
        assert_eq!(escape("$${"), "$$${");
        assert_eq!(escape("a\nb\u{1}"), "a\\nb\\u0001");
        assert_eq!(escape("{{SessionName}}"), "{{SessionName}}");
    }

    #[test]
    fn attributes_align_in_runs() {
        let body = vec![Item::Block(Block::new(
            "resource",
            &["t", "n"],
            vec![
                Item::Attr("a".into(), Expr::str("1")),
                Item::Attr("long_name".into(), Expr::Ref("var.x".into())),
                Item::Attr(
                    "obj".into(),
                    Expr::Object(vec![Item::Attr(
                        "k".into(),
                        Expr::List(vec![Expr::str("v")]),
                    )]),
                ),
                Item::Attr("b".into(), Expr::str("2")),
            ],
        ))];
        assert_eq!(
            print(&body),
            "resource \"t\" \"n\" {\n  a         = \"1\"\n  long_name = var.x\n  obj = {\n    k = [\"v\"]\n  }\n  b = \"2\"\n}\n"
        );
    }
}
