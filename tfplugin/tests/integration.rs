//! Integration tests: the fixture provider binary driven (a) by a small
//! protocol 6 client over the unix socket from the handshake line, and (b) by
//! real Terraform binaries (the one on PATH and 1.0.3) through create, empty
//! plan, update, replace plan, validation, import, disappearance and destroy.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tfplugin::codec;
use tfplugin::proto::plugin;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::{Number, Type, Value};

const FIXTURE: &str = env!("CARGO_BIN_EXE_terraform-provider-fixture");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tfplugin-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------ protocol client

fn thing_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("name", Type::String),
        ("description", Type::String),
        ("tags", Type::map(Type::String)),
        ("labels", Type::set(Type::String)),
        ("secret", Type::String),
        ("size", Type::Number),
        ("etag", Type::String),
        (
            "rules",
            Type::list(Type::object([
                ("port", Type::Number),
                ("protocol", Type::String),
            ])),
        ),
    ])
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: codec::encode(v, ty).unwrap(),
        json: vec![],
    })
}

fn undv(d: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    codec::decode(&d.as_ref().unwrap().msgpack, ty).unwrap()
}

fn no_errors(d: &[pb::Diagnostic]) {
    let errs: Vec<_> = d.iter().filter(|d| d.severity == 1).collect();
    assert!(errs.is_empty(), "unexpected errors: {errs:?}");
}

struct Plugin {
    child: std::process::Child,
    addr: String,
}

fn start_plugin(store: &Path) -> Plugin {
    let mut child = Command::new(FIXTURE)
        .env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env("FIXTURE_DIR", store)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    assert_eq!(&parts[..3], ["1", "6", "unix"]);
    assert_eq!(parts[4], "grpc");
    assert_eq!(parts[5], "", "no certificate without AutoMTLS");
    Plugin {
        child,
        addr: parts[3].to_string(),
    }
}

async fn channel(addr: &str) -> tonic::transport::Channel {
    let path = addr.to_string();
    tonic::transport::Endpoint::try_from("http://[::1]:1")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await
        .unwrap()
}

