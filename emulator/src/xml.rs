//! The AWS query protocol's XML: escaping, the response envelope and the error shape.

use crate::error::ApiError;

/// Escape text for an XML element.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<tag>escaped</tag>`
pub(crate) fn el(tag: &str, text: &str) -> String {
    format!("<{tag}>{}</{tag}>", esc(text))
}

/// `<ActionResponse xmlns=..><ActionResult>inner</ActionResult><ResponseMetadata>..`
pub(crate) fn envelope(
    action: &str,
    namespace: &str,
    result_inner: &str,
    request_id: &str,
) -> String {
    format!(
        "<{action}Response xmlns=\"{namespace}\"><{action}Result>{result_inner}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        esc(request_id)
    )
}

/// The query-protocol error document.
pub(crate) fn error_document(err: &ApiError, request_id: &str) -> String {
    let kind = if err.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse><Error><Type>{kind}</Type>{}{}</Error>{}</ErrorResponse>",
        el("Code", &err.code),
        el("Message", &err.message),
        el("RequestId", request_id)
    )
}

/// Value of a form parameter.
pub(crate) fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        let e = ApiError::new(404, "NoSuchEntity", "x");
        assert_eq!(
            error_document(&e, "r"),
            "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>x</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        );
    }
}
