//! A cheap extra request a hop answers itself, for when its answer to the upgrade carries no
//! evidence of its own (a proxy relaying the backend's reply, Varnish piping, a stripped
//! `Server` header): a plain GET without a Host header. Proxies refuse it with their own 400
//! page (nginx, HAProxy, Apache httpd, lighttpd, Varnish, Caddy) or mark what they pass on
//! (Squid's and tinyproxy's `Via`, h2o's `Server`) — checked on each of them in tests/software.
//!
//! Plain-HTTP hops only: a TLS hop's identification rests on its upgrade answer.

use crate::hop::Hop;
use crate::software::identify::OwnAnswer;
use crate::target::{Scheme, Target};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// At most this much of the answer is read.
const LIMIT: usize = 16 * 1024;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nConnection: close\r\nUser-Agent: wspath\r\n\r\n";

/// The hop's answer to [`REQUEST`], or `None` when it gave none within `timeout`.
pub async fn own_answer(target: &Target, hop: &Hop, timeout: Duration) -> Option<OwnAnswer> {
    if hop.scheme != Scheme::Ws {
        return None;
    }
    let address = hop.address(target);
    tokio::time::timeout(timeout, async {
        let mut stream = tokio::net::TcpStream::connect(&address).await.ok()?;
        stream.write_all(REQUEST).await.ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while buf.len() < LIMIT {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        parse(&buf)
    })
    .await
    .ok()
    .flatten()
}

fn parse(bytes: &[u8]) -> Option<OwnAnswer> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    Some(OwnAnswer {
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
        let a = parse(b"HTTP/1.1 400 Bad Request\r\nServer: Varnish\r\nX-Varnish: 5\r\n\r\n<p>Varnish cache server</p>").unwrap();
        assert_eq!(a.status, 400);
        assert_eq!(a.headers[1], ("X-Varnish".to_string(), "5".to_string()));
        assert!(a.body.contains("Varnish cache server"));
        assert!(parse(b"garbage").is_none());
    }
}
