//! Which hop is the culprit, from the outcomes alone (pure, no I/O).
//!
//! Hops are ordered from the client inward, and each hop's traffic goes through every hop inside
//! it. So when a hop fails while the hop right inside it works, the break begins at that hop;
//! hops further out that fail too are only passing its answer along (consequences). A hop
//! that visibly fails on its own (cannot be reached, or answers a 404/403/redirect the hop
//! inside did not) is where real traffic stops, so it is the culprit even when hops further in
//! fail as well; those are noted as deeper failures.
//!
//! Failures are judged in tiers, because a later phase only means something once the earlier
//! one works everywhere: first the handshake, then frames (ping/echo), then `--idle` holds.

use crate::probe::ProbeOutcome;
use crate::verdict::Verdict;

/// The phase a culprit failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Handshake,
    Frames,
    Idle,
}

/// The walker's decision, by hop index (0 = outermost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub culprit: usize,
    pub tier: Tier,
    /// Failing hops outside the culprit that pass its answer along.
    pub consequences: Vec<usize>,
    /// Hops inside the culprit that fail too (in the same tier), for the summary.
    pub deeper: Vec<usize>,
}

impl Tier {
    const ALL: [Tier; 3] = [Tier::Handshake, Tier::Frames, Tier::Idle];

    /// Whether `o` fails in this tier.
    pub fn fails(self, o: &ProbeOutcome) -> bool {
        match self {
            Tier::Handshake => !matches!(
                o.verdict,
                Verdict::Upgraded | Verdict::FramesFailed | Verdict::IdleDropped
            ),
            Tier::Frames => o.verdict == Verdict::FramesFailed,
            Tier::Idle => {
                o.verdict == Verdict::IdleDropped || o.idle.as_ref().is_some_and(|i| i.dropped)
            }
        }
    }

    /// Whether a failing hop failed on its own rather than passing on what `inner` answered.
    /// A failure before the request could reach anything behind the hop is always its own; so
    /// is an answer a gateway would not make of the inner hop's failure: a 403, 404 or redirect
    /// with a status the hop inside did not answer. Gateway errors (502/503/504), silence and
    /// timeouts are what a hop makes of a failure behind it, so they are never "own". While
    /// idle, a hop that drops clearly before the hop inside it did dropped on its own timer.
    fn own(self, o: &ProbeOutcome, inner: Option<&ProbeOutcome>) -> bool {
        match self {
            Tier::Handshake => own_answer(o, inner),
            Tier::Frames => false,
            Tier::Idle => match (drop_ms(o), inner.and_then(drop_ms)) {
                // A drop passed outward arrives a little after the inner one, never before.
                (Some(outer), Some(inner)) => outer + (outer * 0.1).max(500.0) < inner,
                _ => false,
            },
        }
    }
}

fn drop_ms(o: &ProbeOutcome) -> Option<f64> {
    o.idle
        .as_ref()
        .filter(|i| i.dropped)
        .map(|i| i.dropped_after_ms.unwrap_or(i.held_ms))
}

/// See [`Tier::own`]: the handshake case.
fn own_answer(o: &ProbeOutcome, inner: Option<&ProbeOutcome>) -> bool {
    match o.verdict {
        Verdict::DnsFailed
        | Verdict::ConnectRefused
        | Verdict::ConnectTimeout
        | Verdict::TlsFailed => true,
        Verdict::Rejected
        | Verdict::Redirect
        | Verdict::UpgradeStripped
        | Verdict::BadAccept
        | Verdict::MalformedResponse => {
            inner.is_some_and(|i| i.evidence.status != o.evidence.status)
        }
        _ => false,
    }
}

/// The culprit among `outcomes` (outermost first), or `None` when every hop works.
pub fn select(outcomes: &[&ProbeOutcome]) -> Option<Selection> {
    Tier::ALL.into_iter().find_map(|tier| {
        let fails: Vec<bool> = outcomes.iter().map(|o| tier.fails(o)).collect();
        let own: Vec<bool> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| tier.own(o, outcomes.get(i + 1).copied()))
            .collect();
        let culprit = outermost_break(&fails, &own)?;
        Some(Selection {
            culprit,
            tier,
            consequences: (0..culprit).filter(|&i| fails[i]).collect(),
            deeper: (culprit + 1..fails.len()).filter(|&i| fails[i]).collect(),
        })
    })
}

