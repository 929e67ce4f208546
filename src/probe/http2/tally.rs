//! Counts the HTTP/2 frames a server sends, by type, as they pass under h2: enough to name what
//! a hostile or broken peer did (a flood of SETTINGS, a GOAWAY and its error code) when h2 only
//! reports that the connection ended or the budget ran out.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const FLAG_ACK: u8 = 0x1;

/// What the server has sent so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub frames: u64,
    /// SETTINGS frames that are not acknowledgements.
    pub settings: u64,
    /// The error code of the first GOAWAY.
    pub goaway: Option<u32>,
}

#[derive(Debug, Default)]
struct Parser {
    seen: Seen,
    head: [u8; 9],
    head_len: usize,
    /// Payload bytes of the current frame still to come.
    skip: usize,
    /// The first 8 payload bytes of a GOAWAY (last stream id, error code).
    goaway: Option<Vec<u8>>,
}

impl Parser {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                if let Some(g) = &mut self.goaway {
                    let take = n.min(8usize.saturating_sub(g.len()));
                    g.extend_from_slice(&bytes[..take]);
                    if g.len() == 8 && self.seen.goaway.is_none() {
                        self.seen.goaway = Some(u32::from_be_bytes([g[4], g[5], g[6], g[7]]));
                    }
                }
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.head_len).min(bytes.len());
            self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
            self.head_len += n;
            bytes = &bytes[n..];
            if self.head_len == 9 {
                self.head_len = 0;
                let h = self.head;
                let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                self.seen.frames += 1;
                if h[3] == SETTINGS && h[4] & FLAG_ACK == 0 {
                    self.seen.settings += 1;
                }
                self.goaway = (h[3] == GOAWAY).then(Vec::new);
                self.skip = len;
            }
        }
    }
}

/// A handle on the counts, kept by the probe while h2 owns the stream.
#[derive(Debug, Clone, Default)]
pub struct Counts(Arc<Mutex<Parser>>);

impl Counts {
    pub fn seen(&self) -> Seen {
        self.0.lock().map(|p| p.seen.clone()).unwrap_or_default()
    }
}

/// The connection, with the server's frames counted as they are read.
pub struct Tally<S> {
    inner: S,
    counts: Counts,
}

impl<S> Tally<S> {
    pub fn new(inner: S) -> (Tally<S>, Counts) {
        let counts = Counts::default();
        (
            Tally {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tally<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Ok(mut p) = self.counts.0.lock() {
            p.feed(&buf.filled()[before..]);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tally<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_are_counted_across_any_split() {
        let mut wire = Vec::new();
        wire.extend(frame(SETTINGS, 0, &[0, 8, 0, 0, 0, 1]));
        wire.extend(frame(SETTINGS, FLAG_ACK, &[]));
        wire.extend(frame(SETTINGS, 0, &[]));
        wire.extend(frame(GOAWAY, 0, &[0, 0, 0, 0, 0, 0, 0, 0xb, b'x']));
        for split in [1, 2, 5, 9, 64] {
            let mut p = Parser::default();
            for chunk in wire.chunks(split) {
                p.feed(chunk);
            }
            assert_eq!(
                p.seen,
                Seen {
                    frames: 4,
                    settings: 2,
                    goaway: Some(0xb)
                },
                "split {split}"
            );
        }
    }
}
