//! Prism (`@stoplight/prism-cli`, pinned in package.json, installed by `npm ci`) in proxy mode
//! in front of the Cloudflare fake, so every request wspath sends and every answer the fake
//! gives is validated against Cloudflare's OpenAPI document
//! (tests/fixtures/cloudflare/openapi-subset.json).
//!
//! Prism reports what does not conform in an `sl-violations` response header, which wspath
//! rightly ignores; so a small recording relay sits in front of Prism, keeps every exchange
//! with its violations, and [`CheckedApi::assert_conforms`] fails the test on any of them.
//!
//!   wspath ──► relay (records) ──► Prism (validates) ──► CloudflareApi fake (state)

use super::cloudflare_api::{response, serve, CloudflareApi, RawResponse, Request};
use super::ports::{free_port, retry_on_addr_in_use};
use super::process::ServerProcess;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

fn repo_root() -> PathBuf {
    super::repo_root()
}

/// The contract: a copy of ../shared/cloudflare/openapi-subset.json kept in the repo.
pub fn contract_path() -> PathBuf {
    repo_root().join("tests/fixtures/cloudflare/openapi-subset.json")
}

/// `WSPATH_PRISM`, else `node_modules/.bin/prism` (from `npm ci` at the repo root).
fn prism_bin() -> io::Result<PathBuf> {
    if let Some(p) = std::env::var_os("WSPATH_PRISM") {
        return Ok(PathBuf::from(p));
    }
    let p = repo_root().join("node_modules/.bin/prism");
    if p.exists() {
        Ok(p)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} is missing: run `npm ci` at the repository root (package.json pins @stoplight/prism-cli)",
                p.display()
            ),
        ))
    }
}

/// A running `prism proxy` (a node process, ~1 s to start), stopped by pid on Drop.
pub struct Prism {
    process: ServerProcess,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prism {
    /// `prism proxy -h 127.0.0.1 -p PORT <contract> <upstream>`, ready when its port accepts.
    pub fn proxy(upstream: &str) -> io::Result<Prism> {
        let bin = prism_bin()?;
        retry_on_addr_in_use(|| {
            let port = free_port()?;
            let dir = tempfile::Builder::new().prefix("wspath-prism-").tempdir()?;
            let mut cmd = Command::new(&bin);
            cmd.args(["proxy", "-h", "127.0.0.1", "-p", &port.to_string()])
                .arg(contract_path())
                .arg(upstream);
            let mut process = ServerProcess::spawn("prism", cmd, &dir.path().join("prism.log"))?;
            process.wait_ready(port, || true)?;
            Ok(Prism {
                process,
                port,
                _dir: dir,
            })
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }
}

/// One request through the relay, as Prism answered it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The `sl-violations` header, when Prism found something that does not conform.
    pub violations: Option<String>,
}

/// The fake behind Prism behind the recording relay: what a test points wspath at.
pub struct CheckedApi {
    // Field order is drop order: the relay first, then Prism, then the fake.
    relay_addr: SocketAddr,
    relay_stop: Arc<AtomicBool>,
    relay_thread: Option<JoinHandle<()>>,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    prism: Prism,
    api: CloudflareApi,
}

impl CheckedApi {
    pub fn start(api: CloudflareApi) -> io::Result<CheckedApi> {
        let prism = Prism::proxy(&api.url())?;
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let recorded = exchanges.clone();
        let prism_port = prism.port();
        let (relay_addr, relay_stop, relay_thread) =
            serve("prism relay", move |req| match relay(prism_port, &req) {
                Ok((exchange, raw)) => {
                    recorded
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(exchange);
                    raw
                }
                Err(e) => response(502, &[], &format!("relay to prism failed: {e}")),
            })?;
        Ok(CheckedApi {
            relay_addr,
            relay_stop,
            relay_thread: Some(relay_thread),
            exchanges,
            prism,
            api,
        })
    }

    /// The base URL to give wspath (`CLOUDFLARE_BASE_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.relay_addr)
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Fails when Prism found any request or answer that does not follow the contract, or when
    /// nothing went through Prism at all (a test that never reached the API proves nothing).
    pub fn assert_conforms(&self) {
        let all = self.exchanges();
        assert!(
            !all.is_empty(),
            "no request reached the Cloudflare API through Prism"
        );
        let bad: Vec<String> = all
            .iter()
            .filter_map(|e| {
                e.violations
                    .as_ref()
                    .map(|v| format!("{} {} -> {}: {v}", e.method, e.path, e.status))
            })
            .collect();
        assert!(
            bad.is_empty(),
            "Prism found contract violations:\n{}\nprism log:\n{}",
            bad.join("\n"),
            self.prism.log_text()
        );
    }
}

impl Deref for CheckedApi {
    type Target = CloudflareApi;
    fn deref(&self) -> &CloudflareApi {
        &self.api
    }
}

impl Drop for CheckedApi {
    fn drop(&mut self) {
        self.relay_stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.relay_addr, Duration::from_millis(200));
        if let Some(t) = self.relay_thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends `req` to Prism on a fresh connection and returns its answer with `Connection: close`.
fn relay(prism_port: u16, req: &Request) -> io::Result<(Exchange, RawResponse)> {
    let mut upstream = TcpStream::connect((Ipv4Addr::LOCALHOST, prism_port))?;
    upstream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let target = if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    };
    let mut head = format!("{} {target} HTTP/1.1\r\n", req.method);
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&req.body)?;
    upstream.flush()?;

    // Read the head, then exactly the body (content-length) or to EOF.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = upstream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::other("prism closed before the response head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed
        .parse(&buf[..head_end])
        .map_err(|e| io::Error::other(format!("prism response head: {e}")))?;
    let status = parsed.code.unwrap_or(0);
    let mut violations = None;
    let mut length = None;
    let mut out_head = format!("HTTP/1.1 {status} {}\r\n", parsed.reason.unwrap_or(""));
    for h in parsed.headers.iter() {
        let value = String::from_utf8_lossy(h.value).into_owned();
        if h.name.eq_ignore_ascii_case("sl-violations") {
            violations = Some(value.clone());
        }
        if h.name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        }
        if h.name.eq_ignore_ascii_case("connection") || h.name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        out_head.push_str(&format!("{}: {value}\r\n", h.name));
    }
    out_head.push_str("Connection: close\r\n\r\n");
    let mut body = buf[head_end..].to_vec();
    match length {
        Some(len) => {
            while body.len() < len {
                let n = upstream.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            upstream.read_to_end(&mut body)?;
        }
    }
    let mut raw = out_head.into_bytes();
    raw.extend_from_slice(&body);
    Ok((
        Exchange {
            method: req.method.clone(),
            path: req.path.clone(),
            status,
            violations,
        },
        raw,
    ))
}
