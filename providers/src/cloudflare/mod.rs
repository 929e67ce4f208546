//! Cloudflare API v4: zone, DNS record and settings facts for the edge hop, and the one change
//! wspath makes there (`websockets` on). A thin adapter: it reads and reports, the rules in
//! `wspath::rules::cloudflare` decide. The contract it follows is Cloudflare's own OpenAPI
//! document (`tests/fixtures/cloudflare/openapi-subset.json`).

mod client;
mod credentials;
mod facts;

pub use client::{Client, ClientOptions, Permission, BASE_URL_VAR, DEFAULT_BASE_URL};
pub use credentials::{Credentials, Secret};
pub use facts::{
    DnsRecord, EdgeFacts, MinTlsVersion, OnOff, OriginMaxHttpVersion, Readable, RecordType,
    Setting, SslMode, Zone,
};

use crate::Error;
use client::{ResultInfo, PROVIDER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Zone listing allows at most 50 per page (`zones-get`).
const ZONES_PER_PAGE: u32 = 50;
const RECORDS_PER_PAGE: u32 = 100;
/// A bound on paging, so a server that keeps saying "more" cannot keep wspath busy forever.
const MAX_PAGES: u32 = 50;

/// The zone settings wspath reads (a closed list: the paths of the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingId {
    Websockets,
    Ssl,
    AlwaysUseHttps,
    MinTlsVersion,
    OriginMaxHttpVersion,
    ProxyReadTimeout,
}

impl SettingId {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingId::Websockets => "websockets",
            SettingId::Ssl => "ssl",
            SettingId::AlwaysUseHttps => "always_use_https",
            SettingId::MinTlsVersion => "min_tls_version",
            SettingId::OriginMaxHttpVersion => "origin_max_http_version",
            SettingId::ProxyReadTimeout => "proxy_read_timeout",
        }
    }
}

/// `result` of a zone setting (`zones_base`): `editable` defaults to true, as documented.
#[derive(Deserialize)]
struct RawSetting<T> {
    value: T,
    #[serde(default = "yes")]
    editable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RawRecord {
    name: String,
    #[serde(rename = "type")]
    record_type: RecordType,
    #[serde(default)]
    content: serde_json::Value,
    #[serde(default)]
    proxied: Option<bool>,
}

impl Client {
    /// The zone that serves `host`: each suffix from the full name down, first match wins.
    pub async fn zone_for_host(&self, host: &str) -> Result<Zone, Error> {
        self.ensure_verified().await?;
        let host = normalize_host(host);
        let candidates = suffixes(&host);
        for name in &candidates {
            let zones: Vec<Zone> = self
                .list(
                    "/zones",
                    &[("name", name.clone())],
                    ZONES_PER_PAGE,
                    Permission::ZoneRead,
                )
                .await?;
            if let Some(zone) = zones
                .into_iter()
                .find(|z| z.name.eq_ignore_ascii_case(name))
            {
                tracing::info!(zone = %zone.name, host = %host, "Cloudflare zone found");
                return Ok(zone);
            }
        }
        Err(Error::NotFound(format!(
            "no Cloudflare zone visible to these credentials serves {host} (tried {})",
            candidates.join(", ")
        )))
    }

    /// The host's DNS records (all pages), as the API lists them.
    pub async fn dns_records(&self, zone: &Zone, host: &str) -> Result<Vec<DnsRecord>, Error> {
        self.ensure_verified().await?;
        let host = normalize_host(host);
        let raw: Vec<RawRecord> = self
            .list(
                &format!("/zones/{}/dns_records", zone.id),
                &[("name", host.clone())],
                RECORDS_PER_PAGE,
                Permission::DnsRead,
            )
            .await?;
        Ok(raw
            .into_iter()
            .filter(|r| normalize_host(&r.name) == host)
            .map(|r| DnsRecord {
                name: r.name,
                record_type: r.record_type,
                content: match r.content {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                },
                proxied: r.proxied.unwrap_or(false),
            })
            .collect())
    }

    /// One zone setting (`GET /zones/{id}/settings/{setting}`).
    pub async fn setting<T: DeserializeOwned>(
        &self,
        zone: &Zone,
        id: SettingId,
    ) -> Result<Setting<T>, Error> {
        self.ensure_verified().await?;
        let raw: RawSetting<T> = self
            .call(
                Method::GET,
                &format!("/zones/{}/settings/{}", zone.id, id.as_str()),
                &[],
                None,
                Permission::ZoneSettingsRead,
            )
            .await?
            .result;
        Ok(Setting {
            value: raw.value,
            editable: raw.editable,
        })
    }

