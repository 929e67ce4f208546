//! What happens after a 101: one ping and its pong RTT, an optional echo, an optional silent hold
//! that records whether and when the path drops the connection, and a polite close. Frames are
//! tokio-tungstenite's job; bytes that arrived with the 101 head are handed to it untouched.

use crate::probe::{ms, IdleOutcome};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Close code RFC 6455 reserves for "closed without a close frame".
pub const ABNORMAL_CLOSURE: u16 = 1006;
/// Close code for "a close frame without a status code".
const NO_STATUS: u16 = 1005;
/// The largest frame or message read from a peer; larger ones fail the frames phase.
pub const MAX_MESSAGE: usize = 1 << 20;
/// The most written but not yet taken by the peer: room for one `--echo` message of
/// [`MAX_MESSAGE`] and the control frames around it.
pub const MAX_WRITE_BUFFER: usize = MAX_MESSAGE + 64 * 1024;

/// Wraps the upgraded stream; `rest` are the bytes read past the 101 head.
pub async fn open<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    rest: Vec<u8>,
) -> WebSocketStream<S> {
    // Probing needs small messages only; do not let a server make us buffer megabytes in
    // either direction. Without a write cap, a peer that floods pings and never reads makes
    // every owed pong queue in memory (0.7 GB in 2 s); with it, a pong that does not fit
    // replaces the one still owed, so we owe at most one.
    let config = WebSocketConfig {
        max_message_size: Some(MAX_MESSAGE),
        max_frame_size: Some(MAX_MESSAGE),
        write_buffer_size: 0,
        max_write_buffer_size: MAX_WRITE_BUFFER,
        ..WebSocketConfig::default()
    };
    WebSocketStream::from_partially_read(stream, rest, Role::Client, Some(config)).await
}

/// Sends one ping and waits for its pong; the RTT in ms.
pub async fn ping<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    timeout: Duration,
) -> Result<f64, String> {
    let mut payload = b"wspath-".to_vec();
    payload.extend_from_slice(&rand::random::<[u8; 8]>());
    let start = Instant::now();
    let deadline = start + timeout;
    send(ws, Message::Ping(payload.clone()), deadline, "ping").await?;
    loop {
        match next(ws, deadline, "pong").await? {
            Message::Pong(p) if p == payload => return Ok(ms(start.elapsed())),
            _ => continue,
        }
    }
}

/// Sends `text` and expects it back; other messages in between are skipped.
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    text: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    send(ws, Message::Text(text.to_string()), deadline, "echo").await?;
    let mut other: Option<String> = None;
    loop {
        let message = match next(ws, deadline, "echo").await {
            Ok(m) => m,
            Err(e) => {
                return Err(match other {
                    Some(got) => format!("echo mismatch: sent {text:?}, got {got:?}"),
                    None => e,
                })
            }
        };
        match message {
            Message::Text(t) if t == text => return Ok(()),
            Message::Binary(b) if b == text.as_bytes() => return Ok(()),
            Message::Text(t) => {
                other.get_or_insert(t);
            }
            Message::Binary(b) => {
                other.get_or_insert(format!("{} binary bytes", b.len()));
            }
            _ => {}
        }
    }
}

/// Holds the connection without sending anything of our own for `hold` and reports whether it
/// dropped. Pings from the server are answered with the pong the protocol requires (tungstenite
/// does this on read), as every browser does.
pub async fn idle<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    hold: Duration,
) -> IdleOutcome {
    let start = Instant::now();
    tokio::select! {
        biased;
        outcome = hold_silent(ws, hold, start) => outcome,
        // Interrupted (Ctrl-C): the hold ends here and reports what it held so far.
        () = crate::interrupt::wait() => IdleOutcome {
            held_ms: ms(start.elapsed()),
            dropped: false,
            dropped_after_ms: None,
            close_code: None,
            close_reason: None,
        },
    }
}

