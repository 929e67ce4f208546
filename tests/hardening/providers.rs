//! No false green from a provider: named on the command line and unreadable is exit 2 with the
//! reason; enabled only by credentials in the environment and unreadable is a warning in the
//! report (`warnings` in JSON) that leaves the exit code as the walk decided. Real moto.

use crate::support::cli::{run, wspath_bin, CliOutput};
use crate::support::moto::Moto;
use crate::support::Backend;
use serde_json::Value;
use std::process::Command;

/// `wspath ARGS…` with AWS credentials in the environment, pointed at `endpoint`, cut off from
/// the user's AWS configuration and from instance metadata.
fn with_aws_env(endpoint: &str, args: &[&str]) -> CliOutput {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(wspath_bin());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env_remove("CF_API_TOKEN")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret-value")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    run(cmd, super::RUN_LIMIT).expect("run wspath")
}

#[test]
fn an_implicit_aws_that_cannot_be_read_is_a_warning_an_explicit_one_exit_2() {
    let backend = Backend::start().unwrap_or_else(|e| panic!("backend: {e}"));
    let hop = format!("lb={}", backend.addr());
    // An ELB name on the path turns AWS on by default when credentials are present.
    let url = "ws://nope-123.us-east-1.elb.amazonaws.com/ws";
    let args = |extra: &[&'static str]| {
        let mut a = vec!["check", url, "--hop", &hop, "--no-ping", "--format", "json"];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let moto = Moto::start().unwrap_or_else(|e| panic!("moto: {e}"));
    let live = moto.endpoint.clone();
    let warned = |out: &CliOutput, needle: &str| {
        let why = out.describe();
        assert_eq!(out.code, Some(0), "the walk is healthy: {why}");
        let doc: Value = out.json().unwrap();
        assert_eq!(doc["ok"], true, "{why}");
        let warnings = doc["warnings"].to_string();
        assert!(
            warnings.contains("AWS load balancer facts skipped") && warnings.contains(needle),
            "{why}"
        );
        assert!(!out.stdout.contains("testing-secret-value"), "{why}");
        assert!(!out.stderr.contains("testing-secret-value"), "{why}");
    };
    let a = args(&[]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    // A real moto that does not know this load balancer.
    warned(&with_aws_env(&live, &a), "no load balancer with DNS name");
    // The same moto stopped: nothing listens there any more.
    drop(moto);
    warned(&with_aws_env(&live, &a), "DescribeLoadBalancers");
    // Human output says it too, and the exit stays 0.
    let human: Vec<&str> = a
        .iter()
        .copied()
        .filter(|x| *x != "--format" && *x != "json")
        .collect();
    let out = with_aws_env(&live, &human);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout
            .contains("warning: AWS load balancer facts skipped"),
        "{}",
        out.describe()
    );

    // Named on the command line: exit 2 with the reason, in the requested format.
    let e = args(&["--aws"]);
    let e: Vec<&str> = e.iter().map(String::as_str).collect();
    let out = with_aws_env(&live, &e);
    let why = out.describe();
    assert_eq!(out.code, Some(2), "{why}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{why}");
    assert!(out.stderr.contains("DescribeLoadBalancers"), "{why}");
    let doc = out.json().unwrap();
    assert_eq!(doc["error"]["kind"], "provider", "{why}");
}
