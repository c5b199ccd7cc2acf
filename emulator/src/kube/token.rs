//! EKS bearer tokens, checked the way STS and the AWS IAM authenticator
//! check them: the token is `k8s-aws-v1.` + base64url of a presigned STS
//! GetCallerIdentity URL; its SigV4 signature must cover the `host` and
//! `x-k8s-aws-id` headers, with `x-k8s-aws-id` = this cluster's name. The
//! cluster name is not in the URL, so only a signature check can tie a
//! token to a cluster: the emulator recomputes it with the secret of the
//! access key, as STS would. Known keys: `EKS_EMULATOR_CREDENTIALS`
//! (`AKID:SECRET,...`), default `test:test,testing:testing` (the moto
//! conventions). As aws-iam-authenticator's `pkg/token/token.go` checks
//! them: `X-Amz-Expires` must be 0–900, and a token is valid for 15
//! minutes after `X-Amz-Date` whatever `X-Amz-Expires` says (plus 5
//! minutes of clock skew for a date in the future).
//!
//! This module owns the token format, its SigV4 check and `presign` (for
//! tests and tools); the HTTP handlers ([`super::http`]) only call [`verify`].

use base64::Engine;
use ring::{digest, hmac};
use std::collections::BTreeMap;

/// Largest `X-Amz-Expires` accepted (aws-iam-authenticator
/// `pkg/token/token.go`: `expires < 0 || expires > 900` is refused).
pub const MAX_EXPIRES_SECS: u64 = 900;
/// How long a token is good for after its `X-Amz-Date`, whatever its
/// `X-Amz-Expires` says (token.go: `presignedURLExpiration = 15 *
/// time.Minute`, "presigned STS urls are valid for 15 minutes after
/// timestamp in x-amz-date").
pub const VALIDITY_SECS: u64 = 15 * 60;
/// A token dated this far in the future is still taken: the authenticator
/// does not look, STS (which checks the signature) allows SigV4's clock
/// skew. The emulator's reading; not from token.go.
const SKEW_SECS: u64 = 5 * 60;

/// Why a token was refused (logged, never sent to the client).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// No `Authorization: Bearer k8s-aws-v1.…` header.
    #[error("no EKS bearer token")]
    Missing,
    /// Not base64url of a URL.
    #[error("the token is not base64url of a URL")]
    Encoding,
    /// Not a presigned STS GetCallerIdentity URL.
    #[error("not a presigned STS GetCallerIdentity URL: {0}")]
    NotGetCallerIdentity(String),
    /// Outside its validity.
    #[error("the token is expired or not yet valid")]
    Expired,
    /// The access key is not known.
    #[error("unknown access key {0}")]
    UnknownKey(String),
    /// The signature does not match (wrong cluster, wrong secret, tampered).
    #[error("the signature does not match (a token for another cluster, or a wrong secret)")]
    Signature,
}

/// Seconds since the epoch now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn secret_of(akid: &str) -> Option<String> {
    let list = std::env::var("EKS_EMULATOR_CREDENTIALS")
        .unwrap_or_else(|_| "test:test,testing:testing".to_owned());
    list.split(',')
        .filter_map(|p| p.split_once(':'))
        .find(|(k, _)| k.trim() == akid)
        .map(|(_, s)| s.trim().to_owned())
}

