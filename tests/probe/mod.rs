//! The probe library (`wspath::probe::probe`) against real servers: the Python websockets
//! backend, nginx, HAProxy, a rustls server that speaks only HTTP/2 ALPN, and small in-process
//! TCP servers that misbehave on purpose (silence, early close, oversized head, wrong accept key,
//! frames sent right behind the 101), and the hostile-peer kit that runs the real binary against
//! attackers' answers under time and memory bounds.

mod hostile;
mod http2;
mod misbehaving;
mod real;

use std::time::Duration;
use wspath::hop::HopSpec;
use wspath::probe::{probe, ProbeOptions, ProbeOutcome};
use wspath::Target;

/// Probes `target` at hop `name=address` with `edit` applied to the default options (timeout 5 s).
pub fn run(target: &str, hop: &str, edit: impl FnOnce(&mut ProbeOptions)) -> ProbeOutcome {
    let target = Target::parse(target).expect("target");
    let hop = HopSpec::parse(hop).expect("hop").resolve(&target);
    let mut options = ProbeOptions::new(&target);
    options.timeout = Duration::from_secs(5);
    edit(&mut options);
    runtime().block_on(probe(&target, &hop, &options))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The outcome as one line, for assertion messages.
pub fn show(o: &ProbeOutcome) -> String {
    format!(
        "{} at {:?}: {} (status {:?}, answered_by {}, body {:?})",
        o.verdict,
        o.stage,
        o.detail,
        o.evidence.status,
        o.evidence.answered_by,
        o.evidence.body_snippet
    )
}
