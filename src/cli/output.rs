//! The edge every byte wspath prints crosses: stdout documents, the stderr error line, and log
//! lines. Here the one redaction policy (`wspath::report::redact`, plus the secret values this
//! run knows) and the one terminal sanitizer (`wspath::report::sanitize`) are applied, colour is
//! decided (`--color`, `NO_COLOR`, `TERM=dumb`, whether the stream is a terminal), and a closed
//! stdout or stderr ends the program quietly instead of panicking.

use clap::ValueEnum;
use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use wspath::report::{redact, sanitize};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`
    #[default]
    Auto,
    Always,
    Never,
}

static COLOR: OnceLock<ColorChoice> = OnceLock::new();

pub fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// Whether output to a stream that `is_terminal` may carry colour. An explicit `--color
/// always|never` wins over the environment (as https://no-color.org asks).
pub fn color(is_terminal: bool) -> bool {
    match COLOR.get().copied().unwrap_or_default() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal
                && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty())
                && std::env::var_os("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

pub fn stdout_color() -> bool {
    color(io::stdout().is_terminal())
}

pub fn stderr_color() -> bool {
    color(io::stderr().is_terminal())
}

/// Whether spinners and bars may redraw stderr: a terminal that moves the cursor. `TERM=dumb`
/// (Emacs shells, some CI consoles) shows `\r\x1b[2K` as garbage, whatever `--color` says.
pub fn stderr_animates() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").map_or(true, |t| t != "dumb")
}

/// Environment variables whose values are credentials wspath may read.
pub const SECRET_ENV: &[&str] = &[
    "CLOUDFLARE_API_TOKEN",
    "CF_API_TOKEN",
    "CLOUDFLARE_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let from_env = SECRET_ENV
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .filter(|s| s.len() >= 6);
        Mutex::new(from_env.collect())
    })
}

/// Adds secret values this run knows (credential headers given with `-H`, tokens in
/// subprotocols); nothing printed afterwards carries them. Short values are left alone
/// (masking "on" would mangle the report).
pub fn add_secrets<I: IntoIterator<Item = String>>(values: I) {
    if let Ok(mut s) = secrets().lock() {
        s.extend(values.into_iter().filter(|v| v.len() >= 6));
        // Longest first, so `Bearer abc…` is replaced whole before `abc…`.
        s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s.dedup();
    }
}

/// `text` through the redaction policy: secrets by shape (URL userinfo, secret query and matrix
/// parameters, Kubernetes bearer subprotocols) and the values this run knows.
pub fn scrub(text: &str) -> String {
    known(&redact::text(text), redact::MASK)
}

/// The secret values this run knows, replaced by `mask`.
fn known(text: &str, mask: &str) -> String {
    let mut out = text.to_string();
    if let Ok(secrets) = secrets().lock() {
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), mask);
            }
        }
    }
    out
}

/// What a rendered document is, for the last pass over it before stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// Human text: scrubbed, then sanitized as a block.
    Human,
    /// JSON (and SARIF): scrubbed; serde has escaped every control character.
    Json,
    /// XML: the writer redacted and escaped each text already; known secret values are masked
    /// with the mask escaped, so the document stays well-formed.
    Xml,
}

/// What ended a write: the reader went away (a closed pipe), or another I/O error.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// The exit status of a program whose reader went away: what the shell reports for one killed
/// by SIGPIPE (128 + 13), which is how `cat`, `grep` and `head` behave in a pipeline.
pub const EXIT_BROKEN_PIPE: u8 = 141;

impl Doc {
    pub fn of(format: super::Format) -> Doc {
        match format {
            super::Format::Human => Doc::Human,
            super::Format::Json | super::Format::Sarif => Doc::Json,
            super::Format::Junit => Doc::Xml,
        }
    }
}

/// Writes a rendered document to stdout. Human output is sanitized as a block (the renderer
/// escaped each field already; this is the last guard), keeping only wspath's own colour codes.
pub fn stdout(bytes: &[u8], doc: Doc) -> io::Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let text = match doc {
        Doc::Human => sanitize::terminal_block(&scrub(&text), stdout_color()).into_owned(),
        Doc::Json => scrub(&text),
        Doc::Xml => known(&text, "&lt;redacted&gt;"),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Human text for stderr (a plan beside a JSON document, a warning): scrubbed, sanitized, and
/// silently dropped when stderr is closed.
pub fn stderr(text: &str) {
    let text = scrub(text);
    let text = sanitize::terminal_block(&text, stderr_color());
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// The `wspath: …` error line: one line, scrubbed, every control character escaped.
pub fn error_line(message: &str) {
    let line = sanitize::terminal(&scrub(message)).into_owned();
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "wspath: {line}");
    let _ = err.flush();
}

/// The log writer: each event is formatted into a buffer, then written once — scrubbed and
/// sanitized (a response header logged at `-vv` is text from outside), errors ignored so a
/// closed stderr never stops or panics the program.
pub struct LogWriter {
    buf: Vec<u8>,
    ansi: bool,
}

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = scrub(&String::from_utf8_lossy(&self.buf));
        let text = sanitize::terminal_block(&text, self.ansi);
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
    }
}

/// Makes one [`LogWriter`] per event.
pub struct MakeLogWriter {
    pub ansi: bool,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MakeLogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter {
            buf: Vec::with_capacity(256),
            ansi: self.ansi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_masks_known_and_shaped_secrets() {
        add_secrets(["Bearer tok-123456".to_string(), "tok-123456".to_string()]);
        assert_eq!(
            scrub("a Bearer tok-123456 b tok-123456 wss://u:p@h/?token=x visible-123"),
            "a <redacted> b <redacted> wss://<redacted>@h/?token=<redacted> visible-123"
        );
    }
}
