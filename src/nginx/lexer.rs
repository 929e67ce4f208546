//! Split one nginx configuration file into tokens, each with its line and byte span.
//!
//! The rules are nginx's (and crossplane's, which `--dump` must match byte for byte): whitespace
//! separates, `{` `;` `}` are tokens of their own, `#` starts a comment only at a token start,
//! quotes group (a `\"` inside `"…"` becomes `"`, other escapes stay as written), `${var}` stays
//! one token, and a `*_by_lua_block` body is one raw token. Byte spans point into the original
//! text so the fixer can edit exactly the bytes a directive occupies.

/// One token of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Token<'a> {
    /// Borrowed from the source unless nginx's rules change the text (an escaped quote, a `\r`
    /// newline, a Lua body), so most tokens cost no allocation.
    pub text: Cow<'a, str>,
    /// 32 bits, like the span: a token is then 40 bytes instead of 56, and a large file's token
    /// list stays smaller. They saturate past 4 GiB, far beyond any nginx configuration.
    pub line: u32,
    /// Written in quotes (or a Lua body): never a `{`/`;`/`}`/comment, whatever its text.
    pub quoted: bool,
    /// Byte range in the file, quotes included.
    pub start: u32,
    pub end: u32,
}

/// A position or line number as stored in a [`Token`].
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Token<'a> {
    fn new(text: Cow<'a, str>, line: usize, quoted: bool, start: usize, end: usize) -> Self {
        Token {
            text,
            line: narrow(line),
            quoted,
            start: narrow(start),
            end: narrow(end),
        }
    }
    /// The line, as the parser counts it.
    pub fn line(&self) -> usize {
        self.line as usize
    }
    /// The byte range in the file.
    pub fn span(&self) -> (usize, usize) {
        (self.start as usize, self.end as usize)
    }
    /// An unquoted `{`, `;` or `}`.
    pub fn is_punct(&self, c: &str) -> bool {
        !self.quoted && self.text == c
    }
    pub fn is_comment(&self) -> bool {
        !self.quoted && self.text.starts_with('#')
    }
}

/// Why lexing stopped early; the tokens before it are still returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub line: usize,
    /// How many tokens were read before the error (crossplane raises it when that token is pulled).
    pub at_token: usize,
}

/// Directives whose block is a Lua chunk, not nginx syntax (lua-nginx-module).
pub const LUA_BLOCKS: &[&str] = &[
    "access_by_lua_block",
    "balancer_by_lua_block",
    "body_filter_by_lua_block",
    "content_by_lua_block",
    "header_filter_by_lua_block",
    "init_by_lua_block",
    "init_worker_by_lua_block",
    "log_by_lua_block",
    "rewrite_by_lua_block",
    "set_by_lua_block",
    "ssl_certificate_by_lua_block",
    "ssl_session_fetch_by_lua_block",
    "ssl_session_store_by_lua_block",
];

use std::borrow::Cow;

/// A character, or a backslash and the character it escapes, read as one unit.
#[derive(Debug, Clone, Copy)]
struct Unit {
    first: char,
    second: Option<char>,
    start: usize,
    end: usize,
    line: usize,
}

impl Unit {
    fn is(&self, c: char) -> bool {
        self.second.is_none() && self.first == c
    }
    fn is_space(&self) -> bool {
        self.second.is_none() && is_space(self.first)
    }
    fn ends_line(&self) -> bool {
        self.second.unwrap_or(self.first) == '\n'
    }
    fn push_to(&self, s: &mut String) {
        s.push(self.first);
        if let Some(c) = self.second {
            s.push(c);
        }
    }
}

/// Python's `str.isspace` on one character (crossplane's notion of whitespace).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Bytes that never need a per-character rule inside an unquoted token: printable ASCII other
/// than space, `{`, `;`, `}` and `\\`.
static PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = b'!';
    while b < 0x7f {
        t[b as usize] = !matches!(b, b'{' | b';' | b'}' | b'\\');
        b += 1;
    }
    t
};

/// What [`Units::fast_token`] did.
enum Fast {
    Skipped,
    /// A whole unquoted token at this byte range.
    Token(usize, usize),
    No,
}

/// Units of a text with universal newlines (`\r\n` and `\r` read as `\n`), numbered by line the
/// way crossplane does: a newline already carries the number of the line it starts.
struct Units<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    back: Option<Unit>,
}

impl<'a> Units<'a> {
    fn new(src: &'a str) -> Self {
        Units {
            src,
            pos: 0,
            line: 1,
            back: None,
        }
    }

