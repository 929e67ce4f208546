//! A tiny raw HTTP/1.1 client for checking the servers by hand, independent of wspath's own
//! probe: send exact request bytes, read the response head (and a Content-Length body), and
//! time how long an upgraded connection stays open while silent.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A WebSocket upgrade request for `host` and `path` (fixed key, as RFC 6455's example).
pub fn upgrade_request(host: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// The accept value for the fixed key of [`upgrade_request`].
pub const EXPECTED_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// One response read off the wire; `stream` stays open for idle checks.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Status line and headers as received.
    pub head: String,
    pub body: String,
    pub stream: TcpStream,
}

impl RawResponse {
    /// A header's value (case-insensitive name), first occurrence.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// Holds the connection silent and returns how long it took the other side to close it,
    /// or `None` if it was still open after `limit`.
    pub fn wait_closed(&mut self, limit: Duration) -> io::Result<Option<Duration>> {
        let start = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(Some(start.elapsed())),
                // A close frame or other bytes: keep reading until the TCP close.
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok(Some(start.elapsed()))
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Sends `request` to 127.0.0.1:`port` and reads the response head; for a non-101 answer also
/// its Content-Length body (or until close when there is none).
pub fn send(port: u16, request: &str, timeout: Duration) -> io::Result<RawResponse> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(request.as_bytes())?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&data, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "closed before a full response head; got {:?}",
                    String::from_utf8_lossy(&data)
                ),
            ));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no status in {head:?}")))?;
    let mut body = data[head_end..].to_vec();
    let mut response = RawResponse {
        status,
        head,
        body: String::new(),
        stream,
    };
    if status != 101 {
        let length = response
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        loop {
            if length.is_some_and(|l| body.len() >= l) {
                break;
            }
            match response.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(_) if length.is_none() => break,
                Err(e) => return Err(e),
            }
        }
        response.body = String::from_utf8_lossy(&body).into_owned();
    }
    Ok(response)
}

/// A WebSocket upgrade request for `host` and `path` sent to 127.0.0.1:`port`.
pub fn handshake(port: u16, host: &str, path: &str, timeout: Duration) -> io::Result<RawResponse> {
    send(port, &upgrade_request(host, path), timeout)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
