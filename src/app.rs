//! The application: builds a worker from [`Settings`] (Redis store, job state, Salesforce
//! client registry, jobs) and runs it until a cancellation token fires. Build and run are
//! separate so tests and `demo` start the same thing `sfprivacy worker` does.

use crate::broker::consumer::{WorkerOptions, run_worker};
use crate::broker::{BrokerError, Names, WorkerHandle};
use crate::config::Settings;
use crate::jobs::{ClientFactory, ClientRegistry, JobOptions, Jobs};
use crate::store::job_state::{JobStates, Sealing};
use crate::store::{Store, StoreError};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "Redis at {url} is unreachable ({source}); start it with `scripts/services.sh` or set SFPRIVACY_REDIS_URL"
    )]
    Redis { url: String, source: StoreError },
    #[error(
        "RabbitMQ at {url} is unreachable ({source}); start it with `scripts/services.sh` or set SFPRIVACY_AMQP_URL"
    )]
    Rabbit { url: String, source: lapin::Error },
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("cannot build the Salesforce client: {0}")]
    Salesforce(crate::salesforce::SfError),
    #[error("invalid token key: {0}")]
    TokenKey(#[from] crate::store::crypto::CryptoError),
}

/// A built, not yet running, worker.
pub struct Application {
    settings: Settings,
    jobs: Arc<Jobs>,
    store: Store,
    handle: WorkerHandle,
    connection_name: String,
}

impl Application {
    /// Connects to Redis and wires the jobs. `factory` builds a connection's Salesforce client
    /// (`None`: the production one, [`salesforce_factory`] with default client options).
    pub async fn build(
        settings: Settings,
        factory: Option<ClientFactory>,
    ) -> Result<Self, AppError> {
        let store = Store::connect(settings.redis_url.expose(), &settings.redis_prefix)
            .await
            .map_err(|source| AppError::Redis {
                url: redact_url(settings.redis_url.expose()),
                source,
            })?;
        let factory = match factory {
            Some(f) => f,
            None => salesforce_factory(
                &settings,
                &store,
                crate::salesforce::ClientOptions {
                    // The per-org cap on concurrent Salesforce requests, across replicas (ops).
                    concurrency: Some(crate::store::budget::OrgLimits::new(
                        store.clone(),
                        settings.org_limits.clone(),
                    )),
                    ..crate::salesforce::ClientOptions::default()
                },
            )
            .map_err(AppError::Salesforce)?,
        };
        let states = JobStates::new(
            store.clone(),
            settings.job_lease,
            settings.job_state_ttl,
            job_state_sealing(&settings)?,
        );
        let jobs = Jobs::new(
            settings.connections.clone(),
            ClientRegistry::new(factory),
            Some(store.clone()),
            Some(states),
            JobOptions {
                chunk_bytes: settings.export_chunk_bytes,
            },
        )
        .with_limits(crate::store::budget::OrgLimits::new(
            store.clone(),
            settings.org_limits.clone(),
        ));
        Ok(Self {
            settings,
            jobs: Arc::new(jobs),
            store,
            handle: WorkerHandle::default(),
            connection_name: format!("sfprivacy-worker-{}", std::process::id()),
        })
    }

    /// The AMQP connection name (shown by `rabbitmqctl list_connections client_properties`).
    pub fn with_connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    pub fn handle(&self) -> WorkerHandle {
        self.handle.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn jobs(&self) -> Arc<Jobs> {
        self.jobs.clone()
    }

    pub fn names(&self) -> Names {
        Names::new(
            &self.settings.queue_prefix,
            &self.settings.results_queue,
            &self.settings.retry_tiers,
        )
    }

    /// Fails fast with a clear message when RabbitMQ cannot be reached at all (the worker
    /// itself keeps retrying; `demo` and start-up checks want an answer).
    pub async fn check_rabbit(&self) -> Result<(), AppError> {
        let url = self.settings.amqp_url.expose();
        let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
            .await
            .map_err(|source| AppError::Rabbit {
                url: redact_url(url),
                source,
            })?;
        let _ = conn.close(200, "probe".into()).await;
        Ok(())
    }

    /// Consumes until `cancel` fires, then drains within the shutdown deadline.
    pub async fn run_until_stopped(self, cancel: CancellationToken) -> Result<(), BrokerError> {
        let opts = WorkerOptions {
            amqp_url: self.settings.amqp_url.expose().to_string(),
            names: self.names(),
            concurrency: self.settings.concurrency,
            shutdown_deadline: self.settings.shutdown_deadline,
            connection_name: self.connection_name.clone(),
            routing_keys: crate::broker::topology::ROUTING_KEYS.to_vec(),
        };
        run_worker(opts, self.jobs, cancel, self.handle).await
    }
}

/// Completed job state holds what was published (a copy's export), so it is sealed with the
/// token key; only the explicit development flag (whose key is public) keeps it plain.
pub fn job_state_sealing(settings: &Settings) -> Result<Sealing, AppError> {
    if settings.insecure_dev_token_key {
        return Ok(Sealing::Plain);
    }
    Ok(Sealing::Sealed(Box::new(
        crate::store::crypto::TokenCipher::from_bytes(settings.token_key.bytes())?,
    )))
}

pub use crate::config::redact_url;

/// The production client factory: one [`crate::salesforce::SalesforceClient`] per connection,
/// sharing one HTTP client and the encrypted token cache in Redis.
pub fn salesforce_factory(
    settings: &Settings,
    store: &Store,
    options: crate::salesforce::ClientOptions,
) -> Result<ClientFactory, crate::salesforce::SfError> {
    use crate::store::crypto::TokenCipher;
    use crate::store::tokens::TokenCache;
    let cipher = TokenCipher::from_bytes(settings.token_key.bytes())
        .map_err(|e| crate::salesforce::SfError::Config(e.to_string()))?;
    let tokens = TokenCache::new(store.clone(), cipher);
    let http = crate::salesforce::http_client()?;
    Ok(Arc::new(move |conn: Arc<crate::config::Connection>| {
        Ok(crate::salesforce::SalesforceClient::new(
            (*conn).clone(),
            tokens.clone(),
            http.clone(),
            options.clone(),
        ))
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_their_password() {
        let r = super::redact_url("amqp://guest:hunter2@127.0.0.1:5672/%2f");
        assert!(!r.contains("hunter2") && r.contains("***"), "{r}");
    }
}
