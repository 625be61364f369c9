//! The real `sfprivacy` binary as a child process (what Kubernetes runs): the test's
//! `SFPRIVACY_*` environment (`TestApp::env`), a connections file, a health port of its own, and
//! all of its output (stdout and stderr) kept for the test to read. Signals go through `kill`,
//! as the kubelet sends them; the child is SIGKILLed if the test drops it. Also a private
//! `redis-server` for tests that crash Redis.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

pub struct WorkerProcess {
    child: Child,
    pub health: SocketAddr,
    output: Arc<Mutex<Vec<u8>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
    _connections: tempfile::NamedTempFile,
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The connections file of `sfprivacy::demo::emulator_connection_toml` (connection
/// `emulator`, the emulator's default app) with other `grant` lines, as in the README.
pub fn emulator_connection_with_grant(base_url: &str, grant: &str) -> String {
    use sf_emulator::oauth::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
    format!(
        "[[connection]]\nid = \"emulator\"\nenvironment = \"{base_url}\"\nclient_id = \"{DEFAULT_CLIENT_ID}\"\nclient_secret = \"{DEFAULT_CLIENT_SECRET}\"\n{grant}\n"
    )
}

fn keep(
    mut from: impl AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl WorkerProcess {
    /// Starts `sfprivacy worker` with the test's environment `base` (its queues and Redis keys)
    /// and `connections` as its connections file. `env` overrides or adds `SFPRIVACY_*` and
    /// `RUST_LOG`. JSON logs at `info` unless `env` says otherwise.
    pub fn spawn(
        base: &BTreeMap<String, String>,
        connections: &str,
        env: &[(&str, String)],
    ) -> Self {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), connections).unwrap();
        let health: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfprivacy"));
        // Only what the test sets: nothing from the developer's shell leaks in.
        cmd.arg("worker")
            .env_clear()
            .envs(base)
            .env("SFPRIVACY_LOG_FORMAT", "json")
            .env("SFPRIVACY_HEALTH_ADDR", health.to_string())
            .env("SFPRIVACY_CONNECTIONS_FILE", file.path())
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn the sfprivacy binary");
        let output: Arc<Mutex<Vec<u8>>> = Arc::default();
        let readers = vec![
            keep(child.stdout.take().unwrap(), output.clone()),
            keep(child.stderr.take().unwrap(), output.clone()),
        ];
        Self {
            child,
            health,
            output,
            readers,
            _connections: file,
        }
    }

    /// Closes the read end of the worker's stderr, as `2>&1 | head -3` does once `head` has
    /// its lines: every later log write fails with EPIPE. Stdout is still read.
    pub async fn close_stderr(&mut self) {
        if let Some(reader) = self.readers.pop() {
            reader.abort();
            // Awaited so the pipe's read end is dropped before the caller goes on.
            let _ = reader.await;
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id().expect("process still running")
    }

    /// Everything the process wrote so far (stdout and stderr interleaved).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// `GET` on the health port: `Some(status)`, or `None` when nothing answers.
    pub async fn probe(&self, path: &str) -> Option<u16> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        client
            .get(format!("http://{}{path}", self.health))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// The value of an unlabelled metric from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let Ok(resp) = reqwest::get(format!("http://{}/metrics", self.health)).await else {
            return 0.0;
        };
        let text = resp.text().await.unwrap_or_default();
        text.lines()
            .filter_map(|l| l.strip_prefix(name))
            .filter_map(|rest| rest.strip_prefix(' '))
            .filter_map(|v| v.trim().parse().ok())
            .next()
            .unwrap_or(0.0)
    }

    /// Waits until `/readyz` answers 200 (consuming), failing with the output otherwise.
    pub async fn wait_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            if self.probe("/readyz").await == Some(200) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("worker exited with {status} before ready:\n{}", self.log());
            }
            assert!(
                start.elapsed() < limit,
                "worker not ready within {limit:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`) with `kill`, as the kubelet would.
    pub fn signal(&self, name: &str) {
        let st = std::process::Command::new("kill")
            .args([format!("-{name}"), self.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success(), "kill -{name} failed");
    }

    /// SIGKILL: no drain, no ack; the broker requeues whatever it held.
    pub fn kill(&mut self) {
        let _ = self.child.start_kill();
    }

    /// Waits for the process to exit; `None` if it is still running after `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let status = tokio::time::timeout(limit, self.child.wait()).await.ok()?;
        // The pipes close with the process: collect the last lines before returning.
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        Some(status.expect("wait for the worker"))
    }

    /// SIGTERM, then wait for a clean exit; panics with the output otherwise.
    pub async fn stop(mut self) -> String {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(60)).await;
        let out = self.log();
        assert!(
            status.is_some_and(|s| s.success()),
            "worker did not exit 0 after SIGTERM ({status:?}):\n{out}"
        );
        out
    }
}

/// A private `redis-server` on a port of its own, for tests that crash and restart Redis
/// (never the shared one on 6379). No persistence: a restart starts empty, like a lost pod.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub async fn start() -> Self {
        let mut s = Self {
            port: free_port(),
            child: None,
        };
        s.restart().await;
        s
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// SIGKILL: a crash, not a clean shutdown.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.expect("kill redis-server");
        }
    }

    /// Starts (again) on the same port and waits until it answers PING.
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(client) = redis::Client::open(self.url())
                && let Ok(mut c) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "redis-server on port {} did not start",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
