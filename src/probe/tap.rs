//! A stream that shows every byte it reads to an observer and passes writes through untouched:
//! the probe's one way to keep evidence from under a library that owns the connection (rustls
//! during the TLS handshake, h2 for the whole HTTP/2 connection), which only reports that
//! something failed, not what the peer sent.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Sees the bytes read, in order, as they arrive.
pub trait Observe {
    fn observe(&mut self, bytes: &[u8]);
}

/// `inner`, with every read shown to `observer`.
pub struct ReadTap<S, O> {
    inner: S,
    observer: O,
}

impl<S, O> ReadTap<S, O> {
    pub fn new(inner: S, observer: O) -> ReadTap<S, O> {
        ReadTap { inner, observer }
    }

    pub fn observer(&self) -> &O {
        &self.observer
    }
}

impl<S: AsyncRead + Unpin, O: Observe + Unpin> AsyncRead for ReadTap<S, O> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            this.observer.observe(new);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin, O: Unpin> AsyncWrite for ReadTap<S, O> {
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
        bufs: &[IoSlice<'_>],
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Default)]
    struct Chunks(Vec<Vec<u8>>);

    impl Observe for Chunks {
        fn observe(&mut self, bytes: &[u8]) {
            self.0.push(bytes.to_vec());
        }
    }

    #[tokio::test]
    async fn reads_are_observed_and_writes_pass_through() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut tap = ReadTap::new(a, Chunks::default());
        b.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        tap.read_exact(&mut buf).await.unwrap();
        tap.write_all(b"back").await.unwrap();
        let mut echoed = [0u8; 4];
        b.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"back");
        assert_eq!(tap.observer().0.concat(), b"hello");
    }
}
