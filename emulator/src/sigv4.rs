//! Reading (not verifying) the `SigV4` `Authorization` header: who signed, for
//! which region and service.

/// The credential scope of a `SigV4` signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

/// Parse `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
pub(crate) fn parse_authorization(header: &str) -> Option<Scope> {
    let rest = header.trim().strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut parts = credential.split('/');
    let access_key_id = parts.next()?.to_string();
    let date = parts.next()?.to_string();
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    if parts.next()? != "aws4_request" || access_key_id.is_empty() {
        return None;
    }
    Some(Scope {
        access_key_id,
        date,
        region,
        service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let s = parse_authorization(h).expect("scope");
        assert_eq!(s.access_key_id, "AKIDEXAMPLE");
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.service, "eks");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_authorization("Bearer x"), None);
        assert_eq!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b"), None);
        assert_eq!(parse_authorization(""), None);
    }
}
