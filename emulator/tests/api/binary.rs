//! The `eks-emulator` binary: command line, the ready line, serving.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn binary_prints_ready_line_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eks-emulator"))
        .args(["--listen", "127.0.0.1:0", "--account-id", "111122223333"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
        .to_owned();
    let body =
        r#"{"name":"c1","roleArn":"arn:aws:iam::111122223333:role/x","resourcesVpcConfig":{}}"#;
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /clusters HTTP/1.1\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-south-1/eks/aws4_request, SignedHeaders=host, Signature=x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("arn:aws:eks:ap-south-1:111122223333:cluster/c1"),
        "{response}"
    );
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_eks-emulator"))
        .args(["--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Starts the binary and returns it with its address.
fn spawn(args: &[&str], strict_env: Option<&str>) -> (std::process::Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eks-emulator"));
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("EKS_EMULATOR_STRICT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(v) = strict_env {
        command.env("EKS_EMULATOR_STRICT", v);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
        .to_owned();
    (child, addr)
}

/// One HTTP/1.1 request; the whole response as text.
fn request(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Whether an UpdatePodIdentityAssociation without roleArn is refused.
fn refuses_update_without_role(addr: &str) -> bool {
    let cluster =
        r#"{"name":"c1","roleArn":"arn:aws:iam::123456789012:role/x","resourcesVpcConfig":{}}"#;
    assert!(request(addr, "POST", "/clusters", cluster).starts_with("HTTP/1.1 200"));
    let create = r#"{"namespace":"ns","serviceAccount":"sa","roleArn":"arn:aws:iam::123456789012:role/app"}"#;
    let response = request(
        addr,
        "POST",
        "/clusters/c1/pod-identity-associations",
        create,
    );
    let id_at = response.find("\"associationId\":\"").unwrap() + 17;
    let id = &response[id_at..id_at + 19];
    let response = request(
        addr,
        "POST",
        &format!("/clusters/c1/pod-identity-associations/{id}"),
        r#"{"disableSessionTags":true}"#,
    );
    if response.starts_with("HTTP/1.1 200") {
        return false;
    }
    assert!(response.contains("eks-emulator strict mode"), "{response}");
    true
}

#[test]
fn binary_strict_mode_from_flag_or_env() {
    for (args, env, strict) in [
        (&[][..], None, false),
        (&["--strict"][..], None, true),
        (&["--strict=S1"][..], None, true),
        (&["--strict=X1"][..], None, false),
        (&[][..], Some("1"), true),
        (&[][..], Some("S1,S3"), true),
        (&[][..], Some("S2"), false),
        (&[][..], Some("0"), false),
    ] {
        let (mut child, addr) = spawn(args, env);
        let refused = refuses_update_without_role(&addr);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(refused, strict, "{args:?} {env:?}");
    }
}

#[test]
fn binary_rejects_unknown_strict_rules() {
    for (args, env) in [(&["--strict=S9"][..], None), (&[][..], Some("S1,nope"))] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eks-emulator"));
        command.args(args).env_remove("EKS_EMULATOR_STRICT");
        if let Some(v) = env {
            command.env("EKS_EMULATOR_STRICT", v);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("strict-mode rule"));
    }
}
