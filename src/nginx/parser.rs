//! Tokens → directives, file by file, following `include` the way nginx and crossplane do.
//!
//! The result keeps crossplane's shape (one entry per file, in the order files are first
//! included, each file parsed once) because `--dump` prints exactly that; the model splices the
//! included files back in place. Relative includes resolve against the main file's directory
//! (nginx's conf prefix), globs expand sorted and skip dotfiles, a missing non-glob include is an
//! error at the include's line.

use super::analyzer;
use super::lexer::{self, LexError, Token};
use compact_str::CompactString;
use std::borrow::Cow;
use std::path::Path;

/// One argument as written: unquoted text, quotes removed, and where it sits in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// Inline for the short texts most arguments are (no allocation each).
    pub text: CompactString,
    pub quoted: bool,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Byte offset of the `{` and of the closing `}` (the file's length when missing).
    pub open: usize,
    pub close: usize,
    pub children: Vec<Directive>,
}

/// One directive with its place: file index into [`Config::files`], line, byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Borrowed from nginx's directive table for known directives (no allocation per directive).
    pub name: std::borrow::Cow<'static, str>,
    pub args: Vec<Arg>,
    pub file: usize,
    pub line: usize,
    /// From the first byte of the name to the end of the `;` or `{`.
    pub start: usize,
    pub end: usize,
    /// For `include`: the files it pulled in, as indices into [`Config::files`].
    /// Boxed, like `block`: most directives have neither, and a small directive keeps more of
    /// a large configuration in cache.
    pub includes: Option<Box<[usize]>>,
    pub block: Option<Box<Block>>,
}

