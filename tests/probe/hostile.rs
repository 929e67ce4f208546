//! The hostile-peer kit: the real `wspath check` binary against raw-socket peers that answer
//! the way an attacker would. Each case asserts the verdict, that the run ends within the
//! documented per-hop bound (phases × --timeout + 1 s, README "Bounds") and that the process's
//! peak memory (VmHWM, sampled from /proc while it runs) stays under 64 MiB.
//!
//! --timeout is 1 s throughout so the whole kit runs in seconds.

use crate::support::hostile::{self, Peer};
use crate::support::{cli, CliOutput};
use serde_json::Value;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use wspath::probe::request::accept_key;

/// Each hop's memory ceiling, whatever the peer does (README "Bounds").
const MAX_PEAK_KIB: u64 = 64 * 1024;
/// The target every case checks; the hop pins the address.
const TARGET: &str = "ws://app.example.test/ws";

/// One run of the binary against a peer, with its JSON report.
struct Run {
    out: CliOutput,
    doc: Value,
}

impl Run {
    fn hop(&self) -> &Value {
        &self.doc["hops"][0]
    }
    fn verdict(&self) -> &str {
        self.hop()["verdict"].as_str().unwrap_or("")
    }
    fn detail(&self) -> &str {
        self.hop()["detail"].as_str().unwrap_or("")
    }
    fn describe(&self) -> String {
        format!(
            "verdict {} at {}: {}\npeak {:?} KiB\n{}",
            self.verdict(),
            self.hop()["stage"],
            self.detail(),
            self.out.peak_rss_kib,
            self.out.describe()
        )
    }
}

/// Probe phases of one hop with the default options (README "Bounds"): DNS, TCP, [TLS],
/// request, response, ping, close.
fn phases(tls: bool) -> u32 {
    6 + u32::from(tls)
}

/// Runs `wspath check` against `peer` (as `ws://` or `wss://`) with `--timeout 1s --format
/// json` and `extra` flags; asserts the time and memory bounds and the exit code 1.
fn check(peer: &Peer, tls: bool, extra: &[&str], hold: Duration) -> Run {
    let scheme = if tls { "wss" } else { "ws" };
    let hop = format!("peer={scheme}://{}/ws", peer.address());
    let mut args = vec![
        "check",
        TARGET,
        "--hop",
        &hop,
        "--timeout",
        "1s",
        "--format",
        "json",
        "--no-cloudflare",
        "--no-aws",
    ];
    args.extend_from_slice(extra);
    let out = cli::wspath(&args, Duration::from_secs(60)).expect("run wspath");
    let doc = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    let run = Run { out, doc };
    assert!(!run.out.timed_out, "wspath hung\n{}", run.describe());
    assert!(run.doc.is_object(), "no JSON report\n{}", run.describe());
    // phases × --timeout + the hold + 1 s: the documented bound, measured from outside.
    let bound = Duration::from_secs(u64::from(phases(tls)) + 1) + hold;
    assert!(
        run.out.elapsed <= bound,
        "took {:?}, more than {bound:?}\n{}",
        run.out.elapsed,
        run.describe()
    );
    let peak = run.out.peak_rss_kib.expect("no VmHWM sample");
    assert!(
        peak <= MAX_PEAK_KIB,
        "peak RSS {peak} KiB > {MAX_PEAK_KIB} KiB\n{}",
        run.describe()
    );
    run
}

/// [`check`] that expects `verdict` and exit 1.
fn expect(peer: &Peer, extra: &[&str], verdict: &str) -> Run {
    let run = check(peer, false, extra, Duration::ZERO);
    assert_eq!(run.verdict(), verdict, "{}", run.describe());
    assert_eq!(run.out.code, Some(1), "{}", run.describe());
    run
}

/// Answers the handshake correctly, then runs `after` on the upgraded socket.
fn upgrade_then(after: fn(&mut TcpStream)) -> Peer {
    Peer::start(move |mut tcp| {
        let key = hostile::read_request(&mut tcp);
        if tcp
            .write_all(hostile::switching(&accept_key(&key)).as_bytes())
            .is_ok()
        {
            after(&mut tcp);
        }
    })
    .expect("start peer")
}

#[test]
fn silent_peer_is_a_timeout_at_the_response() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "timeout");
    assert_eq!(run.hop()["stage"], "response", "{}", run.describe());
}

