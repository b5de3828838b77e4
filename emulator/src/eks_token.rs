//! Checking an EKS bearer token as the API server's authenticator does:
//! `k8s-aws-v1.` + base64url of a presigned STS `GetCallerIdentity` URL.
//! The URL must be GetCallerIdentity at path `/`, valid for at most 15
//! minutes and signed less than 15 minutes ago, and its signed headers must
//! include `x-k8s-aws-id`. The client sent that header when it signed, but
//! it is not in the URL: the signature is recomputed with the header set to
//! this cluster's name, so a token minted for another cluster does not
//! match. Where EKS would then call STS with the URL, the emulator checks
//! the signature itself with the access key's secret, and answers with the
//! key's identity.

use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The token's prefix.
pub(crate) const PREFIX: &str = "k8s-aws-v1.";

/// The header naming the cluster.
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// How long a token is accepted after it was signed (and the longest
/// `X-Amz-Expires` accepted), in seconds.
const MAX_AGE: i64 = 900;

/// Checks `token` for cluster `cluster` at `now`; `sts_host` is the STS
/// endpoint's `host:port` the URL must name (EKS calls only STS; here the
/// emulator itself); `secret_of` gives an access key's secret (None:
/// unknown key). Returns the access key id.
pub(crate) fn verify(
    token: &str,
    cluster: &str,
    sts_host: &str,
    now: DateTime<Utc>,
    secret_of: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let encoded = token
        .strip_prefix(PREFIX)
        .ok_or("the token is not k8s-aws-v1.")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| "the token is not base64url")?;
    let url = String::from_utf8(bytes).map_err(|_| "the token is not a URL")?;
    let (scheme, rest) = url.split_once("://").ok_or("the token is not a URL")?;
    let (authority, path_query) = rest.split_at(rest.find('/').ok_or("the URL has no path")?);
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    if authority != sts_host {
        return Err(format!("the URL is not for STS at {sts_host}"));
    }
    if path != "/" {
        return Err(format!("the URL's path is {path:?}, not /"));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(format!("the URL has no {name}"))
    };
    if get("Action")? != "GetCallerIdentity" {
        return Err("the URL is not GetCallerIdentity".into());
    }
    if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err("the URL is not signed with AWS4-HMAC-SHA256".into());
    }
    let expires: i64 = get("X-Amz-Expires")?
        .parse()
        .map_err(|_| "X-Amz-Expires is not a number")?;
    if !(1..=MAX_AGE).contains(&expires) {
        return Err(format!("X-Amz-Expires {expires} is over {MAX_AGE} seconds"));
    }
    let amz_date = get("X-Amz-Date")?;
    let signed_at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| "X-Amz-Date is not a date")?
        .and_utc();
    let age = (now - signed_at).num_seconds();
    if age > MAX_AGE {
        return Err(format!("the token has expired (signed {age} s ago)"));
    }
    if age < -MAX_AGE {
        return Err("the token is signed in the future".into());
    }
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&CLUSTER_ID_HEADER) {
        return Err(format!("{CLUSTER_ID_HEADER} is not a signed header"));
    }
    let host = default_port_stripped(scheme, authority);
    let mut canonical_headers = String::new();
    for name in &names {
        let value = match *name {
            "host" => host,
            CLUSTER_ID_HEADER => cluster,
            other => return Err(format!("cannot check the signed header {other}")),
        };
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let credential = get("X-Amz-Credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, "sts", "aws4_request"] = scope.as_slice() else {
        return Err(format!(
            "X-Amz-Credential {credential:?} is not KEY/DATE/REGION/sts/aws4_request"
        ));
    };
    let secret = secret_of(key).ok_or_else(|| format!("the access key {key} is not known"))?;
    let mut sorted: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    sorted.sort();
    let canonical_query: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical = format!(
        "GET\n/\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        canonical_query.join("&"),
        hex(&Sha256::digest(b""))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/sts/aws4_request\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region.as_bytes(), b"sts", b"aws4_request"] {
        k = hmac(&k, part);
    }
    let want = hex(&hmac(&k, string_to_sign.as_bytes()));
    if get("X-Amz-Signature")? != want {
        return Err(format!(
            "the signature does not match (a token of another cluster than {cluster}, or a wrong secret)"
        ));
    }
    Ok((*key).to_string())
}

