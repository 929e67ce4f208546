//! TLS for `wss://` hops with rustls: the client configuration (native roots plus `--cacert`, or a
//! verifier that accepts anything for `--insecure`), the handshake with the TARGET's SNI whatever
//! address the hop connects to, and precise reasons when it fails.

use crate::probe::tap::{Observe, ReadTap};
use crate::probe::{ProbeOptions, TlsInfo};
use crate::Error;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's roots, read once per process: reading them costs milliseconds and every TLS hop
/// of a check needs them.
fn native_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        // Unreadable system certificates are skipped: --cacert or -k still work without them.
        let loaded = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(loaded.certs);
        roots
    })
}

/// A `--cacert` file is readable and holds at least one certificate rustls accepts as a root;
/// checked before probing without loading the system's roots (a ws:// check never needs them).
pub fn check_cacert(path: &Path) -> Result<(), Error> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e))?;
    for cert in certs {
        let cert = cert.map_err(|e| pem_error(path, e))?;
        roots
            .add(cert)
            .map_err(|e| cacert_error(path, e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(cacert_error(
            path,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
        ));
    }
    Ok(())
}

/// What a client configuration depends on. The CA file is known by its path and its length
/// and modification time, so a file replaced while `wspath serve` runs is read again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConfigKey {
    insecure: bool,
    cacert: Option<(PathBuf, Option<(u64, SystemTime)>)>,
    alpn: Vec<String>,
}

impl ProbeOptions {
    /// The rustls configuration these options ask for, built once per process and shared by
    /// every probe that asks for the same one: building it copies the whole root store and sets
    /// up rustls, which an audit of thousands of wss hops would otherwise pay per hop. Nothing
    /// is built (and the system's roots are not read) until a wss hop asks. `Err` only for a bad
    /// `--cacert` file.
    pub fn tls_config(&self) -> Result<Arc<ClientConfig>, Error> {
        static BUILT: OnceLock<Mutex<HashMap<ConfigKey, Arc<ClientConfig>>>> = OnceLock::new();
        let key = ConfigKey {
            insecure: self.insecure,
            cacert: self.cacert.as_ref().filter(|_| !self.insecure).map(|p| {
                let stamp = std::fs::metadata(p)
                    .ok()
                    .and_then(|m| Some((m.len(), m.modified().ok()?)));
                (p.clone(), stamp)
            }),
            alpn: self.alpn.clone(),
        };
        let built = BUILT.get_or_init(Mutex::default);
        // A poisoned lock only means another probe panicked while inserting; the map is fine.
        if let Some(config) = built.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(config.clone());
        }
        // Built outside the lock: the first build reads the system's roots (milliseconds), and
        // two probes racing here only build it twice.
        let config = self.build_tls_config()?;
        built
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, config.clone());
        Ok(config)
    }

    /// A new rustls configuration for these options, not shared (what [`Self::tls_config`]
    /// builds on its first call; the benchmark compares the two).
    pub fn build_tls_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsSetup(e.to_string()))?;
        let mut config = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
                .with_no_client_auth()
        } else {
            let mut roots = native_roots().clone();
            if let Some(path) = &self.cacert {
                let mut added = 0;
                let certs = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e))?;
                for cert in certs {
                    let cert = cert.map_err(|e| pem_error(path, e))?;
                    roots
                        .add(cert)
                        .map_err(|e| cacert_error(path, e.to_string()))?;
                    added += 1;
                }
                if added == 0 {
                    return Err(cacert_error(
                        path,
                        "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                    ));
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        config.alpn_protocols = self
            .alpn
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.as_bytes().to_vec())
            .collect();
        Ok(Arc::new(config))
    }
}

fn pem_error(path: &Path, e: rustls::pki_types::pem::Error) -> Error {
    let reason = match e {
        rustls::pki_types::pem::Error::Io(source) => source.to_string(),
        other => other.to_string(),
    };
    cacert_error(path, reason)
}

/// `invalid --cacert 'FILE': reason`, the one line the CLI prints before exiting 2.
fn cacert_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag: "--cacert",
        input: path.display().to_string(),
        reason: reason.into(),
    }
}

/// `--insecure`: any certificate is accepted, but the handshake signatures are still checked so the
/// TLS version and ALPN recorded are those of a real handshake.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The first bytes a server sent, so a failed handshake can say what it sent instead of TLS
/// (typically an HTTP answer: plain HTTP on this port).
#[derive(Debug, Default)]
pub struct FirstBytes(Vec<u8>);

const RECORDED: usize = 64;

impl Observe for FirstBytes {
    fn observe(&mut self, bytes: &[u8]) {
        let take = bytes.len().min(RECORDED.saturating_sub(self.0.len()));
        self.0.extend_from_slice(&bytes[..take]);
    }
}

