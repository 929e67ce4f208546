//! Case 8: nginx `listen ssl` with a certificate made by the test: refused without trust,
//! accepted with `--insecure` or `--cacert`.

use super::*;
use crate::support::SelfSigned;

/// TLS-terminating nginx for `cert` in front of a backend.
fn tls_nginx(cert: &SelfSigned) -> WsPath {
    behind_nginx(&Setup::good().serving_tls(cert))
}

const WSS_TARGET: &str = "wss://app.test/ws";

/// `check WSS_TARGET` through the TLS nginx to its plain backend.
fn check_both(path: &WsPath, extra: &[&str]) -> Run {
    let backend_url = format!("ws://{}", path.addr(1));
    check(
        WSS_TARGET,
        &[("nginx", path.addr(0)), ("backend", &backend_url)],
        extra,
    )
}

#[test]
fn untrusted_certificate_is_tls_failed() {
    let cert = SelfSigned::new("app.test").expect("make cert");
    let run = check_both(&tls_nginx(&cert), &[]);
    run.assert_culprit("nginx", "tls_failed");
    let hop = run.hop("nginx");
    assert_eq!(hop["stage"], "tls", "{}", run.describe());
    assert!(
        hop["detail"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("issuer"),
        "the detail names the reason (unknown issuer)\n{}",
        run.describe()
    );
    run.assert_upgraded("backend");
}

#[test]
fn insecure_accepts_the_test_certificate() {
    let cert = SelfSigned::new("app.test").expect("make cert");
    let run = check_both(&tls_nginx(&cert), &["--insecure"]);
    run.assert_healthy();
    let tls = &run.hop("nginx")["tls"];
    assert!(
        tls["version"].as_str().is_some_and(|v| v.contains("1.")),
        "{}",
        run.describe()
    );
    assert_eq!(tls["alpn"], "http/1.1", "{}", run.describe());
    assert!(run.hop("backend")["tls"].is_null(), "{}", run.describe());
}

#[test]
fn cacert_trusts_the_test_certificate() {
    let cert = SelfSigned::new("app.test").expect("make cert");
    let nginx = tls_nginx(&cert);
    let ca = cert.ca.display().to_string();
    let run = check(WSS_TARGET, &[("nginx", nginx.addr(0))], &["--cacert", &ca]);
    run.assert_healthy();
}

/// A trusted certificate for another name: tls_failed naming the mismatch (SNI is the
/// target's host, not the pinned address).
#[test]
fn certificate_for_another_name_is_tls_failed() {
    let cert = SelfSigned::new("other.test").expect("make cert");
    let nginx = tls_nginx(&cert);
    let ca = cert.ca.display().to_string();
    let run = check(WSS_TARGET, &[("nginx", nginx.addr(0))], &["--cacert", &ca]);
    run.assert_culprit("nginx", "tls_failed");
    assert!(
        run.hop("nginx")["detail"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("name"),
        "the detail names the reason (name mismatch)\n{}",
        run.describe()
    );
}

/// A trusted certificate past its notAfter: tls_failed with the date it expired (not UNIX
/// seconds), and a fix that also covers a renewal the server never loaded.
#[test]
fn expired_certificate_says_when_and_how_to_renew() {
    let cert = SelfSigned::expired("app.test").expect("make cert");
    let nginx = tls_nginx(&cert);
    let ca = cert.ca.display().to_string();
    let run = check(WSS_TARGET, &[("nginx", nginx.addr(0))], &["--cacert", &ca]);
    run.assert_culprit("nginx", "tls_failed");
    let detail = run.hop("nginx")["detail"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        detail.starts_with("certificate expired: not valid after 2021-01-01T00:00:00Z (")
            && detail.ends_with(" days ago)"),
        "{}",
        run.describe()
    );
    run.assert_fix_says(&["renew the certificate", "reload"]);
}

/// `--cacert` pointing at a missing file cannot run.
#[test]
fn missing_cacert_file_cannot_run() {
    let out = wspath(&["check", WSS_TARGET, "--cacert", "/nonexistent/ca.pem"]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("/nonexistent/ca.pem"),
        "{}",
        out.describe()
    );
}
