//! Probes against real nginx, HAProxy and the websockets backend.

use super::{run, runtime, show};
use crate::support::{haproxy, nginx, Backend, Haproxy, Nginx, SelfSigned};
use std::sync::Arc;
use wspath::probe::AnsweredBy;
use wspath::{Stage, Verdict};

fn proxy(backend: &str, location_extra: &str) -> Nginx {
    Nginx::start(|port| {
        format!(
            "{map}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://{backend};
        {location_extra}
    }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("nginx")
}

const FORWARD_UPGRADE: &str = "proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;";

#[test]
fn backend_upgrades_pings_and_echoes() {
    let backend = Backend::start().expect("backend");
    let o = run(
        "wss://app.example.test/ws/chat",
        &format!("backend=ws://{}/chat", backend.addr()),
        |o| o.echo = Some("hello wspath".into()),
    );
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    assert_eq!(o.stage, Stage::Done);
    assert_eq!(o.evidence.answered_by, AnsweredBy::PythonWebsockets);
    assert!(o.ping_rtt_ms.is_some());
    assert_eq!(o.echo_ok, Some(true));
    assert_eq!(o.evidence.remote_addr.map(|a| a.port()), Some(backend.port));
    // Host is the target's whatever address the hop has; the path is the hop's.
    let seen = backend.requests();
    let last = seen.last().expect("the backend saw the handshake");
    assert_eq!(last["path"], "/chat", "{last}");
    assert!(last.to_string().contains("app.example.test"), "{last}");
    assert!(
        o.curl
            .contains("--connect-to app.example.test:80:127.0.0.1:"),
        "{}",
        o.curl
    );
}

#[test]
fn bare_proxy_pass_is_upgrade_stripped_and_the_backend_is_named() {
    let backend = Backend::start().expect("backend");
    let nginx = proxy(&backend.addr(), "");
    let o = run(
        "ws://app.example.test/ws",
        &format!("nginx={}", nginx.addr()),
        |_| {},
    );
    assert_eq!(o.verdict, Verdict::UpgradeStripped, "{}", show(&o));
    assert_eq!(o.evidence.status, Some(505));
    assert!(
        o.detail.contains("unsupported HTTP version: HTTP/1.0"),
        "{}",
        show(&o)
    );
    // nginx rewrote Server to itself, yet the body is the backend's.
    assert!(o
        .evidence
        .headers
        .iter()
        .any(|(n, v)| n == "Server" && v.starts_with("nginx")));
    assert_eq!(o.evidence.answered_by, AnsweredBy::PythonWebsockets);
}

#[test]
fn nginx_with_upgrade_forwarding_upgrades_and_its_502_page_is_nginx() {
    let mut backend = Backend::start().expect("backend");
    let nginx = proxy(&backend.addr(), FORWARD_UPGRADE);
    let hop = format!("nginx={}", nginx.addr());
    let o = run("ws://app.example.test/", &hop, |_| {});
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    assert_eq!(o.evidence.answered_by, AnsweredBy::Nginx);

    backend.stop();
    let o = run("ws://app.example.test/", &hop, |_| {});
    assert_eq!(o.verdict, Verdict::BadGateway, "{}", show(&o));
    assert_eq!(o.evidence.answered_by, AnsweredBy::Nginx);
}

#[test]
fn haproxy_without_tunnel_timeout_drops_the_idle_connection() {
    let backend = Backend::start().expect("backend");
    let lb = Haproxy::start(|port| {
        haproxy::http_proxy(
            port,
            &backend.addr(),
            "timeout connect 2s\n    timeout client 1s\n    timeout server 1s",
        )
    })
    .expect("haproxy");
    let o = run(
        "ws://app.example.test/",
        &format!("lb={}", lb.addr()),
        |o| {
            o.idle = Some(std::time::Duration::from_secs(4));
        },
    );
    assert_eq!(o.verdict, Verdict::IdleDropped, "{}", show(&o));
    assert_eq!(o.stage, Stage::Idle);
    let idle = o.idle.expect("idle outcome");
    assert!(idle.dropped);
    let after = idle.dropped_after_ms.expect("drop time");
    assert!((800.0..3500.0).contains(&after), "dropped after {after} ms");
    assert_eq!(idle.close_code, Some(1006));
}

#[test]
fn idle_hold_through_nginx_with_long_timeouts_is_kept() {
    let backend = Backend::start().expect("backend");
    let nginx = proxy(&backend.addr(), FORWARD_UPGRADE);
    let o = run(
        "ws://app.example.test/",
        &format!("nginx={}", nginx.addr()),
        |o| {
            o.idle = Some(std::time::Duration::from_millis(1500));
        },
    );
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    let idle = o.idle.expect("idle outcome");
    assert!(!idle.dropped && idle.held_ms >= 1500.0, "{idle:?}");
}

fn tls_nginx(backend: &str, cert: &SelfSigned) -> Nginx {
    let (c, k) = (
        cert.cert.display().to_string(),
        cert.key.display().to_string(),
    );
    Nginx::start(|port| {
        format!(
            "{map}
server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {c};
    ssl_certificate_key {k};
    location / {{
        proxy_pass http://{backend};
        {FORWARD_UPGRADE}
    }}
}}",
            map = nginx::CONNECTION_UPGRADE_MAP
        )
    })
    .expect("nginx")
}