#[test]
fn slowloris_head_is_a_timeout_not_a_wait_for_every_byte() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let head = "HTTP/1.1 200 OK\r\nServer: slow\r\nX-Drip: ".to_string() + &"a".repeat(500);
        hostile::trickle(&mut tcp, head.as_bytes(), Duration::from_millis(50));
    })
    .expect("peer");
    let run = expect(&peer, &[], "timeout");
    assert!(
        run.detail().contains("bytes of the response head"),
        "{}",
        run.describe()
    );
}

#[test]
fn endless_headers_are_malformed_at_the_header_cap() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\n");
        hostile::flood(&mut tcp, b"X-More: yes\r\n", Duration::from_secs(10));
    })
    .expect("peer");
    let run = expect(&peer, &[], "malformed_response");
    assert!(
        run.detail().contains("more than 128 response headers"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_one_gib_header_line_is_cut_at_16_kib() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\nX-Huge: ");
        let line = vec![b'a'; 1 << 20];
        for _ in 0..1024 {
            if tcp.write_all(&line).is_err() {
                return;
            }
        }
    })
    .expect("peer");
    let run = expect(&peer, &[], "malformed_response");
    assert!(
        run.detail().contains("larger than 16 KiB"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_wrong_or_missing_accept_is_bad_accept() {
    let wrong = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(hostile::switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=").as_bytes());
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&wrong, &[], "bad_accept");
    assert!(run.detail().contains("expected"), "{}", run.describe());

    let missing = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        );
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&missing, &[], "bad_accept");
    assert!(
        run.detail().contains("without Sec-WebSocket-Accept"),
        "{}",
        run.describe()
    );
}

#[test]
fn garbage_after_the_101_fails_the_frames() {
    let peer = upgrade_then(|tcp| {
        let _ = tcp.write_all(&[0xff; 64]);
        hostile::drain(tcp);
    });
    let run = expect(&peer, &[], "frames_failed");
    assert_eq!(run.hop()["stage"], "frames", "{}", run.describe());
}

