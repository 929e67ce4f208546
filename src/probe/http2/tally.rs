//! Counts the HTTP/2 frames a server sends, by type, as they pass under h2: enough to name what
//! a hostile or broken peer did (a flood of SETTINGS, a GOAWAY and its error code) when h2 only
//! reports that the connection ended or the budget ran out.

use crate::probe::tap::{Observe, ReadTap};
use std::sync::{Arc, Mutex};

const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const FLAG_ACK: u8 = 0x1;

/// What the server has sent so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub frames: u64,
    /// SETTINGS frames that are not acknowledgements.
    pub settings: u64,
    /// The error code of the first GOAWAY.
    pub goaway: Option<u32>,
}

#[derive(Debug, Default)]
struct Parser {
    seen: Seen,
    head: [u8; 9],
    head_len: usize,
    /// Payload bytes of the current frame still to come.
    skip: usize,
    /// The first 8 payload bytes of a GOAWAY (last stream id, error code).
    goaway: Option<Vec<u8>>,
}

impl Parser {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                if let Some(g) = &mut self.goaway {
                    let take = n.min(8usize.saturating_sub(g.len()));
                    g.extend_from_slice(&bytes[..take]);
                    if g.len() == 8 && self.seen.goaway.is_none() {
                        self.seen.goaway = Some(u32::from_be_bytes([g[4], g[5], g[6], g[7]]));
                    }
                }
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.head_len).min(bytes.len());
            self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
            self.head_len += n;
            bytes = &bytes[n..];
            if self.head_len == 9 {
                self.head_len = 0;
                let h = self.head;
                let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                self.seen.frames += 1;
                if h[3] == SETTINGS && h[4] & FLAG_ACK == 0 {
                    self.seen.settings += 1;
                }
                self.goaway = (h[3] == GOAWAY).then(Vec::new);
                self.skip = len;
            }
        }
    }
}

/// A handle on the counts, kept by the probe while h2 owns the stream.
#[derive(Debug, Clone, Default)]
pub struct Counts(Arc<Mutex<Parser>>);

impl Counts {
    pub fn seen(&self) -> Seen {
        self.0.lock().map(|p| p.seen.clone()).unwrap_or_default()
    }
}

impl Observe for Counts {
    fn observe(&mut self, bytes: &[u8]) {
        if let Ok(mut p) = self.0.lock() {
            p.feed(bytes);
        }
    }
}

/// The connection, with the server's frames counted as they are read.
pub type Tally<S> = ReadTap<S, Counts>;

/// `inner` with a tally, and the handle the probe keeps on the counts.
pub fn tally<S>(inner: S) -> (Tally<S>, Counts) {
    let counts = Counts::default();
    (ReadTap::new(inner, counts.clone()), counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_are_counted_across_any_split() {
        let mut wire = Vec::new();
        wire.extend(frame(SETTINGS, 0, &[0, 8, 0, 0, 0, 1]));
        wire.extend(frame(SETTINGS, FLAG_ACK, &[]));
        wire.extend(frame(SETTINGS, 0, &[]));
        wire.extend(frame(GOAWAY, 0, &[0, 0, 0, 0, 0, 0, 0, 0xb, b'x']));
        for split in [1, 2, 5, 9, 64] {
            let mut p = Parser::default();
            for chunk in wire.chunks(split) {
                p.feed(chunk);
            }
            assert_eq!(
                p.seen,
                Seen {
                    frames: 4,
                    settings: 2,
                    goaway: Some(0xb)
                },
                "split {split}"
            );
        }
    }
}
