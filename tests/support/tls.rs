//! Test-made TLS certificates (rcgen): a throwaway CA and a server certificate for one name,
//! written as PEM files into their own temp dir. No system store trusts them, so a client must
//! fail without `--insecure` / `--cacert`.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::io;
use std::path::PathBuf;

/// A server certificate for one name, issued by a CA made for the test.
#[derive(Debug)]
pub struct SelfSigned {
    pub dir: tempfile::TempDir,
    /// The server certificate (PEM), for nginx `ssl_certificate`.
    pub cert: PathBuf,
    /// Its private key (PEM), for nginx `ssl_certificate_key`.
    pub key: PathBuf,
    /// The CA certificate (PEM), for `--cacert`.
    pub ca: PathBuf,
    /// The cert and key in one PEM file, for HAProxy `bind ... ssl crt`.
    pub combined: PathBuf,
}

impl SelfSigned {
    /// Makes a CA and a server certificate whose subjectAltName is `name` (a DNS name or IP).
    pub fn new(name: &str) -> io::Result<SelfSigned> {
        SelfSigned::issue(name, false)
    }

    /// As [`SelfSigned::new`], with a server certificate that expired on 2021-01-01.
    pub fn expired(name: &str) -> io::Result<SelfSigned> {
        SelfSigned::issue(name, true)
    }

    fn issue(name: &str, expired: bool) -> io::Result<SelfSigned> {
        let err = |e: rcgen::Error| io::Error::other(format!("rcgen: {e}"));
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "wspath test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;

        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(vec![name.to_string()]).map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, name);
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &ca_cert, &ca_key).map_err(err)?;

        let dir = tempfile::Builder::new().prefix("wspath-tls-").tempdir()?;
        let paths = SelfSigned {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
            ca: dir.path().join("ca.pem"),
            combined: dir.path().join("combined.pem"),
            dir,
        };
        std::fs::write(&paths.cert, cert.pem())?;
        std::fs::write(&paths.key, key.serialize_pem())?;
        std::fs::write(&paths.ca, ca_cert.pem())?;
        std::fs::write(
            &paths.combined,
            format!("{}{}", cert.pem(), key.serialize_pem()),
        )?;
        Ok(paths)
    }
}