impl Directive {
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.text.as_str())
    }
    pub fn children(&self) -> &[Directive] {
        self.block.as_ref().map_or(&[], |b| b.children.as_slice())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub message: String,
    pub line: Option<usize>,
    /// A file that could not be opened: crossplane prints Python's error text alone.
    pub open_failed: Option<OpenFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFailure {
    pub path: String,
    pub errno: i32,
    pub reason: String,
}

impl ParseError {
    /// The text crossplane records for this error.
    pub fn crossplane_text(&self) -> String {
        match &self.open_failed {
            Some(o) => format!("[Errno {}] {}: '{}'", o.errno, o.reason, o.path),
            None => self.to_string(),
        }
    }
}

/// nginx's wording: `message in file:line`.
impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = match &self.open_failed {
            Some(o) => format!("open() \"{}\" failed ({}: {})", o.path, o.errno, o.reason),
            None => self.message.clone(),
        };
        match self.line {
            Some(line) => write!(f, "{message} in {}:{line}", self.file),
            None => write!(f, "{message} in {}", self.file),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfFile {
    /// The path as nginx/crossplane spell it (the main file as given, includes joined to it).
    pub path: String,
    pub source: String,
    pub directives: Vec<Directive>,
    pub errors: Vec<ParseError>,
    /// Context the file was first included in (`["http", "server"]`), crossplane's `ctx`.
    pub context: Vec<String>,
    /// The file ends inside an unterminated quote, at this line (nginx words that error
    /// differently from crossplane).
    pub eof_in_quote: Option<usize>,
}

/// Every file of one configuration, the main file first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub files: Vec<ConfFile>,
    pub errors: Vec<ParseError>,
    /// Directives parsed, in all files: the model sizes its node table with it.
    pub directive_count: usize,
}

impl Config {
    pub fn main(&self) -> &[Directive] {
        &self.files[0].directives
    }
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Parse the configuration rooted at `main`. `Err` only when the main file cannot be read;
/// everything else nginx would refuse is collected in [`Config::errors`].
pub fn parse(main: &Path) -> Result<Config, crate::Error> {
    let source = read(main).map_err(|source| crate::Error::Io {
        path: main.to_path_buf(),
        source,
    })?;
    let main_name = main.to_string_lossy().into_owned();
    Ok(parse_with(main_name, source, |p| read(Path::new(p))))
}

fn read(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The parse with file access abstracted, so tests and the benchmark can feed text directly.
pub fn parse_with(
    main: String,
    source: String,
    mut read: impl FnMut(&str) -> std::io::Result<String>,
) -> Config {
    let config_dir = match main.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => main[..i].to_string(),
        None => String::new(),
    };
    let mut p = Parser {
        directive_count: 0,
        depth: 0,
        depths: vec![0],
        config_dir,
        files: Vec::new(),
        errors: Vec::new(),
        queue: vec![(main.clone(), Vec::new())],
        sources: vec![Some(source)],
    };
    let mut i = 0;
    while i < p.queue.len() {
        let (path, ctx) = p.queue[i].clone();
        let source = match p.sources[i].take() {
            Some(s) => Ok(s),
            None => read(&path),
        };
        let mut file = ConfFile {
            path: path.clone(),
            source: String::new(),
            directives: Vec::new(),
            errors: Vec::new(),
            context: ctx.clone(),
            eof_in_quote: None,
        };
        match source {
            Ok(source) => {
                let lexed = lexer::lex_full(&source);
                file.eof_in_quote = lexed.eof_in_quote;
                let mut cur = Cursor {
                    tokens: lexed.tokens,
                    pos: 0,
                    error: lexed.error,
                    last_line: 1,
                    last_close: None,
                };
                let ctx_refs: Vec<&str> = ctx.iter().map(String::as_str).collect();
                p.depth = p.depths[i];
                match p.block(i, &mut cur, &ctx_refs, false, &mut file.errors) {
                    Ok(ds) => file.directives = ds,
                    Err(e) => file.errors.push(ParseError {
                        file: path.clone(),
                        message: e.message,
                        line: Some(e.line),
                        open_failed: None,
                    }),
                }
                file.source = source;
            }
            Err(e) => file.errors.push(ParseError {
                file: path.clone(),
                message: String::new(),
                line: None,
                open_failed: Some(open_failure(&e, &path)),
            }),
        }
        p.errors.extend(file.errors.iter().cloned());
        p.files.push(file);
        i += 1;
    }
    Config {
        files: p.files,
        errors: p.errors,
        directive_count: p.directive_count,
    }
}

/// How deep blocks may nest, counting blocks in every file an `include` passes through. Real
/// configurations nest fewer than ten levels (http → server → location → if/limit_except); the
/// parser, the model and the lint recurse once per level, and 100 levels stay far below what
/// overflows a 2 MiB thread stack, and keep the per-level context lists (and so memory) linear
/// in the input.
pub const MAX_DEPTH: usize = 100;

struct Parser {
    directive_count: usize,
    /// Blocks open around the current token, including those around the `include` that pulled
    /// this file in.
    depth: usize,
    /// Per queued file, the blocks open around the `include` that queued it.
    depths: Vec<usize>,
    config_dir: String,
    files: Vec<ConfFile>,
    errors: Vec<ParseError>,
    queue: Vec<(String, Vec<String>)>,
    sources: Vec<Option<String>>,
}

/// The tokens of one file, handed out (moved, not copied) one at a time.
struct Cursor<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
    error: Option<LexError>,
    last_line: usize,
    /// Byte offset of the last token handed out when it was an unquoted `}`.
    last_close: Option<usize>,
}

impl<'a> Cursor<'a> {
    /// The next token; the lexer's error when it is reached; `None` at the end.
    fn next(&mut self) -> Result<Option<Token<'a>>, LexError> {
        if let Some(e) = &self.error {
            if self.pos >= e.at_token {
                return Err(e.clone());
            }
        }
        let Some(slot) = self.tokens.get_mut(self.pos) else {
            return Ok(None);
        };
        let t = std::mem::take(slot);
        self.pos += 1;
        self.last_line = t.line();
        self.last_close = t.is_punct("}").then_some(t.span().0);
        Ok(Some(t))
    }

    /// How many arguments the directive whose name was just handed out has (the tokens before
    /// its `;`, `{` or `}`, comments aside), so its list is allocated once at its exact size.
    fn arg_count(&self) -> usize {
        let limit = self
            .error
            .as_ref()
            .map_or(self.tokens.len(), |e| e.at_token.min(self.tokens.len()));
        self.tokens[self.pos.min(limit)..limit]
            .iter()
            .take_while(|t| t.quoted || !matches!(t.text.as_ref(), "{" | ";" | "}"))
            .filter(|t| !t.is_comment())
            .count()
    }

    fn eof(&self) -> LexError {
        LexError {
            message: "unexpected end of file, expecting \";\" or \"}\"".into(),
            line: self.last_line,
            at_token: self.pos,
        }
    }
}

