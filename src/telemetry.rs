//! The one tracing subscriber, shared by `main` and tests: JSON (the worker's default) or
//! pretty, filtered by `RUST_LOG` (default `info`).
//!
//! lapin logs every message the broker returns at WARN *with its body*; a returned export
//! result would put personal data in the logs, so that target is always silenced (we log the
//! return ourselves, without the body).
//!
//! Logs go to stderr through [`LossyStderr`]: when stderr is closed (`2>&1 | head`), a write
//! error reaching tracing-subscriber makes it report the failure with `eprintln!`, which
//! panics on the same broken pipe, inside whichever task was logging. Logging must never stop
//! the work, so lost log lines are dropped instead.

use tracing_subscriber::EnvFilter;

/// Targets that must never log (they print message bodies).
const SILENCED: &str = "lapin::returned_messages=off";

/// `RUST_LOG` is not a valid filter.
#[derive(Debug, thiserror::Error)]
#[error("RUST_LOG is invalid ({value:?}): {reason}")]
pub struct FilterError {
    value: String,
    reason: String,
}

/// The filter `RUST_LOG` asks for (or `default` when it is unset), refusing an invalid one:
/// a level the operator set on purpose must not silently turn into the default.
pub fn filter(default: &str) -> Result<EnvFilter, FilterError> {
    let base = match std::env::var("RUST_LOG") {
        Ok(v) => v,
        Err(std::env::VarError::NotPresent) => default.to_string(),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(FilterError {
                value: "<not UTF-8>".into(),
                reason: "not valid UTF-8".into(),
            });
        }
    };
    EnvFilter::builder()
        .parse(format!("{base},{SILENCED}"))
        .map_err(|e| FilterError {
            value: base,
            reason: e.to_string(),
        })
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(json: bool) -> Result<(), FilterError> {
    init_with_default(json, "info")
}

/// Like [`init`], with another default filter when `RUST_LOG` is unset (the demo uses `error`).
pub fn init_with_default(json: bool, default_filter: &str) -> Result<(), FilterError> {
    use std::io::IsTerminal;
    // Colour codes only on a terminal: redirected logs stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(default_filter)?)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(|| LossyStderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    Ok(())
}

/// For tests: output captured per test by the harness, `warn` unless `RUST_LOG` says otherwise.
pub fn init_for_tests() {
    let filter = filter("warn").unwrap_or_else(|_| EnvFilter::new(format!("warn,{SILENCED}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Stderr that never fails: a write that cannot be done (closed pipe, full disk) is dropped
/// and reported as done, so neither tracing-subscriber nor a caller panics or gives up.
#[derive(Debug, Clone, Copy, Default)]
pub struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(lossy(std::io::stderr().write(buf), buf.len()))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let _ = std::io::stderr().write_all(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

fn lossy(written: std::io::Result<usize>, len: usize) -> usize {
    written.unwrap_or(len)
}

/// A line on stderr that is dropped when stderr is gone (`eprintln!` would panic).
pub fn eprint_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(LossyStderr, "{text}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_write_counts_as_written() {
        let broken = Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(super::lossy(broken, 7), 7);
        assert_eq!(super::lossy(Ok(3), 7), 3);
    }
}
