//! TLS refusals named by what the server did, with the fix for that server.

use super::*;
use crate::support::{Proxy, SelfSigned};

/// nginx's default TLS server rejects names it has no `server_name` for
/// (`ssl_reject_handshake on`), and the WebSocket host is not among them: the fix is a
/// server block for that name, not "fix the TLS setup".
#[test]
fn nginx_without_a_server_for_the_target_name() {
    let cert = SelfSigned::new("other.test").expect("certificate");
    let (crt, key) = (cert.cert.display(), cert.key.display());
    let nginx = Proxy::start(Kind::Nginx, |dir, port| {
        let other = format!(
            "server {{ listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }}
server {{
    listen 127.0.0.1:{port} ssl;
    server_name other.test;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    location / {{ return 204; }}
}}"
        );
        crate::support::nginx::main_config(dir, &other)
    })
    .expect("start nginx");
    let hop = format!("wss://{}", nginx.addr());
    let run = check(&[("nginx", &hop)], &[]);
    run.assert_culprit("nginx", "tls_failed");
    run.assert_fix_says(&["`server_name app.test`", "ssl_reject_handshake"]);
}
