//! `wspath serve`'s engine side: what a probe's [`Report`](crate::report::Report) says, as
//! Prometheus metrics ([`probe_metrics`]), the exporter's own metrics ([`own`]), which targets
//! may be probed ([`allow`]) and how long a scrape may take ([`budget`]).
//!
//! Nothing here knows HTTP: the CLI's server asks these functions and answers with what they
//! return, so they are tested without a socket.

pub mod allow;
pub mod budget;
pub mod own;
pub mod probe_metrics;

use prometheus_client::encoding::text;
use prometheus_client::registry::Registry;

/// The exposition formats the exporter answers in; both are written by `prometheus-client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// The Prometheus text format (`text/plain; version=0.0.4`), for curl and older scrapers.
    Text,
    /// OpenMetrics 1.0, which Prometheus asks for first.
    OpenMetrics,
}

impl Exposition {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` (as Prometheus does), the text format otherwise.
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let wants_openmetrics = accept.is_some_and(|a| {
            a.split(',').any(|part| {
                let mut fields = part.split(';').map(str::trim);
                let media = fields.next().unwrap_or("");
                // `q=0` means "not this one".
                let refused = fields.any(|f| {
                    f.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
            })
        });
        if wants_openmetrics {
            Exposition::OpenMetrics
        } else {
            Exposition::Text
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Text => "text/plain; version=0.0.4; charset=utf-8",
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The registry in this format. The text format is the OpenMetrics body without `# EOF`:
    /// the metrics here are gauges, counters and histograms (no `info` or `unit` types), whose
    /// OpenMetrics lines the text-format parser reads the same.
    pub fn encode(self, registry: &Registry) -> String {
        let mut out = String::new();
        let written = match self {
            Exposition::OpenMetrics => text::encode(&mut out, registry),
            Exposition::Text => text::encode_registry(&mut out, registry),
        };
        // Writing into a String cannot fail; an encoder error would be a bug in a metric.
        if let Err(e) = written {
            tracing::error!("encoding metrics: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_gets_openmetrics_and_curl_gets_text() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(
            Exposition::negotiate(Some(prometheus)),
            Exposition::OpenMetrics
        );
        assert_eq!(Exposition::negotiate(Some("*/*")), Exposition::Text);
        assert_eq!(Exposition::negotiate(None), Exposition::Text);
        assert_eq!(
            Exposition::negotiate(Some("application/openmetrics-text;q=0, text/plain")),
            Exposition::Text
        );
    }

    #[test]
    fn only_openmetrics_ends_with_eof() {
        let registry = Registry::default();
        assert!(Exposition::OpenMetrics
            .encode(&registry)
            .ends_with("# EOF\n"));
        assert!(!Exposition::Text.encode(&registry).contains("# EOF"));
    }
}
