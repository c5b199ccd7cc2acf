//! Where things are for a test binary: the workspace root, the cargo
//! target dir it was built into, and its own name.
//!
//! Owns: those three answers. Everything that lays out files under them
//! (the world's logs, the AWS mode's record) is its user's.

use std::path::{Path, PathBuf};

/// The workspace root (this crate's parent folder).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo target dir this test binary was built into
/// (`<target>/debug/deps/<binary>` → `<target>`).
pub(crate) fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no target dir above {}", exe.display()))
}

/// The test binary's name without cargo's hash (`association-1a2b…` → `association`).
pub(crate) fn binary_name() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|s| s.to_str())
        .unwrap_or("tests");
    stem.rsplit_once('-')
        .map_or(stem, |(name, _)| name)
        .to_string()
}