#[test]
fn a_frame_claiming_2_pow_63_bytes_is_refused_without_allocating_it() {
    let peer = upgrade_then(|tcp| {
        // Binary frame, 64-bit length 0x7fff_ffff_ffff_ffff, then a trickle of payload.
        let _ = tcp.write_all(&[0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        hostile::flood(tcp, &[0u8; 4096], Duration::from_secs(5));
    });
    let run = expect(&peer, &[], "frames_failed");
    assert!(run.detail().starts_with("ping:"), "{}", run.describe());
}

#[test]
fn a_frame_just_over_the_message_limit_is_refused() {
    let peer = upgrade_then(|tcp| {
        // 16 MiB announced in a 64-bit length: over the 1 MiB frame limit.
        let mut f = vec![0x82, 0x7f];
        f.extend_from_slice(&(16u64 << 20).to_be_bytes());
        let _ = tcp.write_all(&f);
        hostile::flood(tcp, &[0u8; 4096], Duration::from_secs(5));
    });
    let run = expect(&peer, &[], "frames_failed");
    assert!(run.detail().starts_with("ping:"), "{}", run.describe());
}

/// The hole issue #9 found: the peer floods pings and never reads, so every pong we owe it
/// queued in memory (0.7 GB for one 2 s check). The pong owed is now one, not one per ping.
#[test]
fn a_ping_flood_from_a_peer_that_never_reads_stays_bounded() {
    let peer = upgrade_then(|tcp| {
        let burst = hostile::frame(0x9, &[b'p'; 125]).repeat(1024);
        hostile::flood(tcp, &burst, Duration::from_secs(20));
    });
    let run = expect(&peer, &[], "frames_failed");
    assert!(run.detail().starts_with("ping:"), "{}", run.describe());
}

/// Without our own ping, the same flood during an --idle hold: the hold ends on time, the hop
/// is upgraded and not dropped.
#[test]
fn a_ping_flood_during_an_idle_hold_stays_bounded() {
    let peer = upgrade_then(|tcp| {
        let burst = hostile::frame(0x9, &[b'p'; 125]).repeat(1024);
        hostile::flood(tcp, &burst, Duration::from_secs(20));
    });
    let run = check(
        &peer,
        false,
        &["--no-ping", "--idle", "2s"],
        Duration::from_secs(2),
    );
    assert_eq!(run.verdict(), "upgraded", "{}", run.describe());
    assert_eq!(run.hop()["idle"]["dropped"], false, "{}", run.describe());
    assert_eq!(run.out.code, Some(0), "{}", run.describe());
}

/// The parallel form of the same hole (7.7 GB and ~100 s when it was open): four hops on the
/// flooding peer, each probed with every browser's request at once.
#[test]
fn a_ping_flood_on_every_hop_and_variant_at_once_stays_bounded() {
    let peer = upgrade_then(|tcp| {
        let burst = hostile::frame(0x9, &[b'p'; 125]).repeat(1024);
        hostile::flood(tcp, &burst, Duration::from_secs(20));
    });
    let address = peer.address();
    let hops: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| format!("{n}=ws://{address}/ws"))
        .collect();
    let mut args = vec![
        "check",
        TARGET,
        "--timeout",
        "1s",
        "--format",
        "json",
        "--as",
        "all",
        "--no-cloudflare",
        "--no-aws",
    ];
    for hop in &hops {
        args.extend(["--hop", hop.as_str()]);
    }
    let out = cli::wspath(&args, Duration::from_secs(60)).expect("run wspath");
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    let verdicts: Vec<&Value> = doc["hops"]
        .as_array()
        .map(|h| h.iter().map(|h| &h["verdict"]).collect())
        .unwrap_or_default();
    assert_eq!(verdicts.len(), 4, "{}", out.describe());
    assert!(
        verdicts.iter().all(|v| *v == "frames_failed"),
        "{}",
        out.describe()
    );
    let bound = Duration::from_secs(u64::from(phases(false)) + 1);
    assert!(
        out.elapsed <= bound,
        "took {:?}\n{}",
        out.elapsed,
        out.describe()
    );
    let peak = out.peak_rss_kib.expect("no VmHWM sample");
    assert!(
        peak <= MAX_PEAK_KIB,
        "peak RSS {peak} KiB\n{}",
        out.describe()
    );
}

#[test]
fn deflate_enabled_without_being_offered_is_bad_accept() {
    let peer = Peer::start(|mut tcp| {
        let key = hostile::read_request(&mut tcp);
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            accept_key(&key)
        );
        let _ = tcp.write_all(head.as_bytes());
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "bad_accept");
    assert!(
        run.detail().contains("permessage-deflate"),
        "{}",
        run.describe()
    );
}

/// A compressed frame (RSV1) that would inflate to gigabytes: never negotiated, so it is a
/// protocol error, not something to inflate.
#[test]
fn a_deflate_bomb_is_a_protocol_error_not_inflated() {
    let peer = upgrade_then(|tcp| {
        // Marked compressed (RSV1), 4 KiB of payload; never negotiated, so never inflated.
        let mut f = vec![0xc2, 0x7e, 0x10, 0x00];
        f.extend(std::iter::repeat(0u8).take(0x1000));
        let _ = tcp.write_all(&f);
        hostile::drain(tcp);
    });
    let run = expect(&peer, &[], "frames_failed");
    assert!(run.detail().starts_with("ping:"), "{}", run.describe());
}

#[test]
fn a_reset_in_the_middle_of_the_head_is_a_verdict() {
    let peer = Peer::start(|mut tcp| {
        // Not reading the request: closing with it unread makes the kernel send RST.
        std::thread::sleep(Duration::from_millis(100));
        let _ = tcp.write_all(b"HTTP/1.1 101 Swit");
        std::thread::sleep(Duration::from_millis(50));
        hostile::reset(tcp);
    })
    .expect("peer");
    let run = check(&peer, false, &[], Duration::ZERO);
    assert!(
        ["malformed_response", "no_response"].contains(&run.verdict()),
        "{}",
        run.describe()
    );
    assert_eq!(run.out.code, Some(1), "{}", run.describe());
}

#[test]
fn http_0_9_is_malformed() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(b"<html>hello from 1991</html>\n");
    })
    .expect("peer");
    let run = expect(&peer, &[], "malformed_response");
    assert!(
        run.detail().contains("not an HTTP/1.x response"),
        "{}",
        run.describe()
    );
}

#[test]
fn an_http2_preface_is_named() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        // SETTINGS (empty), then GOAWAY(PROTOCOL_ERROR) on stream 0, as an h2c-only server.
        let mut frames = vec![0, 0, 0, 0x04, 0, 0, 0, 0, 0];
        frames.extend_from_slice(&[0, 0, 8, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let _ = tcp.write_all(&frames);
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "malformed_response");
    assert!(run.detail().contains("HTTP/2"), "{}", run.describe());
}