#[test]
fn tls_unknown_issuer_name_mismatch_cacert_and_insecure() {
    let backend = Backend::start().expect("backend");
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let nginx = tls_nginx(&backend.addr(), &cert);
    let hop = format!("nginx={}", nginx.addr());

    let o = run("wss://app.example.test/", &hop, |_| {});
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert_eq!(o.stage, Stage::Tls);
    assert!(o.detail.starts_with("unknown issuer"), "{}", show(&o));

    let ca = cert.ca.clone();
    let o = run("wss://other.example.test/", &hop, |o| {
        o.cacert = Some(ca.clone())
    });
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert!(
        o.detail.starts_with("certificate name mismatch"),
        "{}",
        show(&o)
    );
    assert!(o.detail.contains("other.example.test"), "{}", show(&o));

    let o = run("wss://app.example.test/", &hop, |o| {
        o.cacert = Some(ca.clone())
    });
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    let tls = o.evidence.tls.expect("tls info");
    assert_eq!(tls.alpn.as_deref(), Some("http/1.1"));
    assert!(tls.version.starts_with("TLSv1."), "{}", tls.version);
    assert!(o.curl.contains("--cacert"), "{}", o.curl);

    let o = run("wss://other.example.test/", &hop, |o| o.insecure = true);
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    assert!(o.evidence.tls.is_some());
    assert!(o.curl.contains(" -k "), "{}", o.curl);
}

#[test]
fn wss_to_a_plain_port_and_ws_to_a_tls_port_say_so() {
    let backend = Backend::start().expect("backend");
    let plain = proxy(&backend.addr(), FORWARD_UPGRADE);
    // wss:// named: a bare address would let the walk probe an inner hop over ws:// instead.
    let o = run(
        "wss://app.example.test/",
        &format!("nginx=wss://{}", plain.addr()),
        |o| o.insecure = true,
    );
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert!(
        o.detail.starts_with("this port speaks plain HTTP, not TLS"),
        "{}",
        show(&o)
    );

    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let tls = tls_nginx(&backend.addr(), &cert);
    let o = run(
        "ws://app.example.test/",
        &format!("nginx={}", tls.addr()),
        |_| {},
    );
    assert_eq!(o.verdict, Verdict::Rejected, "{}", show(&o));
    assert!(o.detail.contains("use wss://"), "{}", show(&o));
}

/// A rustls server on a loopback port with the test certificate; `edit` adjusts its config. It
/// completes handshakes and sends nothing else.
fn rustls_server(
    cert: &SelfSigned,
    client_auth: bool,
    edit: impl FnOnce(&mut rustls::ServerConfig),
) -> (tokio::runtime::Runtime, std::net::SocketAddr) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert.cert)
        .expect("cert pem")
        .collect::<Result<_, _>>()
        .expect("cert pem");
    let key = PrivateKeyDer::from_pem_file(&cert.key).expect("key pem");
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = if client_auth {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(&cert.ca).expect("ca pem"))
            .expect("ca");
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(certs, key).expect("server config");
    edit(&mut config);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    use tokio::io::AsyncReadExt;
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = tls.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                }
            });
        }
    });
    (rt, addr)
}

