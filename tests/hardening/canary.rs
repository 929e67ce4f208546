//! The canary test: every command × format × verbosity runs with a distinct canary value in
//! each secret slot, and no canary may appear anywhere in stdout or stderr.

use super::{EchoPeer, RUN_LIMIT};
use crate::support::{cli, free_port, Backend};
use std::process::Command;

/// `(slot, canary)`: each secret slot carries its own value, so a leak names its slot.
const AUTH: &str = "CANARYauthBearer0001";
const COOKIE: &str = "CANARYcookie0002";
const API_KEY: &str = "CANARYapikey0003";
const QUERY: &str = "CANARYquery0004";
const JSESSION: &str = "CANARYjsession0005";
const AMZ: &str = "CANARYamzsig0006";
const K8S: &str = "CANARYk8sbearer0007";
const LONG_PROTO: &str = "CANARYlongprotocoltoken0008abcdefABCDEF0123456789";
const USERINFO: &str = "CANARYuserinfo0009";
const ENV_CF: &str = "CANARYenvcloudflare0010";
const ENV_AWS: &str = "CANARYenvaws0011";
const NGINX_AUTH: &str = "CANARYnginxauth0012";
const ALL: &[&str] = &[
    AUTH, COOKIE, API_KEY, QUERY, JSESSION, AMZ, K8S, LONG_PROTO, USERINFO, ENV_CF, ENV_AWS,
    NGINX_AUTH,
];
/// Also secret, but sent by the peer, not by the user: masked by shape.
const PEER: &[&str] = &["CANARY-LOCATION-TOKEN", "CANARY-SET-COOKIE"];

fn target() -> String {
    format!("ws://app.test/ws;jsessionid={JSESSION}?room=1&token={QUERY}&X-Amz-Signature={AMZ}")
}

fn secret_flags() -> Vec<String> {
    [
        "-H".to_string(),
        format!("Authorization: Bearer {AUTH}"),
        "-H".into(),
        format!("Cookie: theme=dark; sid={COOKIE}"),
        "-H".into(),
        format!("X-Api-Key: {API_KEY}"),
        "--protocol".into(),
        format!("base64url.bearer.authorization.k8s.io.{K8S}"),
        "--protocol".into(),
        LONG_PROTO.into(),
    ]
    .to_vec()
}

/// Runs wspath with the canary environment and asserts no canary in its output.
fn run_clean(args: &[String]) -> cli::CliOutput {
    let mut cmd = Command::new(cli::wspath_bin());
    // An unreachable Cloudflare API: the provider is enabled only by the environment here.
    let dead = free_port().expect("port");
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("CLOUDFLARE_API_TOKEN", ENV_CF)
        .env(
            "CLOUDFLARE_BASE_URL",
            format!("http://127.0.0.1:{dead}/client/v4"),
        )
        .env("AWS_SECRET_ACCESS_KEY", ENV_AWS)
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env_remove("WSPATH_LOG")
        .env_remove("RUST_LOG");
    let out = cli::run(cmd, RUN_LIMIT).expect("run wspath");
    let why = format!("{args:?}\n{}", out.describe());
    assert!(!out.timed_out, "{why}");
    assert!(!out.stderr.contains("panicked"), "{why}");
    for c in ALL.iter().chain(PEER) {
        assert!(!out.stdout.contains(c), "{c} in stdout\n{why}");
        assert!(!out.stderr.contains(c), "{c} in stderr\n{why}");
    }
    out
}

const VERBOSITY: &[&str] = &["", "-v", "-vv", "-vvv"];

#[test]
fn no_canary_in_any_check_output() {
    let peer = EchoPeer::start();
    let backend = Backend::start().expect("backend");
    let hops = [
        format!("edge={}", peer.addr()),
        format!("backend={}", backend.addr()),
    ];
    let mut saw_redacted = false;
    for format in ["human", "json", "junit", "sarif"] {
        for v in VERBOSITY {
            let mut args: Vec<String> = vec!["check".into(), target()];
            for h in &hops {
                args.extend(["--hop".into(), h.clone()]);
            }
            args.extend(secret_flags());
            args.extend([
                "--format".into(),
                format.into(),
                "--timeout".into(),
                "5s".into(),
            ]);
            if !v.is_empty() {
                args.push(v.to_string());
            }
            let out = run_clean(&args);
            assert!(matches!(out.code, Some(1) | Some(2)), "{}", out.describe());
            saw_redacted |=
                out.stdout.contains("<redacted>") || out.stdout.contains("&lt;redacted&gt;");
        }
    }
    assert!(saw_redacted, "the outputs show where a secret was masked");
}

#[test]
fn no_canary_in_errors() {
    for format in ["human", "json", "junit", "sarif"] {
        for v in VERBOSITY {
            let mut args: Vec<String> = vec![
                "check".into(),
                format!("wss://admin:{USERINFO}@app.test/ws?token={QUERY}"),
            ];
            args.extend(secret_flags());
            args.extend(["--format".into(), format.into()]);
            if !v.is_empty() {
                args.push(v.to_string());
            }
            let out = run_clean(&args);
            assert_eq!(out.code, Some(2), "{}", out.describe());
            // A bad header value names the header, never the value.
            let mut args: Vec<String> = vec![
                "check".into(),
                target(),
                "-H".into(),
                format!("Authorization: Bearer {AUTH}\u{7}"),
                "--format".into(),
                format.into(),
            ];
            if !v.is_empty() {
                args.push(v.to_string());
            }
            let out = run_clean(&args);
            assert_eq!(out.code, Some(2), "{}", out.describe());
        }
    }
}

#[test]
fn no_canary_in_lint_or_fix_output() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "events {{}}\nhttp {{\n  server {{\n    listen 8080;\n    location /ws {{\n      proxy_pass http://127.0.0.1:9000/ws?token={QUERY};\n      proxy_set_header Authorization \"Bearer {NGINX_AUTH}\";\n    }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    for v in VERBOSITY {
        for format in ["human", "json", "sarif"] {
            let mut args: Vec<String> = vec![
                "lint".into(),
                "nginx".into(),
                conf.clone(),
                "--nginx-version".into(),
                "1.24.0".into(),
                "--format".into(),
                format.into(),
            ];
            if !v.is_empty() {
                args.push(v.to_string());
            }
            let out = run_clean(&args);
            assert!(matches!(out.code, Some(0) | Some(1)), "{}", out.describe());
        }
        for format in ["human", "json"] {
            let mut args: Vec<String> = vec![
                "fix".into(),
                "--nginx".into(),
                conf.clone(),
                "--nginx-version".into(),
                "1.24.0".into(),
                "--format".into(),
                format.into(),
            ];
            if !v.is_empty() {
                args.push(v.to_string());
            }
            run_clean(&args);
        }
    }
}