async fn hold_silent<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    hold: Duration,
    start: Instant,
) -> IdleOutcome {
    let deadline = start + hold;
    let dropped = |code: u16, reason: Option<String>| IdleOutcome {
        held_ms: ms(start.elapsed()),
        dropped: true,
        dropped_after_ms: Some(ms(start.elapsed())),
        close_code: Some(code),
        close_reason: reason,
    };
    loop {
        // Checked here, not only by the timer: a peer that floods frames keeps `next()` ready,
        // and a timeout whose future is always ready never looks at its clock.
        let next = if Instant::now() >= deadline {
            Err(())
        } else {
            tokio::time::timeout_at(deadline, ws.next())
                .await
                .map_err(|_| ())
        };
        if let Ok(Some(Ok(m))) = &next {
            tracing::trace!(frame = %describe(m), "frame received while idle");
        }
        match next {
            Err(()) => {
                return IdleOutcome {
                    held_ms: ms(start.elapsed()),
                    dropped: false,
                    dropped_after_ms: None,
                    close_code: None,
                    close_reason: None,
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return match frame {
                    Some(f) => dropped(
                        u16::from(f.code),
                        Some(f.reason.into_owned()).filter(|r| !r.is_empty()),
                    ),
                    None => dropped(NO_STATUS, None),
                }
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => {
                return dropped(ABNORMAL_CLOSURE, Some(format!("no close frame: {e}")))
            }
            Ok(None) => {
                return dropped(
                    ABNORMAL_CLOSURE,
                    Some("no close frame: the connection ended".into()),
                )
            }
        }
    }
}

/// One frame for a `-vvv` log line: its type and length, and a short text payload (escaped by
/// the log writer like everything from outside).
fn describe(m: &Message) -> String {
    match m {
        Message::Text(t) => {
            let short: String = t.chars().take(64).collect();
            format!("text {} bytes {short:?}", t.len())
        }
        Message::Binary(b) => format!("binary {} bytes", b.len()),
        Message::Ping(b) => format!("ping {} bytes", b.len()),
        Message::Pong(b) => format!("pong {} bytes", b.len()),
        Message::Close(Some(f)) => format!("close {} {:?}", u16::from(f.code), f.reason),
        Message::Close(None) => "close".to_string(),
        Message::Frame(f) => format!("raw frame {} bytes", f.len()),
    }
}

/// Sends a normal close. The server's answering close is awaited in the background (at most 1 s),
/// so a probe's caller does not wait a round trip for good manners.
pub async fn close<S>(ws: WebSocketStream<S>, timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if let Some(drain) = send_close(ws, timeout).await {
        drain.finish_in_background();
    }
}

/// Sends a normal close and returns what is left of it: reading the server's answering close,
/// within the same bound (at most 1 s from now). `None` when the close could not be sent (the
/// connection is dropped then, as before).
pub async fn send_close<S>(mut ws: WebSocketStream<S>, timeout: Duration) -> Option<Drain<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = Instant::now() + timeout.min(Duration::from_secs(1));
    if !matches!(
        tokio::time::timeout_at(deadline, ws.close(None)).await,
        Ok(Ok(()))
    ) {
        return None;
    }
    Some(Drain { ws, deadline })
}

/// A connection whose close frame is sent: the server's answer is still to be read.
pub struct Drain<S> {
    ws: WebSocketStream<S>,
    deadline: Instant,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Drain<S> {
    /// Reads until the server's close frame (or the end of the stream, an error, the deadline),
    /// then drops the connection.
    pub async fn finish(mut self) {
        // The clock is checked by hand too: a peer that floods frames keeps `next()` ready, and
        // a timeout whose future is always ready never looks at its clock.
        while Instant::now() < self.deadline {
            match tokio::time::timeout_at(self.deadline, self.ws.next()).await {
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drain<S> {
    /// [`Drain::finish`] in a task of its own, so the caller does not wait a round trip for
    /// good manners.
    pub fn finish_in_background(self) {
        tokio::spawn(self.finish());
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    message: Message,
    deadline: Instant,
    what: &str,
) -> Result<(), String> {
    tracing::trace!(frame = %describe(&message), "frame sent");
    match tokio::time::timeout_at(deadline, ws.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("could not send the {what}: {e}")),
        Err(_) => Err(format!("could not send the {what} in time")),
    }
}

/// The next message; a close, an error, the end of the stream or the deadline is an `Err` that
/// says which, naming what was awaited.
async fn next<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    deadline: Instant,
    awaited: &str,
) -> Result<Message, String> {
    // A flood of other frames keeps `next()` always ready; the clock is checked by hand.
    if Instant::now() >= deadline {
        return Err(format!("no {awaited} in time"));
    }
    let got = tokio::time::timeout_at(deadline, ws.next()).await;
    if let Ok(Some(Ok(m))) = &got {
        tracing::trace!(frame = %describe(m), "frame received");
    }
    match got {
        Err(_) => Err(format!("no {awaited} in time")),
        Ok(None) => Err(format!(
            "the connection ended before the {awaited} (close code {ABNORMAL_CLOSURE})"
        )),
        Ok(Some(Err(e))) => Err(format!("the connection failed before the {awaited}: {e}")),
        // Worded "closed the WebSocket with code N": the walker's hints key on it, because a
        // close frame is the application's decision, not a path that loses frames.
        Ok(Some(Ok(Message::Close(frame)))) => Err(match frame {
            Some(f) if !f.reason.is_empty() => format!(
                "the server closed the WebSocket with code {} {:?} instead of the {awaited}",
                u16::from(f.code),
                f.reason
            ),
            Some(f) => format!(
                "the server closed the WebSocket with code {} instead of the {awaited}",
                u16::from(f.code)
            ),
            None => format!(
                "the server closed the WebSocket with code {NO_STATUS} (no status) instead of the {awaited}"
            ),
        }),
        Ok(Some(Ok(m))) => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real WebSocket peer over an in-memory pipe: tungstenite in the server role.
    async fn pair(
        server: impl FnOnce(WebSocketStream<tokio::io::DuplexStream>) -> tokio::task::JoinHandle<()>,
    ) -> (
        WebSocketStream<tokio::io::DuplexStream>,
        tokio::task::JoinHandle<()>,
    ) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let server_ws = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        let handle = server(server_ws);
        (open(a, Vec::new()).await, handle)
    }

    /// A peer that floods pings and never reads: what we owe it must not pile up. Once it
    /// starts reading again it receives everything that was queued; that is bounded by the write
    /// cap (and the pipe), not by the number of pings (20,000 pongs of 131 bytes = 2.6 MB).
    #[tokio::test]
    async fn pongs_owed_to_a_peer_that_never_reads_are_bounded() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut ws = open(ours, Vec::new()).await;
        let peer = tokio::spawn(async move {
            let mut ping = vec![0x89, 125];
            ping.extend_from_slice(&[b'p'; 125]);
            for _ in 0..20_000 {
                if theirs.write_all(&ping).await.is_err() {
                    return 0;
                }
            }
            // Now read everything we were sent, until we hang up.
            let mut got = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = theirs.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                got += n;
            }
            got
        });
        // Reads (and answers) pings until the peer has sent them all and the hold ends.
        let held = idle(&mut ws, Duration::from_secs(2)).await;
        assert!(!held.dropped, "{held:?}");
        // Hand over all that was queued, then hang up.
        let flushed = tokio::time::timeout(Duration::from_secs(5), ws.flush()).await;
        assert!(matches!(flushed, Ok(Ok(()))), "{flushed:?}");
        drop(ws);
        let received = tokio::time::timeout(Duration::from_secs(5), peer)
            .await
            .unwrap()
            .unwrap();
        assert!(received > 0);
        assert!(
            received <= MAX_WRITE_BUFFER + 4096 + 1024,
            "{received} bytes of pongs were queued"
        );
    }

    #[tokio::test]
    async fn ping_echo_and_close_against_an_echo_peer() {
        let (mut ws, server) = pair(|mut s| {
            tokio::spawn(async move {
                while let Some(Ok(m)) = s.next().await {
                    if m.is_text() && s.send(m).await.is_err() {
                        break;
                    }
                }
            })
        })
        .await;
        let rtt = ping(&mut ws, Duration::from_secs(2)).await.unwrap();
        assert!(rtt >= 0.0);
        echo(&mut ws, "hello", Duration::from_secs(2))
            .await
            .unwrap();
        close(ws, Duration::from_secs(1)).await;
        // The server's loop ends only when our close frame arrives.
        tokio::time::timeout(Duration::from_secs(2), server)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn echo_mismatch_and_idle_drop_are_reported() {
        let (mut ws, _server) = pair(|mut s| {
            tokio::spawn(async move {
                if let Some(Ok(_)) = s.next().await {
                    let _ = s.send(Message::Text("something else".into())).await;
                }
                // Drop after a short silence without a close frame.
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(s);
            })
        })
        .await;
        let e = echo(&mut ws, "hello", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(e.contains("\"something else\""), "{e}");
        let outcome = idle(&mut ws, Duration::from_secs(5)).await;
        assert!(outcome.dropped);
        assert_eq!(outcome.close_code, Some(ABNORMAL_CLOSURE));
        assert!(outcome.dropped_after_ms.unwrap() < 5000.0);
    }

    #[tokio::test]
    async fn idle_that_holds_is_not_dropped_and_close_frames_carry_their_code() {
        let (mut ws, _server) = pair(|mut s| {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(400)).await;
                let _ = s
                    .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                        code: 1001u16.into(),
                        reason: "going away".into(),
                    }))
                    .await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            })
        })
        .await;
        let held = idle(&mut ws, Duration::from_millis(100)).await;
        assert!(!held.dropped);
        let dropped = idle(&mut ws, Duration::from_secs(3)).await;
        assert!(dropped.dropped);
        assert_eq!(dropped.close_code, Some(1001));
        assert_eq!(dropped.close_reason.as_deref(), Some("going away"));
    }
}
