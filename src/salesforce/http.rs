//! The transport: one shared `reqwest::Client`, Salesforce error bodies turned into
//! [`SfError`] in one place, and in-process retries of transient failures.
//!
//! Part of the Salesforce adapter, below every API module. Retries use `backon`'s exponential
//! schedule with jitter (seeded per call so replicas do not retry in lockstep), a small fixed
//! number of attempts, and a `Retry-After` header when Salesforce sends one. Permanent errors
//! return at once. Only the path (never the query string, which holds SOQL with personal
//! data) is logged.

use super::error::{ApiErrorBody, ErrorKind, SfError};
use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::HeaderMap;
use std::future::Future;
use std::time::Duration;

/// Longest `Retry-After` we honour in-process; anything longer is the job's retry tiers' job.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Builds the process's one HTTP client: rustls, no redirects (OAuth calls must never follow
/// them, and the REST API has no use for them), connect and idle timeouts.
pub fn http_client() -> Result<reqwest::Client, SfError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("sfprivacy/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SfError::Config(format!("cannot build HTTP client: {e}")))
}

/// How transient failures are retried in-process.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The delays between attempts (exponential, jittered).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .with_jitter_seed(rand::random())
            .build()
    }

    /// Runs `op` until it succeeds, fails permanently, or the retries are spent. The delay
    /// before a retry is the error's `Retry-After` when present (capped), else the schedule.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, SfError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SfError>>,
    {
        let mut delays = self.delays();
        let mut retry = 0;
        loop {
            match op().await {
                // A full per-org cap already waited its turn; waiting again here would hold
                // the worker's slot, so the job goes back to the queue instead.
                Err(e)
                    if e.kind() == ErrorKind::Transient
                        && !matches!(e, SfError::ConcurrencyCap { .. }) =>
                {
                    let Some(delay) = delays.next() else {
                        return Err(e);
                    };
                    let delay = e
                        .retry_after()
                        .map(|d| d.min(MAX_RETRY_AFTER))
                        .unwrap_or(delay);
                    retry += 1;
                    // At warn: an unreachable org otherwise spends half a minute in silence.
                    // The error names the server, never the path or query (SOQL).
                    tracing::warn!(
                        code = %e.code(),
                        error = %e,
                        attempt = retry,
                        max_retries = self.max_retries,
                        delay_ms = delay.as_millis() as u64,
                        "transient Salesforce error; retrying in-process"
                    );
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }
}

/// A response read to the end.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, SfError> {
        serde_json::from_slice(&self.body).map_err(|e| SfError::Decode(e.to_string()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Transport failures name the connection and the server (`scheme://host:port`) with the
/// causes (`tcp connect error: Connection refused`), never the URL's path or query: the query
/// holds SOQL with personal data.
pub fn transport_error(e: reqwest::Error, connection_id: &str) -> SfError {
    let server = e.url().map(origin).unwrap_or_else(|| "the server".into());
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    let e = e.without_url();
    // The causes, each once (hyper's errors often repeat their source's text).
    let mut causes = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push_str(": ");
            causes.push_str(&text);
        }
        source = cause.source();
    }
    SfError::Transport(format!(
        "{kind} to {server} (connection {connection_id}): {causes}"
    ))
}

/// `scheme://host:port` of a URL: no user info, path, query or fragment.
pub fn origin(url: &reqwest::Url) -> String {
    match (url.host(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        (None, _) => format!("{}://", url.scheme()),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Turns an error response into an [`SfError::Api`]. Salesforce's REST errors are
/// `[{"message","errorCode","fields"}]`; some endpoints answer with one object or with an
/// OAuth-style `{"error","error_description"}`, and proxies with HTML.
pub fn api_error(status: u16, headers: &HeaderMap, body: &[u8]) -> SfError {
    #[derive(serde::Deserialize)]
    struct OAuthStyle {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    let (code, message) = if let Ok(list) = serde_json::from_slice::<Vec<ApiErrorBody>>(body)
        && let Some(first) = list.into_iter().next()
    {
        (first.error_code, first.message)
    } else if let Ok(one) = serde_json::from_slice::<ApiErrorBody>(body) {
        (one.error_code, one.message)
    } else if let Ok(o) = serde_json::from_slice::<OAuthStyle>(body) {
        (o.error, o.error_description)
    } else {
        let fallback = match status {
            401 => "INVALID_SESSION_ID".to_string(),
            503 => "SERVER_UNAVAILABLE".to_string(),
            s => format!("HTTP_{s}"),
        };
        (
            fallback,
            String::from_utf8_lossy(body).chars().take(200).collect(),
        )
    };
    SfError::Api {
        status,
        code,
        message: redact_emails(&message),
        retry_after: retry_after(headers),
    }
}

/// Salesforce echoes parts of a statement in some messages (`MALFORMED_QUERY: unexpected
/// token: 'jane@example.com'`); errors end up in logs and results, so addresses are masked.
pub fn redact_emails(message: &str) -> String {
    static EMAIL: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match EMAIL.get_or_init(|| regex::Regex::new(r#"[^\s'"(){}<>,;:]+@[^\s'"(){}<>,;:]+"#).ok()) {
        Some(re) => re.replace_all(message, "[email]").into_owned(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    /// A real transport failure: nothing listens on port 1.
    async fn refused(url: &str) -> reqwest::Error {
        reqwest::Client::new().get(url).send().await.unwrap_err()
    }

    #[tokio::test]
    async fn transport_errors_name_server_and_connection_but_not_path_or_query() {
        let e = refused(
            "http://127.0.0.1:1/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+Email='jane@example.com'",
        )
        .await;
        let text = transport_error(e, "prod-eu").to_string();
        assert!(text.contains("http://127.0.0.1:1"), "{text}");
        assert!(text.contains("connection prod-eu"), "{text}");
        assert!(text.contains("connect"), "{text}");
        for leak in ["services", "query", "SELECT", "jane", "q="] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        let u = reqwest::Url::parse(
            "https://user:pw@acme.my.salesforce.com/services/oauth2/token?x=1#f",
        )
        .unwrap();
        assert_eq!(origin(&u), "https://acme.my.salesforce.com:443");
        let u = reqwest::Url::parse("http://[::1]:8080/a?b").unwrap();
        assert_eq!(origin(&u), "http://[::1]:8080");
    }

    #[test]
    fn parses_error_shapes() {
        let h = HeaderMap::new();
        let e = api_error(
            400,
            &h,
            br#"[{"message":"bad","errorCode":"MALFORMED_QUERY","fields":[]}]"#,
        );
        assert_eq!(e.code(), "MALFORMED_QUERY");
        assert_eq!(e.kind(), ErrorKind::Permanent);
        let e = api_error(
            401,
            &h,
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
        assert_eq!(e.kind(), ErrorKind::Auth);
        let mut h2 = HeaderMap::new();
        h2.insert("Retry-After", "7".parse().unwrap());
        let e = api_error(503, &h2, b"<html>down</html>");
        assert_eq!(e.code(), "SERVER_UNAVAILABLE");
        assert_eq!(e.kind(), ErrorKind::Transient);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let e = api_error(404, &h, br#"{"errorCode":"NOT_FOUND","message":"gone"}"#);
        assert_eq!(e.code(), "NOT_FOUND");
    }

    #[test]
    fn email_addresses_in_messages_are_masked() {
        let e = api_error(
            400,
            &HeaderMap::new(),
            br#"[{"message":"unexpected token: 'jane+x@example.com' near Email = 'a.b@c.io'","errorCode":"MALFORMED_QUERY"}]"#,
        );
        let text = e.to_string();
        assert!(
            !text.contains("example.com") && !text.contains("a.b@c.io"),
            "{text}"
        );
        assert!(text.contains("unexpected token: '[email]'"), "{text}");
    }

    #[tokio::test]
    async fn retries_transient_then_succeeds() {
        let n = AtomicUsize::new(0);
        let r = quick()
            .run(|| async {
                if n.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(SfError::Transport("reset".into()))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn gives_up_after_bounded_attempts_and_never_retries_permanent() {
        let n = AtomicUsize::new(0);
        let r: Result<(), _> = quick()
            .run(|| async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(SfError::Transport("reset".into()))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 4);
        let n = AtomicUsize::new(0);
        let r: Result<(), _> = quick()
            .run(|| async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(api_error(400, &HeaderMap::new(), b"[]"))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_full_concurrency_cap_is_not_waited_for_again() {
        let n = AtomicUsize::new(0);
        let r: Result<(), _> = quick()
            .run(|| async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(SfError::ConcurrencyCap {
                    waited: std::time::Duration::from_secs(30),
                })
            })
            .await;
        assert!(matches!(r, Err(SfError::ConcurrencyCap { .. })));
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after() {
        let n = AtomicUsize::new(0);
        let start = tokio::time::Instant::now();
        let r = quick()
            .run(|| async {
                if n.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(SfError::Api {
                        status: 503,
                        code: "SERVER_UNAVAILABLE".into(),
                        message: String::new(),
                        retry_after: Some(Duration::from_secs(5)),
                    })
                } else {
                    Ok(())
                }
            })
            .await;
        assert!(r.is_ok());
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
