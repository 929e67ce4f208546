//! Free loopback ports and readiness by polling, so no test uses a fixed port or a fixed sleep.

use std::collections::HashSet;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ports already handed out in this process: the kernel may offer a just-released port again,
/// and two servers of the same test run must not be told the same one.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A 127.0.0.1 port that was free a moment ago (bound to :0, then released).
///
/// Another process can still take it before the server binds it; start servers through
/// [`retry_on_addr_in_use`] so that race costs a retry, not a failed test.
pub fn free_port() -> io::Result<u16> {
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if guard.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free 127.0.0.1 port after 100 tries"))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls 127.0.0.1:`port` until it accepts a connection, or fails after `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration) -> io::Result<()> {
    wait_until(timeout, || port_open(port)).map_err(|_| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("127.0.0.1:{port} did not accept a connection within {timeout:?}"),
        )
    })
}

/// Polls `ready` every few milliseconds until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(());
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Whether a failed start was the bind race (the port was taken between choosing and binding).
pub fn is_addr_in_use(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::AddrInUse
        || e.to_string().contains("Address already in use")
        || e.to_string().contains("address already in use")
}

/// Runs `start` with fresh ports until it does not fail with "Address already in use"
/// (at most 5 attempts). `start` must choose its ports inside, with [`free_port`].
pub fn retry_on_addr_in_use<T>(mut start: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut last = None;
    for _ in 0..5 {
        match start() {
            Err(e) if is_addr_in_use(&e) => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("start retried without an error")))
}
