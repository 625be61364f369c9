//! Shutdown coordination: one [`CancellationToken`] reaches every task; SIGTERM/SIGINT cancel
//! it; [`Supervisor::wait`] waits for every task with a deadline and reports who ended and why.
//!
//! Order on a signal: readiness turns false first (the load balancer and KEDA stop counting
//! this replica), then the token is cancelled (consumers cancel their subscriptions and let
//! in-flight jobs finish). Tasks still running at the deadline are aborted: a job aborted
//! before its ack leaves its delivery unacked, and the broker redelivers it to another replica
//! when this connection closes, so nothing is lost, and the job state in Redis keeps the
//! redelivery from redoing side effects.
//!
//! A task that ends on its own before shutdown (a consumer that gave up, the health server
//! failing to serve) is treated as the trigger: the token is cancelled and the others drain,
//! so a half-working replica exits and is restarted instead of lingering unready.
//!
//! A panic anywhere else (a delivery task, the signal handler, the health server) would kill
//! only its own task and leave the process running but no longer doing that part of its work
//! (a delivery unacked for good, signals ignored). [`Supervisor::handle_panics`] turns such a
//! panic into the same orderly shutdown, so the replica exits non-zero and is restarted. Only
//! code whose caller catches its panics ([`panics_caught_by_caller`], a job) is exempt.

use super::health::Readiness;
use std::fmt;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Why shutdown began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// SIGTERM or SIGINT.
    Signal(&'static str),
    /// A supervised task ended before shutdown was requested.
    TaskEnded(String),
    /// Someone cancelled the token directly (tests, the `run` command finishing).
    Cancelled,
    /// A panic nobody catches, in any task of the process.
    Panic(String),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Signal(s) => write!(f, "signal {s}"),
            Trigger::TaskEnded(t) => write!(f, "task {t} ended"),
            Trigger::Cancelled => f.write_str("cancelled"),
            Trigger::Panic(p) => write!(f, "a panic ({p})"),
        }
    }
}

/// How one task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEnd {
    Finished,
    Failed(String),
    Panicked(String),
    /// Still running at the deadline; aborted.
    Aborted,
}

/// What [`Supervisor::wait`] saw.
#[derive(Debug, Clone)]
pub struct Report {
    pub trigger: Trigger,
    /// In the order tasks ended (aborted ones last).
    pub tasks: Vec<(String, TaskEnd)>,
}

impl Report {
    /// A clean exit: shutdown was asked for (signal or token) and every task finished in time
    /// without error. `main` exits 0 exactly then.
    pub fn is_clean(&self) -> bool {
        !matches!(self.trigger, Trigger::TaskEnded(_) | Trigger::Panic(_))
            && self.tasks.iter().all(|(_, e)| *e == TaskEnd::Finished)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shutdown by {}:", self.trigger)?;
        for (name, end) in &self.tasks {
            match end {
                TaskEnd::Finished => write!(f, " {name} finished;")?,
                TaskEnd::Failed(e) => write!(f, " {name} failed ({e});")?,
                TaskEnd::Panicked(e) => write!(f, " {name} panicked ({e});")?,
                TaskEnd::Aborted => write!(f, " {name} aborted at the deadline;")?,
            }
        }
        Ok(())
    }
}

/// The shared shutdown state: the token every task watches, and readiness.
#[derive(Clone)]
pub struct Shutdown {
    token: CancellationToken,
    readiness: Readiness,
}

impl Shutdown {
    pub fn new(readiness: Readiness) -> Self {
        Self {
            token: CancellationToken::new(),
            readiness,
        }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// Readiness false, then cancel: the order probes and consumers must see.
    pub fn begin(&self) {
        self.readiness.shutting_down();
        self.token.cancel();
    }

    /// Waits for SIGTERM or SIGINT; `None` when the token fired first. It does not begin
    /// shutdown itself: the caller records which signal came first, so that whoever wakes on
    /// the token can tell a signal from a plain cancellation.
    pub async fn wait_signal(&self) -> std::io::Result<Option<&'static str>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(tokio::select! {
            _ = term.recv() => Some("SIGTERM"),
            _ = int.recv() => Some("SIGINT"),
            _ = self.token.cancelled() => None,
        })
    }
}

