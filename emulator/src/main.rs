//! The `eks-emulator` binary: parses the command line, binds the listener
//! and serves [`eks_emulator::app`] until killed.
//!
//! `eks-emulator --listen 127.0.0.1:PORT --iam-endpoint URL [--account-id ID] [--strict[=RULES]]`
//! prints `listening on http://ADDR` once it accepts connections. Strict
//! mode is also on when `EKS_EMULATOR_STRICT=1`.

use std::io::Write;
use std::process::ExitCode;

use eks_emulator::{Config, DEFAULT_ACCOUNT_ID, Emulator, Strict, app};

const USAGE: &str = "usage: eks-emulator [--listen 127.0.0.1:PORT] [--iam-endpoint URL] [--account-id 123456789012] [--no-kubernetes-api] [--strict[=S1,S2,S3,X1]]\n(strict mode is also on with EKS_EMULATOR_STRICT=1, or =S1,X1 for some rules)";

struct Args {
    listen: String,
    config: Config,
}

fn parse_args() -> Result<Args, String> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut config = Config {
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        iam_endpoint: None,
        kubernetes_api: true,
        strict: Config::strict_from_env()?,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => listen = value()?,
            "--iam-endpoint" => config.iam_endpoint = Some(value()?),
            "--account-id" => {
                let id = value()?;
                if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("--account-id must be 12 digits, got {id}"));
                }
                config.account_id = id;
            }
            "--no-kubernetes-api" => config.kubernetes_api = false,
            "--strict" => {
                config.strict = match inline.as_deref() {
                    None => Strict::all(),
                    Some(rules) => Strict::parse(rules)?,
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Args { listen, config })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if args.config.iam_endpoint.is_none() {
        eprintln!("eks-emulator: no --iam-endpoint: IAM role checks are off");
    }
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("eks-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("eks-emulator: no local address: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.config.strict.any() {
        eprintln!(
            "eks-emulator: strict mode, rules {}: undocumented requests are refused (FACTS.md)",
            args.config.strict
        );
    }
    let emulator = Emulator::new(args.config);
    let mut stdout = std::io::stdout();
    // Other tools wait for exactly this line.
    if writeln!(stdout, "listening on http://{addr}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("eks-emulator: cannot write to stdout");
    }
    if let Err(e) = axum::serve(listener, app(emulator)).await {
        eprintln!("eks-emulator: server error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
