//! Reading the answer: the response head with a hard size cap (httparse), and for non-101 answers a
//! short, bounded body snippet (Content-Length, chunked or until close). After a 101 nothing more is
//! read here: the bytes already past the head belong to the WebSocket stream.

use bytes::BufMut;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// Larger heads are answered with `malformed_response`.
pub const MAX_HEAD: usize = 16 * 1024;
/// The body snippet kept for evidence.
pub const MAX_BODY: usize = 2 * 1024;
/// Raw bytes read for a chunked body (chunk framing included) before giving up.
const MAX_RAW_BODY: usize = 8 * 1024;
const MAX_HEADERS: usize = 128;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The first line as received, e.g. `HTTP/1.1 101 Switching Protocols`.
    pub status_line: String,
    pub status: u16,
    pub reason: String,
    /// In the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// Bytes of the head including the blank line.
    pub len: usize,
}

impl Head {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// First value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Need more bytes.
    Partial,
    Complete(Head),
    /// Not an HTTP/1.x response; the reason names what was seen.
    Invalid(String),
}

/// Parses a response head from the start of `buf`. Pure.
pub fn parse_head(buf: &[u8]) -> Parsed {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    match response.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Ok(httparse::Status::Complete(len)) => {
            let first_line_end = buf
                .windows(2)
                .position(|w| w == b"\r\n")
                .or_else(|| buf.iter().position(|b| *b == b'\n'))
                .unwrap_or(len);
            Parsed::Complete(Head {
                status_line: String::from_utf8_lossy(&buf[..first_line_end]).into_owned(),
                status: response.code.unwrap_or(0),
                reason: response.reason.unwrap_or("").to_string(),
                headers: response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                len,
            })
        }
        Err(httparse::Error::TooManyHeaders) => {
            Parsed::Invalid(format!("more than {MAX_HEADERS} response headers"))
        }
        Err(e) => Parsed::Invalid(describe_non_http(buf, &e.to_string())),
    }
}

/// Names what came back when it is not HTTP, e.g. a TLS record on a port probed with ws://.
fn describe_non_http(buf: &[u8], parse_error: &str) -> String {
    if matches!(buf.first(), Some(0x15 | 0x16)) && buf.get(1) == Some(&0x03) {
        return "the server answered with TLS: this port expects TLS, use wss:// for this hop"
            .to_string();
    }
    // An HTTP/2 frame header: 3 bytes length, type SETTINGS (4) or GOAWAY (7), stream 0.
    if buf.len() >= 9 && matches!(buf[3], 0x04 | 0x07) && buf[5..9] == [0, 0, 0, 0] {
        return "the server answered with HTTP/2 frames: an HTTP/2-only endpoint (h2c), which cannot carry this HTTP/1.1 upgrade".to_string();
    }
    let shown: String = String::from_utf8_lossy(&buf[..buf.len().min(60)])
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    format!("not an HTTP/1.x response ({parse_error}): {shown:?}")
}

/// How reading the head ended.
#[derive(Debug)]
pub enum HeadRead {
    Complete {
        head: Head,
        /// Bytes read past the head (the start of the body, or WebSocket frames after a 101).
        rest: Vec<u8>,
        /// When the first response byte arrived.
        first_byte: Instant,
    },
    /// The connection ended before any byte; the reason says how.
    Closed(String),
    /// The TLS layer refused after the handshake (e.g. a client certificate was required).
    TlsRefused(String),
    /// Ended or broke after some bytes (`read`), before the head was complete.
    Truncated { read: Vec<u8>, reason: String },
    Invalid {
        read: Vec<u8>,
        reason: String,
        first_byte: Instant,
    },
    TimedOut {
        read: Vec<u8>,
        first_byte: Option<Instant>,
    },
}

/// The most one read of the response head takes.
const READ_CHUNK: usize = 4096;

/// The most one read of a body snippet takes.
const SNIPPET_CHUNK: usize = 2048;

