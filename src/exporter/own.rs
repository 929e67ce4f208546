//! The exporter's own metrics on `/metrics`: how many probes it ran and how they ended, how long
//! they took, how many run now, which build this is, and the process's CPU, memory and file
//! descriptors (read from `/proc` at each scrape, as the Go client's process collector does).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::{Duration, SystemTime};

/// How a `/probe` request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeResult {
    /// The path is healthy.
    Success,
    /// The probe ran and found a culprit (or an error-level finding).
    Failure,
    /// The probe was cut off at the scrape budget.
    Timeout,
    /// Refused before probing: not allowed (403).
    Forbidden,
    /// Refused before probing: too many in flight (429).
    TooMany,
    /// Refused before probing: a bad target, hop or module (400).
    BadRequest,
}

impl ProbeResult {
    pub const ALL: [ProbeResult; 6] = [
        ProbeResult::Success,
        ProbeResult::Failure,
        ProbeResult::Timeout,
        ProbeResult::Forbidden,
        ProbeResult::TooMany,
        ProbeResult::BadRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeResult::Success => "success",
            ProbeResult::Failure => "failure",
            ProbeResult::Timeout => "timeout",
            ProbeResult::Forbidden => "forbidden",
            ProbeResult::TooMany => "too_many",
            ProbeResult::BadRequest => "bad_request",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// The metrics of one exporter process, shared by every request.
#[derive(Debug)]
pub struct OwnMetrics {
    registry: Registry,
    probes: Family<ResultLabel, Counter>,
    durations: Histogram,
    in_flight: Gauge,
    reloads: Family<ResultLabel, Counter>,
}

impl Default for OwnMetrics {
    fn default() -> Self {
        OwnMetrics::new()
    }
}

impl OwnMetrics {
    pub fn new() -> OwnMetrics {
        let mut registry = Registry::default();
        let probes = Family::<ResultLabel, Counter>::default();
        registry.register(
            "wspath_probes",
            "Probe requests by how they ended (success, failure, timeout, forbidden, too_many, bad_request)",
            probes.clone(),
        );
        // 5 ms … 82 s: a loopback path to a cut-off idle hold.
        let durations = Histogram::new(exponential_buckets(0.005, 2.0, 15));
        registry.register(
            "wspath_probe_run_duration_seconds",
            "How long the probes that ran took",
            durations.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "wspath_probes_in_flight",
            "Probes running now",
            in_flight.clone(),
        );
        let reloads = Family::<ResultLabel, Counter>::default();
        registry.register(
            "wspath_config_reloads",
            "Configuration reloads (SIGHUP) by result (success, failure)",
            reloads.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            })
            .set(1);
        registry.register("wspath_build_info", "The wspath build (always 1)", build);
        registry.register_collector(Box::new(ProcessCollector::new()));
        // Every series exists from the start at 0: a counter first seen at 1 has no increase
        // for rate()/increase(), so an alert on the first reload failure (or the first
        // refused probe) would never fire.
        for r in ProbeResult::ALL {
            let _ = probes.get_or_create(&ResultLabel {
                result: r.as_str().to_string(),
            });
        }
        for result in ["success", "failure"] {
            let _ = reloads.get_or_create(&ResultLabel {
                result: result.to_string(),
            });
        }
        OwnMetrics {
            registry,
            probes,
            durations,
            in_flight,
            reloads,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts a finished (or refused) probe request.
    pub fn probe_done(&self, result: ProbeResult, took: Option<Duration>) {
        self.probes
            .get_or_create(&ResultLabel {
                result: result.as_str().to_string(),
            })
            .inc();
        if let Some(d) = took {
            self.durations.observe(d.as_secs_f64());
        }
    }

    /// Marks a probe running until the returned guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn reloaded(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.reloads
            .get_or_create(&ResultLabel {
                result: result.to_string(),
            })
            .inc();
    }
}

/// One probe in flight; dropping it (even when the request is cancelled) counts it out.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `process_*` metrics from `/proc/self`; absent where `/proc` is not there.
#[derive(Debug)]
struct ProcessCollector {
    start_time: f64,
}

impl ProcessCollector {
    fn new() -> ProcessCollector {
        let start_time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        ProcessCollector { start_time }
    }
}

/// What `/proc/self` says about this process.
#[derive(Debug, Default, PartialEq)]
struct ProcStat {
    cpu_seconds: f64,
    virtual_bytes: f64,
    resident_bytes: f64,
}

/// `/proc/self/stat`: utime and stime (fields 14, 15) in clock ticks, vsize (23) in bytes, rss
/// (24) in pages. The command name (field 2) may hold spaces, so fields count from its `)`.
fn parse_stat(stat: &str, ticks_per_second: f64, page_size: f64) -> Option<ProcStat> {
    let after = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state).
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(ProcStat {
        cpu_seconds: (field(14)? + field(15)?) / ticks_per_second,
        virtual_bytes: field(23)?,
        resident_bytes: field(24)? * page_size,
    })
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Linux's USER_HZ and page size on every architecture wspath ships for.
        let stat = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s, 100.0, 4096.0));
        if let Some(stat) = stat {
            let cpu = ConstCounter::new(stat.cpu_seconds);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?)?;
            for (name, help, v) in [
                (
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes",
                    stat.resident_bytes,
                ),
                (
                    "process_virtual_memory_bytes",
                    "Virtual memory size in bytes",
                    stat.virtual_bytes,
                ),
            ] {
                let g = ConstGauge::new(v);
                g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            let g = ConstGauge::new(fds.count() as i64);
            g.encode(encoder.encode_descriptor(
                "process_open_fds",
                "Number of open file descriptors",
                None,
                g.metric_type(),
            )?)?;
        }
        let g = ConstGauge::new(self.start_time);
        g.encode(encoder.encode_descriptor(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds",
            None,
            g.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::Exposition;

    #[test]
    fn stat_fields_count_from_the_command_name() {
        let stat = "4242 (wspath (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 123 104857600 2560 18446744073709551615";
        assert_eq!(
            parse_stat(stat, 100.0, 4096.0),
            Some(ProcStat {
                cpu_seconds: 3.0,
                virtual_bytes: 104_857_600.0,
                resident_bytes: 2560.0 * 4096.0,
            })
        );
        assert_eq!(parse_stat("garbage", 100.0, 4096.0), None);
    }

    #[test]
    fn every_counter_series_exists_at_zero_from_the_start() {
        let out = Exposition::Text.encode(OwnMetrics::new().registry());
        for r in ProbeResult::ALL {
            let line = format!("wspath_probes_total{{result=\"{}\"}} 0\n", r.as_str());
            assert!(out.contains(&line), "{line}\n{out}");
        }
        for r in ["success", "failure"] {
            let line = format!("wspath_config_reloads_total{{result=\"{r}\"}} 0\n");
            assert!(out.contains(&line), "{line}\n{out}");
        }
    }

    #[test]
    fn counts_results_and_in_flight() {
        let m = OwnMetrics::new();
        m.probe_done(ProbeResult::Success, Some(Duration::from_millis(20)));
        m.probe_done(ProbeResult::Forbidden, None);
        let guard = m.in_flight();
        let out = Exposition::Text.encode(m.registry());
        assert!(
            out.contains("wspath_probes_total{result=\"success\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("wspath_probes_total{result=\"forbidden\"} 1"),
            "{out}"
        );
        assert!(out.contains("wspath_probes_in_flight 1\n"), "{out}");
        assert!(
            out.contains("wspath_probe_run_duration_seconds_count 1\n"),
            "{out}"
        );
        assert!(out.contains("wspath_build_info{version=\""), "{out}");
        assert!(out.contains("process_resident_memory_bytes "), "{out}");
        assert!(out.contains("process_cpu_seconds_total "), "{out}");
        drop(guard);
        let out = Exposition::Text.encode(m.registry());
        assert!(out.contains("wspath_probes_in_flight 0\n"), "{out}");
    }
}
