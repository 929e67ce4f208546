//! In-process TCP servers that answer badly on purpose: every answer must become a verdict, in
//! time, without a panic.

use super::{runtime, show};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wspath::hop::HopSpec;
use wspath::probe::{probe, request::accept_key, ProbeOptions, ProbeOutcome};
use wspath::{Stage, Target, Verdict};

/// Serves every connection with `serve` on a loopback port and probes it once.
fn probe_against<F, Fut>(serve: F, edit: impl FnOnce(&mut ProbeOptions)) -> ProbeOutcome
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    let target = Target::parse("ws://app.example.test/ws").expect("target");
    let hop = HopSpec::parse(&format!("odd={addr}"))
        .expect("hop")
        .resolve(&target);
    let mut options = ProbeOptions::new(&target);
    options.timeout = Duration::from_secs(2);
    edit(&mut options);
    rt.block_on(probe(&target, &hop, &options))
}

/// Reads the request head and returns its Sec-WebSocket-Key.
async fn read_request(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf)
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ").map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn closing_without_a_byte_is_no_response() {
    let o = probe_against(
        |mut tcp| async move {
            read_request(&mut tcp).await;
        },
        |_| {},
    );
    assert_eq!(o.verdict, Verdict::NoResponse, "{}", show(&o));
    assert_eq!(o.stage, Stage::Response);
}

#[test]
fn silence_is_a_timeout_within_the_budget() {
    let o = probe_against(
        |mut tcp| async move {
            read_request(&mut tcp).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        },
        |o| o.timeout = Duration::from_millis(500),
    );
    assert_eq!(o.verdict, Verdict::Timeout, "{}", show(&o));
    assert_eq!(o.stage, Stage::Response);
    assert!(o.timings.total < 5000.0, "{}", o.timings.total);
}

#[test]
fn an_endless_head_is_malformed() {
    let o = probe_against(
        |mut tcp| async move {
            read_request(&mut tcp).await;
            // One header whose value never ends.
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nX-Filler: ").await;
            let chunk = [b'a'; 1024];
            for _ in 0..64 {
                if tcp.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        },
        |_| {},
    );
    assert_eq!(o.verdict, Verdict::MalformedResponse, "{}", show(&o));
    assert!(o.detail.contains("larger than 16 KiB"), "{}", show(&o));
}

#[test]
fn a_101_for_another_key_is_bad_accept() {
    let o = probe_against(
        |mut tcp| async move {
            read_request(&mut tcp).await;
            let _ = tcp
                .write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                )
                .await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        },
        |_| {},
    );
    assert_eq!(o.verdict, Verdict::BadAccept, "{}", show(&o));
    assert_eq!(o.stage, Stage::Accept);
    assert!(o.ping_rtt_ms.is_none());
}

/// The 101 head and the first 3 bytes of a text frame arrive in one write; the frame's rest
/// later. If the bytes read past the head were lost, the frame stream would be misaligned and
/// the ping below would fail.
#[test]
fn bytes_behind_the_101_reach_the_websocket_stream() {
    let o = probe_against(
        |mut tcp| async move {
            let key = read_request(&mut tcp).await;
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                accept_key(&key)
            );
            let mut first = head.into_bytes();
            first.extend_from_slice(&[0x81, 0x05, b'h']);
            let _ = tcp.write_all(&first).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = tcp.write_all(b"ello").await;
            let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
                tcp,
                tokio_tungstenite::tungstenite::protocol::Role::Server,
                None,
            )
            .await;
            use futures_util::{SinkExt, StreamExt};
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() && ws.send(m).await.is_err() {
                    break;
                }
            }
        },
        |o| o.echo = Some("x".into()),
    );
    assert_eq!(o.verdict, Verdict::Upgraded, "{}", show(&o));
    assert!(o.ping_rtt_ms.is_some(), "{}", show(&o));
    assert_eq!(o.echo_ok, Some(true));
}

