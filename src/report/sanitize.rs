//! The one sanitizer for text that came from outside (server responses, config files, API
//! errors, file names) on its way to a terminal or an XML document.
//!
//! A 502 body or an nginx comment can carry `ESC [2J` (clear screen), OSC 8 hyperlinks, a window
//! title, C1 `CSI` or U+202E (right-to-left override). Written raw, they act on the reader's
//! terminal; here every such code point is shown escaped instead (`\x1b`, `\u{202e}`), the way
//! `git` quotes odd file names. JSON needs nothing from here: serde escapes control characters
//! and the document keeps the exact text.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 controls and DEL, C1 controls, bidi
/// embeddings/overrides/isolates and marks, zero-width and other invisible format characters,
/// line/paragraph separators, and private-use/unassigned noncharacters.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{61c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{fffe}'..='\u{ffff}'
        | '\u{e0000}'..='\u{e007f}'
    )
}

/// `c` as an escape a person can read: `\x1b` below U+0080, `\u{202e}` above.
fn escaped(c: char, out: &mut String) {
    use std::fmt::Write;
    let n = c as u32;
    if n < 0x80 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// One field for a terminal: every unsafe code point escaped, newlines and tabs included (a
/// field is one line of the layout).
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape_if(text, is_unsafe)
}

/// A whole block of human output: like [`terminal`], but newlines and tabs stay (the layout is
/// made of them). The last guard before stdout/stderr, behind the per-field escaping; `sgr` keeps
/// exactly the colour codes wspath itself writes (`ESC [ digits m`) when colour is on.
pub fn terminal_block(text: &str, sgr: bool) -> Cow<'_, str> {
    let unsafe_here = |c: char| c != '\n' && c != '\t' && is_unsafe(c);
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if sgr && c == '\x1b' {
            if let Some(len) = own_sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if unsafe_here(c) {
            escaped(c, &mut out);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of `ESC [ <digits and ;> m` at the start of `s`, if it is one (a colour or style
/// code only: no cursor movement, no screen clearing, no OSC).
fn own_sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\x1b[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (params > 0 && params <= 16 && body.as_bytes().get(params) == Some(&b'm')).then_some(params + 3)
}

/// Text for an XML document (JUnit): what XML 1.0 forbids (C0 controls other than tab, LF and
/// CR; U+FFFE/U+FFFF) and what it discourages (DEL, C1), and the bidi/invisible code points a CI
/// page would render, shown escaped as in [`terminal`]. Markup escaping is the writer's job.
pub fn xml(text: &str) -> Cow<'_, str> {
    escape_if(text, |c| !matches!(c, '\t' | '\n' | '\r') && is_unsafe(c))
}

fn escape_if(text: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            escaped(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden cases: what each kind of hostile text becomes on a terminal.
    #[test]
    fn golden_terminal() {
        let cases: &[(&str, &str)] = &[
            ("plain text, ünïcode ✓ 中文", "plain text, ünïcode ✓ 中文"),
            ("\x1b[2J\x1b[Hcleared", "\\x1b[2J\\x1b[Hcleared"),
            (
                "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\",
                "\\x1b]8;;https://evil.test\\x1b\\click\\x1b]8;;\\x1b\\",
            ),
            ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),
            ("\u{9b}31mC1 CSI", "\\u{9b}31mC1 CSI"),
            ("file\u{202e}txt.exe", "file\\u{202e}txt.exe"),
            (
                "a\u{2066}b\u{2069}c\u{200b}d\u{feff}",
                "a\\u{2066}b\\u{2069}c\\u{200b}d\\u{feff}",
            ),
            (
                "line1\nline2\r\tend\x7f",
                "line1\\x0aline2\\x0d\\x09end\\x7f",
            ),
            ("nul\0bell\x07", "nul\\x00bell\\x07"),
        ];
        for (input, want) in cases {
            assert_eq!(terminal(input), *want, "{input:?}");
        }
        assert!(matches!(terminal("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn blocks_keep_layout_and_only_our_colours() {
        assert_eq!(terminal_block("a\n\tb\n", false), "a\n\tb\n");
        assert_eq!(
            terminal_block("\x1b[31m✗\x1b[0m \x1b[2J", true),
            "\x1b[31m✗\x1b[0m \\x1b[2J"
        );
        assert_eq!(terminal_block("\x1b[31mx", false), "\\x1b[31mx");
        assert_eq!(terminal_block("\x1b]0;t\x07", true), "\\x1b]0;t\\x07");
        assert_eq!(terminal_block("\x1b[", true), "\\x1b[");
    }

    #[test]
    fn xml_keeps_whitespace_and_escapes_the_forbidden() {
        assert_eq!(xml("a\tb\nc\rd"), "a\tb\nc\rd");
        assert_eq!(xml("\x1b[2J\u{0}\u{fffe}"), "\\x1b[2J\\x00\\u{fffe}");
        assert_eq!(xml("\u{85}\u{202e}"), "\\u{85}\\u{202e}");
    }
}
