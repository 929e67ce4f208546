//! The HTTP/2 probe (RFC 8441) against hostile h2 peers: in-process TLS servers that choose `h2`
//! and then misbehave on purpose, frame by frame. Each must end within the probe's budget with a
//! verdict whose detail names what the peer did.

use super::runtime;
use crate::support::SelfSigned;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wspath::probe::http2::{probe, Http2Outcome};
use wspath::probe::ProbeOptions;
use wspath::{Stage, Verdict};

/// The budget of each network phase in these tests.
const BUDGET: Duration = Duration::from_secs(2);
/// No probe may take longer than this: a few phases, never an unbounded wait.
const LIMIT: Duration = Duration::from_secs(12);

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// SETTINGS with ENABLE_CONNECT_PROTOCOL (0x8) = 1.
fn settings_rfc8441() -> Vec<u8> {
    frame(SETTINGS, 0, 0, &[0, 0x8, 0, 0, 0, 1])
}

/// What the peer does when the client's HEADERS (the extended CONNECT) arrive.
#[derive(Clone, Copy)]
enum OnConnect {
    /// Nothing, ever: the stream never opens.
    Silence,
    /// GOAWAY (PROTOCOL_ERROR) and close.
    GoAway,
    /// `:status 200`, then no frame at all.
    OkThenNothing,
}

/// A well-behaved h2 server up to the client's HEADERS: SETTINGS, ACKs, PING answers.
async fn polite_until_headers<S>(mut tls: S, on_connect: OnConnect)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut preface = [0u8; 24];
    if tls.read_exact(&mut preface).await.is_err() {
        return;
    }
    if tls.write_all(&settings_rfc8441()).await.is_err() {
        return;
    }
    loop {
        let mut head = [0u8; 9];
        if tls.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if tls.read_exact(&mut payload).await.is_err() {
            return;
        }
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let answer = match kind {
            SETTINGS if flags & ACK == 0 => frame(SETTINGS, ACK, 0, &[]),
            PING if flags & ACK == 0 => frame(PING, ACK, 0, &payload),
            HEADERS => match on_connect {
                OnConnect::Silence => continue,
                OnConnect::GoAway => {
                    let mut p = 0u32.to_be_bytes().to_vec();
                    p.extend_from_slice(&1u32.to_be_bytes()); // PROTOCOL_ERROR
                    let _ = tls.write_all(&frame(GOAWAY, 0, 0, &p)).await;
                    let _ = tls.shutdown().await;
                    return;
                }
                // HPACK static table index 8: `:status: 200`.
                OnConnect::OkThenNothing => frame(HEADERS, END_HEADERS, stream, &[0x88]),
            },
            _ => continue,
        };
        if tls.write_all(&answer).await.is_err() {
            return;
        }
    }
}

/// SETTINGS frames without end, never reading.
async fn settings_flood<S>(mut tls: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let burst: Vec<u8> = (0..256).flat_map(|_| settings_rfc8441()).collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if tls.write_all(&burst).await.is_err() {
            return;
        }
    }
}

/// A TLS server choosing ALPN `h2` on a loopback port, serving each connection with `serve`.
fn h2_server<F, Fut>(cert: &SelfSigned, serve: F) -> (tokio::runtime::Runtime, SocketAddr)
where
    F: Fn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert.cert)
        .expect("cert pem")
        .collect::<Result<_, _>>()
        .expect("cert pem");
    let key = PrivateKeyDer::from_pem_file(&cert.key).expect("key pem");
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serve = Arc::new(serve);
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, serve) = (acceptor.clone(), serve.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve(tls).await;
                }
            });
        }
    });
    (rt, addr)
}

/// Probes the HTTP/2 side of `addr`, checking it ends in time.
fn probe_h2(rt: &tokio::runtime::Runtime, addr: SocketAddr, cert: &SelfSigned) -> Http2Outcome {
    let target = wspath::Target::parse("wss://app.example.test/ws").expect("target");
    let hop = wspath::hop::HopSpec::parse(&format!("edge={addr}"))
        .expect("hop")
        .resolve(&target);
    let mut options = ProbeOptions::new(&target);
    options.cacert = Some(cert.ca.clone());
    options.timeout = BUDGET;
    let started = Instant::now();
    let h2 = rt.block_on(probe(&target, &hop, &options));
    assert!(
        started.elapsed() < LIMIT,
        "the probe took {:?}: {h2:?}",
        started.elapsed()
    );
    assert_eq!(h2.alpn.as_deref(), Some("h2"), "{h2:?}");
    h2
}

fn outcome(h2: &Http2Outcome) -> &wspath::probe::ProbeOutcome {
    h2.probe
        .as_ref()
        .unwrap_or_else(|| panic!("not probed: {h2:?}"))
}

#[test]
fn a_settings_flood_ends_in_time_and_is_named() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = h2_server(&cert, settings_flood);
    let h2 = probe_h2(&rt, addr, &cert);
    let o = outcome(&h2);
    assert!(h2.failed(), "{h2:?}");
    assert!(
        matches!(
            o.verdict,
            Verdict::Timeout | Verdict::Rejected | Verdict::MalformedResponse
        ),
        "{h2:?}"
    );
    assert!(o.detail.contains("SETTINGS flood"), "{}", o.detail);
}

#[test]
fn a_stream_that_never_opens_is_a_timeout_at_the_response() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = h2_server(&cert, |tls| polite_until_headers(tls, OnConnect::Silence));
    let h2 = probe_h2(&rt, addr, &cert);
    assert!(h2.extended_connect, "{h2:?}");
    let o = outcome(&h2);
    assert_eq!(o.verdict, Verdict::Timeout, "{h2:?}");
    assert_eq!(o.stage, Stage::Response, "{h2:?}");
    assert!(
        o.detail.contains("no answer to the extended CONNECT"),
        "{}",
        o.detail
    );
}

#[test]
fn goaway_mid_handshake_is_a_refusal_naming_the_goaway() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = h2_server(&cert, |tls| polite_until_headers(tls, OnConnect::GoAway));
    let h2 = probe_h2(&rt, addr, &cert);
    let o = outcome(&h2);
    assert!(h2.failed(), "{h2:?}");
    assert!(o.detail.contains("GOAWAY (PROTOCOL_ERROR)"), "{}", o.detail);
}

#[test]
fn a_200_without_any_frame_fails_the_ping() {
    let cert = SelfSigned::new("app.example.test").expect("certificate");
    let (rt, addr) = h2_server(&cert, |tls| {
        polite_until_headers(tls, OnConnect::OkThenNothing)
    });
    let h2 = probe_h2(&rt, addr, &cert);
    let o = outcome(&h2);
    assert_eq!(o.evidence.status, Some(200), "{h2:?}");
    assert_eq!(o.verdict, Verdict::FramesFailed, "{h2:?}");
    assert!(o.detail.starts_with("ping:"), "{}", o.detail);
}