#[test]
fn a_body_that_never_ends_is_cut_to_a_snippet() {
    let o = probe_against(
        |mut tcp| async move {
            read_request(&mut tcp).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\norigin not allowed\n")
                .await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        },
        |o| o.timeout = Duration::from_secs(10),
    );
    assert_eq!(o.verdict, Verdict::Rejected, "{}", show(&o));
    assert_eq!(
        o.evidence.body_snippet.as_deref(),
        Some("origin not allowed\n")
    );
    assert!(o.detail.contains("origin not allowed"), "{}", show(&o));
    assert!(o.timings.total < 8000.0, "waited {} ms", o.timings.total);
}

/// A server that pings during the silent hold is answered (as browsers do) and is not a drop; a
/// close frame it sends afterwards is reported with its code and reason.
#[test]
fn server_pings_during_idle_are_answered_and_its_close_frame_is_reported() {
    let o = probe_against(
        |mut tcp| async move {
            use futures_util::{SinkExt, StreamExt};
            use tokio_tungstenite::tungstenite::protocol::{
                frame::coding::CloseCode, CloseFrame, Role,
            };
            use tokio_tungstenite::tungstenite::Message;
            let key = read_request(&mut tcp).await;
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                accept_key(&key)
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            let mut ws =
                tokio_tungstenite::WebSocketStream::from_raw_socket(tcp, Role::Server, None).await;
            // Answer the probe's ping (tungstenite does on read), then ping it three times.
            let _ = ws.next().await;
            let _ = ws.flush().await;
            let mut pongs = 0;
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = ws.send(Message::Ping(b"srv".to_vec())).await;
                if let Some(Ok(Message::Pong(_))) = ws.next().await {
                    pongs += 1;
                }
            }
            let reason = format!("pongs={pongs}");
            let _ = ws
                .close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: reason.into(),
                }))
                .await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        },
        |o| o.idle = Some(Duration::from_secs(5)),
    );
    assert_eq!(o.verdict, Verdict::IdleDropped, "{}", show(&o));
    let idle = o.idle.expect("idle outcome");
    assert_eq!(idle.close_code, Some(1001));
    assert_eq!(idle.close_reason.as_deref(), Some("pongs=3"));
    let after = idle.dropped_after_ms.expect("drop time");
    assert!(
        after >= 500.0,
        "the pings were not taken for a drop: {after} ms"
    );
}

/// A debug endpoint that echoes the request back: the token sent with `-H` must not reach the
/// evidence, the detail or the curl command.
#[test]
fn secrets_echoed_by_the_server_are_redacted() {
    let o = probe_against(
        |mut tcp| async move {
            let mut buf = vec![0u8; 4096];
            let n = tcp.read(&mut buf).await.unwrap_or(0);
            let body = String::from_utf8_lossy(&buf[..n]).into_owned();
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\nX-Echo-Auth: Bearer s3cr3t-t0ken\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(body.as_bytes()).await;
        },
        |o| {
            o.headers = vec![
                ("Authorization".into(), "Bearer s3cr3t-t0ken".into()),
                ("Cookie".into(), "session=c00kie-value".into()),
            ]
        },
    );
    assert_eq!(o.verdict, Verdict::Rejected, "{}", show(&o));
    let everything = serde_json::to_string(&o).expect("json");
    assert!(everything.contains("<redacted>"), "{everything}");
    for secret in ["s3cr3t-t0ken", "c00kie-value"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
}

/// A server that upgrades and then never reads: the ping gets no pong, and the probe says so
/// within its timeout.
#[test]
fn an_upgrade_that_never_answers_a_ping_is_frames_failed() {
    let o = probe_against(
        |mut tcp| async move {
            let key = read_request(&mut tcp).await;
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                accept_key(&key)
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        },
        |o| o.timeout = Duration::from_millis(500),
    );
    assert_eq!(o.verdict, Verdict::FramesFailed, "{}", show(&o));
    assert_eq!(o.stage, Stage::Frames);
    assert!(
        o.detail.starts_with("ping: no pong in time"),
        "{}",
        show(&o)
    );
    assert!(o.timings.total < 5000.0, "{}", o.timings.total);
}
