//! `${VAR}` in TOML string values, from the environment, so tokens stay out of the repository.
//!
//! `$$` is a literal `$`; any other `$` is left as it is. An unset variable is an error naming it
//! (a check sent without its credential would blame the wrong hop).

/// Why a value could not be expanded; the caller adds the file position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `${NAME}` where NAME is not set in the environment.
    Unset(String),
    /// `${` without a closing `}` or with a name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    Malformed(String),
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::Unset(name) => write!(
                f,
                "environment variable {name} is not set (used as ${{{name}}}); set it or remove the reference"
            ),
            ExpandError::Malformed(s) => write!(
                f,
                "malformed variable reference '{s}': write ${{NAME}} with letters, digits and '_' (or $$ for a literal $)"
            ),
        }
    }
}

/// `input` with every `${NAME}` replaced by `env(NAME)`.
pub fn expand(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    if !input.contains('$') {
        return Ok(input.to_string());
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                return Err(ExpandError::Malformed(rest.chars().take(32).collect()));
            };
            let name = &body[..end];
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ExpandError::Malformed(format!("${{{name}}}")));
            }
            match env(name) {
                Some(v) => out.push_str(&v),
                None => return Err(ExpandError::Unset(name.to_string())),
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_string())
    }

    #[test]
    fn expands_known_and_keeps_literals() {
        assert_eq!(expand("Bearer ${TOKEN}!", &env).unwrap(), "Bearer s3cr3t!");
        assert_eq!(expand("a$$b $x", &env).unwrap(), "a$b $x");
        assert_eq!(expand("plain", &env).unwrap(), "plain");
    }

    #[test]
    fn unset_and_malformed_are_errors() {
        assert_eq!(
            expand("${NOPE}", &env).unwrap_err(),
            ExpandError::Unset("NOPE".into())
        );
        assert!(expand("${TOKEN", &env).is_err());
        assert!(expand("${1X}", &env).is_err());
    }
}
