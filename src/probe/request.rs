//! The RFC 6455 upgrade request, as pure functions: the probe, the curl rendering and the
//! benchmark's raw floor all send exactly these bytes.
//!
//! `--as chrome|firefox|safari` sends the header set *and order* that browser sends, because
//! proxies differ on exactly that: a rule matching `Connection: Upgrade` literally refuses
//! Firefox's `Connection: keep-alive, Upgrade`, and a proxy that mangles
//! `Sec-WebSocket-Extensions` breaks only the browsers that offer compression.

use crate::hop::Hop;
use crate::probe::ProbeOptions;
use crate::target::Target;
use base64::Engine as _;
use serde::Serialize;
use sha1::{Digest, Sha1};

/// RFC 6455 §1.3: the GUID appended to the key before hashing.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A fresh random `Sec-WebSocket-Key`: 16 random bytes, base64.
pub fn new_key() -> String {
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The `Sec-WebSocket-Accept` a correct server answers to `key`.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Whose upgrade request to send: wspath's own minimal RFC 6455 request, or a browser's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    /// wspath's own request: the RFC 6455 headers, `Connection: Upgrade`, no extensions.
    #[default]
    Plain,
    Chrome,
    Firefox,
    Safari,
}

impl Browser {
    /// Every variant, `plain` first (the one the others are compared with).
    pub const ALL: [Browser; 4] = [
        Browser::Plain,
        Browser::Chrome,
        Browser::Firefox,
        Browser::Safari,
    ];

    /// The name `--as` takes and JSON carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Browser::Plain => "plain",
            Browser::Chrome => "chrome",
            Browser::Firefox => "firefox",
            Browser::Safari => "safari",
        }
    }

    /// How a sentence names the request: "Firefox's request", "wspath's plain request".
    pub fn display(self) -> &'static str {
        match self {
            Browser::Plain => "wspath's plain request",
            Browser::Chrome => "Chrome's request",
            Browser::Firefox => "Firefox's request",
            Browser::Safari => "Safari's request",
        }
    }

    /// What sets this request apart from the plain one, in a proxy's eyes (for the sentence that
    /// explains why a hop refuses it).
    pub fn distinguishing(self) -> &'static str {
        match self {
            Browser::Plain => "`Connection: Upgrade` and no extensions",
            Browser::Chrome => "`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits`, `Pragma`/`Cache-Control: no-cache` and a browser User-Agent",
            Browser::Firefox => "`Connection: keep-alive, Upgrade` (two tokens), `Sec-Fetch-*` headers and `Sec-WebSocket-Extensions: permessage-deflate`",
            Browser::Safari => "`Sec-WebSocket-Extensions: permessage-deflate`, `Pragma`/`Cache-Control: no-cache` and a browser User-Agent",
        }
    }
}

impl std::fmt::Display for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Browser {
    type Err = String;
    fn from_str(s: &str) -> Result<Browser, String> {
        Browser::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| "expected plain, chrome, firefox, safari or all".to_string())
    }
}

