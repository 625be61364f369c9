//! Operations: the health port (`/healthz`, `/readyz`, `/metrics`), the metric names, and
//! shutdown coordination. Sits beside `broker` at the top of the layers; nothing below it
//! depends on it except through the `metrics` facade and the names in [`metrics`].
//!
//! - [`metrics`]: every metric name as a constant; the Prometheus recorder.
//! - [`health`]: readiness state and the axum routes.
//! - [`job_metrics`]: what the consumer records per delivery.
//! - [`process`]: the worker process around the consumer: recorder, health port, supervision.
//! - [`shutdown`]: one cancellation token, signal handling, a supervisor that waits with a
//!   deadline and reports who ended why.

pub mod health;
pub mod job_metrics;
pub mod metrics;
pub mod process;
pub mod shutdown;

pub use health::{HealthServer, Readiness};
pub use shutdown::{Report, Shutdown, Supervisor, TaskEnd, Trigger};
