//! Which hop is the culprit, from the outcomes alone (pure, no I/O).
//!
//! Hops are ordered from the client inward, and each hop's traffic goes through every hop inside
//! it. So when a hop fails while the hop right inside it works, the break begins at that hop;
//! hops further out that fail too are only passing its answer along (consequences).
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

    fn fails(self, o: &ProbeOutcome) -> bool {
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

    /// A failure that happened before the request could reach anything behind the hop is the
    /// hop's own, whatever the hops inside it do.
    fn own(self, o: &ProbeOutcome) -> bool {
        self == Tier::Handshake
            && matches!(
                o.verdict,
                Verdict::DnsFailed
                    | Verdict::ConnectRefused
                    | Verdict::ConnectTimeout
                    | Verdict::TlsFailed
            )
    }
}

/// The culprit among `outcomes` (outermost first), or `None` when every hop works.
pub fn select(outcomes: &[&ProbeOutcome]) -> Option<Selection> {
    Tier::ALL.into_iter().find_map(|tier| {
        let fails: Vec<bool> = outcomes.iter().map(|o| tier.fails(o)).collect();
        let own: Vec<bool> = outcomes.iter().map(|o| tier.own(o)).collect();
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
    fn every_hop_dropping_blames_the_innermost() {
        let outcomes = [idle(Some(2000.0)), idle(Some(2000.0))];
        let s = select(&outcomes.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(s.culprit, 1);
        assert_eq!(s.consequences, vec![0]);
    }
}