impl Parser {
    fn block(
        &mut self,
        file: usize,
        cur: &mut Cursor<'_>,
        ctx: &[&str],
        consume: bool,
        errors: &mut Vec<ParseError>,
    ) -> Result<Vec<Directive>, LexError> {
        // The file's top level is one call too: `depth` blocks are open around this one.
        if self.depth > MAX_DEPTH {
            return Err(LexError {
                message: format!(
                    "blocks nested deeper than {MAX_DEPTH} levels (counting included files); wspath refuses to read further"
                ),
                line: cur.last_line,
                at_token: cur.pos,
            });
        }
        self.depth += 1;
        let result = self.block_inner(file, cur, ctx, consume, errors);
        self.depth -= 1;
        result
    }

    fn block_inner(
        &mut self,
        file: usize,
        cur: &mut Cursor<'_>,
        ctx: &[&str],
        consume: bool,
        errors: &mut Vec<ParseError>,
    ) -> Result<Vec<Directive>, LexError> {
        let mut out = Vec::new();
        let ctx_mask = analyzer::context_mask(ctx);
        while let Some(tok) = cur.next()? {
            if tok.is_punct("}") {
                break;
            }
            if consume {
                if tok.is_punct("{") {
                    self.block(file, cur, &[], true, errors)?;
                }
                continue;
            }
            if tok.is_comment() {
                continue;
            }
            // A UTF-8 byte order mark (editors on Windows) is no whitespace to nginx: it is part
            // of the first directive's name, which nginx then does not know.
            if tok.text.starts_with('\u{feff}') {
                errors.push(ParseError {
                    file: self.queue[file].0.clone(),
                    message: format!("unknown directive \"{}\"", tok.text),
                    line: Some(tok.line()),
                    open_failed: None,
                });
            }
            // One table lookup per directive: a known name is the table's own copy (no
            // allocation), and its masks are kept for the context check below.
            let known = analyzer::lookup(&tok.text);
            let (line, (start, end)) = (tok.line(), tok.span());
            let name = match (known, tok.text) {
                (Some((k, _)), _) => Cow::Borrowed(k),
                (None, text) => Cow::Owned(text.into_owned()),
            };
            let mut d = Directive {
                name,
                args: Vec::with_capacity(cur.arg_count()),
                file,
                line,
                start,
                end,
                includes: None,
                block: None,
            };
            let term = loop {
                let t = cur.next()?.ok_or_else(|| cur.eof())?;
                if !t.quoted && matches!(t.text.as_ref(), "{" | ";" | "}") {
                    break t;
                }
                if !t.is_comment() {
                    let (start, end) = t.span();
                    d.args.push(Arg {
                        text: match t.text {
                            Cow::Borrowed(s) => CompactString::from(s),
                            Cow::Owned(s) => CompactString::from(s),
                        },
                        quoted: t.quoted,
                        start,
                        end,
                    });
                }
            };
            d.end = term.span().1;
            if d.name == "if" {
                prepare_if_args(&mut d.args);
            }
            let fname = &self.queue[file].0;
            if let Err(reason) = analyzer::analyze(&d, known.map(|(_, m)| m), &term.text, ctx_mask)
            {
                errors.push(ParseError {
                    file: fname.clone(),
                    message: reason.clone(),
                    line: Some(d.line),
                    open_failed: None,
                });
                if reason.ends_with(" is not terminated by \";\"") {
                    if term.text != "}" {
                        self.block(file, cur, &[], true, errors)?;
                    } else {
                        break;
                    }
                }
                continue;
            }
            if d.name == "include" {
                d.includes = Some(self.include(&d, ctx, errors, fname.clone()).into());
            }
            if term.text == "{" {
                let inner = analyzer::enter_block_ctx(d.name.as_ref(), ctx);
                let children = self.block(file, cur, &inner, false, errors)?;
                let close = cur.last_close.unwrap_or_else(|| self_len(cur));
                d.block = Some(Box::new(Block {
                    open: term.span().0,
                    close,
                    children,
                }));
            }
            self.directive_count += 1;
            out.push(d);
        }
        Ok(out)
    }

