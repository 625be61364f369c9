//! The one tracing subscriber, shared by `main` and tests: JSON (the worker's default) or
//! pretty, filtered by `RUST_LOG` (default `info`).
//!
//! lapin logs every message the broker returns at WARN *with its body*; a returned export
//! result would put personal data in the logs, so that target is always silenced (we log the
//! return ourselves, without the body).

use tracing_subscriber::EnvFilter;

/// Targets that must never log (they print message bodies).
const SILENCED: &str = "lapin::returned_messages=off";

fn filter(default: &str) -> EnvFilter {
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string());
    EnvFilter::try_new(format!("{base},{SILENCED}"))
        .unwrap_or_else(|_| EnvFilter::new(format!("{default},{SILENCED}")))
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(json: bool) {
    init_with_default(json, "info")
}

/// Like [`init`], with another default filter when `RUST_LOG` is unset (the demo uses `error`).
pub fn init_with_default(json: bool, default_filter: &str) {
    use std::io::IsTerminal;
    // Colour codes only on a terminal: redirected logs stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(default_filter))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// For tests: output captured per test by the harness, `warn` unless `RUST_LOG` says otherwise.
pub fn init_for_tests() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_test_writer()
        .try_init();
}
