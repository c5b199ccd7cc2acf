//! `docgen`: writes the registry docs, or checks that the committed ones are
//! up to date.
//!
//! ```text
//! docgen [--repo DIR] [--out DIR] [--check]
//! ```
//! `--repo` is the workspace root (default: the one docgen was built from),
//! `--out` the docs folder (default: `<repo>/docs`). With `--check` nothing
//! is written: every difference is listed and the exit code is 1.

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: docgen [--repo DIR] [--out DIR] [--check]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut out: Option<PathBuf> = None;
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--repo" => match args.next() {
                Some(v) => repo = PathBuf::from(v),
                None => return usage(),
            },
            "--out" => match args.next() {
                Some(v) => out = Some(PathBuf::from(v)),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let out = out.unwrap_or_else(|| repo.join("docs"));
    let docs = match docgen::generate(&repo) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("docgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        match docgen::check(&out, &docs) {
            Ok(diffs) if diffs.is_empty() => {
                eprintln!(
                    "docgen: {} files in {} are up to date",
                    docs.len(),
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Ok(diffs) => {
                eprintln!(
                    "docgen: {} differs from what the schema and examples generate:",
                    out.display()
                );
                for d in diffs {
                    eprintln!("  {d}");
                }
                eprintln!("run scripts/docs.sh and commit docs/");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("docgen: {e}");
                ExitCode::FAILURE
            }
        }
    } else {
        match docgen::write(&out, &docs) {
            Ok(touched) => {
                for t in &touched {
                    eprintln!("docgen: wrote {}", out.join(t).display());
                }
                eprintln!(
                    "docgen: {} files in {} ({} changed)",
                    docs.len(),
                    out.display(),
                    touched.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("docgen: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
