//! The IAM checks EKS makes on a pod identity association's role: the role
//! exists (and is visible yet), and its trust policy lets
//! `pods.eks.amazonaws.com` call `sts:AssumeRole` (and, in strict mode,
//! `sts:TagSession`).
//!
//! This module owns the IAM query-protocol client (GetRole against the
//! configured endpoint, normally moto), the reading of its XML answer, the
//! trust-policy evaluation, the memory of trust policies read (for the
//! trust-rewrite delay) and the EKS errors of a refused role. It does not
//! know the emulator's state: the operations pass in what the faults and
//! strict mode ask for.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

use crate::error::{ApiError, Code};
use crate::ids::{now_epoch, parse_role_arn};

/// The service principal pod identity uses.
pub const PODS_PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// The PassRole rule, checked before anything else and without IAM: the
/// role must be in the cluster's account (FACTS.md F3: EKS uses
/// `iam:PassRole`, "requiring both the role and the identity passing it to
/// be in the same AWS account as the EKS cluster"). An empty ARN has no
/// account either: EKS answers it the same way (FACTS.md F2, #30645).
/// Any other malformed ARN passes here and is refused by the format check.
pub fn check_pass_role(account: &str, role_arn: &str) -> Result<(), ApiError> {
    if role_arn.is_empty() {
        return Err(ApiError::cross_account_pass_role());
    }
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    let foreign = matches!(parts.as_slice(), ["arn", _, "iam", "", acct, _]
        if acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) && *acct != account);
    if foreign {
        return Err(ApiError::cross_account_pass_role());
    }
    Ok(())
}

/// Time allowed for one IAM call.
const IAM_TIMEOUT: Duration = Duration::from_secs(10);

/// Failures talking to IAM.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// The request could not be built.
    #[error("building the IAM request")]
    Request(#[source] hyper::http::Error),
    /// The endpoint could not be reached.
    #[error("calling IAM at {endpoint}")]
    Transport {
        /// The endpoint.
        endpoint: String,
        /// The cause.
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// The body could not be read.
    #[error("reading the IAM response")]
    Body(#[source] hyper::Error),
    /// The call timed out.
    #[error("IAM did not answer within {0:?}")]
    Timeout(Duration),
    /// IAM answered with an unexpected error.
    #[error("IAM returned HTTP {status}: {code}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// The error code in the body.
        code: String,
    },
}

/// A role as GetRole describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// The role's ARN.
    pub arn: String,
    /// Creation time, epoch seconds.
    pub created_at: Option<f64>,
    /// The decoded trust policy.
    pub trust_policy: Option<String>,
}