fn wait_exit(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < within,
            "plugin did not exit in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn protocol_lifecycle() {
    let store = TempDir::new("proto");
    let mut plugin = start_plugin(&store.0);
    let ch = channel(&plugin.addr).await;
    let mut c = ProviderClient::new(ch.clone());
    let ty = thing_type();

    // schema
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(s.server_capabilities.unwrap().get_provider_schema_optional);
    let thing = &s.resource_schemas["fixture_thing"];
    let block = thing.block.as_ref().unwrap();
    let rules = block.attributes.iter().find(|a| a.name == "rules").unwrap();
    assert_eq!(rules.nested_type.as_ref().unwrap().nesting, 2);
    let secret = block
        .attributes
        .iter()
        .find(|a| a.name == "secret")
        .unwrap();
    assert!(secret.sensitive);
    assert!(s.data_source_schemas.contains_key("fixture_echo"));
    assert!(s.functions.contains_key("upper"));
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = m.resources.iter().map(|r| r.type_name.as_str()).collect();
    assert_eq!(names, ["fixture_nested", "fixture_null", "fixture_thing"]);
    let ids = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(ids.identity_schemas["fixture_thing"].identity_attributes[0].required_for_import);

    // validation reports at the element path
    let bad = Value::from_json(
        &serde_json::json!({"name": "x", "rules": [{"port": 80}, {"port": 0}]}),
        &ty,
    )
    .unwrap();
    let v = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "fixture_thing".into(),
            config: dv(&bad, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.diagnostics.len(), 1);
    let steps = &v.diagnostics[0].attribute.as_ref().unwrap().steps;
    use pb::attribute_path::step::Selector;
    assert_eq!(
        steps[0].selector,
        Some(Selector::AttributeName("rules".into()))
    );
    assert_eq!(steps[1].selector, Some(Selector::ElementKeyInt(1)));
    assert_eq!(
        steps[2].selector,
        Some(Selector::AttributeName("port".into()))
    );

    // configure
    let pty = Type::object([("prefix", Type::String)]);
    let mut pcfg = Value::Null;
    pcfg.set("prefix", Value::string("p"));
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.99.0".into(),
            config: dv(&pcfg, &pty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&r.diagnostics);

    // plan create
    let cfg = Value::from_json(
        &serde_json::json!({"name": "x", "labels": ["a", "b"], "tags": {"k": "v"}, "secret": "s", "rules": [{"port": 22}]}),
        &ty,
    )
    .unwrap();
    let p = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "fixture_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&cfg, &ty),
            config: dv(&cfg, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&p.diagnostics);
    let planned = undv(&p.planned_state, &ty);
    assert!(planned.get("id").is_unknown());
    assert!(planned.get("etag").is_unknown());
    assert_eq!(planned.get("size").as_i64(), Some(1));

    // apply create
    let a = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "fixture_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: p.planned_state.clone(),
            config: dv(&cfg, &ty),
            planned_private: p.planned_private.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&a.diagnostics);
    let state = undv(&a.new_state, &ty);
    assert_eq!(state.get("id").as_str(), Some("p-x"));
    assert!(state.is_fully_known());
    assert_eq!(a.private, b"fixture-private-v1");
    let ity = Type::object([("id", Type::String)]);
    let ident = undv(&a.new_identity.as_ref().unwrap().identity_data, &ity);
    assert_eq!(ident.get("id").as_str(), Some("p-x"));

    // read
    let rd = c
        .read_resource(pb::read_resource::Request {
            type_name: "fixture_thing".into(),
            current_state: a.new_state.clone(),
            private: a.private.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&rd.diagnostics);
    assert!(undv(&rd.new_state, &ty).equals(&state));
    assert_eq!(rd.private, a.private);

    // plan update: unchanged config keeps prior; changed name forces replacement
    let same = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "fixture_thing".into(),
            prior_state: a.new_state.clone(),
            proposed_new_state: a.new_state.clone(),
            config: dv(&cfg, &ty),
            prior_private: a.private.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(undv(&same.planned_state, &ty).equals(&state));
    assert!(same.requires_replace.is_empty());
    let mut renamed = state.clone();
    renamed.set("name", Value::string("y"));
    let mut cfg2 = cfg.clone();
    cfg2.set("name", Value::string("y"));
    let rp = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "fixture_thing".into(),
            prior_state: a.new_state.clone(),
            proposed_new_state: dv(&renamed, &ty),
            config: dv(&cfg2, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rp.requires_replace.len(), 1);
    assert_eq!(
        rp.requires_replace[0].steps[0].selector,
        Some(Selector::AttributeName("name".into()))
    );
    let rplanned = undv(&rp.planned_state, &ty);
    assert_eq!(
        rplanned.get("id").as_str(),
        Some("p-x"),
        "use_state_for_unknown"
    );
    assert!(rplanned.get("etag").is_unknown());

    // import
    let im = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "fixture_thing".into(),
            id: "p-x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&im.diagnostics);
    assert_eq!(
        undv(&im.imported_resources[0].state, &ty)
            .get("id")
            .as_str(),
        Some("p-x")
    );

    // upgrade state keeps every digit of big numbers
    let raw = r#"{"id":"p-x","name":"x","size":123456789012345678901234567890,"labels":["a"]}"#;
    let up = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "fixture_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: raw.as_bytes().to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&up.diagnostics);
    let upv = undv(&up.upgraded_state, &ty);
    assert_eq!(
        upv.get("size"),
        &Value::Number(Number::parse("123456789012345678901234567890").unwrap())
    );

    // data source and function
    let ety = Type::object([("input", Type::String), ("output", Type::String)]);
    let mut ecfg = Value::Null;
    ecfg.set("input", Value::string("hi"));
    let ds = c
        .read_data_source(pb::read_data_source::Request {
            type_name: "fixture_echo".into(),
            config: dv(&ecfg, &ety),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        undv(&ds.state, &ety).get("output").as_str(),
        Some("echo:hi")
    );
    let f = c
        .call_function(pb::call_function::Request {
            name: "upper".into(),
            arguments: vec![dv(&Value::string("abc"), &Type::String).unwrap()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(undv(&f.result, &Type::String), Value::string("ABC"));

    // move is answered with a diagnostic, not a transport error
    let mv = c
        .move_resource_state(pb::move_resource_state::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mv.diagnostics[0].severity, 1);

    // destroy
    let d = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "fixture_thing".into(),
            prior_state: a.new_state.clone(),
            planned_state: dv(&Value::Null, &ty),
            config: dv(&Value::Null, &ty),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&d.diagnostics);
    assert!(undv(&d.new_state, &ty).is_null());
    assert!(!store.0.join("p-x.json").exists());

    // unknown resource type: diagnostic
    let u = c
        .read_resource(pb::read_resource::Request {
            type_name: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(u.diagnostics[0].summary.contains("Unknown resource type"));

    // stop, then shutdown: the process exits cleanly and removes its socket
    c.stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap();
    let mut ctl = plugin::grpc_controller_client::GrpcControllerClient::new(ch);
    ctl.shutdown(plugin::Empty {}).await.unwrap();
    let status = wait_exit(&mut plugin.child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(!Path::new(&plugin.addr).exists());
}

#[test]
fn sigterm_exits_cleanly_and_removes_socket() {
    let store = TempDir::new("term");
    let mut plugin = start_plugin(&store.0);
    assert!(Path::new(&plugin.addr).exists());
    let st = Command::new("kill")
        .arg("-TERM")
        .arg(plugin.child.id().to_string())
        .status()
        .unwrap();
    assert!(st.success());
    let status = wait_exit(&mut plugin.child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(!Path::new(&plugin.addr).exists());
}

#[test]
fn missing_cookie_exits_with_explanation() {
    let out = Command::new(FIXTURE)
        .env_remove(tfplugin::serve::MAGIC_COOKIE_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Terraform provider plugin"));
    assert!(out.stdout.is_empty());
}

#[test]
fn unsupported_protocol_versions_fail() {
    let out = Command::new(FIXTURE)
        .env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

#[test]
fn socket_dir_honours_env_and_parent_death_exits() {
    // A shell parent that exits right away: the plugin must notice and exit.
    let dir = TempDir::new("sockdir");
    // The shell waits for the handshake so the plugin records it as parent.
    let script = format!(
        "{FIXTURE} > {out} 2>/dev/null & echo $! > {pid}; while [ ! -s {out} ]; do sleep 0.05; done",
        out = dir.0.join("out").display(),
        pid = dir.0.join("pid").display()
    );
    let st = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
        .env("PLUGIN_UNIX_SOCKET_DIR", &dir.0)
        .status()
        .unwrap();
    assert!(st.success());
    let pid: i32 = std::fs::read_to_string(dir.0.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let start = Instant::now();
    let mut line = String::new();
    while line.is_empty() && start.elapsed() < Duration::from_secs(5) {
        line = std::fs::read_to_string(dir.0.join("out")).unwrap_or_default();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(line.contains(&dir.0.display().to_string()), "{line:?}");
    // the orphaned plugin exits within a few poll intervals
    let alive = |pid: i32| {
        Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(" Z ")
    };
    let start = Instant::now();
    while alive(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "orphaned plugin still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// -------------------------------------------------------------- real terraform

struct Tf {
    bin: PathBuf,
    dir: TempDir,
    store: PathBuf,
    cli_config: PathBuf,
}

impl Tf {
    fn new(bin: PathBuf, tag: &str) -> Tf {
        let dir = TempDir::new(tag);
        let store = dir.0.join("store");
        let plugin_dir = Path::new(FIXTURE).parent().unwrap();
        let cli_config = dir.0.join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/eks-tools/fixture\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugin_dir.display()
            ),
        )
        .unwrap();
        Tf {
            bin,
            dir,
            store,
            cli_config,
        }
    }

    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(&self.bin)
            .args(args)
            .arg("-no-color")
            .current_dir(&self.dir.0)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("FIXTURE_DIR", &self.store)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, text) = self.run(args);
        assert_eq!(code, 0, "terraform {args:?} failed:\n{text}");
        text
    }

    fn write(&self, hcl: &str) {
        std::fs::write(self.dir.0.join("main.tf"), hcl).unwrap();
    }

    fn stored(&self, id: &str) -> Option<serde_json::Value> {
        std::fs::read_to_string(self.store.join(format!("{id}.json")))
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
    }
}

fn config(name: &str, description: &str, port: i64, with_function: bool) -> String {
    let function = if with_function {
        "output \"up\" { value = provider::fixture::upper(\"abc\") }\n"
    } else {
        ""
    };
    format!(
        r#"terraform {{
  required_providers {{
    fixture = {{ source = "eks-tools/fixture" }}
  }}
}}
provider "fixture" {{ prefix = "t" }}
resource "fixture_thing" "a" {{
  name        = "{name}"
  description = "{description}"
  tags        = {{ env = "test" }}
  labels      = ["x", "y"]
  secret      = "s3cret"
  rules       = [{{ port = {port}, protocol = "tcp" }}, {{ port = 443 }}]
}}
data "fixture_echo" "e" {{ input = fixture_thing.a.id }}
output "echo" {{ value = data.fixture_echo.e.output }}
{function}"#
    )
}

fn lifecycle(tf: Tf, with_function: bool) {
    // create
    tf.write(&config("one", "first", 80, with_function));
    tf.ok(&["apply", "-auto-approve"]);
    let obj = tf.stored("t-one").expect("object created");
    assert_eq!(obj["description"], "first");
    assert_eq!(obj["rules"][0]["port"], 80);
    let etag1 = obj["etag"].clone();
    assert_eq!(tf.ok(&["output", "-raw", "echo"]).trim_end(), "echo:t-one");
    if with_function {
        assert_eq!(tf.ok(&["output", "-raw", "up"]).trim_end(), "ABC");
    }
    // second plan is empty
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "second plan not empty:\n{text}");

    // update in place
    tf.write(&config("one", "second", 8080, with_function));
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("1 to change"), "{text}");
    tf.ok(&["apply", "-auto-approve"]);
    let obj = tf.stored("t-one").expect("object kept");
    assert_eq!(obj["description"], "second");
    assert_eq!(obj["rules"][0]["port"], 8080);
    assert_ne!(obj["etag"], etag1, "etag is recomputed on update");
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "plan after update not empty:\n{text}");

    // a name change forces replacement
    tf.write(&config("two", "second", 8080, with_function));
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("forces replacement"), "{text}");

    // validation error points at the element
    tf.write(&config("one", "second", 0, with_function));
    let (code, text) = tf.run(&["plan"]);
    assert_ne!(code, 0);
    assert!(text.contains("port must be between 1 and 65535"), "{text}");

    // import
    tf.write(&config("one", "second", 8080, with_function));
    tf.ok(&["state", "rm", "fixture_thing.a"]);
    tf.ok(&["import", "fixture_thing.a", "t-one"]);
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "plan after import not empty:\n{text}");

    // disappears: read drops the object, the next plan creates it again
    std::fs::remove_file(tf.store.join("t-one.json")).unwrap();
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("1 to add, 0 to change, 0 to destroy"),
        "{text}"
    );
    tf.ok(&["apply", "-auto-approve"]);
    assert!(tf.stored("t-one").is_some(), "object recreated");

    // destroy
    tf.ok(&["destroy", "-auto-approve"]);
    assert!(tf.stored("t-one").is_none(), "object deleted");
}

fn terraform_on_path() -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg("command -v terraform")
        .output()
        .unwrap();
    assert!(out.status.success(), "terraform is not on PATH");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `ports` is a set-nested attribute; empty leaves it out (Terraform 1.0.3
/// crashes rendering a plan that creates one: a Terraform bug, fixed in 1.1).
fn nested_config(mode: &str, zone: &str, ports: &str) -> String {
    let ports = if ports.is_empty() {
        String::new()
    } else {
        format!("ports = [{ports}]")
    };
    format!(
        r#"terraform {{
  required_providers {{
    fixture = {{ source = "eks-tools/fixture" }}
  }}
}}
resource "fixture_nested" "n" {{
  spec  = {{ mode = "{mode}", zone = "{zone}" }}
  {ports}
  meta  = {{ a = {{ value = "1" }}, b = {{ value = "2" }} }}
  timeouts {{
    create = "5m"
  }}
}}
"#
    )
}