/// Reads one response head, skipping interim 1xx answers other than 101. Never reads more than
/// [`MAX_HEAD`] bytes of head; gives up at `deadline`.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S, deadline: Instant) -> HeadRead {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut first_byte = None;
    loop {
        // Parse what we have first: interim responses may leave a complete head in the buffer.
        if !buf.is_empty() {
            match parse_head(&buf) {
                Parsed::Complete(head)
                    if (100..200).contains(&head.status) && head.status != 101 =>
                {
                    buf.drain(..head.len);
                    continue;
                }
                Parsed::Complete(head) => {
                    let rest = buf.split_off(head.len);
                    return HeadRead::Complete {
                        head,
                        rest,
                        first_byte: first_byte.unwrap_or_else(Instant::now),
                    };
                }
                Parsed::Invalid(reason) => {
                    return HeadRead::Invalid {
                        read: buf,
                        reason,
                        first_byte: first_byte.unwrap_or_else(Instant::now),
                    }
                }
                Parsed::Partial if buf.len() >= MAX_HEAD => {
                    return HeadRead::Invalid {
                        reason: format!("response head larger than {} KiB", MAX_HEAD / 1024),
                        read: buf,
                        first_byte: first_byte.unwrap_or_else(Instant::now),
                    }
                }
                Parsed::Partial => {}
            }
        }
        // Checked by hand as well as by the timer: endless interim answers (100 Continue
        // forever) keep the read always ready, and then the timer is never consulted.
        if Instant::now() >= deadline {
            return HeadRead::TimedOut {
                read: buf,
                first_byte,
            };
        }
        let want = READ_CHUNK.min(MAX_HEAD + 1 - buf.len().min(MAX_HEAD));
        // Straight into the buffer's spare room: a chunk array here would live in every
        // probe's future (copied with it, zeroed each time).
        buf.reserve(want);
        let mut room = BufMut::limit(&mut buf, want);
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut room)).await {
            Err(_) => {
                return HeadRead::TimedOut {
                    read: buf,
                    first_byte,
                }
            }
            Ok(Ok(0)) if buf.is_empty() => {
                return HeadRead::Closed(
                    "the server closed the connection without answering".into(),
                )
            }
            Ok(Ok(0)) => {
                return HeadRead::Truncated {
                    read: buf,
                    reason: "the connection closed in the middle of the response head".into(),
                }
            }
            Ok(Ok(_)) => {
                first_byte.get_or_insert_with(Instant::now);
            }
            Ok(Err(e)) if buf.is_empty() => {
                // TLS 1.3 servers check a client certificate after our side of the handshake is
                // done, so their refusal arrives as an alert on the first read.
                if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    return HeadRead::TlsRefused(crate::probe::tls::describe_late(tls));
                }
                return HeadRead::Closed(format!("the connection failed before any answer: {e}"));
            }
            Ok(Err(e)) => {
                return HeadRead::Truncated {
                    read: buf,
                    reason: format!(
                        "the connection failed in the middle of the response head: {e}"
                    ),
                }
            }
        }
    }
}

/// How the body of a non-101 response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// RFC 9112 §6.3, for a response to a GET.
pub fn framing(head: &Head) -> Framing {
    if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        return Framing::None;
    }
    if let Some(te) = head.header("transfer-encoding") {
        if te
            .rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        {
            return Framing::Chunked;
        }
        return Framing::UntilClose;
    }
    match head
        .header("content-length")
        .map(|v| v.trim().parse::<u64>())
    {
        Some(Ok(0)) => Framing::None,
        Some(Ok(n)) => Framing::Length(n),
        _ => Framing::UntilClose,
    }
}

/// The decoded body of a (possibly incomplete) chunked stream; `done` once the last chunk or a
/// framing error is reached. Pure.
pub fn dechunk(raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        match httparse::parse_chunk_size(&raw[at..]) {
            Ok(httparse::Status::Complete((used, 0))) => {
                let _ = used;
                return (body, true);
            }
            Ok(httparse::Status::Complete((used, size))) => {
                let start = at + used;
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                let available = raw.len().saturating_sub(start);
                if available < size {
                    body.extend_from_slice(&raw[start..]);
                    return (body, false);
                }
                body.extend_from_slice(&raw[start..start + size]);
                at = start + size;
                // The CRLF after the data; wait for it if it has not arrived.
                match raw.get(at..at + 2) {
                    Some(b"\r\n") => at += 2,
                    Some(_) => return (body, true),
                    None => return (body, false),
                }
            }
            Ok(httparse::Status::Partial) => return (body, false),
            Err(_) => return (body, true),
        }
    }
}

/// Reads at most [`MAX_BODY`] bytes of body, starting with `rest` (already read past the head),
/// for at most `budget`. Whatever arrived in time is kept.
pub async fn read_body_snippet<S: AsyncRead + Unpin>(
    stream: &mut S,
    rest: Vec<u8>,
    framing: Framing,
    budget: Duration,
) -> Vec<u8> {
    let deadline = Instant::now() + budget;
    let mut raw = rest;
    let done = |raw: &[u8]| -> bool {
        match framing {
            Framing::None => true,
            Framing::Length(n) => raw.len() as u64 >= n || raw.len() >= MAX_BODY,
            Framing::Chunked => {
                let (body, done) = dechunk(raw);
                done || body.len() >= MAX_BODY || raw.len() >= MAX_RAW_BODY
            }
            Framing::UntilClose => raw.len() >= MAX_BODY,
        }
    };
    while !done(&raw) && Instant::now() < deadline {
        raw.reserve(SNIPPET_CHUNK);
        let mut room = BufMut::limit(&mut raw, SNIPPET_CHUNK);
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut room)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
    let mut body = match framing {
        Framing::None => Vec::new(),
        Framing::Chunked => dechunk(&raw).0,
        Framing::Length(n) => {
            raw.truncate(usize::try_from(n).unwrap_or(usize::MAX));
            raw
        }
        Framing::UntilClose => raw,
    };
    body.truncate(MAX_BODY);
    body
}