fn probe_tls(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    cert: &SelfSigned,
) -> wspath::probe::ProbeOutcome {
    probe_tls_with(rt, addr, cert, |_| {})
}

fn probe_tls_with(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    cert: &SelfSigned,
    edit: impl FnOnce(&mut wspath::probe::ProbeOptions),
) -> wspath::probe::ProbeOutcome {
    let target = wspath::Target::parse("wss://app.example.test/").expect("target");
    let hop = wspath::hop::HopSpec::parse(&format!("edge={addr}"))
        .expect("hop")
        .resolve(&target);
    let mut options = wspath::probe::ProbeOptions::new(&target);
    options.cacert = Some(cert.ca.clone());
    options.timeout = std::time::Duration::from_secs(5);
    edit(&mut options);
    rt.block_on(wspath::probe::probe(&target, &hop, &options))
}

/// A TLS server that, like an HTTP/2-only endpoint, accepts only the `h2` ALPN protocol.
#[test]
fn http2_only_alpn_is_tls_failed_no_common_alpn() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = rustls_server(&cert, false, |c| c.alpn_protocols = vec![b"h2".to_vec()]);
    let o = probe_tls(&rt, addr, &cert);
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert!(o.detail.contains("no common ALPN"), "{}", show(&o));
    assert!(o.detail.contains("HTTP/2-only endpoint?"), "{}", show(&o));
}

/// Offering h2 as well (`--alpn h2,http/1.1`) lets an HTTP/2 server pick it; the upgrade cannot
/// go over that, and the probe says so instead of sending HTTP/1.1 into an HTTP/2 connection.
#[test]
fn a_chosen_h2_alpn_is_tls_failed() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = rustls_server(&cert, false, |c| c.alpn_protocols = vec![b"h2".to_vec()]);
    let o = probe_tls_with(&rt, addr, &cert, |o| {
        o.alpn = vec!["h2".into(), "http/1.1".into()]
    });
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert!(o.detail.contains("chose ALPN 'h2'"), "{}", show(&o));
    assert_eq!(o.evidence.tls.and_then(|t| t.alpn).as_deref(), Some("h2"));
}

/// TLS 1.3 servers refuse a missing client certificate only after the client's handshake is
/// done: the alert arrives on the first read and is still a TLS failure, named as mutual TLS.
#[test]
fn mutual_tls_without_a_client_certificate_is_tls_failed() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = rustls_server(&cert, true, |_| {});
    let o = probe_tls(&rt, addr, &cert);
    assert_eq!(o.verdict, Verdict::TlsFailed, "{}", show(&o));
    assert_eq!(o.stage, Stage::Tls);
    assert!(o.detail.contains("client certificate"), "{}", show(&o));
}

#[test]
fn nginx_proxy_read_timeout_drops_the_idle_connection_without_a_close_frame() {
    let backend = Backend::start().expect("backend");
    let nginx = proxy(
        &backend.addr(),
        &format!("{FORWARD_UPGRADE}\n        proxy_read_timeout 1s;"),
    );
    let o = run(
        "ws://app.example.test/",
        &format!("nginx={}", nginx.addr()),
        |o| {
            o.idle = Some(std::time::Duration::from_secs(4));
        },
    );
    assert_eq!(o.verdict, Verdict::IdleDropped, "{}", show(&o));
    assert!(o.detail.contains("1006 (no close frame)"), "{}", show(&o));
    let idle = o.idle.expect("idle outcome");
    let after = idle.dropped_after_ms.expect("drop time");
    assert!((800.0..3500.0).contains(&after), "dropped after {after} ms");
    assert_eq!(idle.close_code, Some(1006));
}