/// A client for IAM's query protocol.
#[derive(Debug, Clone)]
pub struct IamClient {
    endpoint: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl IamClient {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:5000`).
    pub fn new(endpoint: &str) -> IamClient {
        IamClient {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `GetRole`: `Ok(None)` when IAM says NoSuchEntity.
    pub async fn get_role(&self, name: &str) -> Result<Option<Role>, IamError> {
        let form = format!(
            "Action=GetRole&Version=2010-05-08&RoleName={}",
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        );
        let request = hyper::Request::post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            // moto routes on the credential scope; the signature is not checked.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(IamError::Request)?;
        let response = tokio::time::timeout(IAM_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| IamError::Timeout(IAM_TIMEOUT))?
            .map_err(|source| IamError::Transport {
                endpoint: self.endpoint.clone(),
                source,
            })?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(IamError::Body)?
            .to_bytes();
        let text = String::from_utf8_lossy(&body);
        if status == 200 {
            return Ok(Some(parse_get_role(&text)));
        }
        let code = xml_text(&text, "Code").unwrap_or_default();
        if code == "NoSuchEntity" || status == 404 {
            return Ok(None);
        }
        Err(IamError::Unexpected { status, code })
    }
}

/// Reads a GetRole response.
pub fn parse_get_role(xml: &str) -> Role {
    Role {
        arn: xml_text(xml, "Arn").unwrap_or_default(),
        created_at: xml_text(xml, "CreateDate").and_then(|d| crate::ids::parse_iso8601(&d)),
        trust_policy: xml_text(xml, "AssumeRolePolicyDocument")
            .map(|doc| percent_decode_str(&doc).decode_utf8_lossy().into_owned()),
    }
}

/// The text of the first `<tag>…</tag>`, XML entities decoded. The IAM
/// responses read here are flat enough that the first match is the one
/// wanted (Role/Arn comes before any nested element of that name).
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(xml_unescape(&xml[start..start + len]))
}

fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn contains_str(value: Option<&Value>, wanted: impl Fn(&str) -> bool) -> bool {
    match value {
        Some(Value::String(s)) => wanted(s),
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str().is_some_and(&wanted)),
        _ => false,
    }
}

/// What a trust policy lets `pods.eks.amazonaws.com` do, over all its
/// Allow statements for that principal (conditions are not evaluated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodsTrust {
    /// No `sts:AssumeRole`: EKS may not use the role at all.
    None,
    /// `sts:AssumeRole` without `sts:TagSession` (FACTS.md F12).
    AssumeRoleOnly,
    /// `sts:AssumeRole` and `sts:TagSession`, as the User Guide requires.
    AssumeRoleAndTagSession,
}

/// Reads what a trust policy lets `pods.eks.amazonaws.com` do.
pub fn pods_trust(policy: &str) -> PodsTrust {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return PodsTrust::None;
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return PodsTrust::None,
    };
    let for_pods: Vec<&&Value> = statements
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|s| {
            s.get("Principal")
                .and_then(|p| p.get("Service"))
                .is_some_and(|svc| contains_str(Some(svc), |v| v == PODS_PRINCIPAL))
        })
        .collect();
    let allows = |action: &str| {
        for_pods.iter().any(|s| {
            contains_str(s.get("Action"), |a| {
                a.eq_ignore_ascii_case(action) || a.eq_ignore_ascii_case("sts:*") || a == "*"
            })
        })
    };
    match (allows("sts:AssumeRole"), allows("sts:TagSession")) {
        (false, _) => PodsTrust::None,
        (true, false) => PodsTrust::AssumeRoleOnly,
        (true, true) => PodsTrust::AssumeRoleAndTagSession,
    }
}

/// Whether a trust policy lets `pods.eks.amazonaws.com` call
/// `sts:AssumeRole` (with or without `sts:TagSession`).
pub fn trusts_pods(policy: &str) -> bool {
    pods_trust(policy) != PodsTrust::None
}

/// The trust policies the emulator has read from IAM, per role ARN, for the
/// `trust_rewrite_delay_secs` fault (FACTS.md F16): IAM is eventually
/// consistent, so for a while after a trust policy is rewritten EKS may
/// still read the previous one. The emulator cannot see when IAM took the
/// rewrite, so it counts from the first time it read the new document, and
/// a rewrite it never saw the previous document of is not one to it.
#[derive(Debug, Default)]
pub struct TrustLedger {
    seen: std::collections::HashMap<String, SeenTrust>,
}

#[derive(Debug)]
struct SeenTrust {
    current: String,
    since: std::time::Instant,
    previous: Option<String>,
}

impl TrustLedger {
    /// Records `current` as the trust policy IAM returns for `role_arn` at
    /// `now`, and returns the document EKS reads: the previous one while
    /// the current one was first read less than `delay` ago, else `current`.
    pub fn visible(
        &mut self,
        role_arn: &str,
        current: &str,
        delay: Duration,
        now: std::time::Instant,
    ) -> String {
        let seen = self
            .seen
            .entry(role_arn.to_owned())
            .or_insert_with(|| SeenTrust {
                current: current.to_owned(),
                since: now,
                previous: None,
            });
        if seen.current != current {
            seen.previous = Some(std::mem::replace(&mut seen.current, current.to_owned()));
            seen.since = now;
        }
        match &seen.previous {
            Some(previous) if now.saturating_duration_since(seen.since) < delay => previous.clone(),
            _ => seen.current.clone(),
        }
    }
}

/// What [`check_role`] requires of a role besides existing in the account.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoleRules {
    /// A role younger than this is reported missing (fault
    /// `iam_propagation_delay_secs`).
    pub propagation_delay_secs: f64,
    /// The trust must allow `sts:TagSession` too (strict rule S4, F12).
    pub require_tag_session: bool,
}

/// `Role provided in the request does not exist` (InvalidParameterException).
pub fn role_missing() -> ApiError {
    ApiError::invalid_parameter("Role provided in the request does not exist")
}

/// `Trust policy of the role provided is invalid` (InvalidParameterException).
pub fn role_untrusted() -> ApiError {
    ApiError::invalid_parameter("Trust policy of the role provided is invalid")
}

/// Checks a role as EKS does for a pod identity association: the ARN names
/// a role of `account` that exists (and is older than the propagation
/// delay) and whose trust, as `visible_trust` says EKS reads it (given the
/// document IAM returns now), lets pods.eks.amazonaws.com assume it (and
/// tag the session, when `rules` require it). Without an IAM client, only
/// the ARN is checked.
pub async fn check_role(
    iam: Option<&IamClient>,
    account: &str,
    role_arn: &str,
    rules: RoleRules,
    visible_trust: impl FnOnce(&str) -> String,
) -> Result<(), ApiError> {
    check_pass_role(account, role_arn)?;
    let Some(parsed) = parse_role_arn(role_arn) else {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid role ARN: {role_arn}"
        )));
    };
    let Some(iam) = iam else {
        return Ok(());
    };
    let role = iam
        .get_role(&parsed.name)
        .await
        .map_err(|e| ApiError::new(Code::Server, format!("Unable to validate the role: {e}")))?;
    let Some(role) = role else {
        return Err(role_missing());
    };
    // Same name under another path is another ARN: PassRole would fail.
    if role.arn != role_arn {
        return Err(role_missing());
    }
    if let Some(created) = role.created_at
        && now_epoch() < created + rules.propagation_delay_secs
    {
        return Err(role_missing());
    }
    let trust = visible_trust(role.trust_policy.as_deref().unwrap_or_default());
    match pods_trust(&trust) {
        PodsTrust::AssumeRoleAndTagSession => Ok(()),
        PodsTrust::AssumeRoleOnly if !rules.require_tag_session => Ok(()),
        PodsTrust::AssumeRoleOnly | PodsTrust::None => Err(role_untrusted()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_moto_get_role() {
        let xml = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/some/path/</Path><RoleName>r1</RoleName><RoleId>AROA</RoleId><Arn>arn:aws:iam::123456789012:role/some/path/r1</Arn><CreateDate>2026-11-29T00:19:29.652422Z</CreateDate><AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22pods.eks.amazonaws.com%22%7D%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%2C%22sts%3ATagSession%22%5D%7D%5D%7D</AssumeRolePolicyDocument></Role></GetRoleResult></GetRoleResponse>"#;
        let role = parse_get_role(xml);
        assert_eq!(role.arn, "arn:aws:iam::123456789012:role/some/path/r1");
        assert!(role.created_at.is_some());
        assert!(trusts_pods(role.trust_policy.as_deref().unwrap()));
    }

    #[test]
    fn pass_role_needs_the_clusters_account() {
        let ours = "123456789012";
        assert!(check_pass_role(ours, "arn:aws:iam::123456789012:role/r").is_ok());
        assert!(
            check_pass_role(ours, "not-an-arn").is_ok(),
            "left to the format check"
        );
        for arn in [
            "",
            "arn:aws:iam::210987654321:role/r",
            "arn:aws-cn:iam::210987654321:role/p/r",
        ] {
            let e = check_pass_role(ours, arn).unwrap_err();
            assert_eq!(e.code, Code::AccessDenied, "{arn}");
            assert_eq!(e.message, "Cross-account pass role is not allowed.");
        }
    }

    #[test]
    fn trust_shapes() {
        assert!(trusts_pods(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","pods.eks.amazonaws.com"]},"Action":"sts:AssumeRole"}}"#
        ));
        assert!(!trusts_pods(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        ));
        assert!(!trusts_pods(
            r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        ));
        assert!(!trusts_pods(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:TagSession"}]}"#
        ));
        assert!(!trusts_pods("not json"));
        assert_eq!(
            pods_trust(
                r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
            ),
            PodsTrust::AssumeRoleOnly
        );
        assert_eq!(
            pods_trust(
                r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:TagSession"]}]}"#
            ),
            PodsTrust::AssumeRoleAndTagSession
        );
        assert_eq!(
            pods_trust(
                r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:*"}}"#
            ),
            PodsTrust::AssumeRoleAndTagSession
        );
    }

    #[test]
    fn a_rewritten_trust_is_seen_late() {
        let mut ledger = TrustLedger::default();
        let t0 = std::time::Instant::now();
        let delay = Duration::from_secs(5);
        let arn = "arn:aws:iam::123456789012:role/r";
        assert_eq!(ledger.visible(arn, "old", delay, t0), "old", "first read");
        assert_eq!(
            ledger.visible(arn, "new", delay, t0 + Duration::from_secs(1)),
            "old"
        );
        assert_eq!(
            ledger.visible(arn, "new", delay, t0 + Duration::from_secs(5)),
            "old"
        );
        assert_eq!(
            ledger.visible(arn, "new", delay, t0 + Duration::from_secs(7)),
            "new"
        );
        assert_eq!(ledger.visible(arn, "new", Duration::ZERO, t0), "new");
    }

    #[test]
    fn xml_entities() {
        assert_eq!(
            xml_text("<A>a &amp; b &#x41;&quot;</A>", "A").as_deref(),
            Some("a & b A\"")
        );
    }
}
