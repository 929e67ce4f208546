//! The wrong scheme for a hop's port, through the real binary on real servers: `ws://` sent to
//! a TLS port must suggest `wss://`, a TLS hello sent to a plain port `ws://` — whatever
//! software answers (nginx, Caddy, Apache httpd word it differently).

use super::{assert_software, run};
use crate::paths::check;
use crate::support::{Backend, Kind, SelfSigned, Setup, WsPath};
use std::path::Path;

/// `kind`'s healthy config in front of the inner hop, but listening with TLS for `app.test`
/// (Caddy with its internal CA, the others with `cert`).
fn tls_config(kind: Kind, cert: &SelfSigned) -> impl Fn(&Path, u16, &str) -> String + '_ {
    move |dir, port, inner| {
        let good = kind
            .config(dir, port, inner, &Setup::good())
            .expect("a healthy config");
        let (crt, key) = (cert.cert.display(), cert.key.display());
        match kind {
            Kind::Nginx => good.replace(
                &format!("listen 127.0.0.1:{port};"),
                &format!(
                    "listen 127.0.0.1:{port} ssl;\n    ssl_certificate {crt};\n    ssl_certificate_key {key};"
                ),
            ),
            Kind::Apache => good.replace(
                "ServerName app.test\n",
                &format!(
                    "ServerName app.test
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
SSLEngine on
SSLCertificateFile {crt}
SSLCertificateKeyFile {key}
"
                ),
            ),
            // `tls internal`: a certificate from Caddy's own CA ("Caddy Local Authority").
            Kind::Caddy => good
                .replace("\tauto_https off\n", "\tauto_https disable_redirects\n\tskip_install_trust\n")
                .replace(
                    &format!("http://:{port} {{\n"),
                    &format!("https://app.test:{port} {{\n\ttls internal\n"),
                ),
            other => panic!("no TLS config for {other:?} here"),
        }
    }
}

const KINDS: [Kind; 3] = [Kind::Nginx, Kind::Caddy, Kind::Apache];

#[test]
fn ws_to_a_tls_port_suggests_wss() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    for kind in KINDS {
        let path = WsPath::backend(Backend::start().expect("backend"))
            .front_with("edge", kind, tls_config(kind, &cert))
            .expect("start TLS proxy");
        let r = run(&path);
        r.assert_culprit("edge", "rejected");
        r.assert_fix_says(&["wss://"]);
    }
}

#[test]
fn a_tls_hello_to_a_plain_port_suggests_ws() {
    for kind in KINDS {
        let path = WsPath::backend(Backend::start().expect("backend"))
            .front("edge", kind, &Setup::good())
            .expect("start plain proxy");
        let edge = format!("wss://{}", path.addr(0));
        let r = check(&[("edge", &edge), ("backend", path.addr(1))], &[]);
        r.assert_culprit("edge", "tls_failed");
        r.assert_fix_says(&["this port speaks plain HTTP", "ws://"]);
    }
}

#[test]
fn a_caddy_hop_is_named_by_its_local_ca_even_when_its_tls_fails() {
    let cert = SelfSigned::new("app.test").expect("certificate");
    let path = WsPath::backend(Backend::start().expect("backend"))
        .front_with("edge", Kind::Caddy, tls_config(Kind::Caddy, &cert))
        .expect("start caddy");
    let edge = format!("wss://{}", path.addr(0));
    let hops = [("edge", edge.as_str()), ("backend", path.addr(1))];
    let issuer_line = |r: &crate::paths::Run| {
        r.hop("edge")["software"]["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_str())
            .any(|e| e.starts_with("certificate issuer: ") && e.contains("Caddy Local Authority"))
    };
    // Untrusted: the TLS failure is Caddy's own CA, and the advice says so.
    let r = check(&hops, &[]);
    r.assert_culprit("edge", "tls_failed");
    assert_software(&r, "edge", "caddy");
    assert!(issuer_line(&r), "{}", r.describe());
    r.assert_fix_says(&[
        "Caddy serves a certificate from its own local CA",
        "`tls internal`",
    ]);
    // Looked past (-k): healthy, and the issuer still backs the identification up.
    let r = check(&hops, &["-k"]);
    r.assert_healthy();
    assert_software(&r, "edge", "caddy");
    assert!(issuer_line(&r), "{}", r.describe());
}
