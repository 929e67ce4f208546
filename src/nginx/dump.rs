//! The parse as crossplane's JSON payload, byte for byte as `crossplane parse` prints it
//! (compact separators, keys in crossplane's order, non-ASCII escaped as `\uXXXX`), so tools
//! that read that format can read wspath's.

use super::parser::{Config, Directive, ParseError};
use std::io::{self, Write};

/// Write the payload and a newline.
pub fn write(config: &Config, w: &mut dyn Write) -> io::Result<()> {
    let mut s = String::with_capacity(config.files.iter().map(|f| f.source.len()).sum());
    s.push_str("{\"status\":");
    status(&mut s, config.errors.is_empty());
    s.push_str(",\"errors\":[");
    for (i, e) in config.errors.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"file\":");
        string(&mut s, &e.file);
        error_body(&mut s, e);
    }
    s.push_str("],\"config\":[");
    for (i, f) in config.files.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"file\":");
        string(&mut s, &f.path);
        s.push_str(",\"status\":");
        status(&mut s, f.errors.is_empty());
        s.push_str(",\"errors\":[");
        for (j, e) in f.errors.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            s.push('{');
            error_body(&mut s, e);
        }
        s.push_str("],\"parsed\":");
        block(&mut s, &f.directives);
        s.push('}');
    }
    s.push_str("]}\n");
    w.write_all(s.as_bytes())
}

fn status(s: &mut String, ok: bool) {
    s.push_str(if ok { "\"ok\"" } else { "\"failed\"" });
}

/// `"error":…,"line":…}` (a per-file error starts right after `{`, a payload error after `file`).
fn error_body(s: &mut String, e: &ParseError) {
    if !s.ends_with('{') {
        s.push(',');
    }
    s.push_str("\"error\":");
    string(s, &e.crossplane_text());
    s.push_str(",\"line\":");
    match e.line {
        Some(l) => s.push_str(&l.to_string()),
        None => s.push_str("null"),
    }
    s.push('}');
}

fn block(s: &mut String, ds: &[Directive]) {
    s.push('[');
    for (i, d) in ds.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"directive\":");
        string(s, &d.name);
        s.push_str(",\"line\":");
        s.push_str(&d.line.to_string());
        s.push_str(",\"args\":[");
        for (j, a) in d.args.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            string(s, &a.text);
        }
        s.push(']');
        if let Some(inc) = &d.includes {
            s.push_str(",\"includes\":[");
            let list: Vec<String> = inc.iter().map(usize::to_string).collect();
            s.push_str(&list.join(","));
            s.push(']');
        }
        if let Some(b) = &d.block {
            s.push_str(",\"block\":");
            block(s, &b.children);
        }
        s.push('}');
    }
    s.push(']');
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True`.
fn string(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            ' '..='~' => s.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    s.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_string_escapes() {
        let mut s = String::new();
        super::string(&mut s, "a\"\\\n\u{7f}é😀");
        assert_eq!(s, "\"a\\\"\\\\\\n\\u007f\\u00e9\\ud83d\\ude00\"");
    }
}
