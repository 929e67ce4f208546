//! A path of hops → concurrent probes → the culprit (data only).
//!
//! Probing is the only I/O here; everything after it (which hop is the culprit, what to say,
//! which fix) is pure and lives in the submodules so it can be tested with built outcomes.

pub mod culprit;
pub mod http2;
pub mod idle;
pub mod own_answer;
pub mod summary;
pub mod variants;

use crate::hop::Hop;
use crate::probe::http2::Http2Outcome;
use crate::probe::{Browser, CloseDrain, ProbeOptions, ProbeOutcome};
use crate::report::{HopReport, Report, VariantReport};
use crate::target::Target;
use crate::verdict::Verdict;
use std::borrow::Cow;
use std::time::Duration;

pub use summary::judge;

/// Everything one `check` needs, already validated.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub target: Target,
    /// Outermost first; never empty.
    pub hops: Vec<Hop>,
    pub probe: ProbeOptions,
    /// Other browsers' requests to send at every hop too (`--as all`), compared with
    /// `probe.browser`'s. Each is a plain handshake and ping: no echo, no idle hold.
    pub compare: Vec<Browser>,
}

/// What the walk reports while it runs, as plain data (the CLI turns it into spinners).
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Every hop's probe has started; with `--idle`, each upgraded hop is then held this long.
    Started {
        hops: Vec<String>,
        idle: Option<Duration>,
    },
    /// One hop's probe is complete.
    HopDone {
        index: usize,
        verdict: Verdict,
        total_ms: f64,
    },
}

/// Probes every hop concurrently and names the culprit.
pub async fn check(config: &CheckConfig) -> Report {
    walk(config, &RealProbe, None, false).await.0
}