    fn include(
        &mut self,
        d: &Directive,
        ctx: &[&str],
        errors: &mut Vec<ParseError>,
        fname: String,
    ) -> Vec<usize> {
        let arg = d.arg(0).unwrap_or_default();
        let pattern = if arg.starts_with('/') {
            arg.to_string()
        } else {
            path_join(&self.config_dir, arg)
        };
        let names = if has_magic(&pattern) {
            let mut names = python_glob(&pattern);
            names.sort();
            names
        } else {
            match std::fs::File::open(&pattern) {
                Ok(_) => vec![pattern],
                Err(e) => {
                    errors.push(ParseError {
                        file: fname,
                        message: String::new(),
                        line: Some(d.line),
                        open_failed: Some(open_failure(&e, &pattern)),
                    });
                    Vec::new()
                }
            }
        };
        names
            .into_iter()
            .map(
                |name| match self.queue.iter().position(|(p, _)| *p == name) {
                    Some(i) => i,
                    None => {
                        self.queue
                            .push((name, ctx.iter().map(|c| c.to_string()).collect()));
                        self.sources.push(None);
                        // `depth` counts this file's top level too; the blocks around are one less.
                        self.depths.push(self.depth.saturating_sub(1));
                        self.queue.len() - 1
                    }
                },
            )
            .collect()
    }
}

fn self_len(cur: &Cursor<'_>) -> usize {
    cur.tokens.last().map_or(0, |t| t.span().1)
}

/// crossplane's `_prepare_if_args`: `if ($a = b)` keeps `$a`, `=`, `b`.
fn prepare_if_args(args: &mut Vec<Arg>) {
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return;
    };
    if !(first.text.starts_with('(') && last.text.ends_with(')')) {
        return;
    }
    let first = &mut args[0];
    first.text = first.text[1..].trim_start().into();
    let n = args.len() - 1;
    let last = &mut args[n];
    if let Some(t) = last.text.strip_suffix(')') {
        last.text = t.trim_end().into();
    }
    if args[n].text.is_empty() {
        args.pop();
    }
    if args.first().is_some_and(|a| a.text.is_empty()) {
        args.remove(0);
    }
}

/// Python's `os.path.join(dir, name)` for a relative `name`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn open_failure(e: &std::io::Error, path: &str) -> OpenFailure {
    let reason = match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
        _ => e.to_string(),
    };
    OpenFailure {
        path: path.to_string(),
        errno: e.raw_os_error().unwrap_or(0),
        reason,
    }
}

/// Python's `glob.glob` (which matches nginx's glob(3) for include patterns): only the
/// components with wildcards are expanded, `*` does not match a leading dot.
///
/// Python recurses once per directory component with a wildcard; here the chain of those
/// directories is walked from the top down in a loop, because a pattern from a config file
/// may have thousands of them (`*/*/*/…`), which would overflow the stack.
fn python_glob(pattern: &str) -> Vec<String> {
    let Some(first_magic) = pattern.find(['*', '?', '[']) else {
        let (_, base) = split(pattern);
        let exists = std::fs::symlink_metadata(if pattern.is_empty() { "." } else { pattern });
        return if exists.is_ok() && !base.is_empty() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    };
    // Every directory part is a prefix of the pattern: it has a wildcard when it reaches past
    // the first one (checked by length, so the chain costs time linear in the pattern).
    let mut chain = vec![pattern];
    loop {
        let p = chain[chain.len() - 1];
        let (dir, _) = split(p);
        if dir.is_empty() || dir == p || dir.len() <= first_magic {
            break;
        }
        chain.push(dir);
    }
    let mut expanded: Option<Vec<String>> = None;
    for p in chain.into_iter().rev() {
        let parents: Option<Vec<String>> =
            expanded.map(|dirs| dirs.into_iter().filter(|d| Path::new(d).is_dir()).collect());
        if parents.as_ref().is_some_and(Vec::is_empty) {
            return Vec::new();
        }
        expanded = Some(glob_level(p, parents));
    }
    expanded.unwrap_or_default()
}

