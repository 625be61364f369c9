//! Test harness: an emulator on a random loopback port, and small helpers for logging in.
#![allow(dead_code)]

use serde_json::Value;
use sf_emulator::{Emulator, EmulatorConfig, RunningEmulator};

pub const API: &str = "v62.0";

pub struct App {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
}

impl Drop for App {
    fn drop(&mut self) {
        self.emu.shutdown.cancel();
    }
}

pub async fn spawn() -> App {
    spawn_with(EmulatorConfig::default()).await
}

pub async fn spawn_with(config: EmulatorConfig) -> App {
    let emu = Emulator::new(config).start("127.0.0.1:0").await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    App { emu, http }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url, path)
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/services/oauth2/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Logs the integration user in with the fixed refresh token; returns the access token.
    pub async fn login(&self) -> String {
        let (status, body) = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("client_id", sf_emulator::oauth::DEFAULT_CLIENT_ID),
                ("client_secret", sf_emulator::oauth::DEFAULT_CLIENT_SECRET),
                (
                    "refresh_token",
                    sf_emulator::oauth::INTEGRATION_REFRESH_TOKEN,
                ),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// GET a data route with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }
}

/// Asserts Salesforce's top-level error array with exactly one `{"message","errorCode"}`
/// entry and no `fields` (request-level errors: query, search, session, limits, routing).
pub async fn assert_sf_error(resp: reqwest::Response, status: u16, code: &str, message: &str) {
    assert_eq!(resp.status().as_u16(), status);
    let body: Value = resp.json().await.unwrap();
    assert_error_body(&body, code, message, None);
}

/// Asserts an error body is exactly `[{"message","errorCode"}]`, plus `"fields"` when given
/// (Salesforce sends it on record (DML) errors only).
pub fn assert_error_body(body: &Value, code: &str, message: &str, fields: Option<Value>) {
    let mut entry = serde_json::json!({"message": message, "errorCode": code});
    if let Some(f) = fields {
        entry["fields"] = f;
    }
    assert_eq!(body, &Value::Array(vec![entry]), "{body}");
}

/// An emulator with the integration user logged in, for data API tests. A path that starts
/// with `/` is taken as is; any other is relative to `/services/data/{version}/`.
pub struct Session {
    pub app: App,
    pub token: String,
    pub version: &'static str,
}

impl Session {
    pub async fn start(config: EmulatorConfig, version: &'static str) -> Session {
        let emu = Emulator::new(config).start("127.0.0.1:0").await.unwrap();
        let app = App {
            emu,
            http: reqwest::Client::new(),
        };
        let token = app.login().await;
        Session {
            app,
            token,
            version,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            self.app.url(path)
        } else {
            self.app
                .url(&format!("/services/data/{}/{path}", self.version))
        }
    }

    /// Any method, optional JSON body, extra headers; the status and the JSON body
    /// (`null` when there is none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut rb = self
            .app
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}