pub type Stream = TlsStream<ReadTap<TcpStream, FirstBytes>>;

/// Runs the handshake; on failure returns the one-line reason.
pub async fn handshake(
    tcp: TcpStream,
    sni: &str,
    config: Arc<ClientConfig>,
    offered_alpn: &[String],
) -> Result<(Stream, TlsInfo), String> {
    let name = ServerName::try_from(sni.to_string())
        .map_err(|_| format!("'{sni}' is not a valid TLS server name"))?;
    let connector = TlsConnector::from(config);
    // The fallible form hands the stream back on failure, with what it recorded.
    match connector
        .connect(name, ReadTap::new(tcp, FirstBytes::default()))
        .into_fallible()
        .await
    {
        Ok(stream) => {
            let (_, conn) = stream.get_ref();
            let version = match conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
                Some(other) => format!("{other:?}"),
                None => "unknown".to_string(),
            };
            let alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            let not_after = conn
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| not_after(leaf));
            Ok((
                stream,
                TlsInfo {
                    version,
                    alpn,
                    not_after,
                },
            ))
        }
        Err((e, io)) => Err(describe(&e, sni, offered_alpn, &io.observer().0)),
    }
}

/// The leaf certificate's `notAfter`, in Unix seconds (`None` when it does not parse).
fn not_after(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// The precise one-line reason for a failed handshake.
pub fn describe(e: &std::io::Error, sni: &str, offered_alpn: &[String], first: &[u8]) -> String {
    if first.starts_with(b"HTTP/") {
        let line = String::from_utf8_lossy(first)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        return format!(
            "this port speaks plain HTTP, not TLS: the server answered \"{line}\" to the TLS hello; use ws:// for this hop"
        );
    }
    let alpn = offered_alpn.join(", ");
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match e.kind() {
            std::io::ErrorKind::UnexpectedEof => format!(
                "the server closed the connection during the TLS handshake (no certificate for SNI '{sni}', or TLS not served on this port)"
            ),
            _ => format!("TLS handshake failed: {e}"),
        };
    };
    match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("certificate name mismatch: the certificate is not valid for '{sni}' ({cert})")
            }
            CertificateError::UnknownIssuer => {
                "unknown issuer: the certificate is self-signed or from a private CA (use --cacert FILE, or -k to skip verification)".to_string()
            }
            CertificateError::ExpiredContext { time, not_after } => format!(
                "certificate expired: not valid after {} ({} ago)",
                utc(*not_after),
                span(time.as_secs().saturating_sub(not_after.as_secs()))
            ),
            CertificateError::Expired => "certificate expired".to_string(),
            CertificateError::NotValidYetContext { time, not_before } => format!(
                "certificate not valid yet: valid from {} ({} from now); check the clocks",
                utc(*not_before),
                span(not_before.as_secs().saturating_sub(time.as_secs()))
            ),
            CertificateError::NotValidYet => {
                "certificate not valid yet; check the clocks".to_string()
            }
            CertificateError::Revoked => "certificate revoked".to_string(),
            // webpki found a trusted CA with the issuer's name whose key did not sign this
            // certificate: typically a self-signed certificate named like a trusted one
            // (Debian's ssl-cert-snakeoil is CN=localhost).
            CertificateError::BadSignature => "certificate signature does not verify against the trusted CA of the same name (self-signed? use --cacert FILE, or -k)".to_string(),
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                "the server's certificate is a CA certificate (as `openssl req -x509` makes by default), which is never accepted as a server certificate: serve a leaf certificate, or use -k".to_string()
            }
            other => format!("invalid certificate: {other}"),
        },
        rustls::Error::NoApplicationProtocol
        | rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => format!(
            "no common ALPN: the server accepts none of [{alpn}] (HTTP/2-only endpoint?)"
        ),
        rustls::Error::PeerMisbehaved(rustls::PeerMisbehaved::SelectedUnofferedApplicationProtocol) => {
            format!("the server chose an ALPN protocol that was not offered ([{alpn}]; HTTP/2-only endpoint?)")
        }
        rustls::Error::AlertReceived(rustls::AlertDescription::UnrecognisedName) => {
            format!("the server does not serve SNI '{sni}' (unrecognised_name alert)")
        }
        rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure) => {
            format!("handshake alert from the server: handshake_failure (no common TLS version or cipher, or no certificate for '{sni}')")
        }
        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) => {
            "the server speaks no TLS version wspath offers (TLS 1.2 and 1.3): TLS 1.0/1.1 only?".to_string()
        }
        rustls::Error::AlertReceived(alert) => format!("handshake alert from the server: {alert:?}"),
        rustls::Error::InvalidMessage(m) => {
            format!("the server did not answer with TLS ({m:?}): is this port plain HTTP? use ws:// for this hop")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// A certificate time as people read it (rustls gives UNIX seconds).
fn utc(t: UnixTime) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs());
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A span of seconds in its largest sensible unit: "30 days", "5 hours", "12 minutes".
fn span(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 2 * 3_600 => (s / 3_600, "hours"),
        s if s >= 2 * 60 => (s / 60, "minutes"),
        s => (s, "seconds"),
    };
    format!("{n} {unit}")
}

