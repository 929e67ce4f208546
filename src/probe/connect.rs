//! Name resolution and the TCP connection, each under the probe's timeout, with failures turned into
//! verdicts (`dns_failed`, `connect_refused`, `connect_timeout`) rather than errors.

use crate::verdict::Verdict;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Resolves `host:port`; an IP literal needs no lookup (`Ok` with `looked_up == false`).
pub async fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(Vec<SocketAddr>, bool), String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], false));
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Err(_) => Err(format!(
            "resolving '{host}' took longer than {}",
            humantime::format_duration(timeout)
        )),
        Ok(Err(e)) => Err(format!("could not resolve '{host}': {e}")),
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(format!("'{host}' resolved to no address"))
            } else {
                Ok((addrs, true))
            }
        }
    }
}

/// Connects to the addresses in order until one accepts, all within `timeout`.
pub async fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<TcpStream, (Verdict, String)> {
    let deadline = Instant::now() + timeout;
    let mut failures: Vec<String> = Vec::new();
    for addr in addrs {
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                // The handshake is a few small writes; do not let Nagle delay them.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => {
                failures.push(format!("{addr}: {e}"));
            }
            Err(_) => {
                failures.push(format!("{addr}: no answer"));
                return Err((
                    Verdict::ConnectTimeout,
                    format!(
                        "no TCP connection within {} ({})",
                        humantime::format_duration(timeout),
                        failures.join("; ")
                    ),
                ));
            }
        }
    }
    // Unreachable networks and resets are refusals in effect; the OS error in the detail says which.
    Err((Verdict::ConnectRefused, failures.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ip_literals_skip_dns_and_a_closed_port_is_refused() {
        let (addrs, looked_up) = resolve("127.0.0.1", 9, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(!looked_up);
        // Bind then drop a listener: its port is closed now.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addrs = vec![SocketAddr::new(addrs[0].ip(), port)];
        let (verdict, detail) = connect(&addrs, Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(verdict, Verdict::ConnectRefused);
        assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
    }

    /// A listener whose accept queue is full drops new SYNs: the connect hangs until the budget.
    #[tokio::test]
    async fn a_full_accept_queue_is_connect_timeout() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut result = None;
        for _ in 0..16 {
            match connect(&[addr], Duration::from_millis(300)).await {
                Ok(stream) => held.push(stream),
                Err(e) => {
                    result = Some(e);
                    break;
                }
            }
        }
        let (verdict, detail) = result.expect("the queue never filled");
        assert_eq!(verdict, Verdict::ConnectTimeout, "{detail}");
        assert!(detail.contains(&addr.to_string()), "{detail}");
        drop(listener);
    }

    #[tokio::test]
    async fn unresolvable_names_fail_with_the_name() {
        let e = resolve("no-such-host.invalid", 80, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(e.contains("no-such-host.invalid"), "{e}");
    }
}