    #[inline]
    fn read_char(&mut self) -> Option<char> {
        let b = *self.src.as_bytes().get(self.pos)?;
        let c = if b < 0x80 {
            b as char
        } else {
            self.src[self.pos..].chars().next()?
        };
        self.pos += c.len_utf8();
        if c == '\r' {
            if self.src[self.pos..].starts_with('\n') {
                self.pos += 1;
            }
            return Some('\n');
        }
        Some(c)
    }

    #[inline]
    fn next(&mut self) -> Option<Unit> {
        if let Some(u) = self.back.take() {
            return Some(u);
        }
        let start = self.pos;
        let first = self.read_char()?;
        let second = if first == '\\' {
            self.read_char()
        } else {
            None
        };
        let unit = Unit {
            first,
            second,
            start,
            end: self.pos,
            line: 0,
        };
        if unit.ends_line() {
            self.line += 1;
        }
        Some(Unit {
            line: self.line,
            ..unit
        })
    }

    /// Skip a run of plain token bytes (ASCII, not whitespace, not `{;}\\`), which need none of
    /// the per-character rules; returns the new end and the last byte, if any were skipped.
    fn skip_plain(&mut self) -> Option<(usize, u8)> {
        if self.back.is_some() {
            return None;
        }
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        while bytes.get(i).is_some_and(|&b| PLAIN[usize::from(b)]) {
            i += 1;
        }
        if i == start {
            return None;
        }
        self.pos = i;
        Some((i, bytes[i - 1]))
    }

    /// Past the closing `quote` of a string with no backslash and no `\r` (the common case,
    /// whose text is the source as is); `None`, having moved nothing, for any other string.
    /// Returns the closing quote's offset.
    fn skip_to_quote(&mut self, quote: char) -> Option<usize> {
        if self.back.is_some() {
            return None;
        }
        let bytes = self.src.as_bytes();
        let mut newlines = 0;
        for (i, &b) in bytes.iter().enumerate().skip(self.pos) {
            match b {
                b'\\' | b'\r' => return None,
                b'\n' => newlines += 1,
                _ if u32::from(b) == u32::from(quote) => {
                    self.pos = i + 1;
                    self.line += newlines;
                    return Some(i);
                }
                _ => {}
            }
        }
        None
    }

    /// Past the `\n` that ends a comment with no backslash and no `\r` in it; `None`, having
    /// moved nothing, otherwise (or at the end of the text). Returns the comment's end.
    fn skip_to_newline(&mut self) -> Option<usize> {
        if self.back.is_some() {
            return None;
        }
        let bytes = self.src.as_bytes();
        for (i, &b) in bytes.iter().enumerate().skip(self.pos) {
            match b {
                b'\\' | b'\r' => return None,
                b'\n' => {
                    self.pos = i + 1;
                    self.line += 1;
                    return Some(i);
                }
                _ => {}
            }
        }
        None
    }

    /// Between tokens, the common cases without per-character rules: blanks and `\n` are
    /// skipped, and a token of plain bytes that a blank, `\n`, `;` or `}` (or a `{` not after
    /// `$`) ends is read whole. The terminator is left for the caller. Anything else (quotes,
    /// comments, escapes, `\r`, non-ASCII, a Lua block name, the end of the text) is [`Fast::No`].
    #[inline]
    fn fast_token(&mut self) -> Fast {
        if self.back.is_some() {
            return Fast::No;
        }
        let bytes = self.src.as_bytes();
        let start = self.pos;
        match bytes.get(start) {
            Some(b' ' | b'\t') => {
                self.skip_blanks();
                Fast::Skipped
            }
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
                Fast::Skipped
            }
            Some(&b) if PLAIN[usize::from(b)] && !matches!(b, b'#' | b'"' | b'\'') => {
                let mut end = start + 1;
                while bytes.get(end).is_some_and(|&b| PLAIN[usize::from(b)]) {
                    end += 1;
                }
                let ends = match bytes.get(end) {
                    Some(b' ' | b'\t' | b'\n' | b';' | b'}') => true,
                    Some(b'{') => bytes[end - 1] != b'$',
                    _ => false,
                };
                if !ends || self.src[start..end].ends_with("_by_lua_block") {
                    return Fast::No;
                }
                self.pos = end;
                Fast::Token(start, end)
            }
            _ => Fast::No,
        }
    }

    /// Skip spaces and tabs (indentation), which change nothing but the position.
    fn skip_blanks(&mut self) {
        if self.back.is_some() {
            return;
        }
        let bytes = self.src.as_bytes();
        while matches!(bytes.get(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn put_back(&mut self, u: Unit) {
        self.back = Some(u);
    }
}

struct Lexer<'a> {
    units: Units<'a>,
    tokens: Vec<Token<'a>>,
    /// The text ended inside a quoted string (at this line).
    eof_in_quote: Option<usize>,
}

/// What one file lexes to.
#[derive(Debug, Clone, Default)]
pub struct Lexed<'a> {
    pub tokens: Vec<Token<'a>>,
    /// The brace (or Lua block) error crossplane reports, if any.
    pub error: Option<LexError>,
    /// Set when the text ends inside an unterminated quote: nginx then reports
    /// `unexpected end of file, expecting ";" or "}"` at this line, whatever the braces.
    pub eof_in_quote: Option<usize>,
}