/// `spec.arn` from `terraform show -json` (Terraform 1.0.3 cannot reference
/// attributes of nested attributes in outputs).
fn nested_arn(tf: &Tf) -> String {
    let j: serde_json::Value = serde_json::from_str(&tf.ok(&["show", "-json"])).unwrap();
    j["values"]["root_module"]["resources"][0]["values"]["spec"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Single, set and map nested attributes and a nested block through real
/// Terraform: computed values inside a nested object are unknown only when
/// that object changes.
fn nested_lifecycle(tf: Tf, with_set: bool) {
    let (p1, p2) = if with_set {
        (
            "{ port = 80 }, { port = 443 }",
            "{ port = 443 }, { port = 80 }",
        )
    } else {
        ("", "")
    };
    tf.write(&nested_config("fast", "z1", p1));
    tf.ok(&["apply", "-auto-approve"]);
    let arn1 = nested_arn(&tf);
    assert!(
        arn1.starts_with("arn:fixture:n-") && arn1.trim_end().ends_with(":fast"),
        "{arn1}"
    );
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "second plan not empty:\n{text}");

    // set order does not matter
    tf.write(&nested_config("fast", "z1", p2));
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "reordered set planned a change:\n{text}");

    // changing spec.mode updates in place and recomputes spec.arn
    tf.write(&nested_config("slow", "z1", p1));
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("1 to change"), "{text}");
    tf.ok(&["apply", "-auto-approve"]);
    let arn2 = nested_arn(&tf);
    assert!(arn2.trim_end().ends_with(":slow"), "{arn2}");
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "plan after update not empty:\n{text}");

    // spec.zone requires replacement
    tf.write(&nested_config("slow", "z2", p1));
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("forces replacement"), "{text}");
    tf.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn terraform_latest_lifecycle() {
    lifecycle(Tf::new(terraform_on_path(), "tf-latest"), true);
}

