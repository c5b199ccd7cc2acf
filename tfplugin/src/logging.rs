//! Logging in the form Terraform reads from plugin stderr: hclog JSON lines
//! (`{"@level":"debug","@message":..,"@module":"provider.eks","@timestamp":..}`).
//!
//! Owns: the tracing subscriber and its level (from `TF_LOG_PROVIDER`, else
//! `TF_LOG`; `JSON` means trace; unset means warn). Dependencies' `log`
//! records are bridged in and capped at `info` below TRACE, and at `debug`
//! even at TRACE (the AWS SDK's at `info`): their trace and debug events
//! print whole objects with `Debug` (the SDK's runtime components include
//! the assume-role provider and its external_id, and every signing identity
//! its access key ID), and a TRACE log must not carry secrets (issue 14).

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{
    Layer,
    filter::{LevelFilter, Targets},
};

/// Dependencies whose debug output (TLS handshakes, HTTP/2 frames, the AWS
/// SDK's orchestrator phases and identity caches) would drown ours; they log
/// at most `info` unless TRACE is asked for. Targets match by prefix.
const NOISY: &[&str] = &[
    "rustls",
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "aws_smithy",
    "aws_runtime",
    "aws_config",
    "aws_sdk",
    "aws_sigv4",
    "aws_credential_types",
];

/// The `@module` Terraform shows for our lines.
const MODULE: &str = "provider.eks";

/// Installs the hclog-style JSON subscriber (once; later calls do nothing).
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let _ = tracing_subscriber::registry()
        .with(HclogLayer.with_filter(filter(level)))
        .try_init();
}

fn filter(level: LevelFilter) -> Targets {
    let deps = if level == LevelFilter::TRACE {
        LevelFilter::DEBUG
    } else {
        level.min(LevelFilter::INFO)
    };
    NOISY
        .iter()
        .fold(Targets::new().with_default(level), |t, n| {
            // The AWS SDK's debug events print the signing identity (its
            // access key ID) and endpoint parameters: info at most.
            let cap = if n.starts_with("aws_") {
                deps.min(LevelFilter::INFO)
            } else {
                deps
            };
            t.with_target(*n, cap)
        })
}

fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let v = provider.filter(|s| !s.is_empty()).or(global).unwrap_or("");
    match v.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

struct HclogLayer;

struct Fields(serde_json::Map<String, serde_json::Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, serde_json::Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

impl Fields {
    fn put(&mut self, field: &Field, v: serde_json::Value) {
        let name = if field.name() == "message" {
            "@message"
        } else {
            field.name()
        };
        self.0.insert(name.to_string(), v);
    }
}

/// One hclog JSON line for an event.
fn line(level: &Level, target: &str, mut fields: Fields) -> String {
    let lvl = match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    };
    let ts = timestamp(time::OffsetDateTime::now_utc());
    fields.0.insert("@level".into(), lvl.into());
    fields.0.insert("@module".into(), MODULE.into());
    fields.0.insert("@timestamp".into(), ts.into());
    fields.0.entry("@message").or_insert_with(|| "".into());
    fields.0.insert("target".into(), target.into());
    serde_json::Value::Object(fields.0).to_string()
}

/// hclog's timestamp layout, `2006-01-02T15:04:05.000000Z07:00`: go-plugin
/// parses it with exactly six fractional digits and drops lines that differ.
fn timestamp(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields(serde_json::Map::new());
        event.record(&mut f);
        let l = line(event.metadata().level(), event.metadata().target(), f);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_never_trace() {
        let f = filter(LevelFilter::TRACE);
        assert!(f.would_enable("terraform_provider_eks", &Level::TRACE));
        assert!(!f.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        assert!(f.would_enable("aws_smithy_runtime::client", &Level::INFO));
        assert!(f.would_enable("rustls::client", &Level::DEBUG));
        assert!(!f.would_enable("rustls::client", &Level::TRACE));
        assert!(!filter(LevelFilter::DEBUG).would_enable("aws_config", &Level::DEBUG));
    }

    #[test]
    fn levels() {
        assert_eq!(
            level_from_env(Some("debug"), Some("ERROR")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_env(None, Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some(""), None), LevelFilter::WARN);
    }

    #[test]
    fn line_shape() {
        let mut f = Fields(serde_json::Map::new());
        f.0.insert("@message".into(), "hi".into());
        let j: serde_json::Value = serde_json::from_str(&line(&Level::INFO, "x", f)).unwrap();
        assert_eq!(j["@level"], "info");
        assert_eq!(j["@message"], "hi");
        assert_eq!(j["@module"], "provider.eks");
        let ts = j["@timestamp"].as_str().unwrap();
        assert_eq!(ts.len(), "2006-01-02T15:04:05.000000Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123456Z");
    }
}