/// Tokens of `src`, and the brace error that stopped it, if any.
pub fn lex(src: &str) -> (Vec<Token<'_>>, Option<LexError>) {
    let l = lex_full(src);
    (l.tokens, l.error)
}

/// [`lex`], and whether the text ended inside a quote.
pub fn lex_full(src: &str) -> Lexed<'_> {
    let mut lx = Lexer {
        units: Units::new(src),
        // About one token per six bytes of configuration: one allocation instead of a dozen.
        tokens: Vec::with_capacity(src.len() / 6 + 16),
        eof_in_quote: None,
    };
    let lua_error = lx.run().err();
    let eof_in_quote = lx.eof_in_quote;
    let mut tokens = lx.tokens;
    if let Some(mut e) = lua_error {
        e.at_token = tokens.len();
        return Lexed {
            tokens,
            error: Some(e),
            eof_in_quote,
        };
    }
    let error = balance(&tokens);
    if let Some(e) = &error {
        tokens.truncate(e.at_token);
    }
    Lexed {
        tokens,
        error,
        eof_in_quote,
    }
}

/// Unbalanced braces, reported at the token where nginx would notice them.
fn balance(tokens: &[Token]) -> Option<LexError> {
    let mut depth: i64 = 0;
    let mut line = 1;
    for (i, t) in tokens.iter().enumerate() {
        line = t.line();
        if t.is_punct("}") {
            depth -= 1;
        } else if t.is_punct("{") {
            depth += 1;
        }
        if depth < 0 {
            return Some(LexError {
                message: "unexpected \"}\"".into(),
                line: t.line(),
                at_token: i,
            });
        }
    }
    (depth > 0).then(|| LexError {
        message: "unexpected end of file, expecting \"}\"".into(),
        line,
        at_token: tokens.len(),
    })
}

/// The text of a quoted string from its source between the quotes: universal newlines, and an
/// escaped quote read as the quote (other escapes stay as written).
fn unquote(inner: &str, quote: char) -> String {
    let mut units = Units::new(inner);
    let mut text = String::with_capacity(inner.len());
    while let Some(u) = units.next() {
        if u.first == '\\' && u.second == Some(quote) {
            text.push(quote);
        } else {
            u.push_to(&mut text);
        }
    }
    text
}

/// An unquoted token being collected: its text is the source between `start` and `end` (with
/// universal newlines), so no character is copied until the token is complete.
struct Buf {
    empty: bool,
    last: char,
    has_cr: bool,
    line: usize,
    start: usize,
    end: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            empty: true,
            last: ' ',
            has_cr: false,
            line: 0,
            start: 0,
            end: 0,
        }
    }

    fn push(&mut self, u: &Unit, src: &str) {
        if self.empty {
            self.start = u.start;
            self.empty = false;
        }
        self.end = u.end;
        self.last = u.second.unwrap_or(u.first);
        if u.last_is_newline_from_cr(src) {
            self.has_cr = true;
        }
    }

    fn take<'a>(&mut self, src: &'a str) -> Cow<'a, str> {
        let raw = &src[self.start..self.end];
        let text = if self.has_cr {
            Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            Cow::Borrowed(raw)
        };
        *self = Buf::new();
        text
    }
}

impl Unit {
    /// Was this unit's newline written as `\r` or `\r\n`?
    fn last_is_newline_from_cr(&self, src: &str) -> bool {
        self.ends_line() && src[self.start..self.end].contains('\r')
    }
}

impl<'a> Lexer<'a> {
    fn emit(&mut self, text: Cow<'a, str>, line: usize, quoted: bool, start: usize, end: usize) {
        self.tokens.push(Token::new(text, line, quoted, start, end));
    }

    /// Emit the collected unquoted token, if any.
    fn flush(&mut self, buf: &mut Buf) {
        if buf.empty {
            return;
        }
        let (line, start, end) = (buf.line, buf.start, buf.end);
        let text = buf.take(self.units.src);
        self.tokens.push(Token::new(text, line, false, start, end));
    }

