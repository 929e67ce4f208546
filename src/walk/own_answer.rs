//! A cheap extra request a hop answers itself, for when its answer to the upgrade carries no
//! evidence of its own (a proxy relaying the backend's reply, Varnish piping, a stripped
//! `Server` header). First a request no proxy may pass on — its `Content-Length` is not a
//! number, which RFC 9112 §6.3 makes a 400 at the first hop that parses it — so the page that
//! comes back is the hop's own even when the hop would relay a merely odd request (HAProxy 2.6
//! passes a GET without Host on to the nginx behind it). When that answer names nothing, a
//! plain GET without Host: proxies refuse it with their own 400 page (nginx, Apache httpd,
//! lighttpd, Varnish, Caddy) or mark what they pass on (Squid's and tinyproxy's `Via`, h2o's
//! `Server`) — checked on each of them in tests/software.
//!
//! Plain-HTTP hops only: a TLS hop's identification rests on its upgrade answer.

use crate::hop::Hop;
use crate::software::identify::OwnAnswer;
use crate::target::{Scheme, Target};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// At most this much of the answer is read.
const LIMIT: usize = 16 * 1024;

/// The requests tried in order, each with the words the evidence line uses for it.
const REQUESTS: [(&str, &[u8]); 2] = [
    (
        "a request with an invalid Content-Length",
        b"GET / HTTP/1.1\r\nHost: wspath.invalid\r\nContent-Length: x\r\nConnection: close\r\nUser-Agent: wspath\r\n\r\n",
    ),
    (
        "a plain GET without Host",
        b"GET / HTTP/1.1\r\nConnection: close\r\nUser-Agent: wspath\r\n\r\n",
    ),
];

/// The hop's own answer: the first of [`REQUESTS`] whose answer names some software other
/// than an application library, else the last answer it gave; `None` when it gave none. All of
/// it within one `timeout`.
pub async fn own_answer(target: &Target, hop: &Hop, timeout: Duration) -> Option<OwnAnswer> {
    if hop.scheme != Scheme::Ws {
        return None;
    }
    let address = hop.address(target);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    for (request, bytes) in REQUESTS {
        let timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
        if let Some(answer) = ask(&address, request, bytes, timeout).await {
            if crate::software::identify::names_software(&answer) {
                return Some(answer);
            }
            last = Some(answer);
        }
    }
    last
}

async fn ask(
    address: &str,
    request: &'static str,
    bytes: &[u8],
    timeout: Duration,
) -> Option<OwnAnswer> {
    tokio::time::timeout(timeout, async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream.write_all(bytes).await.ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while buf.len() < LIMIT {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        parse(request, &buf)
    })
    .await
    .ok()
    .flatten()
}

fn parse(request: &'static str, bytes: &[u8]) -> Option<OwnAnswer> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    Some(OwnAnswer {
        request,
        status: response.code?,
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
        body: String::from_utf8_lossy(&bytes[head_len..]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_varnish_400() {
        let a = parse("a test", b"HTTP/1.1 400 Bad Request\r\nServer: Varnish\r\nX-Varnish: 5\r\n\r\n<p>Varnish cache server</p>").unwrap();
        assert_eq!(a.status, 400);
        assert_eq!(a.headers[1], ("X-Varnish".to_string(), "5".to_string()));
        assert!(a.body.contains("Varnish cache server"));
        assert!(parse("a test", b"garbage").is_none());
    }
}
