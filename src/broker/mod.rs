//! The RabbitMQ adapter: topology, the confirmed publisher, the consumer loop with its
//! supervisor, retry tiers and the dead-letter queue. The only module that touches lapin.
//!
//! A delivery is handed to [`crate::jobs::Jobs::handle`] as bytes plus a little metadata; the
//! returned [`crate::jobs::Outcome`] is mapped here to publish + ack, a retry tier or the
//! dead-letter queue. Nothing is acked before everything it produced has been confirmed by the
//! broker, so a crash or a dropped connection at any point means redelivery, never loss.

pub mod consumer;
pub mod headers;
pub mod publisher;
pub mod replay;
pub mod topology;

pub use consumer::{WorkerHandle, run_worker};
pub use publisher::Publisher;
pub use topology::Names;

/// A RabbitMQ failure.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("amqp: {0}")]
    Amqp(#[from] lapin::Error),
    /// The broker negatively acknowledged a publish (it could not take responsibility).
    #[error("publish to {0:?} was nacked by the broker")]
    Nacked(String),
    /// A `mandatory` publish had no route (e.g. the reply queue does not exist).
    #[error("publish to {target:?} was returned: {code} {text}")]
    Returned {
        target: String,
        code: u16,
        text: String,
    },
    #[error("publisher confirms are not enabled on this channel")]
    NotConfirmed,
    #[error("invalid AMQP name {0:?}")]
    Name(String),
    /// The broker refused the login on the first connection: wrong user or password, a vhost
    /// that does not exist or that the user may not use. Retrying cannot fix it.
    #[error(
        "RabbitMQ at {url} refused the login ({reason}): check the user, password and vhost in SFPRIVACY_AMQP_URL"
    )]
    LoginRefused { url: String, reason: String },
    /// The AMQP URL cannot be parsed (the reason never quotes the URL: it may hold a password).
    #[error("SFPRIVACY_AMQP_URL is not a valid AMQP URL: {0}")]
    InvalidUrl(String),
}

/// Closes `ch` before its connection is closed. Left to lapin (when the last handle drops), the
/// close runs in the background, races `Connection::close` and logs "Connection error invalid
/// channel state: Closing" at the end of a clean run.
pub async fn close_channel(ch: &lapin::Channel, reason: &str) {
    if ch.status().connected() {
        let _ = ch.close(200, reason.into()).await;
    }
}

/// Whether `e` is the broker refusing our login: 403 ACCESS_REFUSED (credentials) or 530
/// NOT_ALLOWED (no such vhost, or no permission on it) on connection open, or the client's
/// auth provider failing.
pub(crate) fn is_login_refused(e: &lapin::Error) -> bool {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => matches!(amqp.get_id(), 403 | 530),
        lapin::ErrorKind::AuthProviderError(_) => true,
        _ => false,
    }
}

/// Parses `url` as lapin will; the error never quotes the URL (it may carry a password).
pub fn check_amqp_url(url: &str) -> Result<(), BrokerError> {
    url.parse::<lapin::uri::AMQPUri>().map(|_| ()).map_err(|e| {
        let leaks = e.contains(url)
            || url::Url::parse(url)
                .ok()
                .and_then(|u| u.password().map(|p| e.contains(p)))
                .unwrap_or(false);
        BrokerError::InvalidUrl(if leaks {
            "not an amqp:// or amqps:// URL".into()
        } else {
            e
        })
    })
}

impl BrokerError {
    /// A returned message means the destination is missing: retrying will not help soon.
    pub fn is_returned(&self) -> bool {
        matches!(self, BrokerError::Returned { .. })
    }
}

/// `ShortString` panics past 255 bytes; names that come from outside go through here.
pub(crate) fn short(s: &str) -> Result<lapin::types::ShortString, BrokerError> {
    lapin::types::ShortString::try_new(s)
        .map_err(|_| BrokerError::Name(s.chars().take(40).collect()))
}
