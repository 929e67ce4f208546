//! How long one probe may take: Prometheus says how long it will wait for a scrape in
//! `X-Prometheus-Scrape-Timeout-Seconds`; the probe must answer before that, or Prometheus
//! records a failed scrape instead of the hop that broke.

use std::time::Duration;

/// The header Prometheus sends with every scrape.
pub const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// Kept back from the scrape timeout for encoding and the network (blackbox keeps 0.5 s too).
pub const MARGIN: Duration = Duration::from_millis(500);

/// The whole probe's budget for a scrape-timeout header value: the timeout less [`MARGIN`]
/// (but never less than half of it, for very short timeouts). `None` when the header is absent
/// or not a positive number of seconds.
pub fn from_header(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    if !secs.is_finite() || secs <= 0.0 {
        return None;
    }
    let timeout = Duration::try_from_secs_f64(secs).ok()?;
    Some(timeout.saturating_sub(MARGIN).max(timeout / 2))
}

/// The per-phase timeout of each hop's probe within `budget`: a hop's phases run one after the
/// other (connect, TLS, response head), so each gets at most half the budget, so that a silent
/// hop ends as a `timeout` verdict inside the budget, with the rest of the report beside it.
pub fn phase_timeout(configured: Duration, budget: Option<Duration>) -> Duration {
    match budget {
        Some(b) => configured.min(b / 2).max(Duration::from_millis(10)),
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_less_a_margin() {
        assert_eq!(from_header(Some("10")), Some(Duration::from_millis(9500)));
        assert_eq!(from_header(Some(" 2.5 ")), Some(Duration::from_secs(2)));
        assert_eq!(from_header(Some("0.6")), Some(Duration::from_millis(300)));
        for bad in ["", "0", "-1", "ten", "NaN", "inf"] {
            assert_eq!(from_header(Some(bad)), None, "{bad}");
        }
        assert_eq!(from_header(None), None);
    }

    #[test]
    fn phases_fit_the_budget() {
        let ten = Duration::from_secs(10);
        assert_eq!(phase_timeout(ten, None), ten);
        assert_eq!(
            phase_timeout(ten, Some(Duration::from_secs(3))),
            Duration::from_millis(1500)
        );
        assert_eq!(
            phase_timeout(Duration::from_secs(1), Some(Duration::from_secs(9))),
            Duration::from_secs(1)
        );
    }
}
