//! Settings and connections, read from the environment and optional files, validated at start.
//!
//! A bad or missing setting stops the worker with a [`ConfigError`] that names the setting.
//! Secrets are wrapped in [`Secret`], whose `Debug` prints `[redacted]` (URLs in [`SecretUrl`]:
//! all but the password); `expose()` is called only where the secret is sent to Salesforce or
//! used as a key.
//!
//! Sources, later ones winning: an optional TOML file (`SFPRIVACY_CONFIG`), then environment
//! variables `SFPRIVACY_<KEY>`. Both are flattened into one string map first, so every setting
//! is parsed and validated by exactly one function whatever its source. Connections live in
//! their own TOML file ([`connections`]), typically a mounted secret.

pub mod connections;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use std::fmt;

/// A value that must never be printed.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A URL that may carry a password: printed whole but for the password (`***`), so the
/// settings logged at start say which broker and Redis the worker uses.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Secret);

impl SecretUrl {
    pub fn new(s: impl Into<String>) -> Self {
        Self(Secret::new(s))
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.expose()))
    }
}

/// `scheme://user:***@host…`: URLs may carry passwords and appear in messages.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparseable URL)".into(),
    }
}

/// A setting that is missing or invalid; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {setting} is missing: {hint}")]
    Missing {
        setting: &'static str,
        hint: &'static str,
    },
    #[error("setting {setting} is invalid: {reason}")]
    Invalid { setting: String, reason: String },
    #[error("cannot read {setting} from {path}: {reason}")]
    File {
        setting: String,
        path: String,
        reason: String,
    },
}

/// Which login host a connection authenticates against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// login.salesforce.com
    Production,
    /// test.salesforce.com
    Sandbox,
    /// A My Domain (or emulator) base URL such as `https://acme.my.salesforce.com`.
    Custom(url::Url),
}

impl Environment {
    pub fn login_url(&self) -> String {
        match self {
            Environment::Production => "https://login.salesforce.com".into(),
            Environment::Sandbox => "https://test.salesforce.com".into(),
            Environment::Custom(u) => u.as_str().trim_end_matches('/').to_string(),
        }
    }
}

/// How a connection obtains access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// OAuth refresh token (from `sfprivacy connect` or an admin); may rotate.
    RefreshToken { refresh_token: Secret },
    /// JWT bearer: an RS256 assertion signed with the connected app's private key.
    JwtBearer {
        username: String,
        private_key_pem: Secret,
    },
    /// Client credentials flow (runs as the connected app's execution user).
    ClientCredentials,
}

/// One customer org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: String,
    pub environment: Environment,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub grant: Grant,
    /// Where the refresh token lives on disk (written by `sfprivacy connect`, rewritten when
    /// Salesforce rotates the token, re-read on `invalid_grant`). `None`: inline or not used.
    pub refresh_token_file: Option<std::path::PathBuf>,
    /// e.g. `62.0`.
    pub api_version: String,
    /// The org's session timeout: the TTL of a cached access token (Salesforce sends no
    /// `expires_in`).
    pub session_timeout_secs: u64,
    /// Extra fields (`Object.Field`) to anonymize beyond the standard personal fields.
    pub anonymize_fields: Vec<String>,
    /// Overrides of the default associated-record policy: child object → `delete` | `keep`.
    pub child_policy: std::collections::BTreeMap<String, String>,
    /// Whether field history rows holding old values may be deleted.
    pub delete_field_history: bool,
}

impl Connection {
    /// The access-token cache's key for this connection: its id plus a hash of what obtained
    /// the token (login host, client id, grant, username). Two configurations sharing an id but not
    /// their credentials (another deployment on the same Redis, a changed connected app) never
    /// read each other's token. Secrets are left out: a rotated refresh token must keep its key.
    pub fn token_cache_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let (grant, username) = match &self.grant {
            Grant::RefreshToken { .. } => ("refresh_token", ""),
            Grant::JwtBearer { username, .. } => ("jwt_bearer", username.as_str()),
            Grant::ClientCredentials => ("client_credentials", ""),
        };
        let mut h = Sha256::new();
        // Length-prefixed, so no two field lists hash alike.
        for part in [
            self.environment.login_url().as_str(),
            &self.client_id,
            grant,
            username,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        format!("{}:{}", self.id, &hex::encode(h.finalize())[..16])
    }
}

/// The AES-256-GCM key that encrypts access tokens at rest in Redis. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// The fixed, public development key used only with `SFPRIVACY_INSECURE_DEV_TOKEN_KEY=1`
    /// (fixed so that several local replicas share one token cache).
    pub fn insecure_dev() -> Self {
        Self(*b"sfprivacy-insecure-dev-token-key")
    }
    fn parse_base64(setting: &str, raw: &str) -> Result<Self, ConfigError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            // Not the decoder's message: it quotes the offending character of the key.
            .map_err(|_| invalid(setting, "not base64 (try `openssl rand -base64 32`)"))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            invalid(
                setting,
                format!(
                    "must decode to 32 bytes, got {} (try `openssl rand -base64 32`)",
                    b.len()
                ),
            )
        })?;
        Ok(Self(arr))
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

/// Log output format of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Default retry tiers: a transient failure waits 10 s, then 1 min, then 10 min, then 1 h before
/// it is dead-lettered (after the last tier) with its reason.
pub const DEFAULT_RETRY_TIERS: [Duration; 4] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(600),
    Duration::from_secs(3600),
];

