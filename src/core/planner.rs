//! Putting the core together: from input bytes to a plan.

use super::aws_auth;
use super::diff::sha256_hex;
use super::input::{self, InputError};
use super::plan::{ClusterRef, Plan, Source, Tool, FORMAT_VERSION};
use super::reason::Code;
use super::translate::{self, Options};

/// Where the input came from, for the plan's `source`.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// `file`, `stdin` or `cluster`.
    pub kind: String,
    pub path: Option<String>,
}

/// Plans from the bytes of an aws-auth `ConfigMap`, with no cluster at hand.
pub fn plan_offline(bytes: &[u8], source: SourceInfo, opts: &Options) -> Result<Plan, InputError> {
    let text = input::decode(bytes)?;
    let data = input::locate(text)?;
    let auth = aws_auth::parse(&data);
    let t = translate::translate(&auth, opts);
    let mut notices = data.notices.clone();
    notices.extend(t.notices);
    // A repeated key goes unremarked by the authenticator: say so where
    // every format shows it, not only in the row's reasons (JSON).
    for row in &auth.rows {
        for n in row.notes.iter().filter(|n| n.code == Code::DuplicateKey) {
            let at = row.location().map(|l| format!(", {l}")).unwrap_or_default();
            notices.push(format!(
                "{} #{}{at}: {}",
                row.section,
                row.index + 1,
                n.message
            ));
        }
    }
    let mut plan = Plan {
        format_version: FORMAT_VERSION.to_string(),
        tool: Tool::default(),
        source: Source {
            kind: source.kind,
            path: source.path,
            sha256: sha256_hex(bytes),
            resource_version: data.resource_version.clone(),
        },
        cluster: ClusterRef {
            name: None,
            region: None,
            account: t.account,
            partition: t.partition,
            account_source: t.account_source,
            authentication_mode: None,
        },
        allow_lossy: opts.allow_lossy,
        sections: auth.sections,
        notices,
        mappings: t.mappings,
        entries: t.entries,
        summary: Default::default(),
        existing: None,
        lockout: None,
        fingerprint: None,
        digest: None,
        access: None,
    };
    plan.summarize();
    Ok(plan)
}