#[test]
fn terraform_latest_nested() {
    nested_lifecycle(Tf::new(terraform_on_path(), "tf-latest-nested"), true);
}

#[test]
fn terraform_1_0_3_nested() {
    if let Some(bin) = terraform_1_0_3() {
        nested_lifecycle(Tf::new(bin, "tf-103-nested"), false);
    }
}

/// Terraform 1.0.3 from `scripts/terraform-1.0.3.sh`; `None` only when
/// `TFPLUGIN_SKIP_TF103=1`, otherwise a missing binary fails the test.
fn terraform_1_0_3() -> Option<PathBuf> {
    if std::env::var("TFPLUGIN_SKIP_TF103").as_deref() == Ok("1") {
        eprintln!("skipping: TFPLUGIN_SKIP_TF103=1");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/terraform-1.0.3.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "Terraform 1.0.3 is not available (set TFPLUGIN_SKIP_TF103=1 to skip): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn terraform_1_0_3_lifecycle() {
    if let Some(bin) = terraform_1_0_3() {
        lifecycle(Tf::new(bin, "tf-103"), false);
    }
}

#[test]
fn tcp_fallback_honours_port_range() {
    let mut child = Command::new(FIXTURE)
        .env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
        .env("PLUGIN_UNIX_SOCKET_DIR", "/nonexistent/tfplugin-test")
        .env("PLUGIN_MIN_PORT", "41000")
        .env("PLUGIN_MAX_PORT", "41100")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // SIGTERM, not SIGKILL, so the plugin removes its socket directory.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts[2], "tcp", "{line:?}");
    let port: u16 = parts[3]
        .strip_prefix("127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert!((41000..=41100).contains(&port));
}

#[tokio::test]
async fn debug_mode_prints_reattach_line_and_stops_on_interrupt() {
    let mut child = Command::new(FIXTURE)
        .arg("--debug")
        .env_remove(tfplugin::serve::MAGIC_COOKIE_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..10 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end_matches('\'').to_string());
            break;
        }
    }
    let j: serde_json::Value = serde_json::from_str(&reattach.expect("reattach line")).unwrap();
    let p = &j["registry.terraform.io/eks-tools/fixture"];
    assert_eq!(p["Pid"], child.id());
    assert_eq!(p["ProtocolVersion"], 6);
    let addr = p["Addr"]["String"].as_str().unwrap().to_string();
    let mut c = ProviderClient::new(channel(&addr).await);
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(!m.resources.is_empty());
    drop(c);
    let st = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(st.success());
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(!Path::new(&addr).exists());
}

// ------------------------------------------------------------------ AutoMTLS

/// Accepts exactly the server certificate announced in the handshake line.
#[derive(Debug)]
struct PinnedServer(Vec<u8>);

