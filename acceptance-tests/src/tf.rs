//! A terraform working directory: a temp dir with `main.tf`, a CLI config
//! whose `dev_overrides` point `eks-tools/eks` at our freshly built provider
//! (so no `terraform init`), and an environment that reaches only the world.
//! The engine is Terraform or OpenTofu ([`crate::engine`]): the CLI config
//! (`TF_CLI_CONFIG_FILE`, read by both) overrides the provider under both
//! registry hosts, so the configs' `eks-tools/eks` resolves on either.
//!
//! Every command is logged to stderr (shown by the test runner when a test
//! fails); a failing step panics with terraform's whole output. When a test
//! panics, its directory is kept for a look and its path printed.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::engine::engine;
use crate::world::{World, provider_dir};

/// The longest any one terraform command may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// The provider's full source addresses: `eks-tools/eks` (as in the
/// configs' required_providers) on Terraform and on OpenTofu.
const PROVIDER_SOURCES: [&str; 2] = [
    "registry.terraform.io/eks-tools/eks",
    "registry.opentofu.org/eks-tools/eks",
];

/// What one terraform command did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// stdout and stderr, interleaved as written.
    pub output: String,
}

/// What a plan does to one resource: terraform's `actions` list, e.g.
/// `["update"]`, `["delete", "create"]` (replace), `["create"]`, `["no-op"]`.
pub type PlanAction = Vec<String>;

/// A terraform working directory bound to a world.
pub struct Tf {
    dir: Option<TempDir>,
    world: &'static World,
    terraform: PathBuf,
    config: String,
    unset: Vec<String>,
    set: Vec<(String, String)>,
}