/// AWS URI encoding (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYYMMDDTHHMMSSZ` → epoch seconds.
fn parse_amz_date(s: &str) -> Option<u64> {
    if s.len() != 16 || !s.ends_with('Z') || s.as_bytes().get(8) != Some(&b'T') {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (hh, mm, ss) = (n(9, 11)?, n(11, 13)?, n(13, 15)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The signature of a GET of `host` `/` with `query` (without the
/// signature) and the signed headers host and x-k8s-aws-id.
fn signature(
    secret: &str,
    host: &str,
    cluster: &str,
    query: &BTreeMap<String, String>,
    payload_hash: &str,
) -> Option<String> {
    let credential = query.get("X-Amz-Credential")?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [_, date, region, service, "aws4_request"] = parts.as_slice() else {
        return None;
    };
    let amz_date = query.get("X-Amz-Date")?;
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "GET\n/\n{canonical_query}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{payload_hash}"
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    let k = hmac(&k, "aws4_request");
    Some(hex(&hmac(&k, &to_sign)))
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Checks an `Authorization` header value for `cluster` at `now`.
pub fn verify(auth: Option<&str>, cluster: &str, now: u64) -> Result<(), TokenError> {
    let token = auth
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| t.trim().strip_prefix("k8s-aws-v1."))
        .ok_or(TokenError::Missing)?;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(TokenError::Encoding)?;
    let not = |why: &str| TokenError::NotGetCallerIdentity(why.to_owned());
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| not("not https"))?;
    let (host, path_query) = rest.split_once('/').ok_or_else(|| not("no path"))?;
    let query_text = path_query
        .strip_prefix('?')
        .ok_or_else(|| not("path is not /"))?;
    let sts_host = host == "sts.amazonaws.com"
        || (host.starts_with("sts.")
            && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")));
    if !sts_host {
        return Err(not("not an STS host"));
    }
    let mut query: BTreeMap<String, String> = query_text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let get = |k: &str| query.get(k).map(String::as_str);
    if get("Action") != Some("GetCallerIdentity") {
        return Err(not("Action is not GetCallerIdentity"));
    }
    if get("Version") != Some("2011-06-15") {
        return Err(not("Version is not 2011-06-15"));
    }
    if get("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err(not("not signed with AWS4-HMAC-SHA256"));
    }
    if get("X-Amz-SignedHeaders") != Some("host;x-k8s-aws-id") {
        return Err(not("the signed headers are not host;x-k8s-aws-id"));
    }
    let credential = get("X-Amz-Credential").ok_or_else(|| not("no credential"))?;
    let akid = credential.split('/').next().unwrap_or_default().to_owned();
    if credential.split('/').nth(3) != Some("sts") {
        return Err(not("not signed for sts"));
    }
    let date = get("X-Amz-Date")
        .and_then(parse_amz_date)
        .ok_or_else(|| not("bad X-Amz-Date"))?;
    // aws-iam-authenticator pkg/token/token.go: "We validate
    // x-amz-expires is between 0 and 15 minutes (900 seconds) although
    // currently pre-signed STS URLs, and therefore tokens, expire
    // exactly 15 minutes after the x-amz-date header, regardless of
    // x-amz-expires."
    let expires = get("X-Amz-Expires").unwrap_or_default();
    if !expires.parse::<u64>().is_ok_and(|e| e <= MAX_EXPIRES_SECS) {
        return Err(not(&format!(
            "invalid X-Amz-Expires parameter in pre-signed URL: {expires}"
        )));
    }
    if now + SKEW_SECS < date || now > date + VALIDITY_SECS {
        return Err(TokenError::Expired);
    }
    let given = query
        .remove("X-Amz-Signature")
        .ok_or_else(|| not("no signature"))?;
    let secret = secret_of(&akid).ok_or(TokenError::UnknownKey(akid))?;
    let matches = [EMPTY_SHA256, "UNSIGNED-PAYLOAD"].iter().any(|payload| {
        signature(&secret, host, cluster, &query, payload).as_deref() == Some(given.as_str())
    });
    if matches {
        Ok(())
    } else {
        Err(TokenError::Signature)
    }
}

/// Makes a token as `aws eks get-token` does (for tests and tools).
pub fn presign(
    akid: &str,
    secret: &str,
    region: &str,
    cluster: &str,
    now: u64,
    expires: u64,
) -> String {
    let host = format!("sts.{region}.amazonaws.com");
    let amz_date = amz_date(now);
    let mut query: BTreeMap<String, String> = [
        ("Action", "GetCallerIdentity".to_owned()),
        ("Version", "2011-06-15".to_owned()),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        (
            "X-Amz-Credential",
            format!("{akid}/{}/{region}/sts/aws4_request", &amz_date[..8]),
        ),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires.to_string()),
        ("X-Amz-SignedHeaders", "host;x-k8s-aws-id".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let sig = signature(secret, &host, cluster, &query, EMPTY_SHA256).unwrap_or_default();
    query.insert("X-Amz-Signature".to_owned(), sig);
    let q = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let url = format!("https://{host}/?{q}");
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn bearer(t: &str) -> String {
        format!("Bearer {t}")
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(amz_date(NOW), "20231114T221320Z");
        assert_eq!(parse_amz_date("20231114T221320Z"), Some(NOW));
        assert_eq!(parse_amz_date("2023-11-14"), None);
    }

    #[test]
    fn a_token_is_good_for_its_cluster_only() {
        let t = presign("test", "test", "us-east-1", "prod", NOW, 60);
        assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 10), Ok(()));
        assert_eq!(
            verify(Some(&bearer(&t)), "dev", NOW + 10),
            Err(TokenError::Signature)
        );
        // X-Amz-Expires (60) does not shorten it: 15 minutes from
        // X-Amz-Date, as aws-iam-authenticator has it.
        assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 61), Ok(()));
        assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 900), Ok(()));
        assert_eq!(
            verify(Some(&bearer(&t)), "prod", NOW + 901),
            Err(TokenError::Expired)
        );
        let wrong_secret = presign("test", "nope", "us-east-1", "prod", NOW, 60);
        assert_eq!(
            verify(Some(&bearer(&wrong_secret)), "prod", NOW),
            Err(TokenError::Signature)
        );
        let unknown = presign("AKIAOTHER", "x", "us-east-1", "prod", NOW, 60);
        assert!(matches!(
            verify(Some(&bearer(&unknown)), "prod", NOW),
            Err(TokenError::UnknownKey(_))
        ));
    }

    #[test]
    fn x_amz_expires_over_900_is_refused() {
        let t = presign("test", "test", "us-east-1", "prod", NOW, 900);
        assert_eq!(verify(Some(&bearer(&t)), "prod", NOW + 10), Ok(()));
        let t = presign("test", "test", "us-east-1", "prod", NOW, 901);
        assert!(matches!(
            verify(Some(&bearer(&t)), "prod", NOW + 10),
            Err(TokenError::NotGetCallerIdentity(why)) if why.contains("X-Amz-Expires")
        ));
        let t = presign("test", "test", "us-east-1", "prod", NOW, 3600);
        assert!(verify(Some(&bearer(&t)), "prod", NOW + 10).is_err());
    }

    #[test]
    fn only_get_caller_identity_counts() {
        let url = "https://sts.us-east-1.amazonaws.com/?Action=AssumeRole&Version=2011-06-15";
        let t = format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        );
        assert!(matches!(
            verify(Some(&bearer(&t)), "prod", NOW),
            Err(TokenError::NotGetCallerIdentity(_))
        ));
        let evil = "https://evil.example.com/?Action=GetCallerIdentity";
        let t = format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(evil)
        );
        assert!(verify(Some(&bearer(&t)), "prod", NOW).is_err());
        assert_eq!(verify(None, "prod", NOW), Err(TokenError::Missing));
        assert_eq!(
            verify(Some("Bearer k8s-aws-v1.!!!"), "prod", NOW),
            Err(TokenError::Encoding)
        );
    }
}