impl rustls::client::danger::ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algs)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algs)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Connects over TLS with `client` as the client certificate and calls
/// GetMetadata.
async fn tls_get_metadata(
    addr: &str,
    server_der: Vec<u8>,
    client: &tfplugin::tls::ServerCert,
) -> Result<pb::get_metadata::Response, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut cfg = rustls::ClientConfig::builder_with_provider(tfplugin::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(PinnedServer(server_der)))
        .with_client_auth_cert(
            vec![CertificateDer::from(client.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client.key_der.clone())),
        )
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let path = addr.to_string();
    let ch = tonic::transport::Endpoint::try_from("http://[::1]:1")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let p = path.clone();
            let connector = connector.clone();
            async move {
                let sock = tokio::net::UnixStream::connect(p).await?;
                let name = rustls::pki_types::ServerName::try_from("localhost")
                    .map_err(std::io::Error::other)?;
                let tls = connector.connect(name, sock).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| e.to_string())?;
    ProviderClient::new(ch)
        .get_metadata(pb::get_metadata::Request {})
        .await
        .map(|r| r.into_inner())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn auto_mtls_requires_the_pinned_client_certificate() {
    use base64::Engine;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = tfplugin::tls::generate_server_cert().unwrap();
    let stranger = tfplugin::tls::generate_server_cert().unwrap();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(&client.cert_der)
    );
    let store = TempDir::new("mtls");
    let mut child = Command::new(FIXTURE)
        .env(tfplugin::serve::MAGIC_COOKIE_KEY, COOKIE)
        .env("PLUGIN_CLIENT_CERT", pem)
        .env("FIXTURE_DIR", &store.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6);
    assert!(!parts[5].contains('='), "raw (unpadded) base64 expected");
    let server_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    let addr = parts[3].to_string();

    let ok = tls_get_metadata(&addr, server_der.clone(), &client).await;
    assert!(ok.is_ok(), "{ok:?}");
    let refused = tls_get_metadata(&addr, server_der, &stranger).await;
    assert!(
        refused.is_err(),
        "a foreign client certificate was accepted"
    );

    // SIGTERM, not SIGKILL, so the plugin removes its socket directory.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

// ------------------------------------------------------ ephemeral resources

#[tokio::test]
async fn ephemeral_resource_protocol() {
    let store = TempDir::new("eph-proto");
    let mut plugin = start_plugin(&store.0);
    let mut c = ProviderClient::new(channel(&plugin.addr).await);
    let ty = Type::object([("name", Type::String), ("token", Type::String)]);
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let eph = &s.ephemeral_resource_schemas["fixture_token"];
    let token_attr = eph
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "token")
        .unwrap();
    assert!(token_attr.computed && token_attr.sensitive);
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.ephemeral_resources[0].type_name, "fixture_token");

    // validation runs the schema's validators
    let bad = Value::from_json(&serde_json::json!({"name": ""}), &ty).unwrap();
    let v = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "fixture_token".into(),
            config: dv(&bad, &ty),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.diagnostics.len(), 1, "{:?}", v.diagnostics);
    assert!(
        v.diagnostics[0].summary.contains("name must not be empty")
            || v.diagnostics[0].detail.contains("name must not be empty")
    );

    // open → result and private; close hands the private data back
    let cfg = Value::from_json(&serde_json::json!({"name": "beta"}), &ty).unwrap();
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "fixture_token".into(),
            config: dv(&cfg, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&o.diagnostics);
    let result = undv(&o.result, &ty);
    assert_eq!(result.get("token").as_str(), Some("tok-beta-secret"));
    assert_eq!(o.private.as_deref(), Some(&b"beta"[..]));
    let closed = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "fixture_token".into(),
            private: o.private,
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&closed.diagnostics);
    assert_eq!(
        std::fs::read_to_string(store.0.join("closed-beta")).unwrap(),
        "1"
    );

    // an unknown type is a diagnostic, not a transport error
    let o = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "fixture_nope".into(),
            config: dv(&cfg, &ty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(o.diagnostics.iter().any(|d| d.severity == 1));
    assert!(o.result.is_none());
    let _ = plugin.child.kill();
    let _ = plugin.child.wait();
}