impl Tf {
    /// A fresh working directory (empty config) for `world`.
    pub fn new(world: &'static World) -> Tf {
        let dir = tempfile::Builder::new()
            .prefix("tf-acc-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir: {e}"));
        write_file(
            &dir.path().join(".terraformrc"),
            &dev_overrides_config(&provider_dir()),
        );
        std::fs::create_dir_all(dir.path().join(".home"))
            .unwrap_or_else(|e| panic!("creating home: {e}"));
        Tf {
            dir: Some(dir),
            world,
            terraform: engine().binary.clone(),
            config: String::new(),
            unset: Vec::new(),
            set: Vec::new(),
        }
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        match &self.dir {
            Some(dir) => dir.path(),
            None => Path::new("."),
        }
    }

    /// Leaves `key` out of terraform's environment (e.g. `AWS_ENDPOINT_URL_EKS`,
    /// to test the provider block's own settings).
    pub fn unset_env(&mut self, key: &str) {
        self.unset.push(key.to_string());
    }

    /// Sets `key` in terraform's environment, over the world's value (e.g.
    /// distinctive AWS keys, `TF_LOG=TRACE`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.set.retain(|(k, _)| k != key);
        self.set.push((key.to_string(), value.to_string()));
    }

    /// Adds a dev_overrides entry to the CLI config: the provider `source`
    /// (a full address, such as `registry.terraform.io/hashicorp/aws`) is
    /// taken from `dir` (tests/moves.rs gives the engines a stand-in).
    pub fn add_dev_override(&self, source: &str, dir: &Path) {
        let path = self.path().join(".terraformrc");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let entry = format!(
            "  dev_overrides {{\n    \"{source}\" = \"{}\"\n",
            dir.display()
        );
        write_file(&path, &text.replacen("  dev_overrides {\n", &entry, 1));
    }

    /// Replaces `main.tf`.
    pub fn write(&mut self, config: &str) {
        self.config = config.to_string();
        write_file(&self.path().join("main.tf"), config);
    }

    /// Runs terraform with `args`; never panics on terraform's exit code.
    pub fn run(&self, args: &[&str]) -> Run {
        let dir = self.path();
        let out_path = dir.join(".last-output");
        let out = File::create(&out_path).unwrap_or_else(|e| panic!("creating output file: {e}"));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cloning output file: {e}"));
        let mut command = Command::new(&self.terraform);
        command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.terraform.display()));
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() > COMMAND_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "terraform {} ran longer than {COMMAND_TIMEOUT:?}:\n{}",
                        args.join(" "),
                        std::fs::read_to_string(&out_path).unwrap_or_default()
                    );
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("waiting for terraform: {e}"),
            }
        };
        let output = std::fs::read_to_string(&out_path).unwrap_or_default();
        eprintln!(
            "[tf-acc] {}: {} {} -> {} in {:.1}s",
            dir.display(),
            engine().command(),
            args.join(" "),
            status
                .code()
                .map_or_else(|| "killed".to_string(), |c| format!("exit {c}")),
            started.elapsed().as_secs_f64()
        );
        Run {
            code: status.code(),
            output,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let dir = self.path();
        let mut env = Vec::new();
        let home = dir.join(".home");
        let nowhere = home.join("none");
        for (k, v) in [
            ("TF_CLI_CONFIG_FILE", dir.join(".terraformrc")),
            ("HOME", home.clone()),
            // Keep a developer's own AWS config and credentials out (the
            // world's environment, next, names them in AWS mode).
            ("AWS_CONFIG_FILE", nowhere.clone()),
            ("AWS_SHARED_CREDENTIALS_FILE", nowhere),
        ] {
            env.push((k.to_string(), v.display().to_string()));
        }
        env.extend(self.world.aws_env());
        env.push(("TF_IN_AUTOMATION".into(), "1".into()));
        env.push(("CHECKPOINT_DISABLE".into(), "1".into()));
        // What is needed to run at all, and logging knobs for debugging.
        for k in [
            "PATH",
            "TMPDIR",
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_LOG_PATH",
            "RUST_BACKTRACE",
        ] {
            if let Ok(v) = std::env::var(k) {
                env.push((k.to_string(), v));
            }
        }
        env.retain(|(k, _)| !self.unset.contains(k));
        env.retain(|(k, _)| !self.set.iter().any(|(s, _)| s == k));
        env.extend(self.set.iter().cloned());
        env
    }

    fn run_ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(
            run.code == Some(0),
            "terraform {} failed ({:?}):\n{}\n--- main.tf ---\n{}",
            args.join(" "),
            run.code,
            run.output,
            self.config
        );
        run.output
    }

    fn run_expect_error(&self, args: &[&str], substr: &str) -> String {
        let run = self.run(args);
        assert!(
            run.code != Some(0),
            "terraform {} succeeded, expected an error containing {substr:?}:\n{}",
            args.join(" "),
            run.output
        );
        assert!(
            contains_ignoring_wrap(&run.output, substr),
            "terraform {} failed, but without {substr:?}:\n{}",
            args.join(" "),
            run.output
        );
        run.output
    }

    /// `terraform apply`; panics unless it succeeds. Returns its output.
    pub fn apply(&self) -> String {
        self.run_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform apply` that must fail with `substr` in its output
    /// (compared with line wrapping undone). Returns the output.
    pub fn apply_expect_error(&self, substr: &str) -> String {
        self.run_expect_error(
            &["apply", "-auto-approve", "-input=false", "-no-color"],
            substr,
        )
    }

    /// `terraform plan` that must fail with `substr` in its output.
    pub fn plan_expect_error(&self, substr: &str) -> String {
        self.run_expect_error(&["plan", "-input=false", "-no-color"], substr)
    }

    /// `terraform validate` that must fail with `substr` in its output.
    pub fn validate_expect_error(&self, substr: &str) -> String {
        self.run_expect_error(&["validate", "-no-color"], substr)
    }

    /// `terraform plan -detailed-exitcode`: (empty?, output). Panics on errors.
    pub fn plan(&self) -> (bool, String) {
        let args = ["plan", "-input=false", "-no-color", "-detailed-exitcode"];
        let run = self.run(&args);
        match run.code {
            Some(0) => (true, run.output),
            Some(2) => (false, run.output),
            _ => panic!("terraform plan failed ({:?}):\n{}", run.code, run.output),
        }
    }

    /// Whether `terraform plan` proposes no change.
    pub fn plan_is_empty(&self) -> bool {
        self.plan().0
    }

    /// Panics, showing the plan, unless it is empty.
    pub fn assert_plan_empty(&self) {
        let (empty, output) = self.plan();
        assert!(empty, "expected an empty plan, got:\n{output}");
    }

    /// The human-readable plan.
    pub fn plan_output(&self) -> String {
        self.plan().1
    }

    /// The planned actions per resource address (from `plan -out` + `show -json`),
    /// leaving out no-ops and reads.
    pub fn plan_actions(&self) -> BTreeMap<String, PlanAction> {
        self.run_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        let json = self.run_ok(&["show", "-json", "-no-color", "tfplan"]);
        let plan = parse_json(&json);
        let mut actions = BTreeMap::new();
        for change in plan["resource_changes"].as_array().into_iter().flatten() {
            let list: PlanAction = change["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            if list != ["no-op"] && list != ["read"] {
                let address = change["address"].as_str().unwrap_or_default().to_string();
                actions.insert(address, list);
            }
        }
        actions
    }

    /// `terraform show -json` of the state.
    pub fn state_json(&self) -> Value {
        parse_json(&self.run_ok(&["show", "-json", "-no-color"]))
    }

    /// The attribute values of `address` (e.g. `eks_pod_identity_association.test`,
    /// `data.eks_pod_identity_associations.all`) in the state, if present.
    pub fn resource_opt(&self, address: &str) -> Option<Value> {
        let state = self.state_json();
        state["values"]["root_module"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
    }

    /// The attribute values of `address`; panics when it is not in the state.
    pub fn resource(&self, address: &str) -> Value {
        self.resource_opt(address)
            .unwrap_or_else(|| panic!("{address} is not in the state"))
    }

    /// Edits every resource instance of the local state file with `edit`
    /// (given the instance object: `attributes`, `identity`, ...), as a
    /// state written by another version would be, and bumps its serial.
    pub fn edit_state(&self, mut edit: impl FnMut(&mut Value)) {
        let path = self.path().join("terraform.tfstate");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut state = parse_json(&text);
        for r in state["resources"].as_array_mut().into_iter().flatten() {
            for i in r["instances"].as_array_mut().into_iter().flatten() {
                edit(i);
            }
        }
        if let Some(serial) = state["serial"].as_u64() {
            state["serial"] = Value::from(serial + 1);
        }
        std::fs::write(&path, state.to_string())
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// The root module's outputs as `{name: value}`.
    pub fn outputs(&self) -> Value {
        let state = self.state_json();
        let mut out = serde_json::Map::new();
        if let Some(outputs) = state["values"]["outputs"].as_object() {
            for (name, output) in outputs {
                out.insert(name.clone(), output["value"].clone());
            }
        }
        Value::Object(out)
    }

    /// `terraform import ADDRESS ID` into this directory's state.
    pub fn import(&self, address: &str, id: &str) -> String {
        self.run_ok(&["import", "-input=false", "-no-color", address, id])
    }

    /// `terraform import` that must fail with `substr` in its output.
    pub fn import_expect_error(&self, address: &str, id: &str, substr: &str) -> String {
        self.run_expect_error(
            &["import", "-input=false", "-no-color", address, id],
            substr,
        )
    }

    /// Import verify: imports `id` as `address` into a fresh directory with
    /// the same config and checks that every attribute equals this
    /// directory's state, except those in `ignore`; then checks that a plan
    /// there is empty.
    pub fn import_verify(&self, address: &str, id: &str, ignore: &[&str]) {
        if let Err(e) = self.import_differences(address, id, ignore) {
            panic!("{e}");
        }
    }

    /// What [`Tf::import_verify`] checks, without panicking on what it
    /// finds: `address` imported by `id` into a fresh directory with this
    /// configuration (and environment) equals this state's, attribute by
    /// attribute (`ignore` aside), and plans empty there. `Err` says what
    /// failed; the fresh directory is dropped, never destroyed.
    pub fn import_differences(
        &self,
        address: &str,
        id: &str,
        ignore: &[&str],
    ) -> Result<(), String> {
        let applied = self.resource(address);
        let mut other = Tf::new(self.world);
        other.unset = self.unset.clone();
        other.set = self.set.clone();
        other.write(&self.config);
        let run = other.run(&["import", "-input=false", "-no-color", address, id]);
        if run.code != Some(0) {
            return Err(format!(
                "import of {address} by {id:?} failed:\n{}",
                run.output
            ));
        }
        let imported = other.resource(address);
        let differences = diff_attributes(&applied, &imported, ignore);
        if !differences.is_empty() {
            return Err(format!(
                "import of {address} by {id:?} differs from the applied state:\n{}",
                differences.join("\n")
            ));
        }
        // The imported state must also be stable under the same config (the
        // plan of that resource alone: the config may hold others).
        let target = format!("-target={address}");
        let plan = other.run(&[
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &target,
        ]);
        if plan.code != Some(0) {
            return Err(format!(
                "the plan after importing {address} by {id:?} is not empty (exit {:?}):\n{}",
                plan.code, plan.output
            ));
        }
        Ok(())
    }

    /// `terraform destroy`; panics unless it succeeds.
    pub fn destroy(&self) -> String {
        self.run_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform taint ADDRESS`.
    pub fn taint(&self, address: &str) -> String {
        self.run_ok(&["taint", "-no-color", address])
    }
}

