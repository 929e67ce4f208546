//! Running a validator (`nginx -t`, …) with a time limit: a validator that hangs, or a signal
//! that arrives while it runs, stops it and the transaction before anything live changes.

use super::Interrupt;
use crate::Error;
use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a validator said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// It refused; its stderr then stdout.
    Failed(String),
}

/// Run `cmd` to completion within `limit`. `Err` when it cannot start, runs out of time, or
/// a signal arrives meanwhile (the child is killed in the last two cases).
pub fn run(mut cmd: Command, limit: Duration, interrupt: &Interrupt) -> Result<Outcome, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let io = |source| Error::Io {
        path: program.clone().into(),
        source,
    };
    // Files, not pipes: a validator that leaves a grandchild holding a pipe cannot make this
    // wait past the limit.
    let mut out = tempfile::tempfile().map_err(io)?;
    let mut err = tempfile::tempfile().map_err(io)?;
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().map_err(io)?)
        .stderr(err.try_clone().map_err(io)?);
    let mut child = cmd.spawn().map_err(io)?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(io)? {
            break status;
        }
        if let Some(signal) = interrupt.signal() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Interrupted {
                signal,
                outcome: format!("{program} -t was stopped; {}", super::UNCHANGED),
            });
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::ValidatorTimeout {
                program,
                limit: humantime::format_duration(limit).to_string(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if status.success() {
        return Ok(Outcome::Passed);
    }
    let mut text = String::new();
    for f in [&mut err, &mut out] {
        let mut bytes = Vec::new();
        let _ = f.rewind();
        let _ = f.take(64 * 1024).read_to_end(&mut bytes);
        text.push_str(&String::from_utf8_lossy(&bytes));
    }
    Ok(Outcome::Failed(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hanging_validator_is_stopped_at_the_limit() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let start = Instant::now();
        let err = run(cmd, Duration::from_millis(200), &Interrupt::default()).unwrap_err();
        assert!(matches!(err, Error::ValidatorTimeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn refusal_text_is_kept() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo 'bad thing' >&2; exit 1");
        let got = run(cmd, Duration::from_secs(30), &Interrupt::default()).unwrap();
        assert_eq!(got, Outcome::Failed("bad thing\n".into()));
    }
}
