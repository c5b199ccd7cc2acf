//! The EKS bearer token for a cluster's Kubernetes API, made the way
//! `aws eks get-token` makes it.
//!
//! Owns: the token (`k8s-aws-v1.` + base64url of a presigned STS
//! GetCallerIdentity URL that signs the `x-k8s-aws-id` header = cluster
//! name) and how long it is valid. Does not own: when a token is renewed
//! or how it is sent (`crate::kube`).

use super::clients::Clients;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

/// How long a presigned token URL is valid. EKS accepts tokens up to 15
/// minutes old; `aws eks get-token` presigns for 60 s. We use 14 minutes and
/// `crate::kube` makes a new token well before that, so a long apply never
/// sends an expired one.
pub const TOKEN_EXPIRY: Duration = Duration::from_secs(14 * 60);

/// The EKS token for `cluster`: `k8s-aws-v1.` + base64url (no padding) of a
/// presigned STS GetCallerIdentity URL signing `x-k8s-aws-id: cluster`.
pub async fn eks_token(clients: &Clients, cluster: &str) -> Result<String, String> {
    let provider = clients
        .credentials
        .as_ref()
        .ok_or_else(|| "no AWS credentials are configured".to_string())?;
    // The credential chain's own words, never its Debug text.
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| format!("no AWS credentials: {}", super::error::chain_text(&e)))?;
    presign_token(
        &creds.into(),
        &clients.region,
        cluster,
        SystemTime::now(),
        TOKEN_EXPIRY,
    )
}

/// The STS host of a region (GetCallerIdentity is answered by every
/// region), from the AWS SDK's own endpoint rules and partition data, so
/// every partition — aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc — gets its
/// real host and a new one comes with an SDK update, not a code change.
/// The regional endpoint, as `aws eks get-token` uses with regional STS.
pub(super) fn sts_host(region: &str) -> Result<String, String> {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    use futures::FutureExt;
    let params = Params::builder()
        .region(region)
        .use_fips(false)
        .use_dual_stack(false)
        .use_global_endpoint(false)
        .build()
        .map_err(|e| format!("no STS endpoint for region {region}: {e}"))?;
    let resolver = DefaultResolver::new();
    // The rules engine answers at once (a ready future).
    let endpoint = resolver
        .resolve_endpoint(&params)
        .now_or_never()
        .ok_or_else(|| format!("no STS endpoint for region {region}"))?
        .map_err(|e| format!("no STS endpoint for region {region}: {e}"))?;
    let url = endpoint.url();
    let host = url
        .strip_prefix("https://")
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string();
    if host.is_empty() {
        return Err(format!("no STS endpoint for region {region}"));
    }
    Ok(host)
}

/// Presigns the token URL (pure; tests give a fixed time). Errors are the
/// signer's own description.
pub fn presign_token(
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    region: &str,
    cluster: &str,
    time: SystemTime,
    expires_in: Duration,
) -> Result<String, String> {
    let host = sts_host(region)?;
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = [("host", host.as_str()), ("x-k8s-aws-id", cluster)];
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let mut req = http::Request::builder()
        .uri(url.as_str())
        .body(())
        .map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut req);
    let signed = req.uri().to_string();
    Ok(format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_host_per_partition_from_the_sdk() {
        for (region, host) in [
            ("us-west-2", "sts.us-west-2.amazonaws.com"),
            ("us-east-1", "sts.us-east-1.amazonaws.com"),
            ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
            ("us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"),
            ("us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov"),
            ("us-isob-east-1", "sts.us-isob-east-1.sc2s.sgov.gov"),
        ] {
            assert_eq!(sts_host(region).unwrap(), host, "{region}");
        }
        // aws-eusc and the newer iso partitions: whatever the SDK's data says,
        // never the commercial suffix.
        let eusc = sts_host("eusc-de-east-1").unwrap();
        assert!(!eusc.ends_with(".amazonaws.com"), "{eusc}");
    }
    use aws_credential_types::Credentials;

    #[test]
    fn token_is_a_presigned_get_caller_identity_url() {
        let identity = Credentials::new("AKID", "SECRET", None, None, "test").into();
        let token = presign_token(
            &identity,
            "us-west-2",
            "my-cluster",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(60),
        )
        .unwrap();
        let b64 = token.strip_prefix("k8s-aws-v1.").unwrap();
        assert!(!b64.contains('='));
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with("https://sts.us-west-2.amazonaws.com/?"),
            "{url}"
        );
        assert!(url.contains("Action=GetCallerIdentity"));
        assert!(url.contains("X-Amz-Expires=60"));
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"));
        assert!(url.contains("X-Amz-Credential=AKID%2F20231114%2Fus-west-2%2Fsts%2Faws4_request"));
        assert!(url.contains("X-Amz-Signature="));
        // The cluster name is signed, not sent: another cluster, another signature.
        let other = presign_token(
            &identity,
            "us-west-2",
            "other",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_ne!(token, other);
    }
}
