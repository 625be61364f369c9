//! OAuth 2.0 token requests against a connection's login host: refresh token, JWT bearer,
//! client credentials, and the authorization-code exchange used by `sfprivacy connect`.
//!
//! Part of the Salesforce adapter, below the session manager (which decides *when* to ask
//! for a token). Token calls never follow redirects (the shared client has redirects off and
//! a 3xx is reported as an error), and token responses are never logged. Salesforce sends no
//! `expires_in`; the caller applies the connection's session timeout.

use super::error::SfError;
use crate::config::{Connection, Grant, Secret};
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lifetime of a JWT bearer assertion (Salesforce accepts at most 3 minutes).
const JWT_LIFETIME: Duration = Duration::from_secs(170);
/// Timeout of one token request.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// A successful token response (the fields we use).
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub instance_url: String,
    /// Present on authorization-code responses and when a refresh rotates the token.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Identity URL (`…/id/{orgId}/{userId}`).
    #[serde(default)]
    pub id: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("instance_url", &self.instance_url)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// `{login_url}/services/oauth2/token`.
pub fn token_url(login_url: &str) -> String {
    format!("{}/services/oauth2/token", login_url.trim_end_matches('/'))
}

/// `{login_url}/services/oauth2/authorize`.
pub fn authorize_url(login_url: &str) -> String {
    format!(
        "{}/services/oauth2/authorize",
        login_url.trim_end_matches('/')
    )
}

/// POSTs a token request form and reads the answer.
pub async fn request_token(
    http: &reqwest::Client,
    connection_id: &str,
    login_url: &str,
    form: &[(&str, &str)],
) -> Result<TokenResponse, SfError> {
    let resp = http
        .post(token_url(login_url))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .timeout(TOKEN_TIMEOUT)
        .send()
        .await
        .map_err(|e| super::http::transport_error(e, connection_id))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| super::http::transport_error(e, connection_id))?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| SfError::Decode(format!("token response: {e}")));
    }
    if status.is_redirection() {
        return Err(SfError::OAuth {
            status: status.as_u16(),
            error: "unexpected_redirect".into(),
            description: "the token endpoint answered with a redirect; check the login host".into(),
        });
    }
    Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
        Ok(e) => SfError::OAuth {
            status: status.as_u16(),
            error: e.error,
            description: e.error_description,
        },
        Err(_) => SfError::OAuth {
            status: status.as_u16(),
            error: format!("http_{}", status.as_u16()),
            description: String::from_utf8_lossy(&body).chars().take(200).collect(),
        },
    })
}

fn client_secret(conn: &Connection) -> Option<&str> {
    conn.client_secret
        .as_ref()
        .map(Secret::expose)
        .filter(|s| !s.is_empty())
}

/// Requests an access token with the connection's grant. `refresh_token` is the token to use
/// for the refresh-token grant (the chain's current one, which may differ from the one in
/// the configuration); other grants ignore it.
pub async fn grant(
    http: &reqwest::Client,
    conn: &Connection,
    refresh_token: Option<&Secret>,
) -> Result<TokenResponse, SfError> {
    let login = conn.environment.login_url();
    match &conn.grant {
        Grant::RefreshToken {
            refresh_token: configured,
        } => {
            let token = refresh_token.unwrap_or(configured).expose();
            if token.is_empty() {
                // Shaped as the refusal Salesforce would give, so the session manager
                // re-reads the refresh-token file (`connect` may have written it since) and,
                // failing that, the job is dead-lettered for an operator.
                return Err(SfError::OAuth {
                    status: 400,
                    error: "invalid_grant".into(),
                    description: format!(
                        "connection {} has no refresh token yet: run `sfprivacy connect {}`",
                        conn.id, conn.id
                    ),
                });
            }
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", conn.client_id.as_str()),
            ];
            if let Some(secret) = client_secret(conn) {
                form.push(("client_secret", secret));
            }
            request_token(http, &conn.id, &login, &form).await
        }
        Grant::JwtBearer {
            username,
            private_key_pem,
        } => {
            let assertion = jwt_assertion(conn, &login, username, private_key_pem)?;
            let form = [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ];
            request_token(http, &conn.id, &login, &form).await
        }
        Grant::ClientCredentials => {
            let secret = client_secret(conn).ok_or_else(|| {
                SfError::Config(format!(
                    "connection {}: the client credentials grant needs a client secret",
                    conn.id
                ))
            })?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", conn.client_id.as_str()),
                ("client_secret", secret),
            ];
            request_token(http, &conn.id, &login, &form).await
        }
    }
}

