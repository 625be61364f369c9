//! Salesforce errors, classified in one place. Retry decisions read [`SfError::kind`].

use std::time::Duration;

/// How the caller should treat a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth retrying soon: 5xx, `SERVER_UNAVAILABLE`, `UNABLE_TO_LOCK_ROW`, `QUERY_TIMEOUT`,
    /// concurrent-request `REQUEST_LIMIT_EXCEEDED`, timeouts, dropped connections.
    Transient,
    /// The session is invalid: refresh the token once and retry once.
    Auth,
    /// The credential itself is dead (`invalid_grant` after a re-read, revoked, inactive user):
    /// an operator must fix it; dead-letter.
    CredentialRevoked,
    /// The daily API allocation is spent: defer until it frees up; dead-letter past the budget.
    DailyLimit,
    /// Will fail again the same way: a terminal `failed` (or per-record `failed`).
    Permanent,
}

/// One Salesforce error entry: `{"message","errorCode","fields"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorBody {
    pub message: String,
    #[serde(alias = "statusCode")]
    pub error_code: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// A failed Salesforce call.
#[derive(Debug, thiserror::Error)]
pub enum SfError {
    /// Salesforce answered with an error status and body.
    #[error("Salesforce {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// OAuth token endpoint error (`{"error","error_description"}`).
    #[error("OAuth {error}: {description}")]
    OAuth {
        status: u16,
        error: String,
        description: String,
    },
    /// The request never got an answer (connect, reset, timeout).
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer could not be understood.
    #[error("unexpected response: {0}")]
    Decode(String),
    /// Store (Redis) failure while handling tokens or limits.
    #[error("store error: {0}")]
    Store(String),
    /// Our own per-org concurrency cap had no free slot within `waited`: the org is busy with
    /// our other calls, not failing. Transient (the job is retried), but no sign of Salesforce
    /// trouble, so it never counts against the org's circuit breaker.
    #[error("org concurrency cap: no free slot within {waited:?}")]
    ConcurrencyCap { waited: Duration },
    /// The connection's configuration is unusable.
    #[error("connection misconfigured: {0}")]
    Config(String),
    /// A caller passed something no statement or call can be built from (a bad identifier,
    /// a value longer than any statement).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The request's object selection names something this org cannot serve (an object it does
    /// not have, or one with no email field). Our own finding, not a Salesforce answer, so its
    /// text does not say "Salesforce 404".
    #[error("{message}")]
    Selection { code: &'static str, message: String },
}

impl SfError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SfError::Api {
                status,
                code,
                message,
                ..
            } => classify_api(*status, code, message),
            SfError::OAuth { error, status, .. } => match error.as_str() {
                "invalid_grant"
                | "invalid_client_id"
                | "invalid_client"
                | "unauthorized_client"
                | "inactive_user"
                | "inactive_org" => ErrorKind::CredentialRevoked,
                _ if *status >= 500 => ErrorKind::Transient,
                _ => ErrorKind::Permanent,
            },
            SfError::Transport(_) | SfError::Store(_) | SfError::ConcurrencyCap { .. } => {
                ErrorKind::Transient
            }
            SfError::Decode(_)
            | SfError::Config(_)
            | SfError::InvalidInput(_)
            | SfError::Selection { .. } => ErrorKind::Permanent,
        }
    }

    /// Salesforce's errorCode (or the OAuth error), for results and dead-letter headers.
    pub fn code(&self) -> String {
        match self {
            SfError::Api { code, .. } => code.clone(),
            SfError::OAuth { error, .. } => error.clone(),
            SfError::Transport(_) => "TRANSPORT_ERROR".into(),
            SfError::Decode(_) => "UNEXPECTED_RESPONSE".into(),
            SfError::Store(_) => "STORE_UNAVAILABLE".into(),
            SfError::ConcurrencyCap { .. } => "ORG_CONCURRENCY_CAP".into(),
            SfError::Config(_) => "CONNECTION_MISCONFIGURED".into(),
            SfError::InvalidInput(_) => "INVALID_INPUT".into(),
            SfError::Selection { code, .. } => (*code).into(),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SfError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Per-record status codes (`statusCode` in collection results) that are worth retrying.
pub fn is_transient_status_code(code: &str) -> bool {
    matches!(
        code,
        "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE" | "QUERY_TIMEOUT"
    )
}

fn classify_api(status: u16, code: &str, message: &str) -> ErrorKind {
    match code {
        "INVALID_SESSION_ID" => ErrorKind::Auth,
        // Salesforce uses one code for both; the message tells them apart.
        "REQUEST_LIMIT_EXCEEDED" if message.contains("TotalRequests") => ErrorKind::DailyLimit,
        "REQUEST_LIMIT_EXCEEDED" => ErrorKind::Transient,
        c if is_transient_status_code(c) => ErrorKind::Transient,
        _ if status >= 500 || status == 429 => ErrorKind::Transient,
        _ if status == 401 => ErrorKind::Auth,
        _ => ErrorKind::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, message: &str) -> SfError {
        SfError::Api {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    #[test]
    fn classifies_salesforce_errors() {
        assert_eq!(
            api(401, "INVALID_SESSION_ID", "Session expired or invalid").kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            api(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded."
            )
            .kind(),
            ErrorKind::DailyLimit
        );
        assert_eq!(
            api(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded."
            )
            .kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            api(503, "SERVER_UNAVAILABLE", "x").kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            api(400, "MALFORMED_QUERY", "x").kind(),
            ErrorKind::Permanent
        );
        assert_eq!(api(404, "NOT_FOUND", "x").kind(), ErrorKind::Permanent);
    }

    #[test]
    fn a_full_concurrency_cap_is_transient_with_its_own_code() {
        let e = SfError::ConcurrencyCap {
            waited: Duration::from_secs(30),
        };
        assert_eq!(e.kind(), ErrorKind::Transient);
        assert_eq!(e.code(), "ORG_CONCURRENCY_CAP");
    }
}