/// The outermost hop that fails while the hop inside it passes (or that is innermost, or whose
/// failure is its own).
fn outermost_break(fails: &[bool], own: &[bool]) -> Option<usize> {
    (0..fails.len()).find(|&i| fails[i] && (own[i] || fails.get(i + 1) != Some(&true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Evidence, IdleOutcome, Timings};
    use crate::verdict::Stage;

    fn outcome(verdict: Verdict) -> ProbeOutcome {
        ProbeOutcome {
            verdict,
            stage: Stage::Done,
            detail: String::new(),
            evidence: Evidence::default(),
            timings: Timings::default(),
            ping_rtt_ms: None,
            echo_ok: None,
            idle: None,
            curl: String::new(),
        }
    }

    fn idle(dropped_after: Option<f64>) -> ProbeOutcome {
        let mut o = outcome(if dropped_after.is_some() {
            Verdict::IdleDropped
        } else {
            Verdict::Upgraded
        });
        o.idle = Some(IdleOutcome {
            held_ms: dropped_after.unwrap_or(5000.0),
            dropped: dropped_after.is_some(),
            dropped_after_ms: dropped_after,
            close_code: dropped_after.map(|_| 1006),
            close_reason: None,
        });
        o
    }

    fn run(verdicts: &[Verdict]) -> Option<Selection> {
        let outcomes: Vec<ProbeOutcome> = verdicts.iter().map(|v| outcome(*v)).collect();
        select(&outcomes.iter().collect::<Vec<_>>())
    }

    use Verdict::*;

    #[test]
    fn all_upgraded_is_healthy() {
        assert_eq!(run(&[Upgraded, Upgraded, Upgraded]), None);
        assert_eq!(run(&[Upgraded]), None);
        assert_eq!(run(&[]), None);
    }

    #[test]
    fn backend_down_makes_outer_hops_consequences() {
        let s = run(&[ServiceUnavailable, BadGateway, ConnectRefused]).unwrap();
        assert_eq!(s.culprit, 2);
        assert_eq!(s.tier, Tier::Handshake);
        assert_eq!(s.consequences, vec![0, 1]);
        assert!(s.deeper.is_empty());
    }

    #[test]
    fn stripping_proxy_in_the_middle() {
        let s = run(&[UpgradeStripped, UpgradeStripped, Upgraded]).unwrap();
        assert_eq!(s.culprit, 1);
        assert_eq!(s.consequences, vec![0]);
    }

    #[test]
    fn single_failing_hop_is_the_culprit() {
        let s = run(&[Rejected]).unwrap();
        assert_eq!(s.culprit, 0);
        assert!(s.consequences.is_empty());
    }

    #[test]
    fn outer_break_wins_over_deeper_one() {
        // lb fails, nginx inside it works, backend fails too: lb is the culprit, backend noted.
        let s = run(&[BadGateway, Upgraded, ConnectRefused]).unwrap();
        assert_eq!(s.culprit, 0);
        assert_eq!(s.deeper, vec![2]);
        assert!(s.consequences.is_empty());
    }

    #[test]
    fn outermost_of_two_breaks_with_consequence() {
        let s = run(&[BadGateway, UpgradeStripped, Upgraded, Rejected, Upgraded]).unwrap();
        assert_eq!(s.culprit, 1);
        assert_eq!(s.consequences, vec![0]);
        assert_eq!(s.deeper, vec![3]);
    }

    #[test]
    fn innermost_failure_with_passing_outer_hop() {
        let s = run(&[Upgraded, BadGateway, ConnectRefused]).unwrap();
        assert_eq!(s.culprit, 2);
        assert_eq!(s.consequences, vec![1]);
    }

    #[test]
    fn connect_failures_are_never_consequences() {
        // The edge's TLS fails before any request reaches the lb: the edge is the culprit.
        let s = run(&[TlsFailed, ConnectRefused, Upgraded]).unwrap();
        assert_eq!(s.culprit, 0);
        assert_eq!(s.deeper, vec![1]);
        let s = run(&[DnsFailed, BadGateway]).unwrap();
        assert_eq!(s.culprit, 0);
        assert_eq!(s.deeper, vec![1]);
    }

    fn answered(verdict: Verdict, status: Option<u16>) -> ProbeOutcome {
        let mut o = outcome(verdict);
        o.evidence.status = status;
        o
    }

    fn run_answers(answers: &[(Verdict, Option<u16>)]) -> Option<Selection> {
        let outcomes: Vec<ProbeOutcome> = answers.iter().map(|(v, s)| answered(*v, *s)).collect();
        select(&outcomes.iter().collect::<Vec<_>>())
    }

    #[test]
    fn passed_along_answer_is_a_consequence() {
        // HAProxy passes nginx's 404 through unchanged: nginx is where it begins.
        let s = run_answers(&[
            (Rejected, Some(404)),
            (Rejected, Some(404)),
            (Upgraded, Some(101)),
        ])
        .unwrap();
        assert_eq!((s.culprit, s.consequences.clone()), (1, vec![0]));
        // The same 505 from the backend through HAProxy and nginx.
        let s = run_answers(&[
            (UpgradeStripped, Some(505)),
            (UpgradeStripped, Some(505)),
            (Upgraded, Some(101)),
        ])
        .unwrap();
        assert_eq!((s.culprit, s.consequences), (1, vec![0]));
    }

    #[test]
    fn an_answer_of_its_own_makes_the_outer_hop_the_culprit() {
        // The lb has no route (404) while nginx behind it has lost its backend (502): real
        // traffic stops at the lb; nginx's 502 is noted as a deeper failure.
        let s = run_answers(&[
            (Rejected, Some(404)),
            (BadGateway, Some(502)),
            (ConnectRefused, None),
        ])
        .unwrap();
        assert_eq!(s.culprit, 0);
        assert!(s.consequences.is_empty());
        assert_eq!(s.deeper, vec![1, 2]);
        // A redirect at the edge is the edge's own.
        let s = run_answers(&[(Redirect, Some(301)), (Rejected, Some(403))]).unwrap();
        assert_eq!(s.culprit, 0);
    }

    #[test]
    fn gateway_errors_are_never_own() {
        let s = run_answers(&[
            (ServiceUnavailable, Some(503)),
            (Rejected, Some(403)),
            (Upgraded, Some(101)),
        ])
        .unwrap();
        assert_eq!((s.culprit, s.consequences), (1, vec![0]));
    }

    #[test]
    fn handshake_beats_idle_and_frames() {
        let mut outcomes = [idle(Some(2000.0)), outcome(UpgradeStripped), idle(None)];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (1, Tier::Handshake));
        outcomes[1] = outcome(FramesFailed);
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (1, Tier::Frames));
    }

    #[test]
    fn idle_culprit_is_outermost_drop_whose_inner_hop_holds() {
        // HAProxy with no `timeout tunnel`: lb drops, nginx and backend hold.
        let outcomes = [idle(Some(2000.0)), idle(None), idle(None)];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (0, Tier::Idle));
        assert!(s.consequences.is_empty());

        // nginx proxy_read_timeout 2s behind a long tunnel timeout: lb drops because nginx did.
        let outcomes = [idle(Some(2010.0)), idle(Some(2000.0)), idle(None)];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (1, Tier::Idle));
        assert_eq!(s.consequences, vec![0]);
    }

    #[test]
    fn idle_drop_seen_only_in_idle_outcome_counts() {
        let mut o = idle(Some(1500.0));
        o.verdict = Upgraded;
        let outcomes = [o, idle(None)];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (0, Tier::Idle));
    }

    #[test]
    fn an_earlier_idle_drop_is_the_outer_hops_own() {
        // HAProxy cuts at 2 s, nginx behind it would have cut at 5 s: real traffic dies at 2 s.
        let outcomes = [idle(Some(2000.0)), idle(Some(5000.0)), idle(None)];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!((s.culprit, s.tier), (0, Tier::Idle));
        assert!(s.consequences.is_empty());
        assert_eq!(s.deeper, vec![1]);
    }

    #[test]
    fn every_hop_dropping_blames_the_innermost() {
        let outcomes = [idle(Some(2000.0)), idle(Some(2000.0))];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(s.culprit, 1);
        assert_eq!(s.consequences, vec![0]);
    }
}
