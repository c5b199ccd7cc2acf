//! The local world's processes (moto and the emulator, started, logged and
//! waited for) and where things are (the repository, the binaries under
//! test, moto). Split from `world` so that each file holds one concern.
//!
//! Owns: spawning the servers and finding the paths. Does not own: what
//! the world does once it runs (`super`).

use super::*;
use crate::place::repo_root;

// ---- processes ---------------------------------------------------------------

pub(super) fn spawn_servers(
    moto: &Path,
    emulator: &Path,
    dir: &Path,
    children: &mut Vec<Child>,
) -> Result<(String, String), String> {
    let moto_log = dir.join("moto.log");
    let mut command = Command::new(moto);
    command
        .args(["-H", "127.0.0.1", "-p", "0"])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
    children.push(spawn_logged(command, &moto_log)?);
    let moto_url = wait_for_url(children.last_mut(), &moto_log)?;
    // The first IAM call loads the managed policies (about a second): do it
    // now, not inside the first test's timing.
    let endpoints = Endpoints {
        eks: String::new(),
        iam: moto_url.clone(),
        sts: moto_url.clone(),
    };
    let warm = Client::new(endpoints, REGION, Signer::Fake).iam("ListRoles", &[])?;
    if !warm.ok() {
        return Err(format!("moto does not answer IAM calls: {}", warm.body));
    }

    let emulator_log = dir.join("emulator.log");
    let mut command = Command::new(emulator);
    command.args(["--listen", "127.0.0.1:0", "--iam-endpoint", &moto_url]);
    children.push(spawn_logged(command, &emulator_log)?);
    let eks_url = wait_for_url(children.last_mut(), &emulator_log)?;
    Ok((moto_url, eks_url))
}

/// Spawns with stdout and stderr into `log`, dying with the thread that
/// spawns it (`PR_SET_PDEATHSIG`): the world's thread lives as long as the
/// process, and a server a test starts (tests/registry.rs) dies with that
/// test's thread. Also writes its pid to `log` with extension `acc-pid`.
pub fn spawn_logged(mut command: Command, log: &Path) -> Result<Child, String> {
    let file = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cloning {}: {e}", log.display()))?;
    // SAFETY: getpid is async-signal-safe and has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs between fork and exec and calls only
    // async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .inspect(|child| {
            // For scripts/test.sh, which checks that no server outlived its tests.
            let _ = std::fs::write(log.with_extension("acc-pid"), child.id().to_string());
        })
        .map_err(|e| format!("starting {:?}: {e}", command.get_program()))
}

/// Waits until the log shows `http://127.0.0.1:PORT` (moto's "Running on",
/// the emulator's "listening on") and returns that URL.
pub(super) fn wait_for_url(child: Option<&mut Child>, log: &Path) -> Result<String, String> {
    let child = child.ok_or("no child")?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(url) = find_url(&text) {
            return Ok(url);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{} exited ({status}):\n{text}", log.display()));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{}: no address after {START_TIMEOUT:?}:\n{text}",
                log.display()
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

pub(super) fn find_url(text: &str) -> Option<String> {
    const PREFIX: &str = "http://127.0.0.1:";
    let start = text.find(PREFIX)?;
    let port: String = text[start + PREFIX.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!port.is_empty()).then(|| format!("{PREFIX}{port}"))
}

/// Builds `package` with cargo into this workspace's target dir, once per process.
pub(super) fn cargo_build(package: &str) -> Result<PathBuf, String> {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let target = target_dir()?;
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.iter().any(|p| p == package) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        eprintln!(
            "[tf-acc] building {package} (set TF_ACC_PROVIDER_DIR / EKS_EMULATOR_BIN to skip)"
        );
        let status = Command::new(&cargo)
            .args(["build", "--quiet", "-p", package, "--target-dir"])
            .arg(&target)
            .current_dir(repo_root())
            .status()
            .map_err(|e| format!("running {cargo}: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build -p {package}: {status}"));
        }
        built.push(package.to_string());
    }
    Ok(target.join("debug"))
}

/// The folder with `terraform-provider-eks`: `TF_ACC_PROVIDER_DIR`, else built.
pub fn provider_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os("TF_ACC_PROVIDER_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => cargo_build("terraform-provider-eks")
            .unwrap_or_else(|e| panic!("building the provider: {e}")),
    })
    .clone()
}

/// The folder with tfplugin's test provider `terraform-provider-fixture`
/// (it has a provider-defined function, which ours has not): beside our
/// provider when `cargo build --workspace` put it there, else built.
pub fn fixture_dir() -> PathBuf {
    let dir = provider_dir();
    if dir.join("terraform-provider-fixture").is_file() {
        return dir;
    }
    cargo_build("tfplugin").unwrap_or_else(|e| panic!("building tfplugin's fixture: {e}"))
}

pub(super) fn emulator_bin() -> Result<PathBuf, String> {
    match std::env::var_os("EKS_EMULATOR_BIN") {
        Some(bin) => Ok(PathBuf::from(bin)),
        None => Ok(cargo_build("eks-emulator")?.join("eks-emulator")),
    }
}

pub(super) fn moto_server() -> PathBuf {
    if let Some(bin) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(bin);
    }
    let venv = repo_root().join(".venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}