/// The request headers in the order they are sent. `-H` headers replace a built-in header of the
/// same name in place (so `-H 'User-Agent: x'` is sent once) and are appended otherwise.
pub fn request_headers(
    target: &Target,
    options: &ProbeOptions,
    key: &str,
) -> Vec<(String, String)> {
    let parts = Parts {
        host: target.host_header(),
        key: key.to_string(),
        origin: options.origin.clone(),
        protocols: (!options.protocols.is_empty()).then(|| options.protocols.join(", ")),
    };
    let mut headers = match options.browser {
        Browser::Plain => plain(parts),
        Browser::Chrome => chrome(parts),
        Browser::Firefox => firefox(parts),
        Browser::Safari => safari(parts),
    };
    for (name, value) in &options.headers {
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = (name.clone(), value.clone()),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    headers
}

/// What varies per probe; each variant places it where its browser does.
struct Parts {
    host: String,
    key: String,
    origin: Option<String>,
    protocols: Option<String>,
}

/// Builds a header list from `(name, value)` pairs, leaving out the `None` values.
fn list<const N: usize>(pairs: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
        .collect()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// wspath's own request: what every check sent before `--as` existed.
fn plain(p: Parts) -> Vec<(String, String)> {
    list([
        ("Host", Some(p.host)),
        ("Upgrade", s("websocket")),
        ("Connection", s("Upgrade")),
        ("Sec-WebSocket-Key", Some(p.key)),
        ("Sec-WebSocket-Version", s("13")),
        ("Origin", p.origin),
        ("Sec-WebSocket-Protocol", p.protocols),
        (
            "User-Agent",
            s(concat!("wspath/", env!("CARGO_PKG_VERSION"))),
        ),
    ])
}

/// Chrome (and every Chromium browser): the order of a captured Chromium handshake, quoted in
/// whatwg/html#852 ("WebSocket: specify extensions": Host, Connection, Pragma, Cache-Control,
/// Upgrade, Origin, Sec-WebSocket-Version, User-Agent, Accept-Encoding, Accept-Language,
/// Sec-WebSocket-Key, Sec-WebSocket-Extensions); Chromium's
/// net/websockets/websocket_basic_handshake_stream.cc appends the extension offer and then the
/// subprotocols after the key. The extension value is the one Chrome has sent since Chrome 32
/// (also quoted in websockets-rs/rust-websocket#41 and gorilla/websocket#201); the
/// Accept-Encoding and User-Agent are a current desktop Chrome's.
fn chrome(p: Parts) -> Vec<(String, String)> {
    list([
        ("Host", Some(p.host)),
        ("Connection", s("Upgrade")),
        ("Pragma", s("no-cache")),
        ("Cache-Control", s("no-cache")),
        ("User-Agent", s("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")),
        ("Upgrade", s("websocket")),
        ("Origin", p.origin),
        ("Sec-WebSocket-Version", s("13")),
        ("Accept-Encoding", s("gzip, deflate, br, zstd")),
        ("Accept-Language", s("en-US,en;q=0.9")),
        ("Sec-WebSocket-Key", Some(p.key)),
        (
            "Sec-WebSocket-Extensions",
            s("permessage-deflate; client_max_window_bits"),
        ),
        ("Sec-WebSocket-Protocol", p.protocols),
    ])
}

/// Firefox: the order of a captured Firefox handshake quoted in
/// websockets-rs/rust-websocket#41 (Host, User-Agent, Accept, Accept-Language, Accept-Encoding,
/// Sec-WebSocket-Version, Origin, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions,
/// Sec-WebSocket-Key, Connection, Pragma, Cache-Control, Upgrade), with the `Sec-Fetch-*`
/// headers current Firefox adds after `Connection` and its `Accept: */*`.
/// `Connection: keep-alive, Upgrade` is Firefox's alone (Mozilla bug 730742; the servers and
/// proxies fixed for it include snapview/tungstenite-rs#106, eclipse-vertx/vert.x#5142,
/// SeasideSt/Seaside#1492, and Fastly's edge in webcompat/web-bugs#214053).
fn firefox(p: Parts) -> Vec<(String, String)> {
    list([
        ("Host", Some(p.host)),
        (
            "User-Agent",
            s("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
        ),
        ("Accept", s("*/*")),
        ("Accept-Language", s("en-US,en;q=0.5")),
        ("Accept-Encoding", s("gzip, deflate, br, zstd")),
        ("Sec-WebSocket-Version", s("13")),
        ("Origin", p.origin),
        ("Sec-WebSocket-Protocol", p.protocols),
        ("Sec-WebSocket-Extensions", s("permessage-deflate")),
        ("Sec-WebSocket-Key", Some(p.key)),
        ("Connection", s("keep-alive, Upgrade")),
        ("Sec-Fetch-Dest", s("empty")),
        ("Sec-Fetch-Mode", s("websocket")),
        ("Sec-Fetch-Site", s("same-origin")),
        ("Pragma", s("no-cache")),
        ("Cache-Control", s("no-cache")),
        ("Upgrade", s("websocket")),
    ])
}

/// Safari: the order WebKit's `WebSocketHandshake::clientHandshakeMessage`
/// (Source/WebCore/Modules/websockets/WebSocketHandshake.cpp) builds — Upgrade, Connection,
/// Host, Origin, Sec-WebSocket-Protocol, Pragma, Cache-Control, Sec-WebSocket-Key,
/// Sec-WebSocket-Version, Sec-WebSocket-Extensions, User-Agent — the same order as the WebKit
/// capture in whatwg/html#852; current Safari offers `permessage-deflate`.
fn safari(p: Parts) -> Vec<(String, String)> {
    list([
        ("Upgrade", s("websocket")),
        ("Connection", s("Upgrade")),
        ("Host", Some(p.host)),
        ("Origin", p.origin),
        ("Sec-WebSocket-Protocol", p.protocols),
        ("Pragma", s("no-cache")),
        ("Cache-Control", s("no-cache")),
        ("Sec-WebSocket-Key", Some(p.key)),
        ("Sec-WebSocket-Version", s("13")),
        ("Sec-WebSocket-Extensions", s("permessage-deflate")),
        ("User-Agent", s("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15")),
    ])
}

/// The extension names offered in `Sec-WebSocket-Extensions` (`permessage-deflate`), lowercase.
pub fn offered_extensions(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
        .flat_map(|(_, v)| v.split(','))
        .filter_map(|offer| offer.split(';').next())
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// `GET {path} HTTP/1.1` and the headers, ready to write. Line breaks inside a name, value or
/// path are sent as spaces: the CLI rejects them, and the engine must not let one forge a header.
pub fn encode(path: &str, headers: &[(String, String)]) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, text: &str) {
        if !text.bytes().any(|b| b == b'\r' || b == b'\n') {
            out.extend_from_slice(text.as_bytes());
            return;
        }
        out.extend(
            text.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    }
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"GET ");
    put(&mut out, path);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        put(&mut out, name);
        out.extend_from_slice(b": ");
        put(&mut out, value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The complete request sent at `hop` with `key`.
pub fn request_bytes(target: &Target, hop: &Hop, options: &ProbeOptions, key: &str) -> Vec<u8> {
    encode(&hop.path, &request_headers(target, options, key))
}

/// The `Sec-WebSocket-Key` actually sent (a `-H` may have replaced the generated one).
pub fn sent_key(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopSpec;

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn keys_are_random_16_byte_base64() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .unwrap();
        assert_eq!(raw.len(), 16);
    }

    #[test]
    fn request_bytes_are_the_rfc_handshake_with_target_host_and_hop_path() {
        let target = Target::parse("wss://example.com:8443/ws/chat?room=1").unwrap();
        let hop = HopSpec::parse("backend=ws://10.0.2.10:8080/chat")
            .unwrap()
            .resolve(&target);
        let mut options = ProbeOptions::new(&target);
        options.protocols = vec!["chat".into(), "superchat".into()];
        options.headers = vec![
            ("Authorization".into(), "Bearer abc".into()),
            ("user-agent".into(), "mine".into()),
        ];
        let bytes = request_bytes(&target, &hop, &options, "dGhlIHNhbXBsZSBub25jZQ==");
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "GET /chat HTTP/1.1\r\n\
             Host: example.com:8443\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Origin: https://example.com:8443\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             user-agent: mine\r\n\
             Authorization: Bearer abc\r\n\
             \r\n"
        );
    }

    fn names(browser: Browser) -> Vec<String> {
        let target = Target::parse("wss://example.com/ws").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.browser = browser;
        options.protocols = vec!["chat".into()];
        request_headers(&target, &options, "k")
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn each_browser_sends_its_own_header_order() {
        assert_eq!(
            names(Browser::Firefox),
            [
                "Host",
                "User-Agent",
                "Accept",
                "Accept-Language",
                "Accept-Encoding",
                "Sec-WebSocket-Version",
                "Origin",
                "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Extensions",
                "Sec-WebSocket-Key",
                "Connection",
                "Sec-Fetch-Dest",
                "Sec-Fetch-Mode",
                "Sec-Fetch-Site",
                "Pragma",
                "Cache-Control",
                "Upgrade"
            ]
        );
        assert_eq!(
            names(Browser::Chrome)[..3],
            ["Host", "Connection", "Pragma"]
        );
        assert_eq!(
            names(Browser::Chrome)[10..],
            [
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Extensions",
                "Sec-WebSocket-Protocol"
            ]
        );
        assert_eq!(
            names(Browser::Safari)[..3],
            ["Upgrade", "Connection", "Host"]
        );
        assert_eq!(names(Browser::Safari).last().unwrap(), "User-Agent");
    }

    #[test]
    fn firefox_connection_and_chrome_extension_offer_are_exact() {
        let target = Target::parse("ws://example.com/").unwrap();
        let mut options = ProbeOptions::new(&target);
        let value = |options: &ProbeOptions, name: &str| {
            request_headers(&target, options, "k")
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
        };
        options.browser = Browser::Firefox;
        assert_eq!(
            value(&options, "Connection").as_deref(),
            Some("keep-alive, Upgrade")
        );
        options.browser = Browser::Chrome;
        assert_eq!(
            value(&options, "Sec-WebSocket-Extensions").as_deref(),
            Some("permessage-deflate; client_max_window_bits")
        );
        let headers = request_headers(&target, &options, "k");
        assert_eq!(offered_extensions(&headers), ["permessage-deflate"]);
        options.browser = Browser::Plain;
        assert!(offered_extensions(&request_headers(&target, &options, "k")).is_empty());
        // -H still replaces a browser's header in place.
        options.browser = Browser::Safari;
        options.headers = vec![("user-agent".into(), "mine".into())];
        assert_eq!(value(&options, "user-agent").as_deref(), Some("mine"));
        assert_eq!(
            request_headers(&target, &options, "k").last().unwrap().0,
            "user-agent"
        );
    }

    #[test]
    fn browser_names_parse_and_print() {
        for b in Browser::ALL {
            assert_eq!(b.as_str().parse::<Browser>(), Ok(b));
        }
        assert_eq!("Firefox".parse::<Browser>(), Ok(Browser::Firefox));
        assert!("edge".parse::<Browser>().is_err());
    }

    #[test]
    fn line_breaks_cannot_forge_headers() {
        let bytes = encode("/a\r\nX: y", &[("X-A".into(), "1\r\nEvil: 2".into())]);
        assert_eq!(bytes, b"GET /a  X: y HTTP/1.1\r\nX-A: 1  Evil: 2\r\n\r\n");
    }

    #[test]
    fn no_origin_sends_none_and_default_user_agent_names_the_version() {
        let target = Target::parse("ws://example.com/").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.origin = None;
        let headers = request_headers(&target, &options, "k");
        assert!(!headers.iter().any(|(n, _)| n == "Origin"));
        assert!(headers
            .iter()
            .any(|(n, v)| n == "User-Agent" && v.starts_with("wspath/")));
        assert_eq!(sent_key(&headers), Some("k"));
    }
}