/// Everything the worker needs, validated. Built by [`Settings::load`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// `amqp://user:pass@host:5672/%2f` (a secret: it may carry a password).
    pub amqp_url: SecretUrl,
    /// `redis://host:6379/0` (a secret for the same reason).
    pub redis_url: SecretUrl,
    /// Where the connections were read from (also where `connect` writes refresh tokens).
    pub connections_file: Option<PathBuf>,
    pub connections: Vec<Connection>,
    /// Requests processed at once per worker; also the AMQP prefetch.
    pub concurrency: u16,
    /// Prefix of every exchange and queue name.
    pub queue_prefix: String,
    /// Default destination of results (`{prefix}.results` unless set).
    pub results_queue: String,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    pub token_key: TokenKey,
    /// True when the token key is the public development key.
    pub insecure_dev_token_key: bool,
    /// Health/readiness/metrics listener.
    pub health_addr: SocketAddr,
    /// How long in-flight jobs get to finish after a shutdown signal.
    pub shutdown_deadline: Duration,
    /// Retry tier delays, shortest first.
    pub retry_tiers: Vec<Duration>,
    /// Export chunk size limit in bytes (serialised records per chunk message).
    pub export_chunk_bytes: usize,
    /// How long a job lease in Redis lasts without renewal.
    pub job_lease: Duration,
    /// How long job state (and stored results) is kept for idempotency.
    pub job_state_ttl: Duration,
    pub log_format: LogFormat,
    /// Per-org API budget, concurrency cap and circuit breaker (ops; see `store::budget`).
    pub org_limits: OrgLimitSettings,
}

/// Per-org limits shared by every replica through Redis; defaults follow Salesforce's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgLimitSettings {
    /// Share of the daily API allocation above which new jobs are deferred (0 < share ≤ 1).
    pub budget_share: f64,
    /// How long a published `Sforce-Limit-Info` figure stays authoritative.
    pub usage_ttl: Duration,
    /// Concurrent Salesforce requests per org, across all replicas (Salesforce: 25 long-running
    /// requests per production org).
    pub max_concurrent: u32,
    /// A concurrency lease outlives a crashed holder by at most this (above the HTTP timeout).
    pub permit_ttl: Duration,
    /// Consecutive transient failures that open an org's circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before one half-open probe.
    pub breaker_cooldown: Duration,
}

impl Default for OrgLimitSettings {
    fn default() -> Self {
        Self {
            budget_share: 0.8,
            usage_ttl: Duration::from_secs(300),
            max_concurrent: 25,
            permit_ttl: Duration::from_secs(600),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(60),
        }
    }
}

/// Every key the settings understand, with its meaning (for `--help`-style docs and errors).
pub const SETTING_KEYS: &[(&str, &str)] = &[
    (
        "AMQP_URL",
        "RabbitMQ URL (default amqp://guest:guest@127.0.0.1:5672/%2f)",
    ),
    ("REDIS_URL", "Redis URL (default redis://127.0.0.1:6379/0)"),
    (
        "CONNECTIONS_FILE",
        "TOML file listing the Salesforce connections",
    ),
    (
        "CONCURRENCY",
        "requests processed at once per worker = prefetch (default 8)",
    ),
    (
        "QUEUE_PREFIX",
        "prefix of exchange and queue names (default sfprivacy)",
    ),
    (
        "RESULTS_QUEUE",
        "default results queue (default {prefix}.results)",
    ),
    ("REDIS_PREFIX", "prefix of Redis keys (default sfprivacy)"),
    (
        "TOKEN_KEY",
        "base64 of 32 random bytes: AES-256-GCM key for cached tokens",
    ),
    (
        "TOKEN_KEY_FILE",
        "file holding TOKEN_KEY (a mounted secret)",
    ),
    (
        "INSECURE_DEV_TOKEN_KEY",
        "1 to run without TOKEN_KEY using a public key (development only)",
    ),
    (
        "HEALTH_ADDR",
        "health/metrics listen address (default 0.0.0.0:8080)",
    ),
    (
        "SHUTDOWN_DEADLINE_SECS",
        "seconds in-flight jobs get after SIGTERM (default 30)",
    ),
    (
        "RETRY_TIERS",
        "comma-separated retry delays, e.g. 10s,1m,10m,1h (default)",
    ),
    (
        "EXPORT_CHUNK_BYTES",
        "max bytes of records per export chunk message (default 1048576)",
    ),
    (
        "JOB_LEASE_SECS",
        "job lease in Redis, renewed while a job runs (default 60)",
    ),
    (
        "JOB_STATE_TTL_SECS",
        "how long job state and results are kept (default 604800 = 7 days)",
    ),
    ("LOG_FORMAT", "json or pretty (default json)"),
    (
        "API_BUDGET_SHARE",
        "share of an org's daily API allocation above which new work is deferred (default 0.8)",
    ),
    (
        "API_USAGE_TTL_SECS",
        "seconds a published API usage figure stays authoritative (default 300)",
    ),
    (
        "ORG_MAX_CONCURRENT",
        "concurrent Salesforce requests per org across replicas (default 25)",
    ),
    (
        "BREAKER_FAILURES",
        "consecutive transient failures that open an org's circuit breaker (default 5)",
    ),
    (
        "BREAKER_COOLDOWN_SECS",
        "seconds an open breaker waits before a half-open probe (default 60)",
    ),
];

/// Environment variable prefix.
pub const ENV_PREFIX: &str = "SFPRIVACY_";

