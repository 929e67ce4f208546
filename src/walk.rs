//! A path of hops → concurrent probes → the culprit (data only).

use crate::hop::Hop;
use crate::probe::ProbeOptions;
use crate::report::Report;
use crate::target::Target;

/// Everything one `check` needs, already validated.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub target: Target,
    /// Outermost first; never empty.
    pub hops: Vec<Hop>,
    pub probe: ProbeOptions,
}

/// Probes every hop concurrently and names the culprit.
pub async fn check(config: &CheckConfig) -> Report {
    let _ = config;
    todo!("walk")
}
