//! Which nginx the configuration is for, and the defaults that version applies.
//!
//! Defaults that matter for WebSockets changed in nginx 1.29.7 (March 2026; CHANGES-1.30):
//! `proxy_http_version` became 1.1 (it was 1.0), the `Connection: close` nginx added to every
//! proxied request is gone, and upstreams keep connections alive by default. Every earlier
//! version behaves like the oldest one wspath supports.

use std::fmt;
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// The oldest version wspath knows the defaults of (assumed when nothing says otherwise).
    pub const OLDEST: Version = Version(1, 18, 0);
    /// Upstream HTTP/1.1 with keep-alive by default, no default `Connection: close`.
    pub const HTTP11_DEFAULT: Version = Version(1, 29, 7);
    /// A plain `listen … http2` port also answers HTTP/1.x (before, it spoke only HTTP/2 with
    /// prior knowledge there; `http2 on` and the protocol detection came in 1.25.1).
    pub const H2C_DETECTS_HTTP1: Version = Version(1, 25, 1);

    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches("nginx/");
        let mut parts = s.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next().unwrap_or(Some(0))?;
        let patch = parts.next().unwrap_or(Some(0))?;
        if parts.next().is_some() {
            return None;
        }
        Some(Version(major, minor, patch))
    }

    /// `proxy_http_version` when nothing sets it, as (major, minor).
    pub fn default_http_version(self) -> (u32, u32) {
        if self >= Self::HTTP11_DEFAULT {
            (1, 1)
        } else {
            (1, 0)
        }
    }

    /// Whether nginx adds `Connection: close` to proxied requests unless told otherwise.
    pub fn default_connection_close(self) -> bool {
        self < Self::HTTP11_DEFAULT
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Where the version came from; reports say which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    Flag,
    /// `nginx -v` of the nginx found on PATH.
    Detected,
    /// Nothing said: the oldest supported version.
    Assumed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedVersion {
    pub version: Version,
    pub source: VersionSource,
}

impl fmt::Display for AssumedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.source {
            VersionSource::Flag => "from --nginx-version",
            VersionSource::Detected => "from `nginx -v`",
            VersionSource::Assumed => "assumed: oldest supported, nginx not on PATH",
        };
        write!(f, "nginx {} ({how})", self.version)
    }
}

/// `--nginx-version`, else `nginx -v`, else the oldest supported version.
pub fn resolve(flag: Option<&str>) -> Result<AssumedVersion, crate::Error> {
    if let Some(v) = flag {
        let version = Version::parse(v).ok_or_else(|| crate::Error::InvalidFlag {
            flag: "--nginx-version",
            input: v.to_string(),
            reason: "expected a version such as 1.24.0".into(),
        })?;
        return Ok(AssumedVersion {
            version,
            source: VersionSource::Flag,
        });
    }
    Ok(match detect() {
        Some(version) => AssumedVersion {
            version,
            source: VersionSource::Detected,
        },
        None => AssumedVersion {
            version: Version::OLDEST,
            source: VersionSource::Assumed,
        },
    })
}

/// The version of the nginx on PATH (`nginx -v` prints `nginx version: nginx/1.22.1` on stderr).
pub fn detect() -> Option<Version> {
    let out = Command::new("nginx").arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let rest = text.split("nginx/").nth(1)?;
    Version::parse(rest.split_whitespace().next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_change_in_1_29_7() {
        assert_eq!(Version(1, 22, 1).default_http_version(), (1, 0));
        assert!(Version(1, 29, 6).default_connection_close());
        assert_eq!(Version(1, 29, 7).default_http_version(), (1, 1));
        assert!(!Version(1, 30, 0).default_connection_close());
        assert_eq!(Version::parse("1.25"), Some(Version(1, 25, 0)));
        assert_eq!(Version::parse("x"), None);
    }
}
