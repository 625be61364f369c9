//! Shared set-up of the Salesforce client tests: an emulator on port 0, a unique Redis key
//! prefix per test, connections pointing at the emulator, and "replicas" (clients with their
//! own Redis connection, token single flight and caches, sharing Redis).
#![allow(dead_code)]

use sf_emulator::oauth::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, INTEGRATION_REFRESH_TOKEN};
use sf_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use sfprivacy::config::{Connection, Environment, Grant, Secret};
use sfprivacy::salesforce::{ClientOptions, RetryPolicy, SalesforceClient};
use sfprivacy::store::Store;
use sfprivacy::store::crypto::TokenCipher;
use sfprivacy::store::tokens::TokenCache;
use std::time::Duration;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub struct Harness {
    pub emu: RunningEmulator,
    pub prefix: String,
    pub cipher: TokenCipher,
    pub http: reqwest::Client,
}

pub fn quick_options() -> ClientOptions {
    let retry = RetryPolicy {
        max_retries: 3,
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
    };
    ClientOptions {
        retry,
        ..ClientOptions::default()
    }
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(EmulatorConfig::default()).await
    }

    pub async fn start_with(config: EmulatorConfig) -> Self {
        let emu = Emulator::new(config).start("127.0.0.1:0").await.unwrap();
        Self {
            emu,
            prefix: format!("test-sf-{}", uuid::Uuid::new_v4().simple()),
            cipher: TokenCipher::random(),
            http: sfprivacy::salesforce::http_client().unwrap(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.emu.base_url
    }

    /// A refresh-token connection to the emulator's default app and integration user.
    pub fn connection(&self) -> Connection {
        self.connection_with(Grant::RefreshToken {
            refresh_token: Secret::new(INTEGRATION_REFRESH_TOKEN),
        })
    }

    pub fn connection_with(&self, grant: Grant) -> Connection {
        Connection {
            id: "acme-test".into(),
            environment: Environment::Custom(url::Url::parse(&self.emu.base_url).unwrap()),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: Some(Secret::new(DEFAULT_CLIENT_SECRET)),
            grant,
            refresh_token_file: None,
            api_version: "62.0".into(),
            session_timeout_secs: 7200,
            anonymize_fields: vec![],
            child_policy: Default::default(),
            delete_field_history: false,
        }
    }

    /// A token cache on its own Redis connection (what one replica has).
    pub async fn tokens(&self) -> TokenCache {
        let store = Store::connect(REDIS_URL, &self.prefix).await.unwrap();
        TokenCache::new(store, self.cipher.clone())
    }

    /// One "replica": its own Redis connection, single flight, memory and describe caches.
    pub async fn replica(&self, connection: Connection) -> SalesforceClient {
        SalesforceClient::new(
            connection,
            self.tokens().await,
            self.http.clone(),
            quick_options(),
        )
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: serde_json::Value) {
        let resp = reqwest::Client::new()
            .request(method, format!("{}{}", self.emu.base_url, path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }

    /// A fresh refresh token of the integration user, as an operator re-running `connect`
    /// would get (a value no other test uses).
    pub async fn mint_refresh_token(&self) -> String {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{}/__emulator/oauth/refresh-tokens",
                self.emu.base_url
            ))
            .json(&serde_json::json!({"username": sf_emulator::oauth::INTEGRATION_USERNAME}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["refresh_token"].as_str().unwrap().to_string()
    }

    /// Token requests the emulator answered with a session, counted by ending them all.
    pub fn sessions_issued_and_expire(&self) -> usize {
        self.emu.state.oauth.expire_all_sessions()
    }

    /// Deletes every Redis key this test wrote.
    pub async fn cleanup(&self) {
        let store = Store::connect(REDIS_URL, &self.prefix).await.unwrap();
        let mut conn = store.conn();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(keys)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
        self.emu.shutdown.cancel();
    }
}

impl Harness {
    /// Inserts records through the emulator's admin API; `searchable` skips the index lag.
    pub async fn insert(
        &self,
        object: &str,
        records: Vec<serde_json::Value>,
        searchable: bool,
    ) -> Vec<String> {
        let resp = reqwest::Client::new()
            .post(format!("{}/__emulator/records/{object}", self.emu.base_url))
            .json(&serde_json::json!({"records": records, "searchable": searchable}))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "insert {object}: {}",
            resp.status()
        );
        let v: serde_json::Value = resp.json().await.unwrap();
        v["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().to_string())
            .collect()
    }

    /// The emulator's API-call counters (`{"total", "endpoints": {"GET /services/…": n}}`).
    pub async fn counters(&self) -> serde_json::Value {
        reqwest::Client::new()
            .get(format!("{}/__emulator/counters", self.emu.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Calls to one endpoint (`"POST /services/oauth2/token"`), from the counters.
    pub async fn count(&self, endpoint: &str) -> u64 {
        self.counters().await["endpoints"][endpoint]
            .as_u64()
            .unwrap_or(0)
    }
}