impl Drop for Tf {
    fn drop(&mut self) {
        if thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("[tf-acc] kept {} for a look", dir.keep().display());
        }
    }
}

/// A CLI config whose dev_overrides take `eks-tools/eks` from `dir`, keyed
/// by both registry hosts (each engine ignores the other's key).
pub fn dev_overrides_config(dir: &Path) -> String {
    let mut out = String::from("provider_installation {\n  dev_overrides {\n");
    for source in PROVIDER_SOURCES {
        out.push_str(&format!("    \"{source}\" = \"{}\"\n", dir.display()));
    }
    out.push_str("  }\n  direct {}\n}\n");
    out
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("terraform printed no JSON ({e}):\n{text}"))
}

/// Whether `haystack` (terraform output) contains `needle` once terraform's
/// line wrapping and diagnostic box drawing (`│`) are undone.
pub fn contains_ignoring_wrap(haystack: &str, needle: &str) -> bool {
    let flatten = |s: &str| {
        s.split_whitespace()
            .filter(|w| *w != "│")
            .collect::<Vec<_>>()
            .join(" ")
    };
    flatten(haystack).contains(&flatten(needle))
}

/// `name: applied → imported` for each attribute that differs, `ignore` aside.
fn diff_attributes(applied: &Value, imported: &Value, ignore: &[&str]) -> Vec<String> {
    let empty = serde_json::Map::new();
    let a = applied.as_object().unwrap_or(&empty);
    let b = imported.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !ignore.contains(&k.as_str()))
        .filter_map(|k| {
            let (x, y) = (
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            );
            (x != y).then(|| format!("  {k}: {x} → {y}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contains_ignoring_wrap_undoes_diagnostic_boxes() {
        let output =
            "│ Error: x\n│ \n│ the association a-1 already exists for this\n│ service account";
        assert!(contains_ignoring_wrap(
            output,
            "already exists for this service account"
        ));
        assert!(!contains_ignoring_wrap(output, "missing"));
    }

    #[test]
    fn dev_overrides_config_keys_both_registry_hosts() {
        let text = dev_overrides_config(Path::new("/p"));
        assert!(
            text.contains("\"registry.terraform.io/eks-tools/eks\" = \"/p\""),
            "{text}"
        );
        assert!(
            text.contains("\"registry.opentofu.org/eks-tools/eks\" = \"/p\""),
            "{text}"
        );
        assert!(text.contains("direct {}"), "{text}");
    }

    #[test]
    fn diff_attributes_names_what_differs_and_skips_ignored() {
        let a = json!({"id": "1", "tags": {"a": "b"}, "x": 1});
        let b = json!({"id": "1", "tags": {"a": "c"}, "y": 2});
        let d = diff_attributes(&a, &b, &["x"]);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("tags"));
        assert!(d[1].contains("y"));
    }
}