/// One level of [`python_glob`] for a `pattern` with a wildcard: its last component matched in
/// each of `parents` (its directory part already expanded), or in its directory part as
/// written when that has no wildcard (`parents` is then `None`).
fn glob_level(pattern: &str, parents: Option<Vec<String>>) -> Vec<String> {
    let (dir, base) = split(pattern);
    let dirs = match parents {
        Some(dirs) => dirs,
        None if dir.is_empty() => vec![String::new()],
        None => vec![dir.to_string()],
    };
    let mut out = Vec::new();
    for d in dirs {
        let listed = if d.is_empty() { "." } else { d.as_str() };
        if has_magic(base) {
            let Ok(entries) = std::fs::read_dir(listed) else {
                continue;
            };
            let matcher = glob::Pattern::new(base).ok();
            let opts = glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: true,
                require_literal_leading_dot: !base.starts_with('.'),
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !base.starts_with('.') {
                    continue;
                }
                let hit = match &matcher {
                    Some(m) => m.matches_with(&name, opts),
                    None => name == base,
                };
                if hit {
                    out.push(path_join(&d, &name));
                }
            }
        } else if !base.is_empty() && std::fs::symlink_metadata(path_join(listed, base)).is_ok() {
            out.push(path_join(&d, base));
        }
    }
    out
}