/// [`check`], telling `progress` as hops start and finish.
pub async fn check_with_progress(
    config: &CheckConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Report {
    walk(config, &RealProbe, Some(progress), false).await.0
}

/// [`check`], for a caller that runs it in a task of its own (an audit's check): the first
/// hop's probe runs in that task rather than in one of its own, and the server's answer to its
/// polite close is left for the caller to read back ([`CloseDrain::finish`]) once it has used
/// the report. The report is the same as [`check`]'s.
pub async fn check_in_task(config: &CheckConfig) -> (Report, Option<CloseDrain>) {
    walk(config, &RealProbe, None, true).await
}

/// One hop's probe; the real one, or a stand-in in unit tests.
trait ProbeHop {
    async fn probe(&self, target: &Target, hop: &Hop, options: &ProbeOptions) -> ProbeOutcome;

    /// [`ProbeHop::probe`] in the caller's task (the only probe run there), with the polite
    /// close still to be read back.
    async fn probe_in_task(
        &self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
    ) -> (ProbeOutcome, Option<CloseDrain>) {
        (self.probe(target, hop, options).await, None)
    }

    /// The same WebSocket over HTTP/2, at TLS hops.
    async fn probe_http2(&self, _: &Target, _: &Hop, _: &ProbeOptions) -> Option<Http2Outcome> {
        None
    }

    /// The hop's answer to a request it answers itself (see [`own_answer`]).
    async fn own_answer(
        &self,
        _target: &Target,
        _hop: &Hop,
        _options: &ProbeOptions,
    ) -> Option<crate::software::identify::OwnAnswer> {
        None
    }
}

struct RealProbe;

impl ProbeHop for RealProbe {
    async fn probe(&self, target: &Target, hop: &Hop, options: &ProbeOptions) -> ProbeOutcome {
        crate::probe::probe(target, hop, options).await
    }

    async fn probe_in_task(
        &self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
    ) -> (ProbeOutcome, Option<CloseDrain>) {
        crate::probe::probe_in_task(target, hop, options).await
    }

    async fn probe_http2(
        &self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
    ) -> Option<Http2Outcome> {
        // Browsers never speak h2c: a plain hop has only its HTTP/1.1 path.
        if !options.http2 || !hop.scheme.is_tls() {
            return None;
        }
        // Boxed, so that every hop's future (allocated and moved for each check) does not
        // carry the HTTP/2 client's state when it has no TLS hop to use it on.
        Some(Box::pin(crate::probe::http2::probe(target, hop, options)).await)
    }

    async fn own_answer(
        &self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
    ) -> Option<crate::software::identify::OwnAnswer> {
        // Boxed for the same reason: most hops are never asked.
        Box::pin(own_answer::own_answer(target, hop, options)).await
    }
}

/// The walk. `progress` is told as hops start and finish (nothing is built for it when there is
/// none). With `in_task`, the caller runs this walk in a task of its own: the first hop's main
/// probe runs in it (one probe per task keeps tokio's cooperative budget from letting a flooding
/// peer starve the others, and every other probe still has its own task), and its close is
/// handed back to be read.
async fn walk(
    config: &CheckConfig,
    prober: &impl ProbeHop,
    progress: Option<&(dyn Fn(Progress) + Sync)>,
    in_task: bool,
) -> (Report, Option<CloseDrain>) {
    if let Some(progress) = progress {
        progress(Progress::Started {
            hops: config.hops.iter().map(|h| h.name.clone()).collect(),
            idle: config.probe.idle,
        });
    }
    let variant_options: Vec<(Browser, ProbeOptions)> = config
        .compare
        .iter()
        .filter(|&&b| b != config.probe.browser)
        .map(|&browser| {
            let options = ProbeOptions {
                browser,
                echo: None,
                idle: None,
                ..config.probe.clone()
            };
            (browser, options)
        })
        .collect();
    // All at once, so `--idle` holds every hop silent over the same stretch of time; a hop's
    // variants and its HTTP/2 path (each on its own connection: real clients use any of them)
    // go alongside its main probe.
    // Clients reach the outermost hop with the target's own scheme: a plain port there is a
    // break, never a hop to probe over ws:// instead. (Copied only when that changes it.)
    let path_hops: Vec<Cow<'_, Hop>> = config
        .hops
        .iter()
        .enumerate()
        .map(|(index, hop)| {
            if index == 0 && hop.scheme_inherited {
                Cow::Owned(Hop {
                    scheme_inherited: false,
                    ..hop.clone()
                })
            } else {
                Cow::Borrowed(hop)
            }
        })
        .collect();
    let variant_options = &variant_options;
    let probe_hop = hop_probe(|index, hop| {
        async move {
            let main = async {
                if in_task && index == 0 {
                    prober
                        .probe_in_task(&config.target, hop, &config.probe)
                        .await
                } else {
                    (prober.probe(&config.target, hop, &config.probe).await, None)
                }
            };
            let http2 = prober.probe_http2(&config.target, hop, &config.probe);
            let variants = futures_util::future::join_all(variant_options.iter().map(
                |(browser, options)| async move {
                    VariantReport {
                        browser: *browser,
                        outcome: prober.probe(&config.target, hop, options).await,
                    }
                },
            ));
            let all = futures_util::future::join3(main, http2, variants);
            tokio::pin!(all);
            let done = tokio::select! {
                done = &mut all => Some(done),
                // Interrupted: a hop in its idle hold ends it at once and reports what it
                // held; one still mid-handshake has nothing to show and is left out.
                () = crate::interrupt::wait() => {
                    tokio::time::timeout(INTERRUPT_GRACE, all).await.ok()
                }
            };
            let ((outcome, drain), http2, variants) = done?;
            // Every hop in front is asked something it answers itself: whether its upgrade
            // answer was its own shows only beside the hop behind (HAProxy passing nginx's
            // 101 on carries nginx's Server header). The innermost hop too when it speaks
            // TLS: that is mostly a proxy in front of an application nobody listed, passing
            // the application's answer on (a plain innermost hop is mostly the application,
            // which is left alone). A hop that gave no HTTP answer is not asked when it hung
            // (that would only cost another timeout), but is when it closed at once: Varnish
            // piping to a backend it cannot reach says nothing else. A TLS hop is asked
            // whenever its handshake got as far as a certificate: the issuer may name it
            // (most of all when it is not trusted).
            let answered = outcome.evidence.status.is_some();
            let closed = outcome.verdict == crate::verdict::Verdict::NoResponse;
            let ask = (answered && index + 1 < config.hops.len())
                || closed
                || (hop.scheme.is_tls()
                    && (answered || outcome.verdict == crate::verdict::Verdict::TlsFailed));
            let own = if ask && !crate::interrupt::requested() {
                prober.own_answer(&config.target, hop, &config.probe).await
            } else {
                None
            };
            if let Some(progress) = progress {
                progress(Progress::HopDone {
                    index,
                    verdict: outcome.verdict,
                    total_ms: outcome.timings.total,
                });
            }
            Some((outcome, drain, http2, variants, own))
        }
    });
    // One hop (most checks) is awaited as it is: no joined list of futures to allocate.
    let outcomes = match path_hops.as_slice() {
        [hop] => vec![probe_hop(0, hop).await],
        hops => {
            futures_util::future::join_all(hops.iter().enumerate().map(|(i, h)| probe_hop(i, h)))
                .await
        }
    };
    let mut close = None;
    let hops = path_hops
        .iter()
        .zip(outcomes)
        .filter_map(|(hop, done)| {
            let (outcome, drain, http2, variants, own_answer) = done?;
            if drain.is_some() {
                close = drain;
            }
            // A hop probed over ws:// after all has no TLS, so no HTTP/2 path either.
            let http2 = http2.filter(|_| crate::report::probed_scheme(hop, &outcome).is_tls());
            Some(HopReport {
                http2,
                variants,
                own_answer,
                ..HopReport::new(hop, &config.target, outcome)
            })
        })
        .collect();
    let mut report = Report::new_as(&config.target, hops, config.probe.browser);
    if crate::interrupt::requested() {
        report.mark_incomplete(config.hops.len());
    }
    (report, close)
}

/// Ties a hop's probe closure to the one lifetime of the walk's hops (a closure's own
/// signature cannot name it).
fn hop_probe<'a, F, Fut>(f: F) -> F
where
    F: Fn(usize, &'a Hop) -> Fut,
{
    f
}

/// How long an interrupted probe may take to hand back what it has (an idle hold stops at
/// once; a handshake in flight does not get to finish).
const INTERRUPT_GRACE: Duration = Duration::from_millis(300);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::{HopKind, HopSpec};
    use crate::probe::{Evidence, Timings};
    use crate::verdict::Stage;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Instant;

    /// Answers from a table by hop name, after a delay, recording when each probe started.
    struct Scripted {
        verdicts: HashMap<&'static str, Verdict>,
        delay: Duration,
        started: Mutex<Vec<Instant>>,
    }

    impl ProbeHop for Scripted {
        async fn probe(&self, _: &Target, hop: &Hop, _: &ProbeOptions) -> ProbeOutcome {
            self.started.lock().unwrap().push(Instant::now());
            tokio::time::sleep(self.delay).await;
            ProbeOutcome {
                verdict: self.verdicts[hop.name.as_str()],
                stage: Stage::Done,
                detail: String::new(),
                evidence: Evidence {
                    answered_by: crate::report::sample::answered("unknown"),
                    ..Evidence::default()
                },
                timings: Timings {
                    total: self.delay.as_secs_f64() * 1000.0,
                    ..Timings::default()
                },
                ping_rtt_ms: None,
                echo_ok: None,
                idle: None,
                curl: String::new(),
            }
        }
    }

    fn config(names: &[&str]) -> CheckConfig {
        let target = Target::parse("ws://example.test/ws").unwrap();
        let hops = names
            .iter()
            .map(|n| {
                HopSpec::parse(&format!("{n}=127.0.0.1:9"))
                    .unwrap()
                    .resolve(&target)
            })
            .collect();
        CheckConfig {
            probe: ProbeOptions::new(&target),
            target,
            hops,
            compare: Vec::new(),
        }
    }

    #[tokio::test]
    async fn probes_run_concurrently_and_report_progress() {
        let prober = Scripted {
            verdicts: HashMap::from([
                ("lb", Verdict::BadGateway),
                ("nginx", Verdict::BadGateway),
                ("backend", Verdict::ConnectRefused),
            ]),
            delay: Duration::from_millis(200),
            started: Mutex::new(Vec::new()),
        };
        let events = Mutex::new(Vec::new());
        let begun = Instant::now();
        let (report, _) = walk(
            &config(&["lb", "nginx", "backend"]),
            &prober,
            Some(&|p| events.lock().unwrap().push(p)),
            false,
        )
        .await;
        // Sequential probes would take 600 ms.
        assert!(begun.elapsed() < Duration::from_millis(500));
        let started = prober.started.lock().unwrap();
        assert_eq!(started.len(), 3);
        assert!(started[2].duration_since(started[0]) < Duration::from_millis(100));

        let events = events.into_inner().unwrap();
        assert_eq!(
            events[0],
            Progress::Started {
                hops: vec!["lb".into(), "nginx".into(), "backend".into()],
                idle: None
            }
        );
        assert_eq!(events.len(), 4);
        assert!(events[1..]
            .iter()
            .all(|e| matches!(e, Progress::HopDone { total_ms, .. } if *total_ms >= 200.0)));

        assert!(!report.ok);
        let culprit = report.culprit.as_ref().unwrap();
        assert_eq!(culprit.hop, "backend");
        assert_eq!(culprit.kind, HopKind::Backend);
        assert_eq!(report.target, "ws://example.test/ws");
        assert_eq!(report.hops[0].address, "127.0.0.1:9");
        assert!(report.hops[0].consequence && report.hops[1].consequence);
    }

    #[tokio::test]
    async fn healthy_walk_is_ok() {
        let prober = Scripted {
            verdicts: HashMap::from([("target", Verdict::Upgraded)]),
            delay: Duration::ZERO,
            started: Mutex::new(Vec::new()),
        };
        let mut cfg = config(&[]);
        cfg.hops = vec![Hop::direct(&cfg.target)];
        let (report, _) = walk(&cfg, &prober, None, true).await;
        assert!(report.ok);
        assert_eq!(report.culprit, None);
        assert_eq!(report.hops[0].address, "example.test:80");
    }
}
