//! Progress of an audit on stderr: a total bar and one spinner per running check, only when
//! stderr is a terminal (CI logs and pipes never see it).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use wspath::audit::AuditProgress;

pub struct Bars {
    multi: Option<MultiProgress>,
    total: Mutex<Option<ProgressBar>>,
    running: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub fn for_stderr() -> Bars {
        Bars {
            multi: super::output::stderr_animates().then(MultiProgress::new),
            total: Mutex::new(None),
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn on(&self, event: AuditProgress) {
        let Some(multi) = &self.multi else { return };
        let (Ok(mut total), Ok(mut running)) = (self.total.lock(), self.running.lock()) else {
            return;
        };
        match event {
            AuditProgress::Planned { checks, lints } => {
                let bar = multi.add(ProgressBar::new((checks + lints) as u64));
                if let Ok(style) =
                    ProgressStyle::with_template("{bar:30} {pos}/{len} checks and lints {msg}")
                {
                    bar.set_style(style);
                }
                *total = Some(bar);
            }
            AuditProgress::CheckStarted { name, attempt } => {
                let bar = running
                    .entry(name.clone())
                    .or_insert_with(|| {
                        let b = multi.add(ProgressBar::new_spinner());
                        b.enable_steady_tick(Duration::from_millis(120));
                        b
                    })
                    .clone();
                let retry = if attempt > 1 {
                    format!(" (retry {})", attempt - 1)
                } else {
                    String::new()
                };
                bar.set_message(format!("{}{retry}", name.escape_debug()));
            }
            AuditProgress::CheckDone { name, .. } => {
                if let Some(bar) = running.remove(&name) {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
                if let Some(t) = total.as_ref() {
                    t.inc(1);
                }
            }
            AuditProgress::LintDone { .. } => {
                if let Some(t) = total.as_ref() {
                    t.inc(1);
                }
            }
        }
    }

    /// Removes every bar before the results are printed.
    pub fn clear(&self) {
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
