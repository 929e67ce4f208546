//! Spinners on stderr while the walk runs: one per hop, and a countdown during `--idle`.
//!
//! The engine only reports plain [`Progress`] events; this is where they become terminal output,
//! and only when stderr is a terminal (results go to stdout, so a pipe never sees these).

use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wspath::walk::Progress;
use wspath::Verdict;

/// Draws progress for one walk; a no-op when stderr is not a terminal.
pub struct Spinners {
    multi: Option<MultiProgress>,
    bars: Mutex<Vec<ProgressBar>>,
}

impl Spinners {
    pub fn for_stderr() -> Spinners {
        Spinners {
            multi: super::output::stderr_animates().then(MultiProgress::new),
            bars: Mutex::new(Vec::new()),
        }
    }

    /// Handles one event from the walk.
    pub fn on(&self, event: Progress) {
        let Some(multi) = &self.multi else { return };
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match event {
            Progress::Started { hops, idle } => {
                let width = hops.iter().map(|h| h.len()).max().unwrap_or(0);
                let style = running_style(idle);
                for name in hops {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(format!("{name:<width$}"));
                    bar.set_message("probing");
                    bar.enable_steady_tick(Duration::from_millis(100));
                    bars.push(bar);
                }
            }
            Progress::HopDone {
                index,
                verdict,
                total_ms,
            } => {
                if let Some(bar) = bars.get(index) {
                    let mark = if verdict.passed() { "✓" } else { "✗" };
                    bar.set_style(done_style());
                    // The probe's total covers the handshake, not the idle hold.
                    let took = if verdict == Verdict::IdleDropped {
                        String::new()
                    } else {
                        format!(" ({total_ms:.0} ms)")
                    };
                    bar.finish_with_message(format!("{mark} {}{took}", verdict.title()));
                }
            }
        }
    }

    /// Removes the spinners so that only the report remains on the terminal.
    pub fn clear(&self) {
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}

fn running_style(idle: Option<Duration>) -> ProgressStyle {
    let template = if idle.is_some() {
        "{spinner} {prefix} {msg}{countdown}"
    } else {
        "{spinner} {prefix} {msg}"
    };
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner());
    match idle {
        None => style,
        Some(idle) => {
            // The hold starts right after each handshake; from the walk's start is close enough
            // for a countdown a person watches.
            let deadline = Instant::now() + idle;
            style.with_key(
                "countdown",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let _ = write!(w, ", holding idle: {} s left", left.as_secs());
                },
            )
        }
    }
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}
