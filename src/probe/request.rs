//! The RFC 6455 upgrade request, as pure functions: the probe, the curl rendering and the
//! benchmark's raw floor all send exactly these bytes.

use crate::hop::Hop;
use crate::probe::ProbeOptions;
use crate::target::Target;
use base64::Engine as _;
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

/// The request headers in the order they are sent. `-H` headers replace a built-in header of the
/// same name in place (so `-H 'User-Agent: x'` is sent once) and are appended otherwise.
pub fn request_headers(
    target: &Target,
    options: &ProbeOptions,
    key: &str,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), target.host_header()),
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Key".into(), key.to_string()),
        ("Sec-WebSocket-Version".into(), "13".into()),
    ];
    if let Some(origin) = &options.origin {
        headers.push(("Origin".into(), origin.clone()));
    }
    if !options.protocols.is_empty() {
        headers.push((
            "Sec-WebSocket-Protocol".into(),
            options.protocols.join(", "),
        ));
    }
    headers.push((
        "User-Agent".into(),
        concat!("wspath/", env!("CARGO_PKG_VERSION")).into(),
    ));
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

/// `GET {path} HTTP/1.1` and the headers, ready to write. Line breaks inside a name, value or
/// path are sent as spaces: the CLI rejects them, and the engine must not let one forge a header.
pub fn encode(path: &str, headers: &[(String, String)]) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, text: &str) {
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
