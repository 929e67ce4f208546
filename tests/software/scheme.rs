//! The wrong scheme for a hop's port, through the real binary on real servers: `ws://` sent to
//! a TLS port must suggest `wss://`, a TLS hello sent to a plain port `ws://` — whatever
//! software answers (nginx, Caddy, Apache httpd word it differently).

use super::run;
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