#[derive(serde::Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

/// An RS256 JWT bearer assertion: `iss` = client id, `sub` = username, `aud` = login URL,
/// expiring in under 3 minutes.
pub fn jwt_assertion(
    conn: &Connection,
    login_url: &str,
    username: &str,
    private_key_pem: &Secret,
) -> Result<String, SfError> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes())
        .map_err(|_| {
            SfError::Config(format!(
                "connection {}: the JWT private key is not an RSA PEM key",
                conn.id
            ))
        })?;
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(JWT_LIFETIME)
        .as_secs();
    let claims = JwtClaims {
        iss: &conn.client_id,
        sub: username,
        aud: login_url,
        exp,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .map_err(|e| SfError::Config(format!("connection {}: cannot sign JWT: {e}", conn.id)))
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    conn: &Connection,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
) -> Result<TokenResponse, SfError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", conn.client_id.as_str()),
        ("code_verifier", code_verifier),
    ];
    if let Some(secret) = client_secret(conn) {
        form.push(("client_secret", secret));
    }
    request_token(http, &conn.id, &conn.environment.login_url(), &form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    fn conn(grant: Grant) -> Connection {
        Connection {
            id: "c".into(),
            environment: Environment::Sandbox,
            client_id: "3MVGclient".into(),
            client_secret: None,
            grant,
            refresh_token_file: None,
            api_version: "62.0".into(),
            session_timeout_secs: 7200,
            anonymize_fields: vec![],
            child_policy: Default::default(),
            delete_field_history: false,
        }
    }

    #[test]
    fn jwt_assertion_claims() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/emulator/fixtures/test-only");
        let private = std::fs::read_to_string(format!("{dir}/jwt-private-key.pem")).unwrap();
        let public = std::fs::read_to_string(format!("{dir}/jwt-public-key.pem")).unwrap();
        let c = conn(Grant::JwtBearer {
            username: "int@example.com".into(),
            private_key_pem: Secret::new(private.clone()),
        });
        let login = c.environment.login_url();
        let jwt = jwt_assertion(&c, &login, "int@example.com", &Secret::new(private)).unwrap();

        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["https://test.salesforce.com"]);
        v.set_issuer(&["3MVGclient"]);
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()).unwrap();
        let data = jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &v).unwrap();
        assert_eq!(data.header.alg, jsonwebtoken::Algorithm::RS256);
        assert_eq!(data.claims["sub"], "int@example.com");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let exp = data.claims["exp"].as_u64().unwrap();
        assert!(exp > now && exp <= now + 180, "exp within 3 minutes");
    }

    #[test]
    fn bad_key_and_missing_secret_are_config_errors() {
        let c = conn(Grant::JwtBearer {
            username: "u".into(),
            private_key_pem: Secret::new("not a key"),
        });
        let err = jwt_assertion(
            &c,
            "https://login.salesforce.com",
            "u",
            &Secret::new("not a key"),
        )
        .unwrap_err();
        assert!(matches!(err, SfError::Config(_)));
        assert!(
            !err.to_string().contains("not a key"),
            "secret leaked: {err}"
        );
    }

    #[test]
    fn token_response_debug_is_redacted() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"access_token":"00Dx!SECRET","refresh_token":"5Aep-SECRET","instance_url":"https://x"}"#,
        )
        .unwrap();
        let s = format!("{r:?}");
        assert!(!s.contains("SECRET"), "{s}");
    }
}