impl Settings {
    /// Reads the optional file named by `SFPRIVACY_CONFIG`, then the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        let file = match env.get("SFPRIVACY_CONFIG") {
            Some(path) => Some(
                std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                    setting: "SFPRIVACY_CONFIG".into(),
                    path: path.clone(),
                    reason: e.to_string(),
                })?,
            ),
            None => None,
        };
        Self::from_sources(file.as_deref(), &env)
    }

    /// Builds settings from a TOML text (keys in lower case, as in [`SETTING_KEYS`]) and an
    /// environment map (`SFPRIVACY_*`, which wins). The connections file is read here too.
    pub fn from_sources(
        file: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut raw = BTreeMap::new();
        let mut from_file = std::collections::BTreeSet::new();
        if let Some(text) = file {
            let path = env.get("SFPRIVACY_CONFIG").map(String::as_str);
            let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
                setting: "SFPRIVACY_CONFIG".into(),
                reason: toml_error_text(path, text, &e),
            })?;
            for (k, v) in table {
                let key = k.to_ascii_uppercase();
                if !is_setting(&key) {
                    return Err(invalid(
                        &format!("{k} (in the settings file)"),
                        unknown_reason(&key, ""),
                    ));
                }
                raw.insert(key.clone(), toml_scalar(&k, v)?);
                from_file.insert(key);
            }
        }
        for (k, v) in env {
            let Some(key) = k.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // A misspelled variable would otherwise be ignored and its default used silently.
            if key == "CONFIG" {
                continue;
            }
            // Kubernetes injects `{SERVICE}_SERVICE_HOST`, `{SERVICE}_PORT_8080_TCP` … for
            // every Service in the namespace, and ours is named `sfprivacy-worker`.
            if !is_setting(key) && is_service_link(key, v) {
                continue;
            }
            if !is_setting(key) {
                return Err(invalid(k, unknown_reason(key, ENV_PREFIX)));
            }
            raw.insert(key.to_string(), v.clone());
            from_file.remove(key);
        }
        // Errors name settings by their variable; one that came from the file is named as
        // the file spells it.
        Self::from_map(&raw).map_err(|e| match e {
            ConfigError::Invalid { setting, reason } => {
                let file_key = setting
                    .strip_prefix(ENV_PREFIX)
                    .filter(|k| from_file.contains(*k))
                    .map(|k| format!("{} (in the settings file)", k.to_ascii_lowercase()));
                ConfigError::Invalid {
                    setting: file_key.unwrap_or(setting),
                    reason,
                }
            }
            other => other,
        })
    }

    fn from_map(raw: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        // Set but empty (a template that rendered nothing) is a mistake, not a request for the
        // default: an empty queue prefix would silently join the default `sfprivacy.*` queues.
        if let Some((k, _)) = raw.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(invalid(
                &format!("{ENV_PREFIX}{k}"),
                "is set but empty: unset it to use the default",
            ));
        }
        let get = |k: &str| raw.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let amqp_url = get("AMQP_URL").unwrap_or("amqp://guest:guest@127.0.0.1:5672/%2f");
        let parsed =
            url::Url::parse(amqp_url).map_err(|e| invalid("SFPRIVACY_AMQP_URL", e.to_string()))?;
        if !matches!(parsed.scheme(), "amqp" | "amqps") {
            return Err(invalid(
                "SFPRIVACY_AMQP_URL",
                "scheme must be amqp or amqps",
            ));
        }
        // What the URL parser accepts, lapin may not (e.g. a bad `heartbeat=`).
        if let Err(crate::broker::BrokerError::InvalidUrl(reason)) =
            crate::broker::check_amqp_url(amqp_url)
        {
            return Err(invalid("SFPRIVACY_AMQP_URL", reason));
        }
        let redis_url = get("REDIS_URL").unwrap_or("redis://127.0.0.1:6379/0");
        let parsed = url::Url::parse(redis_url)
            .map_err(|e| invalid("SFPRIVACY_REDIS_URL", e.to_string()))?;
        if !matches!(parsed.scheme(), "redis" | "rediss" | "redis+unix") {
            return Err(invalid(
                "SFPRIVACY_REDIS_URL",
                "scheme must be redis or rediss",
            ));
        }

        let concurrency: u16 = parse_num(get("CONCURRENCY"), "SFPRIVACY_CONCURRENCY", 8)?;
        if concurrency == 0 || concurrency > 1000 {
            return Err(invalid(
                "SFPRIVACY_CONCURRENCY",
                "must be between 1 and 1000",
            ));
        }
        let queue_prefix = get("QUEUE_PREFIX").unwrap_or("sfprivacy").to_string();
        check_name("SFPRIVACY_QUEUE_PREFIX", &queue_prefix)?;
        let results_queue = get("RESULTS_QUEUE")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{queue_prefix}.results"));
        check_name("SFPRIVACY_RESULTS_QUEUE", &results_queue)?;
        let redis_prefix = get("REDIS_PREFIX").unwrap_or("sfprivacy").to_string();
        check_name("SFPRIVACY_REDIS_PREFIX", &redis_prefix)?;

        let insecure = match get("INSECURE_DEV_TOKEN_KEY") {
            None => false,
            Some(v) => parse_bool("SFPRIVACY_INSECURE_DEV_TOKEN_KEY", v)?,
        };
        let key_text = match (get("TOKEN_KEY"), get("TOKEN_KEY_FILE")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "SFPRIVACY_TOKEN_KEY",
                    "give TOKEN_KEY or TOKEN_KEY_FILE, not both",
                ));
            }
            (Some(k), None) => Some(k.to_string()),
            (None, Some(path)) => Some(read_secret_file("SFPRIVACY_TOKEN_KEY_FILE", path)?),
            (None, None) => None,
        };
        let (token_key, insecure_dev_token_key) = match key_text {
            Some(k) => (TokenKey::parse_base64("SFPRIVACY_TOKEN_KEY", &k)?, false),
            None if insecure => (TokenKey::insecure_dev(), true),
            None => {
                return Err(ConfigError::Missing {
                    setting: "SFPRIVACY_TOKEN_KEY",
                    hint: "set it to `openssl rand -base64 32` (or SFPRIVACY_TOKEN_KEY_FILE); \
                           for local development only, SFPRIVACY_INSECURE_DEV_TOKEN_KEY=1",
                });
            }
        };

        let health_addr: SocketAddr = get("HEALTH_ADDR")
            .unwrap_or("0.0.0.0:8080")
            .parse()
            .map_err(|e| invalid("SFPRIVACY_HEALTH_ADDR", format!("not host:port: {e}")))?;
        let shutdown_deadline = Duration::from_secs(parse_num(
            get("SHUTDOWN_DEADLINE_SECS"),
            "SFPRIVACY_SHUTDOWN_DEADLINE_SECS",
            30u64,
        )?);
        let retry_tiers = match get("RETRY_TIERS") {
            None => DEFAULT_RETRY_TIERS.to_vec(),
            Some(s) => parse_tiers(s)?,
        };
        let export_chunk_bytes: usize = parse_num(
            get("EXPORT_CHUNK_BYTES"),
            "SFPRIVACY_EXPORT_CHUNK_BYTES",
            1024 * 1024,
        )?;
        if !(1024..=64 * 1024 * 1024).contains(&export_chunk_bytes) {
            return Err(invalid(
                "SFPRIVACY_EXPORT_CHUNK_BYTES",
                "must be between 1024 and 67108864",
            ));
        }
        let job_lease_secs: u64 = parse_num(get("JOB_LEASE_SECS"), "SFPRIVACY_JOB_LEASE_SECS", 60)?;
        if job_lease_secs < 2 {
            return Err(invalid("SFPRIVACY_JOB_LEASE_SECS", "must be at least 2"));
        }
        let job_state_ttl_secs: u64 = parse_num(
            get("JOB_STATE_TTL_SECS"),
            "SFPRIVACY_JOB_STATE_TTL_SECS",
            7 * 24 * 3600,
        )?;
        if job_state_ttl_secs < 60 {
            return Err(invalid(
                "SFPRIVACY_JOB_STATE_TTL_SECS",
                "must be at least 60",
            ));
        }
        let log_format = match get("LOG_FORMAT").unwrap_or("json") {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => {
                return Err(invalid(
                    "SFPRIVACY_LOG_FORMAT",
                    format!("{other:?}: expected json or pretty"),
                ));
            }
        };

        let org_limits = org_limits(&get)?;

        let connections_file = get("CONNECTIONS_FILE").map(PathBuf::from);
        let connections = match &connections_file {
            Some(path) => connections::load_file(path)?,
            None => Vec::new(),
        };

        Ok(Settings {
            amqp_url: SecretUrl::new(amqp_url),
            redis_url: SecretUrl::new(redis_url),
            connections_file,
            connections,
            concurrency,
            queue_prefix,
            results_queue,
            redis_prefix,
            token_key,
            insecure_dev_token_key,
            health_addr,
            shutdown_deadline,
            retry_tiers,
            export_chunk_bytes,
            job_lease: Duration::from_secs(job_lease_secs),
            job_state_ttl: Duration::from_secs(job_state_ttl_secs),
            log_format,
            org_limits,
        })
    }

    /// The worker needs at least one connection; `run` and `demo` may supply their own.
    pub fn require_connections(&self) -> Result<(), ConfigError> {
        if self.connections.is_empty() {
            if let Some(path) = &self.connections_file {
                return Err(ConfigError::Invalid {
                    setting: "SFPRIVACY_CONNECTIONS_FILE".into(),
                    reason: format!(
                        "{} has no connection entries: add at least one [[connection]] (see README)",
                        path.display()
                    ),
                });
            }
            return Err(ConfigError::Missing {
                setting: "SFPRIVACY_CONNECTIONS_FILE",
                hint: "point it at a TOML file with at least one [[connection]] (see README)",
            });
        }
        Ok(())
    }

    pub fn connection(&self, id: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.id == id)
    }
}

