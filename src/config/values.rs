//! Validation of single check options (durations, headers, subprotocols, origins), shared by the
//! command-line flags and the TOML files so both refuse the same input with the same words.

use crate::report::redact;
use crate::Error;
use std::time::Duration;

/// `10s`, `500ms`, `1m 30s`; zero is refused (it would time out every phase at once).
/// `what` names the flag or key in the message (`--timeout`, `timeout`).
pub fn duration(what: &'static str, input: &str) -> Result<Duration, Error> {
    let bad = |reason: String| Error::InvalidFlag {
        flag: what,
        input: input.to_string(),
        reason,
    };
    let d = humantime::parse_duration(input.trim()).map_err(|e| bad(e.to_string()))?;
    if d.is_zero() {
        return Err(bad("must be longer than 0".into()));
    }
    Ok(d)
}

/// `Name: value`: the name an HTTP token, the value free of CR, LF and other controls.
pub fn header(input: &str) -> Result<(String, String), Error> {
    let Some((name, value)) = input.split_once(':') else {
        return Err(Error::InvalidHeader {
            input: input.to_string(),
            reason: "expected 'Name: value'".into(),
        });
    };
    // The message names the header; a credential's value never appears in it.
    let shown = if redact::is_secret_name(name) {
        format!("{name}: {}", redact::MASK)
    } else {
        input.to_string()
    };
    let bad = |reason: String| Error::InvalidHeader {
        input: shown.clone(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("empty header name".into()));
    }
    if let Some(c) = name.chars().find(|c| !is_tchar(*c)) {
        return Err(bad(format!(
            "header name '{}' contains {c:?}, which a header name cannot",
            name.escape_debug()
        )));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.chars().any(|c| c == '\r' || c == '\n') {
        return Err(bad("the value contains CR or LF".into()));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(bad("the value contains a control character".into()));
    }
    Ok((name.to_string(), value.to_string()))
}

/// A subprotocol is an HTTP token.
pub fn protocol(what: &'static str, p: &str) -> Result<(), Error> {
    if p.is_empty() || !p.chars().all(is_tchar) {
        return Err(Error::InvalidFlag {
            flag: what,
            input: p.to_string(),
            reason: "a subprotocol is an HTTP token: letters, digits and !#$%&'*+-.^_`|~".into(),
        });
    }
    Ok(())
}

/// An Origin value: non-empty, no control characters (it goes into the request head as is).
pub fn origin(what: &'static str, origin: &str) -> Result<(), Error> {
    if origin.is_empty() || origin.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidFlag {
            flag: what,
            input: origin.to_string(),
            reason: "must be a non-empty value without control characters".into(),
        });
    }
    Ok(())
}

/// RFC 9110 `tchar`.
pub fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            duration("timeout", "1m 30s").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            duration("idle", "0s").unwrap_err().to_string(),
            "invalid idle '0s': must be longer than 0"
        );
    }

    #[test]
    fn headers_never_echo_a_secret() {
        assert_eq!(
            header("X-A:  b ").unwrap(),
            ("X-A".to_string(), "b".to_string())
        );
        let e = header("Authorization: Bearer x\u{7}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid header 'Authorization: <redacted>': the value contains a control character"
        );
    }

    #[test]
    fn protocols_and_origins() {
        assert!(protocol("protocol", "chat.v2").is_ok());
        assert!(protocol("protocol", "a b").is_err());
        assert!(origin("origin", "https://a").is_ok());
        assert!(origin("origin", "").is_err());
    }
}