/// Splits a captured response into head and decoded body (tests and fixtures).
#[cfg(test)]
pub fn parse_fixture(bytes: &[u8]) -> (Head, Vec<u8>) {
    let Parsed::Complete(head) = parse_head(bytes) else {
        panic!("fixture is not a complete response head");
    };
    let raw = &bytes[head.len..];
    let body = match framing(&head) {
        Framing::Chunked => dechunk(raw).0,
        Framing::None => Vec::new(),
        _ => raw.to_vec(),
    };
    (head, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_101_and_keeps_header_order_and_case() {
        let (head, body) = parse_fixture(include_bytes!("fixtures/haproxy_nginx_good_101.http"));
        assert_eq!(head.status, 101);
        assert_eq!(head.status_line, "HTTP/1.1 101 Switching Protocols");
        assert_eq!(head.headers[0].0, "server");
        assert_eq!(
            head.header("Sec-WebSocket-Accept"),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert!(body.is_empty());
    }

    #[test]
    fn dechunks_nginx_rechunked_body() {
        let (head, body) = parse_fixture(include_bytes!("fixtures/nginx_chunked_400_gorilla.http"));
        assert_eq!(framing(&head), Framing::Chunked);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "Bad Request\nwebsocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header\n"
        );
    }

    #[test]
    fn dechunk_handles_partial_and_split_chunks() {
        let raw = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(dechunk(raw), (b"hello world".to_vec(), true));
        assert_eq!(dechunk(&raw[..15]), (b"hello w".to_vec(), false));
        assert_eq!(dechunk(&raw[..12]), (b"hello".to_vec(), false));
        assert_eq!(dechunk(&raw[..2]), (Vec::new(), false));
        assert_eq!(dechunk(b"zz\r\n"), (Vec::new(), true));
    }

    #[test]
    fn non_http_answers_are_invalid_with_a_reason() {
        match parse_head(include_bytes!("fixtures/nginx_502_garbage.http")) {
            Parsed::Invalid(reason) => assert!(reason.contains("NOT HTTP AT ALL"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match parse_head(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]) {
            Parsed::Invalid(reason) => assert!(reason.contains("use wss://"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_head(b"HTTP/1.1 101 Switching"), Parsed::Partial);
        // Node's http2 (h2c) server answering an HTTP/1.1 request: SETTINGS, then GOAWAY.
        match parse_head(include_bytes!("fixtures/node_h2c.http")) {
            Parsed::Invalid(reason) => assert!(reason.contains("HTTP/2"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn head_reader_skips_100_continue_and_keeps_bytes_past_the_head() {
        let mut input: &[u8] =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
        let deadline = Instant::now() + Duration::from_secs(1);
        match read_head(&mut input, deadline).await {
            HeadRead::Complete { head, rest, .. } => {
                assert_eq!(head.status, 101);
                assert_eq!(rest, b"\x81\x02hi");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn head_reader_caps_the_head_and_reports_eof() {
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        while big.len() < MAX_HEAD + 100 {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut input: &[u8] = &big;
        assert!(matches!(
            read_head(&mut input, deadline).await,
            HeadRead::Invalid { .. }
        ));
        let mut empty: &[u8] = b"";
        assert!(matches!(
            read_head(&mut empty, deadline).await,
            HeadRead::Closed(_)
        ));
        let mut cut: &[u8] = b"HTTP/1.1 200 OK\r\nServer: x";
        assert!(matches!(
            read_head(&mut cut, deadline).await,
            HeadRead::Truncated { .. }
        ));
    }

    /// A reader that always has the same bytes ready, as a peer flooding them would.
    struct Endless(&'static [u8]);

    impl AsyncRead for Endless {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let n = self.0.len().min(buf.remaining());
            buf.put_slice(&self.0[..n]);
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// The read is never pending, so only a clock checked by hand can end it.
    #[tokio::test]
    async fn endless_interim_answers_end_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(200);
        let mut flood = Endless(b"HTTP/1.1 100 Continue\r\n\r\n");
        let read = tokio::time::timeout(Duration::from_secs(5), read_head(&mut flood, deadline));
        assert!(matches!(read.await, Ok(HeadRead::TimedOut { .. })));
        let mut body = Endless(b"1\r\na\r\n");
        let snippet = read_body_snippet(
            &mut body,
            Vec::new(),
            Framing::Chunked,
            Duration::from_millis(200),
        );
        let body = tokio::time::timeout(Duration::from_secs(5), snippet).await;
        assert!(body.is_ok_and(|b| b.len() <= MAX_BODY));
    }

    #[tokio::test]
    async fn body_snippet_respects_length_and_cap() {
        let mut input: &[u8] = b"world and more that is not body";
        let body = read_body_snippet(
            &mut input,
            b"hello ".to_vec(),
            Framing::Length(11),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(body, b"hello world");
        let long = vec![b'a'; MAX_BODY * 3];
        let mut input: &[u8] = &long;
        let body = read_body_snippet(
            &mut input,
            Vec::new(),
            Framing::UntilClose,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(body.len(), MAX_BODY);
    }
}