/// Python's `os.path.split`.
fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => {
            let head = &p[..=i];
            let trimmed = head.trim_end_matches('/');
            (if trimmed.is_empty() { head } else { trimmed }, &p[i + 1..])
        }
        None => ("", p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> Config {
        parse_with("/x/nginx.conf".into(), src.into(), |p| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                p.to_string(),
            ))
        })
    }

    /// `depth` nested `location` blocks inside http and server, with a proxy at the bottom.
    fn nested(depth: usize) -> String {
        let mut s = String::from("http {\nserver {\n");
        for i in 0..depth.saturating_sub(2) {
            s.push_str(&format!("location /l{i} {{\n"));
        }
        s.push_str("proxy_pass http://b;\n");
        s.push_str(&"}\n".repeat(depth));
        s
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_at_its_line() {
        let ok = parse_str(&nested(MAX_DEPTH));
        assert!(ok.errors.is_empty(), "{:?}", ok.errors.first());
        let deep = parse_str(&nested(MAX_DEPTH + 1));
        let e = deep.errors.first().expect("an error");
        assert!(
            e.message.contains("nested deeper than 100"),
            "{}",
            e.message
        );
        assert_eq!(e.line, Some(MAX_DEPTH + 1));
    }

    /// The issue's reproducer: `a {` 11,100 deep aborted with a stack overflow and took 801 MB
    /// at 10,000 levels. Now an error, on a 2 MiB stack (a tokio worker's), and parse, model
    /// and lint of the deepest accepted config fit that stack too.
    #[test]
    fn deep_nesting_fits_a_small_stack() {
        let run = || {
            let c = parse_str(&"a {\n".repeat(11_100));
            assert!(!c.errors.is_empty());
            let c = parse_str(&format!(
                "http {{\nserver {{\n{}",
                "location /a {\n".repeat(11_100)
            ));
            assert!(c.errors.iter().any(|e| e.message.contains("nested deeper")));
            let c = parse_str(&nested(MAX_DEPTH));
            let v = crate::nginx::version::Version::parse("1.24.0").unwrap();
            let model = crate::nginx::Model::build(&c, v).unwrap();
            let opts = crate::nginx::LintOptions {
                path: Some("/l0/l1/x".into()),
                host: None,
                idle: std::time::Duration::from_secs(60),
            };
            let version = crate::nginx::version::AssumedVersion {
                version: v,
                source: crate::nginx::version::VersionSource::Flag,
            };
            let _ = crate::nginx::lint(&model, version, &opts);
        };
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .expect("no stack overflow");
    }

    #[test]
    fn includes_count_towards_the_depth() {
        // Each file opens one block and includes the next: the depth crosses files.
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=MAX_DEPTH + 10 {
            let text = format!("location /x {{\ninclude f{}.conf;\n}}\n", n + 1);
            std::fs::write(dir.path().join(format!("f{n}.conf")), text).unwrap();
        }
        std::fs::write(dir.path().join(format!("f{}.conf", MAX_DEPTH + 11)), "").unwrap();
        let main = dir.path().join("f0.conf");
        std::fs::write(&main, "http {\nserver {\ninclude f1.conf;\n}\n}\n").unwrap();
        let c = parse(&main).unwrap();
        assert!(c.files.len() <= MAX_DEPTH + 2, "{}", c.files.len());
        assert!(c.errors.iter().any(|e| e.message.contains("nested deeper")));
    }

    #[test]
    fn blocks_lines_and_spans() {
        let src = "events {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n";
        let c = parse_str(src);
        assert!(c.ok(), "{:?}", c.errors);
        let http = &c.main()[1];
        assert_eq!(http.line, 2);
        let listen = &http.children()[0].children()[0];
        assert_eq!((listen.name.as_ref(), listen.line), ("listen", 4));
        assert_eq!(&src[listen.start..listen.end], "listen 80;");
        let b = http.block.as_ref().unwrap();
        assert_eq!(&src[b.close..b.close + 1], "}");
    }

    #[test]
    fn if_args_lose_parentheses() {
        let c = parse_str("http { server { if ($http_upgrade = \"websocket\") { return 200; } } }");
        let d = &c.main()[0].children()[0].children()[0];
        let args: Vec<&str> = d.args.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(args, ["$http_upgrade", "=", "websocket"]);
    }

    #[test]
    fn context_errors_like_crossplane() {
        let c = parse_str("proxy_pass http://a;\n");
        assert_eq!(
            c.errors[0].to_string(),
            "\"proxy_pass\" directive is not allowed here in /x/nginx.conf:1"
        );
    }

    #[test]
    fn python_split() {
        assert_eq!(split("/a/b/*.conf"), ("/a/b", "*.conf"));
        assert_eq!(split("*.conf"), ("", "*.conf"));
        assert_eq!(split("/x"), ("/", "x"));
    }

    #[test]
    fn broken_input_never_panics() {
        let cases = [
            "",
            "\\",
            "a \"unterminated",
            "a '",
            "${",
            "a ${x",
            "x${",
            "content_by_lua_block",
            "content_by_lua_block {",
            "set_by_lua_block $v",
            "set_by_lua_block $v x",
            "}",
            "{",
            "if (",
            "if ()",
            "if ( ) {}",
            "location",
            "location {",
            "a\r",
            "\r\n\r",
            "# c",
            "a # c",
            "include",
            "include ;",
            "http { server { location / { proxy_pass; } } }",
            "http { map { } }",
            "http { upstream { } server { location / { proxy_pass http://; } } }",
            "é ☃ {",
            "a \"b\\\" c\";",
            "a '${x}'",
            ";;;",
            "{{}}",
            "\u{0}",
        ];
        for src in cases {
            let c = parse_str(src);
            if let Ok(m) = crate::nginx::Model::build(&c, crate::nginx::Version::OLDEST) {
                let v = crate::nginx::AssumedVersion {
                    version: crate::nginx::Version::OLDEST,
                    source: crate::nginx::version::VersionSource::Assumed,
                };
                for path in [None, Some("/ws".to_string())] {
                    let opts = crate::nginx::LintOptions {
                        path,
                        ..Default::default()
                    };
                    let r = crate::nginx::lint(&m, v.clone(), &opts);
                    let edits = crate::nginx::fix::plan_edits(
                        &m,
                        &r,
                        Some(std::time::Duration::from_secs(60)),
                    );
                    let _ = crate::nginx::fix::plan(&m, &edits);
                }
            }
            let mut out = Vec::new();
            crate::nginx::dump::write(&c, &mut out).unwrap();
        }
    }
}