/// Terraform ≥ 1.10 opens the ephemeral resource, hands its value to the
/// provider configuration, closes it, and writes it to neither plan nor state.
#[test]
fn terraform_latest_ephemeral() {
    let bin = terraform_on_path();
    let out = Command::new(&bin)
        .args(["version", "-json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let version = v["terraform_version"]
        .as_str()
        .unwrap_or("0.0.0")
        .to_string();
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if version.starts_with("1.") && minor < 10 {
        eprintln!("skipping: terraform {version} has no ephemeral resources");
        return;
    }
    let tf = Tf::new(bin, "tf-eph");
    tf.write(
        r#"terraform {
  required_providers {
    fixture = { source = "eks-tools/fixture" }
  }
}
provider "fixture" {}
ephemeral "fixture_token" "t" { name = "alpha" }
# A second configuration of the provider takes the ephemeral value (the
# first cannot: it opens the ephemeral resource).
provider "fixture" {
  alias = "b"
  token = ephemeral.fixture_token.t.token
}
resource "fixture_thing" "a" {
  provider = fixture.b
  name     = "eph"
}
"#,
    );
    tf.ok(&["plan", "-out", "tfplan"]);
    tf.ok(&["apply", "-auto-approve", "tfplan"]);
    let read = |f: &str| std::fs::read_to_string(tf.store.join(f)).unwrap_or_default();
    assert_eq!(read("configured-token"), "tok-alpha-secret");
    let opened: u32 = read("opened-alpha").trim().parse().unwrap_or(0);
    let closed: u32 = read("closed-alpha").trim().parse().unwrap_or(0);
    assert!(
        opened >= 2,
        "opened {opened} times (plan and apply each open it)"
    );
    assert_eq!(opened, closed, "every open is closed");
    let state = std::fs::read_to_string(tf.dir.0.join("terraform.tfstate")).unwrap();
    assert!(!state.contains("tok-alpha"), "token in state:\n{state}");
    let plan = std::fs::read(tf.dir.0.join("tfplan")).unwrap();
    assert!(
        !plan.windows(9).any(|w| w == b"tok-alpha"),
        "token in the saved plan"
    );
    tf.ok(&["destroy", "-auto-approve"]);
}

// ---------------------------------------------------------- list resources

/// A stored fixture thing, as the fixture's `save` writes it.
fn store_thing(dir: &Path, id: &str, name: &str) {
    let mut v = Value::Null;
    v.set("id", Value::string(id));
    v.set("name", Value::string(name));
    v.set("size", Value::from_i64(1));
    std::fs::write(dir.join(format!("{id}.json")), v.to_json_string()).unwrap();
}

/// Every event of one ListResource call.
async fn list_events(
    c: &mut ProviderClient<tonic::transport::Channel>,
    type_name: &str,
    config: &Value,
    include: bool,
    limit: i64,
) -> Vec<pb::list_resource::Event> {
    let cty = Type::object([
        ("name_prefix", Type::String),
        ("fail_after", Type::Number),
        ("panic_after", Type::Number),
    ]);
    let mut stream = c
        .list_resource(pb::list_resource::Request {
            type_name: type_name.into(),
            config: dv(config, &cty),
            include_resource_object: include,
            limit,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = vec![];
    while let Some(e) = stream.message().await.unwrap() {
        out.push(e);
    }
    out
}

/// ListResource and ValidateListResourceConfig over the wire (protocol
/// 6.10), as Terraform 1.14 calls them: the schema is the `config` block's,
/// events stream with identity, display name and (only when asked) the
/// object; the provider stops at `limit`; a failure ends the stream with an
/// event that has no identity and an error at `config.<attribute>`.
#[tokio::test]
async fn list_resource_protocol() {
    let store = TempDir::new("list-proto");
    for (id, name) in [
        ("fx-1", "a1"),
        ("fx-2", "b1"),
        ("fx-3", "a2"),
        ("fx-4", "a3"),
    ] {
        store_thing(&store.0, id, name);
    }
    let mut plugin = start_plugin(&store.0);
    let mut c = ProviderClient::new(channel(&plugin.addr).await);
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.list_resources[0].type_name, "fixture_thing");
    let s = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = s.list_resource_schemas["fixture_thing"]
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["name_prefix", "fail_after", "panic_after"]);

    let cty = Type::object([
        ("name_prefix", Type::String),
        ("fail_after", Type::Number),
        ("panic_after", Type::Number),
    ]);
    let cfg = |prefix: &str, fail_after: Option<i64>| {
        let mut v = Value::Null;
        v.set("name_prefix", Value::string(prefix));
        v.set(
            "fail_after",
            fail_after.map(Value::from_i64).unwrap_or(Value::Null),
        );
        v
    };
    // validation: the schema's validators, at config.<attribute>
    let v = c
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: "fixture_thing".into(),
            config: dv(&cfg("", None), &cty),
            include_resource_object: None,
            limit: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.diagnostics.len(), 1, "{:?}", v.diagnostics);
    use pb::attribute_path::step::Selector;
    let steps: Vec<_> = v.diagnostics[0]
        .attribute
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .map(|s| s.selector.clone())
        .collect();
    assert_eq!(
        steps,
        [
            Some(Selector::AttributeName("config".into())),
            Some(Selector::AttributeName("name_prefix".into()))
        ]
    );

    // configure, then list
    let pty = Type::object([("prefix", Type::String)]);
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.14.0".into(),
            config: dv(&Value::Null, &pty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&r.diagnostics);
    let ity = Type::object([("id", Type::String)]);
    let all = list_events(&mut c, "fixture_thing", &cfg("a", None), true, 100).await;
    let shown: Vec<_> = all.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(shown, ["a1", "a2", "a3"]);
    let ids: Vec<_> = all
        .iter()
        .map(|e| {
            let id = e.identity.as_ref().unwrap().identity_data.clone();
            undv(&id, &ity).get("id").as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids, ["fx-1", "fx-3", "fx-4"]);
    let object = undv(&all[1].resource_object, &thing_type());
    assert_eq!(object.get("name").as_str(), Some("a2"));
    assert!(all.iter().all(|e| e.diagnostic.is_empty()));

    // no objects unless asked
    let bare = list_events(&mut c, "fixture_thing", &cfg("a", None), false, 100).await;
    assert_eq!(bare.len(), 3);
    assert!(bare.iter().all(|e| e.resource_object.is_none()));

    // the limit stops the provider itself, not only the reader
    let listed = |store: &Path| -> u32 {
        std::fs::read_to_string(store.join("listed"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    let before = listed(&store.0);
    let two = list_events(&mut c, "fixture_thing", &cfg("a", None), true, 2).await;
    assert_eq!(two.len(), 2);
    assert_eq!(
        listed(&store.0) - before,
        2,
        "the provider went on past the limit"
    );

    // a failure: the events so far, then an error event without identity
    let failed = list_events(&mut c, "fixture_thing", &cfg("a", Some(1)), false, 100).await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    let last = &failed[1];
    assert!(last.identity.is_none());
    assert_eq!(last.diagnostic[0].severity, 1);
    assert_eq!(last.diagnostic[0].summary, "Listing failed");
    let steps: Vec<_> = last.diagnostic[0]
        .attribute
        .as_ref()
        .unwrap()
        .steps
        .iter()
        .map(|s| s.selector.clone())
        .collect();
    assert_eq!(
        steps,
        [
            Some(Selector::AttributeName("config".into())),
            Some(Selector::AttributeName("fail_after".into()))
        ]
    );

    // a panic in the provider's list: an error event, and the server lives
    let mut panicking = cfg("a", None);
    panicking.set("panic_after", Value::from_i64(1));
    let panicked = list_events(&mut c, "fixture_thing", &panicking, false, 100).await;
    assert_eq!(panicked.len(), 2, "{panicked:?}");
    assert_eq!(
        panicked[1].diagnostic[0].summary,
        "The provider failed while listing"
    );
    assert_eq!(
        list_events(&mut c, "fixture_thing", &cfg("a", None), false, 100)
            .await
            .len(),
        3
    );

    // an unknown type: one error event
    let unknown = list_events(&mut c, "fixture_nope", &cfg("a", None), false, 100).await;
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        unknown[0].diagnostic[0].summary,
        "Unknown list resource type"
    );
    // a managed resource without identity cannot be listed
    let nested = list_events(&mut c, "fixture_nested", &cfg("a", None), false, 100).await;
    assert_eq!(
        nested[0].diagnostic[0].summary,
        "Unknown list resource type"
    );
    plugin.child.kill().ok();
    plugin.child.wait().ok();
}

/// UpgradeResourceIdentity carries the stored identity in `RawState.json`
/// (as Terraform sends it; it once was read as bare bytes, which put the
/// message's own framing in front of the JSON): the same version comes
/// back decoded, another version is refused by the default upgrader.
#[tokio::test]
async fn upgrade_resource_identity_reads_raw_state_json() {
    let store = TempDir::new("identity-upgrade");
    let mut plugin = start_plugin(&store.0);
    let mut c = ProviderClient::new(channel(&plugin.addr).await);
    let request = |version: i64| pb::upgrade_resource_identity::Request {
        type_name: "fixture_thing".into(),
        version,
        raw_identity: Some(pb::RawState {
            json: br#"{"id":"fx-9"}"#.to_vec(),
            flatmap: Default::default(),
        }),
    };
    let r = c
        .upgrade_resource_identity(request(0))
        .await
        .unwrap()
        .into_inner();
    no_errors(&r.diagnostics);
    let data = r.upgraded_identity.unwrap().identity_data;
    let id = undv(&data, &Type::object([("id", Type::String)]));
    assert_eq!(id.get("id").as_str(), Some("fx-9"));
    let r = c
        .upgrade_resource_identity(request(5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics[0].summary, "Unsupported identity version");
    plugin.child.kill().ok();
    plugin.child.wait().ok();
}

// ------------------------------------------------------------- moved blocks

/// A MoveResourceState request for `fixture_thing` from `source_type` of
/// `address` with `state` as the source's RawState JSON.
fn move_request(
    address: &str,
    source_type: &str,
    state: &[u8],
) -> pb::move_resource_state::Request {
    pb::move_resource_state::Request {
        source_provider_address: address.into(),
        source_type_name: source_type.into(),
        source_schema_version: 0,
        source_state: Some(pb::RawState {
            json: state.to_vec(),
            flatmap: Default::default(),
        }),
        target_type_name: "fixture_thing".into(),
        source_private: vec![],
        source_identity: None,
    }
}

/// MoveResourceState over the wire (on a configured provider, as OpenTofu
/// calls it; Terraform calls it before ConfigureProvider, which the real
/// engine tests below cover): the capability is advertised; the
/// source state's JSON reaches the target resource, whose state comes back
/// encoded with its schema, with private data and the identity; refusals
/// (another source type, a resource without moves, flatmap or broken
/// state, an unknown target) are diagnostics.
#[tokio::test]
async fn move_resource_state_protocol() {
    let store = TempDir::new("move");
    let mut plugin = start_plugin(&store.0);
    let mut c = ProviderClient::new(channel(&plugin.addr).await);
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(m.server_capabilities.unwrap().move_resource_state);
    let pty = Type::object([("prefix", Type::String), ("token", Type::String)]);
    let r = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(&Value::Null, &pty),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    no_errors(&r.diagnostics);
    let address = "registry.terraform.io/eks-tools/fixture";
    let source = br#"{"id":"123","triggers":{"thing":"fx-moved"}}"#;

    let mv = c
        .move_resource_state(move_request(address, "fixture_null", source))
        .await
        .unwrap()
        .into_inner();
    no_errors(&mv.diagnostics);
    let state = undv(&mv.target_state, &thing_type());
    assert_eq!(state.get("id").as_str(), Some("fx-moved"));
    assert!(
        state.get("name").is_null(),
        "the read after the move fills it in"
    );
    assert_eq!(mv.target_private, b"fixture-private-v1");
    let id = mv.target_identity.unwrap().identity_data;
    let id = undv(&id, &Type::object([("id", Type::String)]));
    assert_eq!(
        id.get("id").as_str(),
        Some("fx-moved"),
        "identity derived from the state"
    );

    let summary = |r: pb::move_resource_state::Response| {
        assert!(r.target_state.is_none(), "no state with a refusal");
        assert_eq!(r.diagnostics[0].severity, 1);
        r.diagnostics[0].summary.clone()
    };
    let other = c
        .move_resource_state(move_request(
            "registry.terraform.io/hashicorp/null",
            "null_resource",
            source,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary(other), "Cannot move to fixture_thing");
    let mut to_null = move_request(address, "fixture_thing", br#"{"id":"x"}"#);
    to_null.target_type_name = "fixture_null".into();
    let default = c.move_resource_state(to_null).await.unwrap().into_inner();
    assert!(
        default.diagnostics[0].detail.contains("accepts no moves"),
        "{default:?}"
    );
    assert_eq!(summary(default), "Move resource state not supported");
    let mut flat = move_request(address, "fixture_null", b"");
    flat.source_state
        .as_mut()
        .unwrap()
        .flatmap
        .insert("id".into(), "1".into());
    let flat = c.move_resource_state(flat).await.unwrap().into_inner();
    assert!(flat.diagnostics[0].detail.contains("flatmap"), "{flat:?}");
    assert_eq!(summary(flat), "Cannot read the state to move");
    let broken = c
        .move_resource_state(move_request(address, "fixture_null", b"{not json"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary(broken), "Cannot read the state to move");
    let mut unknown = move_request(address, "fixture_null", source);
    unknown.target_type_name = "fixture_nope".into();
    let unknown = c.move_resource_state(unknown).await.unwrap().into_inner();
    assert_eq!(summary(unknown), "Unknown resource type");
    plugin.child.kill().ok();
    plugin.child.wait().ok();
}

/// The version of a Terraform or OpenTofu binary, as (minor, text).
fn engine_minor(bin: &Path) -> (u32, String) {
    let out = Command::new(bin)
        .args(["version", "-json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let version = v["terraform_version"]
        .as_str()
        .unwrap_or("0.0.0")
        .to_string();
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    (minor, version)
}

/// A `moved` block across resource types through a real engine: a
/// fixture_null naming a stored thing moves to fixture_thing; the plan
/// shows the move and nothing else, apply records it, the next plan is
/// empty and the thing is untouched.
fn cross_type_move(bin: PathBuf) {
    let (minor, version) = engine_minor(&bin);
    if minor < 8 {
        eprintln!("skipping: {version} has no moves across resource types (1.8 and later)");
        return;
    }
    let tf = Tf::new(bin, "tf-move");
    let head = r#"terraform {
  required_providers {
    fixture = { source = "eks-tools/fixture" }
  }
}
provider "fixture" { prefix = "t" }
"#;
    let thing = r#"resource "fixture_thing" "a" {
  name = "one"
}
"#;
    tf.write(&format!("{head}{thing}"));
    tf.ok(&["apply", "-auto-approve"]);
    let before = tf.stored("t-one").expect("object created");
    tf.ok(&["state", "rm", "fixture_thing.a"]);
    tf.write(&format!(
        "{head}resource \"fixture_null\" \"n\" {{\n  triggers = {{ thing = \"t-one\" }}\n}}\n"
    ));
    tf.ok(&["apply", "-auto-approve"]);
    tf.write(&format!(
        "{head}{thing}moved {{\n  from = fixture_null.n\n  to   = fixture_thing.a\n}}\n"
    ));
    let plan = tf.ok(&["plan"]);
    assert!(
        plan.contains("fixture_null.n has moved to fixture_thing.a"),
        "{plan}"
    );
    assert!(
        plan.contains("0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    tf.ok(&["apply", "-auto-approve"]);
    let list = tf.ok(&["state", "list"]);
    assert_eq!(list.trim(), "fixture_thing.a", "{list}");
    let (code, text) = tf.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(code, 0, "plan after the move not empty:\n{text}");
    assert_eq!(
        tf.stored("t-one"),
        Some(before),
        "the moved thing is untouched"
    );
    tf.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn terraform_latest_cross_type_move() {
    cross_type_move(terraform_on_path());
}

/// OpenTofu: `TFPLUGIN_TOFU`, else the pinned release that
/// scripts/opentofu.sh builds (`TFPLUGIN_SKIP_TOFU=1` skips).
fn opentofu() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("TFPLUGIN_TOFU") {
        return Some(PathBuf::from(bin));
    }
    if std::env::var("TFPLUGIN_SKIP_TOFU").as_deref() == Ok("1") {
        eprintln!("skipping: TFPLUGIN_SKIP_TOFU=1");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/opentofu.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "OpenTofu is not available (set TFPLUGIN_TOFU to a tofu binary, or TFPLUGIN_SKIP_TOFU=1 to skip): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn opentofu_cross_type_move() {
    if let Some(bin) = opentofu() {
        cross_type_move(bin);
    }
}