/// `host[:port]` as signed: without the scheme's default port.
fn default_port_stripped<'a>(scheme: &str, authority: &'a str) -> &'a str {
    match scheme {
        "http" => authority.strip_suffix(":80").unwrap_or(authority),
        "https" => authority.strip_suffix(":443").unwrap_or(authority),
        _ => authority,
    }
}

/// `SigV4`'s encoding: all but RFC 3986's unreserved characters.
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length.
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AKIDEXAMPLE";
    const SECRET: &str = "secret";
    const HOST: &str = "127.0.0.1:4566";

    /// Signs a token as the product does (an independent copy of the
    /// algorithm, with a fixed time).
    fn mint(cluster: &str, signed_at: DateTime<Utc>, expires: u32, secret: &str) -> String {
        let amz_date = signed_at.format("%Y%m%dT%H%M%SZ").to_string();
        let date = &amz_date[..8];
        let host = HOST;
        let mut params = [
            ("Action".to_string(), "GetCallerIdentity".to_string()),
            ("Version".into(), "2011-06-15".into()),
            ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
            (
                "X-Amz-Credential".into(),
                format!("{KEY}/{date}/eu-west-1/sts/aws4_request"),
            ),
            ("X-Amz-Date".into(), amz_date.clone()),
            ("X-Amz-Expires".into(), expires.to_string()),
            ("X-Amz-SignedHeaders".into(), "host;x-k8s-aws-id".into()),
        ];
        params.sort();
        let q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
            .collect();
        let q = q.join("&");
        let canonical = format!(
            "GET\n/\n{q}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{}",
            hex(&Sha256::digest(b""))
        );
        let sts = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{date}/eu-west-1/sts/aws4_request\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        for part in [b"eu-west-1".as_slice(), b"sts", b"aws4_request"] {
            k = hmac(&k, part);
        }
        let sig = hex(&hmac(&k, sts.as_bytes()));
        let url = format!("http://{host}/?{q}&X-Amz-Signature={sig}");
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    fn secrets(key: &str) -> Option<String> {
        (key == KEY).then(|| SECRET.to_string())
    }

    #[test]
    fn a_fresh_token_for_the_cluster_is_accepted() {
        let now = Utc::now();
        let t = mint("prod", now, 60, SECRET);
        assert_eq!(verify(&t, "prod", HOST, now, secrets), Ok(KEY.to_string()));
        // Still good 14 minutes later (EKS ignores the 60 s of X-Amz-Expires).
        let later = now + chrono::Duration::minutes(14);
        assert!(verify(&t, "prod", HOST, later, secrets).is_ok());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let now = Utc::now();
        let t = mint("prod", now - chrono::Duration::minutes(16), 60, SECRET);
        let e = verify(&t, "prod", HOST, now, secrets).unwrap_err();
        assert!(e.contains("expired"), "{e}");
        let t = mint("prod", now, 901, SECRET);
        assert!(verify(&t, "prod", HOST, now, secrets)
            .unwrap_err()
            .contains("X-Amz-Expires"));
    }

    #[test]
    fn a_token_for_another_sts_host_is_refused() {
        let now = Utc::now();
        let t = mint("prod", now, 60, SECRET);
        let e = verify(&t, "prod", "127.0.0.1:1", now, secrets).unwrap_err();
        assert!(e.contains("not for STS"), "{e}");
    }

    #[test]
    fn another_clusters_token_is_refused() {
        let now = Utc::now();
        let t = mint("staging", now, 60, SECRET);
        let e = verify(&t, "prod", HOST, now, secrets).unwrap_err();
        assert!(e.contains("signature does not match"), "{e}");
    }

    #[test]
    fn a_wrong_secret_an_unknown_key_or_garbage_is_refused() {
        let now = Utc::now();
        let t = mint("prod", now, 60, "other");
        assert!(verify(&t, "prod", HOST, now, secrets).is_err());
        let t = mint("prod", now, 60, SECRET);
        assert!(verify(&t, "prod", HOST, now, |_| None)
            .unwrap_err()
            .contains("not known"));
        assert!(verify("k8s-aws-v1.!!!", "prod", HOST, now, secrets).is_err());
        assert!(verify("eks-emulator-token", "prod", HOST, now, secrets).is_err());
    }
}
