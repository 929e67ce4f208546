//! Traefik and Envoy, which have no Debian package here, from their recorded responses
//! (src/software/fixtures, each with its source in the README there): a loopback raw server
//! answers wspath as they do, in front of a real backend, with hops named generically. Each
//! case asserts the culprit, the identified software and that the advice names that
//! software's own setting.

use super::{assert_software, run};
use crate::paths::check;
use crate::support::hostile::Peer;
use crate::support::{repo_root, Backend, WsPath};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wspath::probe::request::accept_key;

fn fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join("src/software/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a request or response head up to its blank line (64 KiB at most).
fn read_head(tcp: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match tcp.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    buf
}

/// A server that answers every request with the recorded response `name`, then closes.
fn replaying(name: &str) -> Peer {
    let bytes = fixture(name);
    Peer::start(move |mut tcp| {
        read_head(&mut tcp);
        let _ = tcp.write_all(&bytes);
        let _ = tcp.shutdown(Shutdown::Write);
    })
    .expect("start the replaying server")
}

/// A path of the real backend behind a replaying server named `name`.
fn replayed(name: &str, fixture: &str) -> WsPath {
    let peer = replaying(fixture);
    let addr = peer.address();
    WsPath::backend(Backend::start().expect("backend")).front_server(name, &addr, peer)
}

#[test]
fn envoy_without_upgrade_configs_is_told_to_add_them() {
    let path = replayed("proxy", "envoy_403_no_upgrade_configs.http");
    let r = run(&path);
    r.assert_culprit("proxy", "rejected");
    assert_software(&r, "proxy", "envoy");
    r.assert_fix_says(&[
        "upgrade_configs: [{upgrade_type: websocket}]",
        "enableWebsockets",
    ]);
}

#[test]
fn envoy_upstream_connect_error_points_at_the_cluster() {
    let path = replayed("lb", "envoy_503_upstream_connect_error.http");
    let r = run(&path);
    r.assert_culprit("lb", "service_unavailable");
    assert_software(&r, "lb", "envoy");
    assert!(
        r.hop("lb")["detail"]
            .as_str()
            .unwrap_or("")
            .contains("upstream connect error"),
        "{}",
        r.describe()
    );
    r.assert_fix_says(&["cluster's endpoints"]);
}

/// Envoy in front of `backend`: the upgrade goes to the real backend, whose 101 head is
/// replaced by Envoy's recorded one, then bytes flow both ways until nothing has passed for
/// `idle` — Envoy's `stream_idle_timeout` closing the stream without a close frame.
fn envoy_relay(backend: String, idle: Duration) -> Peer {
    let head = String::from_utf8(fixture("envoy_101.http")).expect("text");
    Peer::start(move |mut client| {
        let request = read_head(&mut client);
        let Ok(mut up) = TcpStream::connect(&backend) else {
            return;
        };
        if up.write_all(&request).is_err() {
            return;
        }
        let answer = String::from_utf8_lossy(&read_head(&mut up)).into_owned();
        let key = String::from_utf8_lossy(&request)
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default();
        if !answer.starts_with("HTTP/1.1 101") {
            let _ = client.write_all(answer.as_bytes());
            return;
        }
        let ours = head.replace("{ACCEPT}", &accept_key(&key));
        if client.write_all(ours.as_bytes()).is_err() {
            return;
        }
        let last = Arc::new(Mutex::new(Instant::now()));
        let pipe = |mut from: TcpStream, mut to: TcpStream, last: Arc<Mutex<Instant>>| {
            std::thread::spawn(move || {
                let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
                let mut buf = [0u8; 4096];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            *last.lock().unwrap() = Instant::now();
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => break,
                    }
                }
            })
        };
        let (c2, u2) = (
            client.try_clone().expect("clone"),
            up.try_clone().expect("clone"),
        );
        pipe(c2, up.try_clone().expect("clone"), last.clone());
        pipe(u2, client.try_clone().expect("clone"), last.clone());
        while last.lock().unwrap().elapsed() < idle {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = client.shutdown(Shutdown::Both);
        let _ = up.shutdown(Shutdown::Both);
    })
    .expect("start the Envoy relay")
}

#[test]
fn an_envoy_idle_drop_is_matched_to_its_stream_idle_timeout() {
    let backend = Backend::start().expect("backend");
    let envoy = envoy_relay(backend.addr(), Duration::from_millis(1500));
    let edge = envoy.address();
    let path = WsPath::backend(backend).front_server("edge", &edge, envoy);
    let hops: Vec<String> = path.hops();
    let pairs: Vec<(&str, &str)> = hops.iter().filter_map(|h| h.split_once('=')).collect();
    let r = check(&pairs, &["--idle", "4s"]);
    r.assert_culprit("edge", "idle_dropped");
    assert_software(&r, "edge", "envoy");
    let after = r.hop("edge")["idle"]["dropped_after_ms"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((after - 1500.0).abs() <= 100.0, "{after}\n{}", r.describe());
    assert!(
        r.summary().contains("Envoy `stream_idle_timeout`"),
        "{}",
        r.describe()
    );
    r.assert_fix_says(&["stream_idle_timeout", "`idle_timeout` on the route"]);
}

#[test]
fn traefik_with_no_matching_router_is_told_its_rule() {
    let path = replayed("edge", "traefik_404.http");
    let r = run(&path);
    r.assert_culprit("edge", "rejected");
    assert_software(&r, "edge", "traefik");
    r.assert_fix_says(&["no Traefik router matches", "`rule`", "`entryPoints`"]);
}

#[test]
fn traefik_bad_gateway_points_at_the_service_url() {
    let path = replayed("proxy", "traefik_502.http");
    let r = run(&path);
    r.assert_culprit("proxy", "bad_gateway");
    assert_software(&r, "proxy", "traefik");
    r.assert_fix_says(&["`loadBalancer.servers` URL"]);
}
