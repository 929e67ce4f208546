//! Hostile peers: raw TCP servers on 127.0.0.1 port 0 that answer a WebSocket handshake the way
//! an attacker or a badly broken box would (silence, endless heads, floods, resets, escape
//! sequences). Plain blocking sockets on threads, independent of wspath's own code, so the
//! probe is tested against exact bytes.
//!
//! Each connection is served on its own thread. A behaviour ends when the client goes away (a
//! write fails) or after [`MAX_SERVE`], so a test never leaves a thread spinning for long; the
//! listener stops accepting when the [`Peer`] is dropped.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest one connection is served, whatever the behaviour.
pub const MAX_SERVE: Duration = Duration::from_secs(30);

/// A listening hostile peer; stops accepting on Drop.
pub struct Peer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Peer {
    /// Listens on 127.0.0.1:0 and serves every connection with `serve` on its own thread.
    pub fn start<F>(serve: F) -> io::Result<Peer>
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let serve = Arc::new(serve);
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let _ = tcp.set_nonblocking(false);
                        let _ = tcp.set_nodelay(true);
                        let _ = tcp.set_read_timeout(Some(MAX_SERVE));
                        let _ = tcp.set_write_timeout(Some(MAX_SERVE));
                        let serve = serve.clone();
                        std::thread::spawn(move || serve(tcp));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Peer { port, stop })
    }

    /// `127.0.0.1:PORT`, for `--hop NAME=ADDRESS`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads the request head (up to its blank line, 64 KiB at most) and returns its
/// `Sec-WebSocket-Key`, empty when there is none.
pub fn read_request(tcp: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default()
}

/// A correct 101 head for `accept` (the value computed from the request's key).
pub fn switching(accept: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// An unmasked server frame: FIN set, `opcode`, `payload` (< 126 bytes).
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126, "short frames only");
    let mut f = vec![0x80 | opcode, payload.len() as u8];
    f.extend_from_slice(payload);
    f
}

/// Writes `bytes` again and again until the client goes away or `limit` passes.
pub fn flood(tcp: &mut TcpStream, bytes: &[u8], limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit.min(MAX_SERVE) {
        if tcp.write_all(bytes).is_err() {
            return;
        }
    }
}

/// Writes `bytes` one at a time, `gap` apart, until they are all sent or the client goes away.
pub fn trickle(tcp: &mut TcpStream, bytes: &[u8], gap: Duration) {
    for b in bytes {
        if tcp.write_all(std::slice::from_ref(b)).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
}

/// Keeps the connection open without reading or writing until the client closes it (or
/// [`MAX_SERVE`]); reading nothing means the client's writes pile up in the socket buffers.
pub fn hold_without_reading(tcp: &TcpStream) {
    let start = Instant::now();
    while start.elapsed() < MAX_SERVE {
        // peek does not consume: the receive buffer stays full, as with a peer that never reads.
        let mut probe = [0u8; 1];
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(50)));
        match tcp.peek(&mut probe) {
            Ok(0) => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Keeps the connection open, reading and discarding, until the client closes it.
pub fn drain(tcp: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    let start = Instant::now();
    while start.elapsed() < MAX_SERVE {
        match tcp.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Ends the connection with a TCP reset: closing with unread bytes in the receive buffer makes
/// the kernel send RST instead of FIN. The caller must not have read the request.
pub fn reset(tcp: TcpStream) {
    let mut probe = [0u8; 1];
    let _ = tcp.peek(&mut probe);
    drop(tcp);
}
