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
//! At a TLS hop the same requests go over TLS, and the certificate the hop presents is read as
//! well: its issuer names the software when it is a CA or default certificate only that
//! software makes (Caddy's "Caddy Local Authority", Traefik's "TRAEFIK DEFAULT CERT"). The
//! certificate is read whether or not it would be trusted — a hop whose TLS fails for an
//! unknown issuer is the one whose issuer says most.

use crate::hop::Hop;
use crate::probe::response::{parse_head, Parsed};
use crate::probe::{tls, ProbeOptions};
use crate::software::identify::OwnAnswer;
use crate::target::Target;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// At most this much of the answer is read.
const LIMIT: usize = 16 * 1024;

/// At most this much of an issuer name is kept.
const ISSUER_LIMIT: usize = 200;

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
/// than an application library, else the last answer it gave; at a TLS hop with the issuer of
/// its certificate (alone, with status 0, when no request got an HTTP answer). `None` when it
/// gave nothing. All of it within one `options.timeout`.
pub async fn own_answer(target: &Target, hop: &Hop, options: &ProbeOptions) -> Option<OwnAnswer> {
    let address = hop.address(target);
    let deadline = Instant::now() + options.timeout;
    let tls = if hop.scheme.is_tls() {
        // Read the certificate whatever it is: trust is the upgrade probe's question.
        let any = ProbeOptions {
            insecure: true,
            ..options.clone()
        };
        Some(any.tls_config().ok()?)
    } else {
        None
    };
    let mut issuer = None;
    let mut last = None;
    for (request, bytes) in REQUESTS {
        let answer = tokio::time::timeout_at(deadline, async {
            let tcp = TcpStream::connect(&address).await.ok()?;
            match &tls {
                None => parse(request, &exchange(tcp, bytes).await),
                Some(config) => {
                    let http11 = ["http/1.1".to_string()];
                    let (stream, _) = tls::handshake(tcp, &target.host, config.clone(), &http11)
                        .await
                        .ok()?;
                    if issuer.is_none() {
                        issuer = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(|leaf| issuer_of(leaf));
                    }
                    parse(request, &exchange(stream, bytes).await)
                }
            }
        })
        .await
        .ok()
        .flatten();
        if let Some(mut answer) = answer {
            answer.issuer.clone_from(&issuer);
            if crate::software::identify::names_software(&answer) {
                return Some(answer);
            }
            last = Some(answer);
        }
    }
    last.or_else(|| {
        issuer.map(|issuer| OwnAnswer {
            request: "a TLS handshake",
            issuer: Some(issuer),
            ..OwnAnswer::default()
        })
    })
}

/// Sends `bytes` and reads the answer until the peer closes or [`LIMIT`].
async fn exchange(mut stream: impl AsyncRead + AsyncWrite + Unpin, bytes: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    if stream.write_all(bytes).await.is_err() {
        return buf;
    }
    let mut chunk = [0u8; 4096];
    while buf.len() < LIMIT {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf
}

/// The certificate's issuer as one line ("CN=Caddy Local Authority - ECC Intermediate"), only
/// printable ASCII kept, at most [`ISSUER_LIMIT`] characters.
fn issuer_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let line: String = cert
        .issuer()
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(ISSUER_LIMIT)
        .collect();
    (!line.trim().is_empty()).then_some(line)
}

/// The answer, read with the probe's own response-head parser.
fn parse(request: &'static str, bytes: &[u8]) -> Option<OwnAnswer> {
    let Parsed::Complete(head) = parse_head(bytes) else {
        return None;
    };
    Some(OwnAnswer {
        request,
        status: head.status,
        headers: head.headers,
        body: String::from_utf8_lossy(&bytes[head.len..]).into_owned(),
        issuer: None,
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