    /// `PATCH /zones/{id}/settings/websockets`; returns the setting as the API now reports it.
    pub async fn set_websockets(&self, zone: &Zone, value: OnOff) -> Result<Setting<OnOff>, Error> {
        self.ensure_verified().await?;
        let body = serde_json::json!({ "value": value });
        let raw: RawSetting<OnOff> = self
            .call(
                Method::PATCH,
                &format!("/zones/{}/settings/websockets", zone.id),
                &[],
                Some(&body),
                Permission::ZoneSettingsWrite,
            )
            .await?
            .result;
        Ok(Setting {
            value: raw.value,
            editable: raw.editable,
        })
    }

    /// Everything wspath reads for the edge hop of `host`.
    pub async fn edge_facts(&self, host: &str) -> Result<EdgeFacts, Error> {
        let zone = self.zone_for_host(host).await?;
        let records = self.dns_records(&zone, host).await?;
        let websockets = self.setting::<OnOff>(&zone, SettingId::Websockets).await?;
        let (ssl, always_use_https, min_tls_version, origin_max_http_version, proxy_read_timeout) = tokio::join!(
            self.setting::<SslMode>(&zone, SettingId::Ssl),
            self.setting::<OnOff>(&zone, SettingId::AlwaysUseHttps),
            self.setting::<MinTlsVersion>(&zone, SettingId::MinTlsVersion),
            self.setting::<OriginMaxHttpVersion>(&zone, SettingId::OriginMaxHttpVersion),
            self.setting::<f64>(&zone, SettingId::ProxyReadTimeout),
        );
        Ok(EdgeFacts {
            host: normalize_host(host),
            zone,
            records,
            websockets,
            ssl: readable(ssl)?,
            always_use_https: readable(always_use_https)?,
            min_tls_version: readable(min_tls_version)?,
            origin_max_http_version: readable(origin_max_http_version)?,
            proxy_read_timeout: readable(proxy_read_timeout)?,
        })
    }

    /// Every page of a list endpoint. The server's `result_info` decides (it may cap
    /// `per_page` below what was asked).
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        filter: &[(&str, String)],
        per_page: u32,
        permission: Permission,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        let mut page: u32 = 1;
        loop {
            let mut query: Vec<(&str, String)> = filter.to_vec();
            query.push(("page", page.to_string()));
            query.push(("per_page", per_page.to_string()));
            let ok = self
                .call::<Vec<T>>(Method::GET, path, &query, None, permission)
                .await?;
            let got = ok.result.len();
            out.extend(ok.result);
            if got == 0 || !more_pages(ok.result_info, page, got) {
                return Ok(out);
            }
            if page >= MAX_PAGES {
                return Err(Error::Api {
                    provider: PROVIDER,
                    message: format!("GET {path}: still more results after {MAX_PAGES} pages"),
                });
            }
            page += 1;
        }
    }
}

fn more_pages(info: Option<ResultInfo>, page: u32, got: usize) -> bool {
    let Some(info) = info else { return false };
    let page = info.page.unwrap_or(f64::from(page));
    let per_page = info.per_page.unwrap_or(got as f64);
    match info.total_count {
        Some(total) => page * per_page < total,
        // Without a total, a full page suggests another one.
        None => info.count.unwrap_or(got as f64) >= per_page && per_page > 0.0,
    }
}

/// Settings other than `websockets` may be unreadable on some plans: that becomes a fact. A
/// transport failure or a malformed body still fails the whole read.
fn readable<T>(r: Result<Setting<T>, Error>) -> Result<Readable<T>, Error> {
    match r {
        Ok(s) => Ok(Readable::Read(s)),
        Err(e @ (Error::Auth(_) | Error::Api { .. } | Error::NotFound(_))) => {
            tracing::info!(error = %e, "Cloudflare setting not readable");
            // The status and API message say why; the request itself is noise beside a fact.
            let text = e.to_string();
            let why = match text.split_once(": HTTP ") {
                Some((_, detail)) => format!("HTTP {detail}"),
                None => text,
            };
            Ok(Readable::NotReadable(why))
        }
        Err(e) => Err(e),
    }
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com` (never a bare TLD).
fn suffixes(host: &str) -> Vec<String> {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return vec![host.to_string()];
    }
    (0..labels.len() - 1)
        .map(|i| labels[i..].join("."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_go_from_the_full_name_down_to_two_labels() {
        assert_eq!(
            suffixes("a.b.example.com"),
            vec!["a.b.example.com", "b.example.com", "example.com"]
        );
        assert_eq!(suffixes("example.com"), vec!["example.com"]);
        assert_eq!(suffixes("localhost"), vec!["localhost"]);
    }

    #[test]
    fn paging_follows_the_servers_result_info() {
        let info = |page, per_page, total| {
            Some(ResultInfo {
                page: Some(page),
                per_page: Some(per_page),
                total_count: Some(total),
                count: None,
            })
        };
        assert!(more_pages(info(1.0, 2.0, 3.0), 1, 2));
        assert!(!more_pages(info(2.0, 2.0, 3.0), 2, 1));
        assert!(!more_pages(None, 1, 100));
    }
}