/// The reason for a TLS error that came after the handshake, on the first read.
pub fn describe_late(e: &rustls::Error) -> String {
    match e {
        rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::HandshakeFailure,
        ) => format!(
            "the server requires a client certificate (mutual TLS) and refused the connection without one ({e})"
        ),
        other => format!("the server ended TLS after the handshake: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;
    use std::io::Write;

    #[test]
    fn certificate_times_are_dates_not_unix_seconds() {
        let describe_cert = |cert: CertificateError| {
            let e = std::io::Error::other(rustls::Error::InvalidCertificate(cert));
            describe(&e, "app.test", &[], &[])
        };
        let day = 86_400;
        let expired = describe_cert(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(20_000 * day + 3_600)),
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(19_970 * day)),
        });
        assert_eq!(
            expired,
            "certificate expired: not valid after 2024-09-04T00:00:00Z (30 days ago)"
        );
        let early = describe_cert(CertificateError::NotValidYetContext {
            time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(20_000 * day)),
            not_before: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                20_000 * day + 300,
            )),
        });
        assert!(
            early.starts_with(
                "certificate not valid yet: valid from 2024-10-04T00:05:00Z (5 minutes from now)"
            ),
            "{early}"
        );
    }

    #[test]
    fn cacert_errors_name_the_file() {
        let target = Target::parse("wss://example.com/").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.cacert = Some("/nonexistent/ca.pem".into());
        let e = options.tls_config().unwrap_err().to_string();
        assert!(
            e.starts_with("invalid --cacert '/nonexistent/ca.pem': "),
            "{e}"
        );

        let mut empty = tempfile::NamedTempFile::new().unwrap();
        writeln!(empty, "not a certificate").unwrap();
        options.cacert = Some(empty.path().to_path_buf());
        let e = options.tls_config().unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        assert!(e.contains(&empty.path().display().to_string()), "{e}");
    }

    #[test]
    fn a_generated_ca_is_accepted_and_alpn_is_offered() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(cert.cert.pem().as_bytes()).unwrap();
        let target = Target::parse("wss://localhost/").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.cacert = Some(file.path().to_path_buf());
        let config = options.tls_config().unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn the_config_is_built_once_and_shared() {
        let target = Target::parse("wss://localhost/").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.insecure = true;
        let a = options.tls_config().unwrap();
        let b = options.clone().tls_config().unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the same options share one config");
        options.alpn = vec!["h2".into(), "http/1.1".into()];
        let h2 = options.tls_config().unwrap();
        assert!(!Arc::ptr_eq(&a, &h2), "other ALPN, other config");
        assert_eq!(
            h2.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        // A CA file replaced on disk is read again.
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let one = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        file.write_all(one.cert.pem().as_bytes()).unwrap();
        options.insecure = false;
        options.cacert = Some(file.path().to_path_buf());
        let first = options.tls_config().unwrap();
        assert!(Arc::ptr_eq(&first, &options.tls_config().unwrap()));
        let two = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        file.write_all(two.cert.pem().as_bytes()).unwrap();
        assert!(!Arc::ptr_eq(&first, &options.tls_config().unwrap()));
    }

    #[test]
    fn failures_are_described_precisely() {
        let wrap = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let alpn = ["http/1.1".to_string()];
        let d = describe(
            &wrap(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName,
            )),
            "example.com",
            &alpn,
            b"",
        );
        assert!(d.starts_with("certificate name mismatch"), "{d}");
        let d = describe(
            &wrap(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
            "example.com",
            &alpn,
            b"",
        );
        assert!(d.starts_with("unknown issuer"), "{d}");
        let d = describe(
            &wrap(rustls::Error::AlertReceived(
                rustls::AlertDescription::NoApplicationProtocol,
            )),
            "example.com",
            &alpn,
            b"",
        );
        assert!(d.contains("HTTP/2-only endpoint?"), "{d}");
        let d = describe(
            &wrap(rustls::Error::General("x".into())),
            "example.com",
            &alpn,
            b"HTTP/1.1 400 Bad Request\r\n",
        );
        assert!(d.starts_with("this port speaks plain HTTP, not TLS"), "{d}");
    }
}
