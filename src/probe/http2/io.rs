//! One HTTP/2 stream as a byte pipe (AsyncRead + AsyncWrite), so that tokio-tungstenite can run
//! the WebSocket over an RFC 8441 extended CONNECT exactly as it runs over a TCP connection.
//! DATA frames in are the bytes read; bytes written go out as DATA frames, as much as the peer's
//! flow-control window allows at a time.

use bytes::{Buf, Bytes};
use h2::{RecvStream, SendStream};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest DATA frame payload handed to h2 at once (the protocol's minimum frame size).
const MAX_CHUNK: usize = 16 * 1024;

pub struct StreamIo {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received but not yet read.
    pending: Bytes,
}

impl StreamIo {
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> StreamIo {
        StreamIo {
            send,
            recv,
            pending: Bytes::new(),
        }
    }
}

fn to_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        return e
            .into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"));
    }
    io::Error::other(super::describe_error(&e))
}

impl AsyncRead for StreamIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pending.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                // The end of the stream is the end of the WebSocket's byte stream.
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                Some(Ok(data)) => {
                    // Give the window back at once: the WebSocket layer bounds what it buffers.
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    self.pending = data;
                }
            }
        }
        let n = self.pending.len().min(buf.remaining());
        buf.put_slice(&self.pending[..n]);
        self.pending.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StreamIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let want = buf.len().min(MAX_CHUNK);
        self.send.reserve_capacity(want);
        loop {
            match ready!(self.send.poll_capacity(cx)) {
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                // Capacity can be reported as 0 while the window is closed; wait for more.
                Some(Ok(0)) => continue,
                Some(Ok(n)) => {
                    let n = n.min(want);
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    return Poll::Ready(
                        self.send.send_data(chunk, false).map(|()| n).map_err(to_io),
                    );
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // h2's connection task writes queued frames out by itself.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // END_STREAM; a stream the peer already reset cannot be ended twice, which is no error
        // for a probe that is leaving anyway.
        let _ = self.send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}
