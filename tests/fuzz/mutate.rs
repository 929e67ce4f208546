//! Structure-blind mutations of a seed, driven by `arbitrary`'s byte stream so that one arbtest
//! seed reproduces one input: flip, insert, delete, duplicate (which is how deep nesting and
//! repeated headers arise), splice from another seed, and insert a token from the target's
//! dictionary (the words its parser branches on).

use arbtest::arbitrary::{Result, Unstructured};

/// The words each target's parser branches on.
pub fn dictionary(target: &str) -> &'static [&'static [u8]] {
    match target {
        "head" => &[
            b"HTTP/1.1 ",
            b"HTTP/1.0 ",
            b"HTTP/2 ",
            b"101 Switching Protocols",
            b"100 Continue\r\n\r\n",
            b"\r\n",
            b"\r\n\r\n",
            b"\n",
            b": ",
            b"Transfer-Encoding: chunked\r\n",
            b"Content-Length: ",
            b"Sec-WebSocket-Accept: ",
            b"Upgrade: websocket\r\n",
            b"Connection: upgrade\r\n",
            b"Server: ",
            b"0\r\n\r\n",
            b"ffffffffffffffff\r\n",
            b"\x1b[2J",
            b"\xe2\x80\xae",
            b"\x16\x03\x01",
        ],
        "frames" => &[
            b"\x81\x05hello",
            b"\x82\x7e\x00\x10",
            b"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff",
            b"\x89\x00",
            b"\x8a\x00",
            b"\x88\x02\x03\xe8",
            b"\x88\x00",
            b"\x01\x01a",
            b"\x80\x01b",
            b"\xc1\x01x",
            b"\x81\x85",
            b"\x0f\x00",
        ],
        "nginx" => &[
            b"{",
            b"}",
            b";",
            b"\"",
            b"'",
            b"\\",
            b"#",
            b"$",
            b"${",
            b"\n",
            b"include inc.conf;",
            b"http {",
            b"server {",
            b"location /ws/ {",
            b"location ~* ^/ws {",
            b"upstream app {",
            b"map $http_upgrade $connection_upgrade {",
            b"proxy_pass http://app;",
            b"proxy_http_version 1.1;",
            b"proxy_set_header Upgrade $http_upgrade;",
            b"proxy_set_header Connection \"upgrade\";",
            b"proxy_read_timeout 1h;",
            b"if ($x) {",
            b"lua_block {",
            b"\0",
        ],
        _ => &[
            b"ws://",
            b"wss://",
            b"http://",
            b"://",
            b"@",
            b":",
            b"[",
            b"]",
            b"[::1]",
            b"%",
            b"%2f",
            b"/",
            b"?",
            b"#",
            b"=",
            b"\n",
            b":cdn",
            b":lb",
            b"xn--",
            b"\xe2\x80\xae",
            b":65535",
            b":0",
            b"user:pass@",
        ],
    }
}

/// The largest input a target gets.
pub fn max_len(target: &str) -> usize {
    match target {
        // Room for nesting far past the parser's depth limit (3 bytes a level), small enough
        // that one case stays well inside the case limit in a debug build.
        "nginx" => 64 << 10,
        "url" => 1024,
        _ => 8192,
    }
}

/// 1 to 8 mutations of `seed`, using `other` for splices; at most `max_len` bytes.
pub fn mutate(
    u: &mut Unstructured<'_>,
    seed: &[u8],
    other: &[u8],
    dictionary: &[&[u8]],
    max_len: usize,
) -> Result<Vec<u8>> {
    let mut data = seed[..seed.len().min(max_len)].to_vec();
    for _ in 0..u.int_in_range(1..=8)? {
        let at = u.int_in_range(0..=data.len())?;
        match u.int_in_range(0..=6)? {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << u.int_in_range(0..=7)?;
            }
            1 => {
                let n = u.int_in_range(1..=16)?;
                let bytes: Vec<u8> = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
                data.splice(at..at, bytes);
            }
            2 if at < data.len() => {
                let end = (at + u.int_in_range(1..=64)?).min(data.len());
                data.drain(at..end);
            }
            3 if at < data.len() => {
                // Repeat a slice several times: nesting, header floods, frame trains; up to
                // filling the input, so `a {` reaches thousands of levels.
                let end = (at + u.int_in_range(1..=32)?).min(data.len());
                let slice = data[at..end].to_vec();
                let most = (max_len.saturating_sub(data.len()) / slice.len()).max(1);
                let times = u.int_in_range(1..=most)?;
                data.splice(end..end, slice.repeat(times));
            }
            4 if !other.is_empty() => {
                let from = u.int_in_range(0..=other.len() - 1)?;
                let to = (from + u.int_in_range(1..=256)?).min(other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            5 => {
                let word = u.choose(dictionary)?;
                data.splice(at..at, word.iter().copied());
            }
            _ => {
                let end = (at + u.int_in_range(0..=64)?).min(data.len());
                data.truncate(end.max(at));
            }
        }
        data.truncate(max_len);
    }
    Ok(data)
}