/// The per-org limit settings (ops).
fn org_limits<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<OrgLimitSettings, ConfigError> {
    let d = OrgLimitSettings::default();
    let budget_share: f64 = parse_num(
        get("API_BUDGET_SHARE"),
        "SFPRIVACY_API_BUDGET_SHARE",
        d.budget_share,
    )?;
    if !(budget_share > 0.0 && budget_share <= 1.0) {
        return Err(invalid(
            "SFPRIVACY_API_BUDGET_SHARE",
            "must be above 0 and at most 1",
        ));
    }
    let usage_ttl: u64 = parse_num(
        get("API_USAGE_TTL_SECS"),
        "SFPRIVACY_API_USAGE_TTL_SECS",
        d.usage_ttl.as_secs(),
    )?;
    let max_concurrent: u32 = parse_num(
        get("ORG_MAX_CONCURRENT"),
        "SFPRIVACY_ORG_MAX_CONCURRENT",
        d.max_concurrent,
    )?;
    let breaker_failures: u32 = parse_num(
        get("BREAKER_FAILURES"),
        "SFPRIVACY_BREAKER_FAILURES",
        d.breaker_failures,
    )?;
    let breaker_cooldown: u64 = parse_num(
        get("BREAKER_COOLDOWN_SECS"),
        "SFPRIVACY_BREAKER_COOLDOWN_SECS",
        d.breaker_cooldown.as_secs(),
    )?;
    for (setting, v) in [
        ("SFPRIVACY_API_USAGE_TTL_SECS", usage_ttl),
        ("SFPRIVACY_ORG_MAX_CONCURRENT", u64::from(max_concurrent)),
        ("SFPRIVACY_BREAKER_FAILURES", u64::from(breaker_failures)),
        ("SFPRIVACY_BREAKER_COOLDOWN_SECS", breaker_cooldown),
    ] {
        if v == 0 {
            return Err(invalid(setting, "must be at least 1"));
        }
    }
    Ok(OrgLimitSettings {
        budget_share,
        usage_ttl: Duration::from_secs(usage_ttl),
        max_concurrent,
        permit_ttl: d.permit_ttl,
        breaker_failures,
        breaker_cooldown: Duration::from_secs(breaker_cooldown),
    })
}

