//! Split one nginx configuration file into tokens, each with its line and byte span.
//!
//! The rules are nginx's (and crossplane's, which `--dump` must match byte for byte): whitespace
//! separates, `{` `;` `}` are tokens of their own, `#` starts a comment only at a token start,
//! quotes group (a `\"` inside `"…"` becomes `"`, other escapes stay as written), `${var}` stays
//! one token, and a `*_by_lua_block` body is one raw token. Byte spans point into the original
//! text so the fixer can edit exactly the bytes a directive occupies.

/// One token of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub line: usize,
    /// Written in quotes (or a Lua body): never a `{`/`;`/`}`/comment, whatever its text.
    pub quoted: bool,
    /// Byte range in the file, quotes included.
    pub start: usize,
    pub end: usize,
}

impl Token {
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

    fn read_char(&mut self) -> Option<char> {
        let c = self.src[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        if c == '\r' {
            if self.src[self.pos..].starts_with('\n') {
                self.pos += 1;
            }
            return Some('\n');
        }
        Some(c)
    }

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

    fn put_back(&mut self, u: Unit) {
        self.back = Some(u);
    }
}

struct Lexer<'a> {
    units: Units<'a>,
    tokens: Vec<Token>,
}

/// Tokens of `src`, and the brace error that stopped it, if any.
pub fn lex(src: &str) -> (Vec<Token>, Option<LexError>) {
    let mut lx = Lexer {
        units: Units::new(src),
        tokens: Vec::new(),
    };
    let lua_error = lx.run().err();
    let mut tokens = lx.tokens;
    if let Some(mut e) = lua_error {
        e.at_token = tokens.len();
        return (tokens, Some(e));
    }
    let err = balance(&tokens);
    if let Some(e) = &err {
        tokens.truncate(e.at_token);
    }
    (tokens, err)
}

/// Unbalanced braces, reported at the token where nginx would notice them.
fn balance(tokens: &[Token]) -> Option<LexError> {
    let mut depth: i64 = 0;
    let mut line = 1;
    for (i, t) in tokens.iter().enumerate() {
        line = t.line;
        if t.is_punct("}") {
            depth -= 1;
        } else if t.is_punct("{") {
            depth += 1;
        }
        if depth < 0 {
            return Some(LexError {
                message: "unexpected \"}\"".into(),
                line: t.line,
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

/// A token being collected.
struct Buf {
    text: String,
    line: usize,
    start: usize,
    end: usize,
}

impl<'a> Lexer<'a> {
    fn emit(&mut self, text: String, line: usize, quoted: bool, start: usize, end: usize) {
        self.tokens.push(Token {
            text,
            line,
            quoted,
            start,
            end,
        });
    }

    /// The main loop; `Ok` also when the text ends in the middle of something (crossplane stops
    /// silently there and the parser reports what is missing).
    fn run(&mut self) -> Result<(), LexError> {
        let mut buf = Buf {
            text: String::new(),
            line: 0,
            start: 0,
            end: 0,
        };
        let mut next_is_directive = true;
        while let Some(mut u) = self.units.next() {
            if u.is_space() {
                if !buf.text.is_empty() {
                    let text = std::mem::take(&mut buf.text);
                    let lua = next_is_directive && LUA_BLOCKS.contains(&text.as_str());
                    self.emit(text.clone(), buf.line, false, buf.start, buf.end);
                    if lua {
                        if !self.lua(&text)? {
                            return Ok(());
                        }
                        next_is_directive = true;
                    } else {
                        next_is_directive = false;
                    }
                }
                while u.is_space() {
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
            }

            if buf.text.is_empty() && u.is('#') {
                let (line, start) = (u.line, u.start);
                let mut end = u.end;
                while !u.ends_line() {
                    u.push_to(&mut buf.text);
                    end = u.end;
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
                let text = std::mem::take(&mut buf.text);
                self.emit(text, line, false, start, end);
                continue;
            }

            if buf.text.is_empty() {
                buf.line = u.line;
                buf.start = u.start;
            }

            if buf.text.ends_with('$') && u.is('{') {
                next_is_directive = false;
                while !buf.text.ends_with('}') && !u.is_space() {
                    u.push_to(&mut buf.text);
                    buf.end = u.end;
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                }
            }

            if u.is('"') || u.is('\'') {
                if !buf.text.is_empty() {
                    u.push_to(&mut buf.text);
                    buf.end = u.end;
                    continue;
                }
                let quote = u.first;
                let (line, start) = (u.line, u.start);
                let mut text = String::new();
                loop {
                    match self.units.next() {
                        Some(n) => u = n,
                        None => return Ok(()),
                    }
                    if u.is(quote) {
                        break;
                    }
                    if u.first == '\\' && u.second == Some(quote) {
                        text.push(quote);
                    } else {
                        u.push_to(&mut text);
                    }
                }
                let lua = next_is_directive && LUA_BLOCKS.contains(&text.as_str());
                self.emit(text.clone(), line, true, start, u.end);
                if lua {
                    if !self.lua(&text)? {
                        return Ok(());
                    }
                    next_is_directive = true;
                } else {
                    next_is_directive = false;
                }
                continue;
            }

            if u.is('{') || u.is(';') || u.is('}') {
                if !buf.text.is_empty() {
                    let text = std::mem::take(&mut buf.text);
                    self.emit(text, buf.line, false, buf.start, buf.end);
                }
                self.emit(u.first.to_string(), u.line, false, u.start, u.end);
                next_is_directive = true;
                continue;
            }

            u.push_to(&mut buf.text);
            buf.end = u.end;
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
                        self.tokens.push(Token {
                            text: std::mem::take(&mut arg),
                            line,
                            quoted: false,
                            start,
                            end,
                        });
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
                self.tokens.push(Token {
                    text,
                    line,
                    quoted: true,
                    start: body_start,
                    end: close,
                });
                self.tokens.push(Token {
                    text: ";".into(),
                    line,
                    quoted: false,
                    start: close,
                    end: u.end,
                });
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
            .map(|t| (t.text, t.line, t.quoted))
            .collect()
    }

    #[test]
    fn quotes_escapes_and_spans() {
        let src = "a \"b\\\"c\" 'd e' f\\;g;\n";
        let (toks, err) = lex(src);
        assert!(err.is_none());
        let t: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(t, ["a", "b\"c", "d e", "f\\;g", ";"]);
        assert_eq!(&src[toks[1].start..toks[1].end], "\"b\\\"c\"");
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