    /// The main loop; `Ok` also when the text ends in the middle of something (crossplane stops
    /// silently there and the parser reports what is missing).
    /// Emits a quoted token; a quoted `*_by_lua_block` name in directive position takes its
    /// body as the next token. `None`: the input ended inside that body. Otherwise whether
    /// the next token starts a directive.
    fn quoted(
        &mut self,
        text: Cow<'a, str>,
        directive_position: bool,
        line: usize,
        start: usize,
        end: usize,
    ) -> Result<Option<bool>, LexError> {
        let lua = directive_position && LUA_BLOCKS.contains(&text.as_ref());
        self.emit(text.clone(), line, true, start, end);
        if !lua {
            return Ok(Some(false));
        }
        Ok(self.lua(&text)?.then_some(true))
    }

    fn run(&mut self) -> Result<(), LexError> {
        let src = self.units.src;
        let mut buf = Buf::new();
        let mut next_is_directive = true;
        loop {
            if buf.empty {
                match self.units.fast_token() {
                    Fast::Skipped => continue,
                    Fast::Token(start, end) => {
                        self.emit(
                            Cow::Borrowed(&src[start..end]),
                            self.units.line,
                            false,
                            start,
                            end,
                        );
                        next_is_directive = false;
                        continue;
                    }
                    Fast::No => {}
                }
            }
            let Some(mut u) = self.units.next() else {
                break;
            };
            if u.is_space() {
                if !buf.empty {
                    let raw = &src[buf.start..buf.end];
                    let lua = next_is_directive
                        && raw.ends_with("_by_lua_block")
                        && LUA_BLOCKS.contains(&raw);
                    self.flush(&mut buf);
                    if lua {
                        if !self.lua(raw)? {
                            return Ok(());
                        }
                        next_is_directive = true;
                    } else {
                        next_is_directive = false;
                    }
                }
                while u.is_space() {
                    self.units.skip_blanks();
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
            }

            if buf.empty && u.is('#') {
                let line = u.line;
                if let Some(end) = self.units.skip_to_newline() {
                    self.emit(Cow::Borrowed(&src[u.start..end]), line, false, u.start, end);
                    continue;
                }
                while !u.ends_line() {
                    buf.push(&u, src);
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
                let (start, end) = (buf.start, buf.end);
                let text = buf.take(src);
                self.emit(text, line, false, start, end);
                continue;
            }

            if buf.empty {
                buf.line = u.line;
            }

            if !buf.empty && buf.last == '$' && u.is('{') {
                next_is_directive = false;
                while buf.last != '}' && !u.is_space() {
                    buf.push(&u, src);
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
            }

            if u.is('"') || u.is('\'') {
                if !buf.empty {
                    buf.push(&u, src);
                    continue;
                }
                let quote = u.first;
                let (line, start) = (u.line, u.start);
                if let Some(close) = self.units.skip_to_quote(quote) {
                    let text = Cow::Borrowed(&src[start + 1..close]);
                    match self.quoted(text, next_is_directive, line, start, close + 1)? {
                        Some(next) => next_is_directive = next,
                        None => return Ok(()),
                    }
                    continue;
                }
                // The text is the source between the quotes unless an escaped quote or a `\r`
                // newline changes it; only then is it copied.
                let mut verbatim = true;
                loop {
                    match self.units.next() {
                        Some(n) => u = n,
                        None => {
                            self.eof_in_quote = Some(self.units.line);
                            return Ok(());
                        }
                    }
                    if u.is(quote) {
                        break;
                    }
                    if (u.first == '\\' && u.second == Some(quote))
                        || (u.ends_line() && src[u.start..u.end].contains('\r'))
                    {
                        verbatim = false;
                    }
                }
                let inner = &src[start + 1..u.start];
                let text = if verbatim {
                    Cow::Borrowed(inner)
                } else {
                    Cow::Owned(unquote(inner, quote))
                };
                match self.quoted(text, next_is_directive, line, start, u.end)? {
                    Some(next) => next_is_directive = next,
                    None => return Ok(()),
                }
                continue;
            }

            if u.is('{') || u.is(';') || u.is('}') {
                self.flush(&mut buf);
                let text = match u.first {
                    '{' => "{",
                    ';' => ";",
                    _ => "}",
                };
                self.tokens
                    .push(Token::new(text.into(), u.line, false, u.start, u.end));
                next_is_directive = true;
                continue;
            }

            buf.push(&u, src);
            if let Some((end, last)) = self.units.skip_plain() {
                buf.end = end;
                buf.last = char::from(last);
            }
        }
        Ok(())
    }

    /// A Lua block body as one quoted token followed by `;`. `Ok(false)`: the text ended inside it.
    fn lua(&mut self, directive: &str) -> Result<bool, LexError> {
        let units = &mut self.units;
        macro_rules! next {
            () => {
                match units.next() {
                    Some(n) => n,
                    None => return Ok(false),
                }
            };
        }
        if directive == "set_by_lua_block" {
            // The one Lua block directive with an argument (the variable) before its body.
            let mut arg = String::new();
            let (mut line, mut start, mut end) = (0, 0, 0);
            loop {
                let mut u = next!();
                if u.is_space() {
                    if !arg.is_empty() {
                        self.tokens.push(Token::new(
                            std::mem::take(&mut arg).into(),
                            line,
                            false,
                            start,
                            end,
                        ));
                        break;
                    }
                    while u.is_space() {
                        u = next!();
                    }
                }
                if arg.is_empty() {
                    line = u.line;
                    start = u.start;
                }
                u.push_to(&mut arg);
                end = u.end;
            }
        }
        let mut u = next!();
        while u.is_space() {
            u = next!();
        }
        if !u.is('{') {
            return Err(LexError {
                message: "expected { to start Lua block".into(),
                line: u.line,
                at_token: 0,
            });
        }
        let body_start = u.end;
        let mut depth = 1;
        let mut text = String::new();
        loop {
            let mut u = next!();
            if u.is('-') {
                let dash = u;
                let n = next!();
                if n.is('-') {
                    text.push('-');
                    u = n;
                    while !u.is('\n') {
                        u.push_to(&mut text);
                        u = next!();
                    }
                } else {
                    units.put_back(n);
                    u = dash;
                }
            } else if u.is('{') {
                depth += 1;
            } else if u.is('}') {
                depth -= 1;
            } else if u.is('"') || u.is('\'') {
                let quote = u.first;
                text.push(quote);
                u = next!();
                while !u.is(quote) {
                    u.push_to(&mut text);
                    u = next!();
                }
            }
            if depth == 0 {
                let line = u.line;
                let close = u.start;
                self.tokens
                    .push(Token::new(text.into(), line, true, body_start, close));
                self.tokens
                    .push(Token::new(";".into(), line, false, close, u.end));
                return Ok(true);
            }
            u.push_to(&mut text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(String, usize, bool)> {
        lex(src)
            .0
            .into_iter()
            .map(|t| (t.line(), t.quoted, t.text.into_owned()))
            .map(|(line, quoted, text)| (text, line, quoted))
            .collect()
    }

    #[test]
    fn quotes_escapes_and_spans() {
        let src = "a \"b\\\"c\" 'd e' f\\;g;\n";
        let (toks, err) = lex(src);
        assert!(err.is_none());
        let t: Vec<&str> = toks.iter().map(|t| t.text.as_ref()).collect();
        assert_eq!(t, ["a", "b\"c", "d e", "f\\;g", ";"]);
        let (start, end) = toks[1].span();
        assert_eq!(&src[start..end], "\"b\\\"c\"");
    }

    #[test]
    fn comments_lines_and_variables() {
        let t = texts("# hi\nx ${a}b; # tail\n}");
        assert_eq!(t[0], ("# hi".into(), 1, false));
        assert_eq!(t[1], ("x".into(), 2, false));
        assert_eq!(t[2], ("${a}b".into(), 2, false));
        assert_eq!(t[4], ("# tail".into(), 2, false));
    }

    #[test]
    fn lua_body_is_one_token() {
        let t = texts("content_by_lua_block {\n  ngx.say(\"}\") -- }\n}\nx;\n");
        assert_eq!(t[1].0, "\n  ngx.say(\"}\") -- }\n");
        assert!(t[1].2);
        assert_eq!(t[2].0, ";");
        assert_eq!(t[3].0, "x");
    }

    #[test]
    fn unbalanced_braces() {
        assert_eq!(
            lex("a {\n").1.unwrap().message,
            "unexpected end of file, expecting \"}\""
        );
        let e = lex("a;\n}\n").1.unwrap();
        assert_eq!((e.message.as_str(), e.line), ("unexpected \"}\"", 2));
    }

    #[test]
    fn crlf_counts_as_one_line() {
        let t = texts("a;\r\nb;\rc;\n");
        assert_eq!(t[2].1, 2);
        assert_eq!(t[4].1, 3);
    }
}
