//! What the Cloudflare adapter reads, as typed facts: the zone, the DNS record of the host and
//! the zone settings that decide whether a WebSocket gets through the edge. No judgement here;
//! the rules in `wspath::rules::cloudflare` decide what a fact means.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A zone (`GET /zones`): only what wspath needs of `zones_zone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// `type` of a DNS record; wspath follows only A, AAAA and CNAME records to the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordType {
    A,
    #[allow(clippy::upper_case_acronyms)]
    AAAA,
    #[allow(clippy::upper_case_acronyms)]
    CNAME,
    #[serde(other)]
    Other,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::AAAA => "AAAA",
            RecordType::CNAME => "CNAME",
            RecordType::Other => "other",
        }
    }

    /// A record that names where Cloudflare sends the traffic (address or host name).
    pub fn points_at_origin(self) -> bool {
        matches!(self, RecordType::A | RecordType::AAAA | RecordType::CNAME)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One DNS record of the host (`GET /zones/{id}/dns_records?name=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    pub name: String,
    pub record_type: RecordType,
    /// The address (A/AAAA) or target host name (CNAME).
    pub content: String,
    /// Orange cloud: traffic goes through Cloudflare's edge. Absent in the API means not proxied.
    pub proxied: bool,
}

/// `on`/`off` settings (`websockets`, `always_use_https`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    pub fn as_str(self) -> &'static str {
        match self {
            OnOff::On => "on",
            OnOff::Off => "off",
        }
    }
}

/// `ssl`: how the edge reaches the origin. Flexible means plain HTTP on port 80.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SslMode {
    Off,
    Flexible,
    Full,
    Strict,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Off => "off",
            SslMode::Flexible => "flexible",
            SslMode::Full => "full",
            SslMode::Strict => "strict",
        }
    }
}

/// `min_tls_version`: the oldest TLS version the edge accepts from clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MinTlsVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl MinTlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            MinTlsVersion::V1_0 => "1.0",
            MinTlsVersion::V1_1 => "1.1",
            MinTlsVersion::V1_2 => "1.2",
            MinTlsVersion::V1_3 => "1.3",
        }
    }
}

/// `origin_max_http_version`: the highest HTTP version the edge speaks to the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OriginMaxHttpVersion {
    #[serde(rename = "1")]
    Http1,
    #[serde(rename = "2")]
    Http2,
}

impl OriginMaxHttpVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            OriginMaxHttpVersion::Http1 => "1",
            OriginMaxHttpVersion::Http2 => "2",
        }
    }
}

/// A zone setting as the API returns it (`zones_base`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting<T> {
    pub value: T,
    /// False when the plan does not allow changing it; check before a PATCH.
    pub editable: bool,
}

/// A setting that some plans or tokens cannot read: not being able to read it is a fact too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Readable<T> {
    Read(Setting<T>),
    /// The API answered with an error for this setting (the message says which).
    NotReadable(String),
}

impl<T: Copy> Readable<T> {
    /// The value, when it could be read.
    pub fn value(&self) -> Option<T> {
        match self {
            Readable::Read(s) => Some(s.value),
            Readable::NotReadable(_) => None,
        }
    }
}

/// Everything the adapter read for one hostname: the facts of the edge hop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeFacts {
    /// The hostname asked about (lowercase, no trailing dot).
    pub host: String,
    pub zone: Zone,
    /// The host's A, AAAA and CNAME records, in API order.
    pub records: Vec<DnsRecord>,
    pub websockets: Setting<OnOff>,
    pub ssl: Readable<SslMode>,
    pub always_use_https: Readable<OnOff>,
    pub min_tls_version: Readable<MinTlsVersion>,
    pub origin_max_http_version: Readable<OriginMaxHttpVersion>,
    /// Seconds the edge waits between two reads from the origin (Enterprise); 100 elsewhere.
    pub proxy_read_timeout: Readable<f64>,
}

impl EdgeFacts {
    /// The record Cloudflare follows to the origin: the first A, AAAA or CNAME of the host.
    pub fn origin_record(&self) -> Option<&DnsRecord> {
        self.records
            .iter()
            .find(|r| r.record_type.points_at_origin())
    }
}