fn is_setting(key: &str) -> bool {
    SETTING_KEYS.iter().any(|(s, _)| *s == key)
}

/// Whether `key` (after `SFPRIVACY_`) and its value have the shape of a Kubernetes
/// service-link variable (`<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT[_<NAME>]`, `<SVC>_PORT`,
/// `<SVC>_PORT_<n>_<PROTO>[_ADDR|_PORT|_PROTO]`). The value is checked too, so that a typo
/// such as `SFPRIVACY_HEALTH_PORT=9090` is still reported.
fn is_service_link(key: &str, value: &str) -> bool {
    let v = value.trim();
    let is_port = |s: &str| s.parse::<u16>().is_ok_and(|p| p > 0);
    let is_host = |s: &str| s.parse::<std::net::IpAddr>().is_ok();
    let is_proto = |s: &str| matches!(s, "TCP" | "UDP" | "SCTP");
    let is_proto_value = |s: &str| matches!(s, "tcp" | "udp" | "sctp");
    // `tcp://10.0.0.1:8080` (IPv6 hosts in brackets).
    let is_link_url = |s: &str| {
        s.split_once("://").is_some_and(|(scheme, rest)| {
            is_proto_value(scheme)
                && rest.rsplit_once(':').is_some_and(|(h, p)| {
                    is_port(p) && is_host(h.trim_start_matches('[').trim_end_matches(']'))
                })
        })
    };
    // The service name part: the whole key is `<SVC>_<suffix>`, or just `<suffix>` for a
    // Service named `sfprivacy`.
    let suffix_of = |marker: &str| -> Option<&str> {
        if let Some(rest) = key.strip_prefix(marker) {
            return Some(rest);
        }
        key.find(&format!("_{marker}"))
            .map(|i| &key[i + 1 + marker.len()..])
    };
    if let Some(rest) = suffix_of("SERVICE_HOST") {
        return rest.is_empty() && is_host(v);
    }
    if let Some(rest) = suffix_of("SERVICE_PORT") {
        let named = rest.strip_prefix('_').is_some_and(|n| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        return (rest.is_empty() || named) && is_port(v);
    }
    if let Some(rest) = suffix_of("PORT") {
        if rest.is_empty() {
            return is_link_url(v);
        }
        let mut parts = rest.trim_start_matches('_').splitn(3, '_');
        let (Some(port), Some(proto)) = (parts.next(), parts.next()) else {
            return false;
        };
        if !is_port(port) || !is_proto(proto) {
            return false;
        }
        return match parts.next() {
            None => is_link_url(v),
            Some("ADDR") => is_host(v),
            Some("PORT") => v == port,
            Some("PROTO") => v.eq_ignore_ascii_case(proto),
            Some(_) => false,
        };
    }
    false
}

/// "unknown setting", with the closest known name when one is a likely typo.
fn unknown_reason(key: &str, prefix: &str) -> String {
    let closest = SETTING_KEYS
        .iter()
        .map(|(s, _)| (edit_distance(key, s), *s))
        .min();
    match closest {
        Some((d, s)) if d <= 3 => format!("unknown setting; did you mean {prefix}{s}?"),
        _ => "unknown setting (see the README's configuration table)".into(),
    }
}

/// Levenshtein distance over bytes (setting names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_string(),
        reason: reason.into(),
    }
}

/// A TOML error as `FILE line L, column C: message`. Never `toml`'s own Display: it quotes
/// the offending source line, which in these files may hold a secret (an unterminated
/// `client_secret = "…`, a duplicate `refresh_token = "…"`).
pub(crate) fn toml_error_text(path: Option<&str>, text: &str, e: &toml::de::Error) -> String {
    let whence = match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(" line {line}, column {column}")
        }
        None => String::new(),
    };
    let path = path.unwrap_or("the file");
    format!(
        "{path}{whence}: {}",
        redact_serde_values(e.message().trim())
    )
}

/// serde's type errors quote the value (`invalid type: integer `123456`, expected a string`);
/// the value may be a secret, so it goes, and the kinds stay.
pub(crate) fn redact_serde_values(message: &str) -> String {
    static VALUE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match VALUE.get_or_init(|| {
        regex::Regex::new(r#"(invalid (?:type|value|length): [a-z ]+?) (?:`[^`]*`|"[^"]*")"#).ok()
    }) {
        Some(re) => re.replace_all(message, "$1").into_owned(),
        None => message.to_string(),
    }
}

/// A TOML value as the string the env var would hold (arrays joined with commas).
fn toml_scalar(key: &str, v: toml::Value) -> Result<String, ConfigError> {
    Ok(match v {
        toml::Value::String(s) => s,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => if b { "1" } else { "0" }.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::new();
            for item in items {
                parts.push(toml_scalar(key, item)?);
            }
            parts.join(",")
        }
        other => {
            return Err(invalid(
                key,
                format!("unsupported value type {}", other.type_str()),
            ));
        }
    })
}

