//! The fuzz targets: one function per parser that reads text or bytes from outside, each taking
//! arbitrary bytes and asserting what must hold for any input (no panic, results that fit the
//! input). Shared by the corpus replay and the bounded fuzz run in `cargo test`, and by the
//! optional cargo-fuzz crate in `fuzz/`, which includes this file by path (and uses one target
//! per binary, hence the allowance below).

#![allow(dead_code)]

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wspath::hop::HopSpec;
use wspath::nginx::{self, parser, Model, Version};
use wspath::probe::{classify, curl, fingerprint, frames, request, response, ProbeOptions};
use wspath::Target;

/// One fuzz target: takes any bytes, panics only on a bug.
pub type Fuzz = fn(&[u8]);

/// Every target: its name (the corpus directory) and function.
pub const TARGETS: &[(&str, Fuzz)] = &[
    ("head", head),
    ("frames", frames_after_101),
    ("nginx", nginx_config),
    ("url", url_and_hop),
];

/// A peer as bytes: hands out `data` in reads of at most `chunk` bytes, then end of stream;
/// swallows whatever is written. Never pending, so no case waits on a clock.
struct Scripted {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (self.data.len() - self.at)
            .min(self.chunk)
            .min(buf.remaining());
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        b: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The first byte picks how the rest arrives (read sizes of 1 to 64 bytes).
fn scripted(data: &[u8]) -> Scripted {
    let (chunk, data) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c % 64) + 1, rest.to_vec()),
        None => (1, Vec::new()),
    };
    Scripted { data, at: 0, chunk }
}

thread_local! {
    /// One runtime per fuzzing thread: building one per case would cost more than the case.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}

/// The response-head parser and everything that reads a parsed head: framing, the body snippet,
/// dechunking, the verdict for 101 and other answers, the fingerprint.
pub fn head(data: &[u8]) {
    if let response::Parsed::Complete(head) = response::parse_head(data) {
        assert!(head.len <= data.len(), "head longer than its input");
        let body = &data[head.len..];
        let framing = response::framing(&head);
        let (decoded, _) = response::dechunk(body);
        assert!(
            decoded.len() <= body.len(),
            "dechunked body longer than its input"
        );
        let who = fingerprint::answered_by(head.status, &head.headers, body);
        let _ = classify::classify_other(&head, body, who);
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let deflate = ["permessage-deflate".to_string()];
        let _ = classify::classify_101(&head, key, &["chat".to_string()], &deflate);
        let _ = classify::classify_101(&head, key, &[], &[]);
        let snippet = block_on(response::read_body_snippet(
            &mut scripted(body),
            Vec::new(),
            framing,
            Duration::from_millis(50),
        ));
        assert!(snippet.len() <= response::MAX_BODY, "snippet over its cap");
    }
    // The same bytes as a stream, in reads of a size the input picks.
    let read = block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
        response::read_head(&mut scripted(data), deadline).await
    });
    if let response::HeadRead::Complete { head, rest, .. } = read {
        assert!(
            head.len + rest.len() <= data.len(),
            "read more than was sent"
        );
        assert!(head.len <= response::MAX_HEAD, "head over its cap");
    }
}

/// What happens after a 101: the bytes that arrived with the head (`rest`, the length picked by
/// the second byte) and the stream, through ping, echo, an idle hold and the close.
pub fn frames_after_101(data: &[u8]) {
    let split = data.get(1).map_or(0, |b| usize::from(*b)).min(data.len());
    let (rest, stream) = data.split_at(split);
    let rest = rest.to_vec();
    let mut stream_data = data.first().copied().map(|c| vec![c]).unwrap_or_default();
    stream_data.extend_from_slice(stream);
    block_on(async move {
        let mut ws = frames::open(scripted(&stream_data), rest).await;
        let short = Duration::from_millis(20);
        let _ = frames::ping(&mut ws, short).await;
        let _ = frames::echo(&mut ws, "wspath", short).await;
        let idle = frames::idle(&mut ws, short).await;
        assert!(idle.held_ms >= 0.0);
        frames::close(ws, short).await;
    });
}

/// The nginx lexer, parser (includes read from the second half of the input, after a NUL),
/// model, lint, fix planner and dump.
pub fn nginx_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let (main, included) = match text.split_once('\0') {
        Some((m, i)) => (m.to_string(), i.to_string()),
        None => (text.clone(), String::new()),
    };
    // A glob that leaves the (nonexistent) config directory would list the real file system:
    // not the parser's input, and as slow as the disk is big.
    let escapes = |word: &str| {
        let word = word.trim_matches(['"', '\'']);
        word.contains(['*', '?', '[']) && (word.starts_with('/') || word.contains(".."))
    };
    if main
        .lines()
        .chain(included.lines())
        .any(|l| l.contains("include") && l.split_whitespace().any(escapes))
    {
        return;
    }
    let _ = nginx::lexer::lex_full(&main);
    let mut reads = 0;
    let config = parser::parse_with("/fuzz/nginx.conf".to_string(), main, |_| {
        reads += 1;
        if reads > 8 {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        Ok(included.clone())
    });
    let mut dumped = Vec::new();
    let _ = nginx::dump::write(&config, &mut dumped);
    if !config.ok() {
        return;
    }
    let Ok(model) = Model::build(&config, Version::OLDEST) else {
        return;
    };
    let version = nginx::AssumedVersion {
        version: Version::OLDEST,
        source: nginx::version::VersionSource::Flag,
    };
    let options = nginx::LintOptions {
        path: Some("/ws/".into()),
        host: Some("example.com".into()),
        ..nginx::LintOptions::default()
    };
    for options in [nginx::LintOptions::default(), options] {
        let report = nginx::lint(&model, version.clone(), &options);
        let _ = report.findings();
        let edits = nginx::fix::plan_edits(&model, &report, Some(Duration::from_secs(3600)));
        let _ = nginx::fix::apply_edits(&model, &edits);
        let _ = nginx::fix::plan(&model, &edits);
    }
}

/// The target URL and `--hop` parsers, and what is built from them: the request, the curl
/// command. The input is `TARGET\nHOP`.
pub fn url_and_hop(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (target_text, hop_text) = text.split_once('\n').unwrap_or((&text, "edge"));
    let hop = HopSpec::parse(hop_text);
    let Ok(target) = Target::parse(target_text) else {
        return;
    };
    assert!(target.path.starts_with('/'), "path without a leading slash");
    let _ = (target.host_header(), target.default_origin(), target.url());
    let Ok(hop) = hop else {
        return;
    };
    let hop = hop.resolve(&target);
    let options = ProbeOptions::new(&target);
    let key = request::new_key();
    let headers = request::request_headers(&target, &options, &key);
    let _ = request::encode(&hop.path, &headers);
    let _ = curl::curl_command(&target, &hop, &options, &headers);
}