#[test]
fn a_101_sent_before_the_request_is_bad_accept() {
    let peer = Peer::start(|mut tcp| {
        let _ = tcp.write_all(hostile::switching("dGhpcyBpcyBub3QgdGhlIGtleQ==").as_bytes());
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    expect(&peer, &[], "bad_accept");
}

#[test]
fn an_upgrade_to_h2c_is_bad_accept() {
    let peer = Peer::start(|mut tcp| {
        let key = hostile::read_request(&mut tcp);
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(&key)
        );
        let _ = tcp.write_all(head.as_bytes());
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "bad_accept");
    assert!(run.detail().contains("h2c"), "{}", run.describe());
}

#[test]
fn endless_100_continue_is_a_timeout() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        hostile::flood(
            &mut tcp,
            b"HTTP/1.1 100 Continue\r\n\r\n",
            Duration::from_secs(20),
        );
    })
    .expect("peer");
    let run = expect(&peer, &[], "timeout");
    assert_eq!(run.hop()["stage"], "response", "{}", run.describe());
}

#[test]
fn a_tls_peer_that_stalls_is_a_timeout_at_tls() {
    // Silent after the ClientHello.
    let silent = Peer::start(|mut tcp| hostile::drain(&mut tcp)).expect("peer");
    // A record header announcing 16 KiB of ServerHello, then nothing.
    let partial = Peer::start(|mut tcp| {
        let _ = tcp.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00]);
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    for peer in [&silent, &partial] {
        let run = check(peer, true, &["--insecure"], Duration::ZERO);
        assert_eq!(run.verdict(), "timeout", "{}", run.describe());
        assert_eq!(run.hop()["stage"], "tls", "{}", run.describe());
    }
}

/// Escape sequences from the peer (clear screen, window title, OSC 8 link, C1 CSI, U+202E).
/// httparse refuses C0 controls in the status line and header values, so ESC reaches a parsed
/// answer only through the body; C1 and bidi code points pass in the reason, headers and
/// Location. The JSON keeps the text exactly, escaped as JSON.
#[test]
fn escape_sequences_from_the_peer_are_kept_exactly_in_json() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let body = "upstream \u{1b}[2J\u{1b}]0;owned\u{7} \u{202e}gnp.exe \u{9b}31m\n";
        let head = format!(
            "HTTP/1.1 502 Bad \u{9b}31m\u{202e}Gateway\r\nServer: evil\u{9d}8;;http://x.test/\r\n\
             Location: http://x.test/\u{202e}\u{9b}2J\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = tcp.write_all(head.as_bytes());
        let _ = tcp.write_all(body.as_bytes());
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "bad_gateway");
    let hop = run.hop();
    assert_eq!(
        hop["status_line"],
        "HTTP/1.1 502 Bad \u{9b}31m\u{202e}Gateway",
        "{}",
        run.describe()
    );
    let location = hop["headers"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["name"] == "Location"))
        .map(|h| h["value"].clone());
    assert_eq!(
        location,
        Some(Value::from("http://x.test/\u{202e}\u{9b}2J")),
        "{}",
        run.describe()
    );
    let body = hop["body_snippet"].as_str().unwrap_or("");
    assert!(
        body.contains("\u{1b}]0;owned\u{7}") && body.contains('\u{202e}'),
        "{}",
        run.describe()
    );
    // JSON escapes control characters itself: stdout carries no raw ESC or BEL byte.
    assert!(
        !run.out.stdout.contains(['\u{1b}', '\u{7}']),
        "{}",
        run.describe()
    );
}

/// ESC in the status line makes the head unparsable: the raw first line is kept as evidence
/// (exactly, in JSON) and the detail quotes it escaped.
#[test]
fn escape_sequences_in_an_unparsable_head_are_kept_as_evidence() {
    let peer = Peer::start(|mut tcp| {
        hostile::read_request(&mut tcp);
        let _ = tcp.write_all(b"HTTP/1.1 502 \x1b]0;owned\x07\x1b[2J\r\nServer: x\r\n\r\n");
        hostile::drain(&mut tcp);
    })
    .expect("peer");
    let run = expect(&peer, &[], "malformed_response");
    assert_eq!(
        run.hop()["status_line"],
        "HTTP/1.1 502 \u{1b}]0;owned\u{7}\u{1b}[2J",
        "{}",
        run.describe()
    );
    assert!(!run.detail().contains('\u{1b}'), "{}", run.describe());
    assert!(
        !run.out.stdout.contains(['\u{1b}', '\u{7}']),
        "{}",
        run.describe()
    );
}
