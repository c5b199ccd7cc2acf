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