fn parse_num<T: std::str::FromStr>(
    raw: Option<&str>,
    setting: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|e: T::Err| invalid(setting, format!("{s:?} is not a valid number: {e}"))),
    }
}

fn parse_bool(setting: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(invalid(
            setting,
            format!("{v:?}: expected 1/0, true/false or yes/no"),
        )),
    }
}

/// `10s`, `1m`, `10m`, `1h`, `250ms`, comma separated, strictly increasing.
pub fn parse_tiers(s: &str) -> Result<Vec<Duration>, ConfigError> {
    let mut out: Vec<Duration> = Vec::new();
    for part in s.split(',').map(str::trim) {
        let d = parse_duration(part).ok_or_else(|| {
            invalid(
                "SFPRIVACY_RETRY_TIERS",
                format!("{part:?} is not a delay like 10s, 1m, 1h or 250ms"),
            )
        })?;
        if d.is_zero() {
            return Err(invalid("SFPRIVACY_RETRY_TIERS", "delays must be positive"));
        }
        out.push(d);
    }
    if out.len() > 10 {
        return Err(invalid("SFPRIVACY_RETRY_TIERS", "at most 10 tiers"));
    }
    Ok(out)
}

/// Parses `250ms`, `10s`, `1m`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        return None;
    };
    let n: u64 = num.trim().parse().ok()?;
    Some(Duration::from_millis(n.checked_mul(unit)?))
}

/// Label used in queue names for a tier delay: `10s`, `1m`, `1h`, `250ms`.
pub fn tier_label(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn check_name(setting: &str, name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            setting,
            "may hold only letters, digits and - _ . : (1 to 200)",
        ))
    }
}

