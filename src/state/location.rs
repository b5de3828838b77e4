//! `--state`: a local directory, or `s3://BUCKET/PREFIX[?region=REGION]`.

use std::path::PathBuf;

use super::StateError;

/// Where the state lives, as `--state` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Local(PathBuf),
    S3(S3Location),
}

/// A bucket and a key prefix (empty, or ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Location {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
    /// The bucket's region (`?region=`), else the credential chain's.
    pub(crate) region: Option<String>,
}

impl S3Location {
    /// The full key of `rel` under the prefix.
    pub(crate) fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    pub(crate) fn url(&self, rel: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(rel))
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Parses `--state`: `s3://` URLs are S3, anything else a directory.
pub(crate) fn parse(text: &str) -> Result<Location, StateError> {
    let Some(rest) = text.strip_prefix("s3://") else {
        if text.contains("://") {
            return Err(StateError::BadUrl {
                url: text.to_string(),
                why: "only s3:// URLs and local directories are state backends".into(),
            });
        }
        return Ok(Location::Local(PathBuf::from(text)));
    };
    let bad = |why: &str| StateError::BadUrl {
        url: text.to_string(),
        why: why.to_string(),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    if !valid_bucket(bucket) {
        return Err(bad(
            "the bucket name must be 3 to 63 lowercase letters, digits, dots or hyphens",
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|p| p == "." || p == "..") {
        return Err(bad("the prefix may not contain . or .. segments"));
    }
    let mut region = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("region", r)) if !r.is_empty() => region = Some(r.to_string()),
            _ => return Err(bad("the only option is ?region=REGION")),
        }
    }
    Ok(Location::S3(S3Location {
        bucket: bucket.to_string(),
        prefix: if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
        region,
    }))
}

fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_and_directories() {
        assert_eq!(
            parse("s3://fleet-state/migrations/prod/").unwrap(),
            Location::S3(S3Location {
                bucket: "fleet-state".into(),
                prefix: "migrations/prod/".into(),
                region: None,
            })
        );
        assert_eq!(
            parse("s3://fleet-state?region=eu-west-1").unwrap(),
            Location::S3(S3Location {
                bucket: "fleet-state".into(),
                prefix: String::new(),
                region: Some("eu-west-1".into()),
            })
        );
        assert_eq!(
            parse("/var/lib/state").unwrap(),
            Location::Local(PathBuf::from("/var/lib/state"))
        );
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("gs://bucket/x", "only s3:// URLs"),
            ("s3://Bucket/x", "bucket name"),
            ("s3://ab", "bucket name"),
            ("s3://bucket/a/../b", ". or .."),
            ("s3://bucket/x?acl=private", "?region="),
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn keys_sit_under_the_prefix() {
        let Location::S3(s) = parse("s3://fleet-state/team").unwrap() else {
            panic!("not s3")
        };
        assert_eq!(s.key("locks/a.lock"), "team/locks/a.lock");
        assert_eq!(s.url("journals/j"), "s3://fleet-state/team/journals/j");
    }
}
