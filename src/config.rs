//! Settings and connections, read from the environment and optional files, validated at start.
//!
//! A bad or missing setting stops the worker with a [`ConfigError`] that names the setting.
//! Secrets are wrapped in [`Secret`], whose `Debug` prints `[redacted]`; `expose()` is called
//! only where the secret is sent to Salesforce or used as a key.

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
        setting: &'static str,
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
