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
    run_clean_with(args, &[])
}

/// No canary in `text` (a report file, a log), naming `what` on failure.
fn assert_clean(text: &str, what: &str) {
    for c in ALL.iter().chain(PEER) {
        assert!(!text.contains(c), "{c} in {what}:\n{text}");
    }
}

/// As [`run_clean`], with these extra environment variables.
fn run_clean_with(args: &[String], env: &[(&str, &str)]) -> cli::CliOutput {
    let mut cmd = Command::new(cli::wspath_bin());
    cmd.envs(env.iter().copied());
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
        // An unreachable AWS API too: an ELB name on the path turns it on implicitly.
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{dead}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/wspath-canary")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/wspath-canary")
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
    // The second target is an ELB name: AWS is read implicitly, fails, and says so in a warning.
    let elb = target().replace("app.test", "canary-1.us-east-1.elb.amazonaws.com");
    for (format, v, url) in ["human", "json", "junit", "sarif"]
        .into_iter()
        .flat_map(|f| VERBOSITY.iter().map(move |v| (f, *v)))
        .flat_map(|(f, v)| [(f, v, target()), (f, v, elb.clone())])
    {
        {
            let mut args: Vec<String> = vec!["check".into(), url];
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
        for format in ["human", "json", "junit", "sarif"] {
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

/// An audit file with a canary in every slot a check and a lint have: the target's query and
/// matrix parameters, headers (one literal, one from `${VAR}`), subprotocols, and an nginx
/// config setting a credential header.
fn audit_file(dir: &std::path::Path, peer: &EchoPeer, backend: &Backend) -> String {
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "events {{}}\nhttp {{\n  server {{\n    listen 8080;\n    location /ws {{\n      proxy_pass http://127.0.0.1:9000/ws?token={QUERY};\n      proxy_set_header Authorization \"Bearer {NGINX_AUTH}\";\n    }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let file = dir.join("audit.toml");
    std::fs::write(
        &file,
        format!(
            "[defaults]\ntimeout = \"5s\"\nheaders = [\"Authorization: Bearer ${{CANARY_AUDIT_AUTH}}\", \"X-Api-Key: {API_KEY}\", \"Cookie: sid={COOKIE}\"]\nprotocol = [\"base64url.bearer.authorization.k8s.io.{K8S}\", \"{LONG_PROTO}\"]\n\n\
             [[check]]\nname = \"through the echoing edge\"\ntarget = \"{t}\"\nhops = [\"edge={edge}\", \"backend={back}\"]\n\n\
             [[check]]\nname = \"backend alone\"\ntarget = \"{t}\"\nhops = [\"backend={back}\"]\n\n\
             [[lint]]\nnginx = \"{conf}\"\npath = \"/ws\"\nnginx_version = \"1.24.0\"\n",
            t = target(),
            edge = peer.addr(),
            back = backend.addr(),
            conf = conf.display(),
        ),
    )
    .unwrap();
    file.to_str().unwrap().to_string()
}

#[test]
fn no_canary_in_any_audit_output_or_report_file() {
    let peer = EchoPeer::start();
    let backend = Backend::start().expect("backend");
    let dir = tempfile::tempdir().unwrap();
    let file = audit_file(dir.path(), &peer, &backend);
    let reports: Vec<(String, String)> = [
        ("--report-json", "r.json"),
        ("--report-junit", "r.xml"),
        ("--report-sarif", "r.sarif"),
    ]
    .iter()
    .map(|(f, n)| {
        (
            f.to_string(),
            dir.path().join(n).to_str().unwrap().to_string(),
        )
    })
    .collect();
    let summary = dir.path().join("summary.md");
    let env = [
        ("CANARY_AUDIT_AUTH", AUTH),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let mut saw_redacted = false;
    for format in ["human", "json", "junit", "sarif"] {
        for v in VERBOSITY {
            let _ = std::fs::remove_file(&summary);
            let mut args: Vec<String> = vec!["audit".into(), file.clone(), "--github".into()];
            for (flag, path) in &reports {
                let _ = std::fs::remove_file(path);
                args.extend([flag.clone(), path.clone()]);
            }
            args.extend(["--format".into(), format.into()]);
            if !v.is_empty() {
                args.push(v.to_string());
            }
            let out = run_clean_with(&args, &env);
            let why = out.describe();
            assert_eq!(out.code, Some(1), "the echoing edge is a culprit: {why}");
            if format == "human" {
                assert!(out.stdout.contains("::error"), "annotations: {why}");
            }
            for (_, path) in &reports {
                let text =
                    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}\n{why}"));
                assert_clean(&text, path);
                saw_redacted |= text.contains("<redacted>") || text.contains("&lt;redacted&gt;");
            }
            let table = std::fs::read_to_string(&summary).expect("step summary written");
            assert_clean(&table, "the step summary");
        }
    }
    assert!(saw_redacted, "the reports show where a secret was masked");

    // An audit that cannot run: its error, in every format and report file, carries no canary.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!("[[check]]\nname = \"x\"\ntarget = \"wss://admin:{USERINFO}@app.test/ws?token={QUERY}\"\n"),
    )
    .unwrap();
    for format in ["human", "json", "junit", "sarif"] {
        let mut args: Vec<String> = vec![
            "audit".into(),
            bad.to_str().unwrap().into(),
            "--github".into(),
        ];
        for (flag, path) in &reports {
            args.extend([flag.clone(), path.clone()]);
        }
        args.extend(["--format".into(), format.into(), "-vvv".into()]);
        let out = run_clean_with(&args, &env);
        assert_eq!(out.code, Some(2), "{}", out.describe());
        for (_, path) in &reports {
            assert_clean(&std::fs::read_to_string(path).unwrap(), path);
        }
    }
}

#[test]
fn no_canary_in_serve_debug_pages_or_logs() {
    use crate::support::serve::{encode, Serve};
    let peer = EchoPeer::start();
    let backend = Backend::start().expect("backend");
    let dir = tempfile::Builder::new()
        .prefix("wspath-serve-")
        .tempdir()
        .unwrap();
    let conf = dir.path().join("serve.toml");
    std::fs::write(
        &conf,
        format!(
            "[module.canary]\ntimeout = \"5s\"\nheaders = [\"Authorization: Bearer ${{CANARY_AUDIT_AUTH}}\", \"X-Api-Key: {API_KEY}\", \"Cookie: sid={COOKIE}\"]\nprotocol = [\"base64url.bearer.authorization.k8s.io.{K8S}\", \"{LONG_PROTO}\"]\nhops = [\"edge={}\", \"backend={}\"]\n",
            peer.addr(),
            backend.addr()
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    for v in ["-v", "-vv", "-vvv"] {
        let dir = tempfile::Builder::new()
            .prefix("wspath-serve-")
            .tempdir()
            .unwrap();
        let serve = Serve::start_in(
            dir,
            &["--config", &conf, "--allow", "127.0.0.1", v],
            &[
                ("CANARY_AUDIT_AUTH", AUTH),
                ("CLOUDFLARE_API_TOKEN", ENV_CF),
                ("AWS_SECRET_ACCESS_KEY", ENV_AWS),
            ],
        )
        .expect("serve");
        for debug in ["", "&debug=true"] {
            let query = format!("/probe?module=canary&target={}{debug}", encode(&target()));
            let r = serve.get(&query, &[]).expect("probe");
            assert_eq!(r.status, 200, "{}", r.body);
            assert_clean(&r.body, "the /probe answer");
            if !debug.is_empty() {
                assert!(r.body.contains("<redacted>"), "{}", r.body);
            }
        }
        // The userinfo of a refused target is not echoed either.
        let r = serve
            .get(
                &format!(
                    "/probe?target={}",
                    encode(&format!("wss://admin:{USERINFO}@app.test/ws"))
                ),
                &[],
            )
            .expect("probe");
        assert_clean(&r.body, "the /probe error");
        assert_clean(&serve.log(), "serve's log");
    }
}
