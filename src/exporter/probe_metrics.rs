//! One probe's [`Report`] as the metrics `/probe` answers with, in a fresh registry per scrape
//! (as blackbox_exporter does): a hop that is gone from the path is gone from the metrics.
//!
//! Labels carry hop names, kinds, verdicts and software names only: never a header, a URL or
//! anything a server sent, so no secret can reach a label.

use crate::report::Report;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopLabel {
    hop: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopKindLabels {
    hop: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopVerdictLabels {
    hop: String,
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CulpritLabels {
    hop: String,
    verdict: String,
    software: String,
}

#[derive(Clone, Copy, Debug)]
enum Value {
    Int(i64),
    Seconds(f64),
}

/// One gauge family whose series keep the order they were added in (the hops' order, outermost
/// first), where `Family` would print them in hash order. Encoded by `prometheus-client`.
#[derive(Debug)]
struct Gauges<L> {
    name: &'static str,
    help: &'static str,
    series: Vec<(L, Value)>,
}

impl<L> Gauges<L> {
    fn new(name: &'static str, help: &'static str) -> Gauges<L> {
        Gauges {
            name,
            help,
            series: Vec::new(),
        }
    }
}

impl<L: EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static> Gauges<L> {
    fn push(&mut self, labels: L, value: Value) {
        self.series.push((labels, value));
    }

    /// Registers the family unless it has no series (a family without samples says nothing).
    fn register(self, registry: &mut Registry) {
        if !self.series.is_empty() {
            registry.register_collector(Box::new(self));
        }
    }
}

impl<L: EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static> Collector for Gauges<L> {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // With the full stop `Registry::register` adds to its metrics' help, so all read alike.
        let help = format!("{}.", self.help);
        let mut metric = encoder.encode_descriptor(self.name, &help, None, MetricType::Gauge)?;
        for (labels, value) in &self.series {
            let sample = metric.encode_family(labels)?;
            match *value {
                Value::Int(v) => ConstGauge::new(v).encode(sample)?,
                Value::Seconds(v) => ConstGauge::new(v).encode(sample)?,
            }
        }
        Ok(())
    }
}

/// Milliseconds as seconds, to the microsecond the probe measures (no float noise digits).
fn seconds(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1_000_000.0
}

/// What the exporter knows about a probe besides its report.
#[derive(Debug, Clone, Default)]
pub struct ProbeRun {
    /// Wall time of the whole probe.
    pub duration: Duration,
    /// The probe was cut off at the scrape budget: no report, a failed probe.
    pub timed_out: bool,
}

/// The registry for one `/probe` answer. `report` is `None` when the probe did not finish within
/// its budget; then only `wspath_probe_success 0`, the duration and `wspath_probe_timed_out 1`.
pub fn registry(report: Option<&Report>, run: &ProbeRun) -> Registry {
    let mut r = Registry::default();
    let success = Gauge::<i64>::default();
    success.set(i64::from(report.is_some_and(|rep| rep.ok)));
    r.register(
        "wspath_probe_success",
        "Whether every hop upgraded and no error-level finding (1) or not (0)",
        success,
    );
    let duration = Gauge::<f64, AtomicU64>::default();
    duration.set(run.duration.as_secs_f64());
    r.register(
        "wspath_probe_duration_seconds",
        "How long the whole probe took",
        duration,
    );
    let timed_out = Gauge::<i64>::default();
    timed_out.set(i64::from(run.timed_out));
    r.register(
        "wspath_probe_timed_out",
        "Whether the probe was cut off at the scrape timeout budget (1) or finished (0)",
        timed_out,
    );
    let Some(report) = report else {
        return r;
    };

    let mut hop_success = Gauges::new(
        "wspath_hop_success",
        "Whether this hop upgraded the WebSocket (1) or not (0)",
    );
    let mut verdicts = Gauges::new(
        "wspath_hop_verdict",
        "The verdict of this hop's probe, as a label (always 1)",
    );
    let mut handshake = Gauges::new(
        "wspath_hop_handshake_seconds",
        "From the start of the probe to the first byte of the hop's answer (DNS, TCP, TLS, request)",
    );
    let mut ping = Gauges::new(
        "wspath_hop_ping_rtt_seconds",
        "Round trip of a ping over the upgraded connection",
    );
    let mut idle_dropped = Gauges::new(
        "wspath_hop_idle_dropped_seconds",
        "After how many seconds of silence the hop dropped the WebSocket (0: it held for the whole idle hold)",
    );
    let mut status = Gauges::new(
        "wspath_hop_status_code",
        "HTTP status code of the hop's answer to the upgrade request",
    );
    let mut tls_expiry = Gauges::new(
        "wspath_hop_tls_expiry_seconds",
        "Seconds until the certificate the hop presented expires",
    );
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    for h in &report.hops {
        let hop = || HopLabel {
            hop: h.name.clone(),
        };
        let o = &h.outcome;
        hop_success.push(
            HopKindLabels {
                hop: h.name.clone(),
                kind: h.kind.as_str().to_string(),
            },
            Value::Int(i64::from(o.verdict.passed())),
        );
        // One series per hop: a 0 series for each of the other verdicts would multiply the
        // series count by the number of verdicts for nothing a query needs.
        verdicts.push(
            HopVerdictLabels {
                hop: h.name.clone(),
                verdict: o.verdict.to_string(),
            },
            Value::Int(1),
        );
        let t = &o.timings;
        if let Some(first_byte) = t.first_byte {
            let ms = t.dns.unwrap_or(0.0) + t.connect.unwrap_or(0.0) + t.tls.unwrap_or(0.0);
            handshake.push(hop(), Value::Seconds(seconds(ms + first_byte)));
        }
        if let Some(rtt) = o.ping_rtt_ms {
            ping.push(hop(), Value::Seconds(seconds(rtt)));
        }
        if let Some(idle) = &o.idle {
            let after = if idle.dropped {
                idle.dropped_after_ms.unwrap_or(idle.held_ms)
            } else {
                0.0
            };
            idle_dropped.push(hop(), Value::Seconds(seconds(after)));
        }
        if let Some(code) = o.evidence.status {
            status.push(hop(), Value::Int(i64::from(code)));
        }
        if let Some(not_after) = o.evidence.tls.as_ref().and_then(|t| t.not_after) {
            tls_expiry.push(hop(), Value::Seconds(not_after as f64 - now));
        }
    }
    hop_success.register(&mut r);
    verdicts.register(&mut r);
    handshake.register(&mut r);
    ping.register(&mut r);
    idle_dropped.register(&mut r);
    status.register(&mut r);
    tls_expiry.register(&mut r);
    if let Some(c) = &report.culprit {
        let software = report
            .hop(&c.hop)
            .map(|h| h.outcome.evidence.answered_by.as_str())
            .unwrap_or("unknown");
        let mut culprit = Gauges::new(
            "wspath_culprit_info",
            "The hop where the break begins, its verdict and the software that answered there",
        );
        culprit.push(
            CulpritLabels {
                hop: c.hop.clone(),
                verdict: c.verdict.to_string(),
                software: software.to_string(),
            },
            Value::Int(1),
        );
        culprit.register(&mut r);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::Exposition;
    use crate::report::sample;

    fn text(report: Option<&Report>) -> String {
        let run = ProbeRun {
            duration: Duration::from_millis(1500),
            timed_out: report.is_none(),
        };
        Exposition::Text.encode(&registry(report, &run))
    }

    #[test]
    fn a_broken_path_names_its_culprit() {
        let report = sample::broken();
        let out = text(Some(&report));
        assert!(out.contains("wspath_probe_success 0\n"), "{out}");
        assert!(out.contains("wspath_probe_duration_seconds 1.5\n"), "{out}");
        let c = report.culprit.as_ref().unwrap();
        let line = format!(
            "wspath_culprit_info{{hop=\"{}\",verdict=\"{}\",software=\"{}\"}} 1",
            c.hop,
            c.verdict,
            report.hop(&c.hop).unwrap().outcome.evidence.answered_by
        );
        assert!(out.contains(&line), "{line}\n{out}");
        for h in &report.hops {
            let v = format!(
                "wspath_hop_verdict{{hop=\"{}\",verdict=\"{}\"}} 1",
                h.name, h.outcome.verdict
            );
            assert!(out.contains(&v), "{v}\n{out}");
            assert_eq!(
                out.matches(&format!("wspath_hop_verdict{{hop=\"{}\",", h.name))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn hops_keep_their_order() {
        let report = sample::broken();
        let out = text(Some(&report));
        let at = |name: &str| {
            out.find(&format!("wspath_hop_success{{hop=\"{name}\""))
                .unwrap()
        };
        let names: Vec<&str> = report.hops.iter().map(|h| h.name.as_str()).collect();
        for pair in names.windows(2) {
            assert!(at(pair[0]) < at(pair[1]), "{pair:?}\n{out}");
        }
    }

    #[test]
    fn a_healthy_path_has_no_culprit_series() {
        let report = sample::healthy();
        let out = text(Some(&report));
        assert!(out.contains("wspath_probe_success 1\n"), "{out}");
        assert!(!out.contains("wspath_culprit_info"), "{out}");
        assert!(out.contains("wspath_hop_success{hop="), "{out}");
    }

    #[test]
    fn a_cut_off_probe_is_a_failure_without_hops() {
        let out = text(None);
        assert!(out.contains("wspath_probe_success 0\n"), "{out}");
        assert!(out.contains("wspath_probe_timed_out 1\n"), "{out}");
        assert!(!out.contains("wspath_hop_"), "{out}");
    }
}