type TaskResult = (String, Result<(), String>);

tokio::task_local! {
    /// Set while code runs whose caller catches its panics (see [`panics_caught_by_caller`]).
    static PANICS_CAUGHT: ();
}

/// Runs `fut` as code whose panics the caller catches and handles (a job's `catch_unwind`
/// turns a panic into an `internal_error` result): the panic hook leaves the process running.
pub async fn panics_caught_by_caller<F: Future>(fut: F) -> F::Output {
    PANICS_CAUGHT.scope((), fut).await
}

/// The text of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Runs named tasks and waits for them with a deadline once shutdown begins.
pub struct Supervisor {
    shutdown: Shutdown,
    set: JoinSet<TaskResult>,
    names: std::collections::HashMap<tokio::task::Id, String>,
    signal_seen: std::sync::Arc<std::sync::Mutex<Option<&'static str>>>,
    panic_seen: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Supervisor {
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            shutdown,
            set: JoinSet::new(),
            names: Default::default(),
            signal_seen: Default::default(),
            panic_seen: Default::default(),
        }
    }

    /// Installs a process-wide panic hook (after the existing one, which prints the panic):
    /// a panic not caught by its caller begins shutdown, readiness first, and the report
    /// names it. For the worker process; later hooks chain onto earlier ones.
    pub fn handle_panics(&mut self) {
        let sd = self.shutdown.clone();
        let seen = self.panic_seen.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if PANICS_CAUGHT.try_with(|_| ()).is_ok() {
                return;
            }
            let text = panic_text(info.payload());
            let first = {
                let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                let first = seen.is_none();
                seen.get_or_insert(text.clone());
                first
            };
            if first {
                tracing::error!(panic = %text, "a task panicked: shutting down");
            }
            sd.begin();
        }));
    }

    /// Installs the SIGTERM/SIGINT handler (not itself a supervised task).
    pub fn handle_signals(&mut self) {
        let sd = self.shutdown.clone();
        let seen = self.signal_seen.clone();
        tokio::spawn(async move {
            match sd.wait_signal().await {
                Ok(Some(s)) => {
                    // Recorded before the token fires, so the report names the signal.
                    *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
                    tracing::info!(
                        signal = s,
                        "shutdown requested: readiness off, consumers cancelling"
                    );
                    sd.begin();
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot install signal handlers"),
            }
        });
    }

    /// Spawns a task that must watch the token and return when it is cancelled.
    pub fn spawn<F, E>(&mut self, name: impl Into<String>, fut: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let name = name.into();
        let n = name.clone();
        let handle = self
            .set
            .spawn(async move { (n, fut.await.map_err(|e| e.to_string())) });
        self.names.insert(handle.id(), name);
    }

    /// Waits until shutdown begins (signal, token, or a task ending), then up to `deadline`
    /// for every task; aborts the rest. Returns who ended and why.
    pub async fn wait(mut self, deadline: Duration) -> Report {
        let token = self.shutdown.token();
        let mut tasks = Vec::new();
        let mut trigger = None;
        // Phase 1: running. The first task to end on its own triggers shutdown.
        while !token.is_cancelled() {
            tokio::select! {
                _ = token.cancelled() => {}
                joined = self.set.join_next_with_id() => match joined {
                    None => break,
                    Some(j) => {
                        let (name, end) = self.end_of(j);
                        if !token.is_cancelled() {
                            tracing::warn!(task = %name, end = ?end, "task ended before shutdown: shutting down");
                            trigger = Some(Trigger::TaskEnded(name.clone()));
                            self.shutdown.begin();
                        }
                        tasks.push((name, end));
                    }
                },
            }
        }
        let panicked = self
            .panic_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let trigger = trigger.or(panicked.map(Trigger::Panic)).unwrap_or_else(|| {
            match *self.signal_seen.lock().unwrap_or_else(|p| p.into_inner()) {
                Some(s) => Trigger::Signal(s),
                None => Trigger::Cancelled,
            }
        });
        // Phase 2: draining, bounded by the deadline.
        let drain = async {
            while let Some(j) = self.set.join_next_with_id().await {
                tasks.push(self.end_of(j));
            }
        };
        if tokio::time::timeout(deadline, drain).await.is_err() {
            self.set.abort_all();
            while let Some(j) = self.set.join_next_with_id().await {
                let (name, end) = self.end_of(j);
                tasks.push((
                    name,
                    if end == TaskEnd::Aborted {
                        TaskEnd::Aborted
                    } else {
                        end
                    },
                ));
            }
        }
        Report { trigger, tasks }
    }

    fn end_of(
        &self,
        joined: Result<(tokio::task::Id, TaskResult), tokio::task::JoinError>,
    ) -> (String, TaskEnd) {
        match joined {
            Ok((_, (name, Ok(())))) => (name, TaskEnd::Finished),
            Ok((_, (name, Err(e)))) => (name, TaskEnd::Failed(e)),
            Err(e) => {
                let name = self
                    .names
                    .get(&e.id())
                    .cloned()
                    .unwrap_or_else(|| "unknown".into());
                if e.is_cancelled() {
                    (name, TaskEnd::Aborted)
                } else {
                    (name, TaskEnd::Panicked(panic_text(&*e.into_panic())))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended<'a>(r: &'a Report, name: &str) -> &'a TaskEnd {
        &r.tasks.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[tokio::test(start_paused = true)]
    async fn drains_within_the_deadline_and_aborts_the_rest() {
        let sd = Shutdown::new(Readiness::new());
        let mut sup = Supervisor::new(sd.clone());
        let t = sd.token();
        sup.spawn("quick", async move {
            t.cancelled().await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok::<_, String>(())
        });
        let t = sd.token();
        sup.spawn("stuck", async move {
            t.cancelled().await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, String>(())
        });
        let t = sd.token();
        sup.spawn("failing", async move {
            t.cancelled().await;
            Err("channel closed")
        });
        let sd2 = sd.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            sd2.begin();
        });
        let r = sup.wait(Duration::from_secs(10)).await;
        assert_eq!(r.trigger, Trigger::Cancelled);
        assert_eq!(ended(&r, "quick"), &TaskEnd::Finished);
        assert_eq!(ended(&r, "stuck"), &TaskEnd::Aborted);
        assert_eq!(
            ended(&r, "failing"),
            &TaskEnd::Failed("channel closed".into())
        );
        assert!(!r.is_clean());
        assert!(sd.readiness().is_shutting_down());
        let text = r.to_string();
        assert!(text.contains("stuck aborted at the deadline"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_ending_early_triggers_shutdown_of_the_others() {
        let sd = Shutdown::new(Readiness::new());
        let mut sup = Supervisor::new(sd.clone());
        sup.spawn("consumer", async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Err("gave up reconnecting")
        });
        let t = sd.token();
        sup.spawn("health", async move {
            t.cancelled().await;
            Ok::<_, String>(())
        });
        sup.spawn("panicky", async {
            std::future::pending::<()>().await;
            Ok::<_, String>(())
        });
        let r = sup.wait(Duration::from_secs(1)).await;
        assert_eq!(r.trigger, Trigger::TaskEnded("consumer".into()));
        assert_eq!(ended(&r, "health"), &TaskEnd::Finished);
        assert_eq!(ended(&r, "panicky"), &TaskEnd::Aborted);
        assert!(!r.is_clean());
    }

    #[tokio::test]
    async fn a_panic_is_reported_not_propagated() {
        let sd = Shutdown::new(Readiness::new());
        let mut sup = Supervisor::new(sd.clone());
        sup.spawn("boom", async {
            if true {
                panic!("bad state");
            }
            Ok::<_, String>(())
        });
        let r = sup.wait(Duration::from_secs(1)).await;
        assert_eq!(ended(&r, "boom"), &TaskEnd::Panicked("bad state".into()));
    }

    #[tokio::test]
    async fn clean_when_everything_finishes_after_a_request() {
        let sd = Shutdown::new(Readiness::new());
        let mut sup = Supervisor::new(sd.clone());
        let t = sd.token();
        sup.spawn("worker", async move {
            t.cancelled().await;
            Ok::<_, String>(())
        });
        sd.begin();
        let r = sup.wait(Duration::from_secs(1)).await;
        assert!(r.is_clean(), "{r}");
    }
}