/// Reads a mounted secret (trailing newline trimmed).
pub(crate) fn read_secret_file(setting: &str, path: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        setting: setting.to_string(),
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    let t = text.trim_end_matches(['\n', '\r']).to_string();
    if t.is_empty() {
        return Err(invalid(setting, format!("{path} is empty")));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("SFPRIVACY_{k}"), v.to_string()))
            .collect()
    }

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes

    fn ok(pairs: &[(&str, &str)]) -> Settings {
        let mut e = env(pairs);
        e.entry("SFPRIVACY_TOKEN_KEY".into()).or_insert(KEY.into());
        Settings::from_sources(None, &e).unwrap()
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        Settings::from_sources(None, &env(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_are_sane() {
        let s = ok(&[]);
        assert_eq!(s.queue_prefix, "sfprivacy");
        assert_eq!(s.results_queue, "sfprivacy.results");
        assert_eq!(s.concurrency, 8);
        assert_eq!(s.retry_tiers, DEFAULT_RETRY_TIERS.to_vec());
        assert!(!s.insecure_dev_token_key);
    }

    #[test]
    fn missing_token_key_refuses_to_start_unless_dev_flag() {
        let e = err(&[]);
        assert!(
            e.contains("SFPRIVACY_TOKEN_KEY") && e.contains("missing"),
            "{e}"
        );
        let s = Settings::from_sources(None, &env(&[("INSECURE_DEV_TOKEN_KEY", "1")])).unwrap();
        assert!(s.insecure_dev_token_key);
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("TOKEN_KEY", "not base64!!")], "SFPRIVACY_TOKEN_KEY"),
            (&[("TOKEN_KEY", "c2hvcnQ=")], "SFPRIVACY_TOKEN_KEY"),
            (
                &[("TOKEN_KEY", KEY), ("AMQP_URL", "http://x")],
                "SFPRIVACY_AMQP_URL",
            ),
            (
                &[("TOKEN_KEY", KEY), ("AMQP_URL", "::")],
                "SFPRIVACY_AMQP_URL",
            ),
            (
                &[("TOKEN_KEY", KEY), ("REDIS_URL", "mysql://x")],
                "SFPRIVACY_REDIS_URL",
            ),
            (
                &[("TOKEN_KEY", KEY), ("CONCURRENCY", "0")],
                "SFPRIVACY_CONCURRENCY",
            ),
            (
                &[("TOKEN_KEY", KEY), ("CONCURRENCY", "lots")],
                "SFPRIVACY_CONCURRENCY",
            ),
            (
                &[("TOKEN_KEY", KEY), ("QUEUE_PREFIX", "a b")],
                "SFPRIVACY_QUEUE_PREFIX",
            ),
            // Empty is not "the default": a worker would join the default queues.
            (
                &[("TOKEN_KEY", KEY), ("QUEUE_PREFIX", "")],
                "SFPRIVACY_QUEUE_PREFIX",
            ),
            (
                &[("TOKEN_KEY", KEY), ("RETRY_TIERS", "  ")],
                "SFPRIVACY_RETRY_TIERS",
            ),
            (
                &[("TOKEN_KEY", KEY), ("HEALTH_ADDR", "nope")],
                "SFPRIVACY_HEALTH_ADDR",
            ),
            (
                &[("TOKEN_KEY", KEY), ("RETRY_TIERS", "10s,soon")],
                "SFPRIVACY_RETRY_TIERS",
            ),
            (
                &[("TOKEN_KEY", KEY), ("RETRY_TIERS", "0s")],
                "SFPRIVACY_RETRY_TIERS",
            ),
            (
                &[("TOKEN_KEY", KEY), ("LOG_FORMAT", "xml")],
                "SFPRIVACY_LOG_FORMAT",
            ),
            (
                &[("TOKEN_KEY", KEY), ("INSECURE_DEV_TOKEN_KEY", "maybe")],
                "SFPRIVACY_INSECURE_DEV_TOKEN_KEY",
            ),
            (
                &[("TOKEN_KEY", KEY), ("EXPORT_CHUNK_BYTES", "10")],
                "SFPRIVACY_EXPORT_CHUNK_BYTES",
            ),
            (
                &[
                    ("TOKEN_KEY", KEY),
                    ("CONNECTIONS_FILE", "/nonexistent/c.toml"),
                ],
                "SFPRIVACY_CONNECTIONS_FILE",
            ),
            (
                &[("TOKEN_KEY_FILE", "/nonexistent/key")],
                "SFPRIVACY_TOKEN_KEY_FILE",
            ),
        ];
        for (pairs, name) in cases {
            let e = err(pairs);
            assert!(e.contains(name), "{pairs:?}: {e}");
        }
    }

    #[test]
    fn file_then_env_and_unknown_file_keys_rejected() {
        let file = format!(
            "queue_prefix = \"fromfile\"\nconcurrency = 3\nretry_tiers = [\"1s\", \"2s\"]\ntoken_key = \"{KEY}\"\n"
        );
        let s = Settings::from_sources(Some(&file), &env(&[("CONCURRENCY", "5")])).unwrap();
        assert_eq!(s.queue_prefix, "fromfile");
        assert_eq!(s.concurrency, 5);
        assert_eq!(
            s.retry_tiers,
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        let e = Settings::from_sources(Some("concurency = 3"), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurency (in the settings file)"), "{e}");
        assert!(e.contains("did you mean CONCURRENCY?"), "{e}");
    }

    #[test]
    fn a_misspelled_variable_stops_the_worker_naming_it() {
        let e = err(&[("CONCURENCY", "3"), ("TOKEN_KEY", KEY)]);
        assert!(e.contains("SFPRIVACY_CONCURENCY"), "{e}");
        assert!(e.contains("did you mean SFPRIVACY_CONCURRENCY?"), "{e}");
        let e = err(&[("NOT_A_THING_AT_ALL", "1"), ("TOKEN_KEY", KEY)]);
        assert!(e.contains("unknown setting"), "{e}");
        // The settings-file variable itself is not a setting, and is accepted.
        ok(&[("CONFIG", "/dev/null")]);
    }

    #[test]
    fn the_token_cache_id_follows_the_credentials_not_the_secrets() {
        let text = "[[connection]]\nid=\"a\"\nenvironment=\"sandbox\"\nclient_id=\"c\"\nclient_secret=\"s\"\ngrant=\"refresh_token\"\nrefresh_token=\"r1\"\n";
        let base = connections::parse(text).unwrap().remove(0);
        let id = base.token_cache_id();
        assert!(id.starts_with("a:") && id.len() == 2 + 16, "{id}");
        let mut same = base.clone();
        same.client_secret = Some(Secret::new("other secret"));
        same.grant = Grant::RefreshToken {
            refresh_token: Secret::new("r2"),
        };
        assert_eq!(
            same.token_cache_id(),
            id,
            "secrets and rotations keep the key"
        );
        let mut ids = std::collections::BTreeSet::from([id]);
        let mut c = base.clone();
        c.client_id = "c2".into();
        ids.insert(c.token_cache_id());
        let mut c = base.clone();
        c.environment = Environment::Production;
        ids.insert(c.token_cache_id());
        let mut c = base.clone();
        c.grant = Grant::ClientCredentials;
        ids.insert(c.token_cache_id());
        for user in ["u1@example.com", "u2@example.com"] {
            let mut c = base.clone();
            c.grant = Grant::JwtBearer {
                username: user.into(),
                private_key_pem: Secret::new("k"),
            };
            ids.insert(c.token_cache_id());
        }
        assert_eq!(ids.len(), 6, "{ids:?}");
    }

    #[test]
    fn an_amqp_url_lapin_cannot_use_is_refused_without_its_password() {
        for url in [
            "amqp://guest:hunter2@127.0.0.1:5672/%2f?heartbeat=often",
            "amqp://guest:hunter2@127.0.0.1:5672/%2f?auth_mechanism=nope",
        ] {
            let e = err(&[("TOKEN_KEY", KEY), ("AMQP_URL", url)]);
            assert!(e.contains("SFPRIVACY_AMQP_URL is invalid"), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    /// A file in a temporary directory; the error loading it as `load` would.
    fn file_error(name: &str, text: &str, load: impl Fn(&str) -> String) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let path = p.to_str().unwrap().to_string();
        (load(&path), path)
    }

    fn connections_error(text: &str) -> (String, String) {
        file_error("connections.toml", text, |p| {
            connections::load_file(std::path::Path::new(p))
                .unwrap_err()
                .to_string()
        })
    }

    const CONN_HEAD: &str =
        "[[connection]]\nid = \"prod\"\nenvironment = \"production\"\nclient_id = \"cid\"\n";

    #[test]
    fn toml_errors_name_file_line_and_column_and_never_quote_the_secret() {
        // An unterminated secret in the connections file.
        let (e, path) = connections_error(&format!("{CONN_HEAD}client_secret = \"TOPSECRET-123\n"));
        assert!(!e.contains("TOPSECRET"), "{e}");
        assert!(e.contains(&path) && e.contains("line 5"), "{e}");
        // A duplicate key: toml quotes the second occurrence's line.
        let (e, path) = connections_error(&format!(
            "{CONN_HEAD}refresh_token = \"5Aep-REAL-TOKEN\"\nrefresh_token = \"5Aep-REAL-TOKEN\"\n"
        ));
        assert!(!e.contains("5Aep"), "{e}");
        assert!(e.contains(&path) && e.contains("line 6"), "{e}");
        // An unterminated token key in the settings file.
        let (e, path) = file_error(
            "settings.toml",
            "concurrency = 3\ntoken_key = \"SECRETKEYMATERIAL\n",
            |p| {
                let text = std::fs::read_to_string(p).unwrap();
                Settings::from_sources(Some(&text), &env(&[("CONFIG", p)]))
                    .unwrap_err()
                    .to_string()
            },
        );
        assert!(!e.contains("SECRETKEYMATERIAL"), "{e}");
        assert!(e.contains(&path) && e.contains("line 2"), "{e}");
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        let (e, _) = connections_error(&format!("{CONN_HEAD}client_secret = 918273645\n"));
        assert!(!e.contains("918273645"), "{e}");
        assert!(e.contains("invalid type: integer"), "{e}");
    }

    #[test]
    fn an_empty_connections_file_is_named_not_called_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("connections.toml");
        std::fs::write(&p, "# nothing yet\n").unwrap();
        let s = ok(&[("CONNECTIONS_FILE", p.to_str().unwrap())]);
        let e = s.require_connections().unwrap_err().to_string();
        assert!(e.contains("SFPRIVACY_CONNECTIONS_FILE"), "{e}");
        assert!(e.contains("has no connection entries"), "{e}");
        assert!(e.contains(p.to_str().unwrap()), "the file is named: {e}");
        assert!(!e.contains("missing"), "{e}");
        // Not set at all is still "missing".
        let e = ok(&[]).require_connections().unwrap_err().to_string();
        assert!(e.contains("SFPRIVACY_CONNECTIONS_FILE is missing"), "{e}");
    }

    #[test]
    fn kubernetes_service_links_are_ignored_but_typos_still_caught() {
        // What Kubernetes injects for the `sfprivacy-worker` Service (port `health` 8080),
        // and for a Service named plain `sfprivacy`.
        let links = [
            ("WORKER_SERVICE_HOST", "10.96.12.34"),
            ("WORKER_SERVICE_PORT", "8080"),
            ("WORKER_SERVICE_PORT_HEALTH", "8080"),
            ("WORKER_PORT", "tcp://10.96.12.34:8080"),
            ("WORKER_PORT_8080_TCP", "tcp://10.96.12.34:8080"),
            ("WORKER_PORT_8080_TCP_ADDR", "10.96.12.34"),
            ("WORKER_PORT_8080_TCP_PORT", "8080"),
            ("WORKER_PORT_8080_TCP_PROTO", "tcp"),
            ("SERVICE_HOST", "fd00::1"),
            ("PORT", "tcp://[fd00::1]:5672"),
            ("PORT_5672_TCP", "tcp://[fd00::1]:5672"),
        ];
        ok(&links);
        for (k, v) in links {
            assert!(super::is_service_link(k, v), "{k}={v}");
        }
        // Typos and look-alikes are still reported.
        let e = err(&[("CONCURENCY", "3"), ("WORKER_PORT", "tcp://10.0.0.1:8080")]);
        assert!(e.contains("SFPRIVACY_CONCURENCY"), "{e}");
        for (k, v) in [
            ("HEALTH_PORT", "9090"),
            ("WORKER_SERVICE_HOST", "not-an-ip"),
            ("WORKER_SERVICE_PORT", "http"),
            ("WORKER_PORT_8080_TCP_PORT", "9090"),
            ("WORKER_PORT_8080_HTTP", "tcp://10.0.0.1:8080"),
            ("WORKER_PORT_8080_TCP_HOST", "10.0.0.1"),
            ("SERVICE_HOSTNAME", "10.0.0.1"),
        ] {
            assert!(!super::is_service_link(k, v), "{k}={v}");
            let e = err(&[(k, v)]);
            assert!(e.contains(&format!("SFPRIVACY_{k}")), "{e}");
            assert!(e.contains("unknown setting"), "{e}");
        }
    }

    #[test]
    fn a_bad_value_from_the_file_is_named_as_the_file_spells_it() {
        let file = format!("concurrency = 0\ntoken_key = \"{KEY}\"\n");
        let e = Settings::from_sources(Some(&file), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurrency (in the settings file)"), "{e}");
        // The same value from the environment is named by its variable.
        let e = err(&[("CONCURRENCY", "0"), ("TOKEN_KEY", KEY)]);
        assert!(e.contains("SFPRIVACY_CONCURRENCY"), "{e}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = ok(&[("AMQP_URL", "amqp://u:hunter2@h:5672/%2f")]);
        let d = format!("{s:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(!d.contains(KEY), "{d}");
        assert!(d.contains("[redacted]"));
        // Which broker and Redis: the URLs show but for their passwords.
        assert!(d.contains("amqp://u:***@h:5672/%2f"), "{d}");
        assert!(d.contains("redis://127.0.0.1:6379"), "{d}");
    }

    #[test]
    fn token_key_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(&p, format!("{KEY}\n")).unwrap();
        let s =
            Settings::from_sources(None, &env(&[("TOKEN_KEY_FILE", p.to_str().unwrap())])).unwrap();
        assert_eq!(s.token_key.bytes(), b"0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn tiers_and_labels() {
        let t = parse_tiers("250ms, 10s,1m,1h").unwrap();
        let labels: Vec<_> = t.iter().map(|d| tier_label(*d)).collect();
        assert_eq!(labels, ["250ms", "10s", "1m", "1h"]);
    }
}
