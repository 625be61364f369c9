//! The connections file: one `[[connection]]` table per customer org, validated at start.
//!
//! Secrets (client secret, refresh token, private key) may be inline or, better, `*_file` paths
//! to mounted secrets; they are read once here and held as [`Secret`]s. An unknown key, a
//! duplicate id or a grant without its credential stops the worker with a message naming the
//! connection and the field.
//!
//! ```toml
//! [[connection]]
//! id = "acme-prod"
//! environment = "production"          # production | sandbox | https://acme.my.salesforce.com
//! client_id = "3MVG9…"
//! client_secret_file = "/run/secrets/acme-client-secret"
//! grant = "refresh_token"             # refresh_token | jwt_bearer | client_credentials
//! refresh_token_file = "/run/secrets/acme-refresh-token"
//! api_version = "62.0"
//! session_timeout_secs = 7200
//! anonymize_fields = ["Contact.Twitter_Handle__c"]
//! child_policy = { Case = "keep" }
//! delete_field_history = false
//! ```

use super::{ConfigError, Connection, Environment, Grant, Secret, read_secret_file};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    connection: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    id: String,
    environment: String,
    client_id: String,
    client_secret: Option<String>,
    client_secret_file: Option<String>,
    grant: String,
    refresh_token: Option<String>,
    refresh_token_file: Option<String>,
    username: Option<String>,
    private_key: Option<String>,
    private_key_file: Option<String>,
    #[serde(default = "default_api_version")]
    api_version: String,
    #[serde(default = "default_session_timeout")]
    session_timeout_secs: u64,
    #[serde(default)]
    anonymize_fields: Vec<String>,
    #[serde(default)]
    child_policy: BTreeMap<String, String>,
    #[serde(default)]
    delete_field_history: bool,
    /// Plain http:// to a host other than this machine (an emulator in a compose network).
    #[serde(default)]
    allow_insecure_http: bool,
}

fn default_api_version() -> String {
    "62.0".into()
}

/// Salesforce's default session timeout is 2 hours.
fn default_session_timeout() -> u64 {
    7200
}

/// Reads and validates the connections file.
pub fn load_file(path: &Path) -> Result<Vec<Connection>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        setting: "SFPRIVACY_CONNECTIONS_FILE".into(),
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse_file(&text, Some(&path.display().to_string()))
}

/// Parses and validates the text of a connections file.
pub fn parse(text: &str) -> Result<Vec<Connection>, ConfigError> {
    parse_file(text, None)
}

/// [`parse`], naming `path` in a syntax error (line and column, never the line's text).
fn parse_file(text: &str, path: Option<&str>) -> Result<Vec<Connection>, ConfigError> {
    let file: File = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        setting: "SFPRIVACY_CONNECTIONS_FILE".into(),
        reason: super::toml_error_text(path, text, &e),
    })?;
    let mut out: Vec<Connection> = Vec::new();
    for (i, table) in file.connection.into_iter().enumerate() {
        // Each entry on its own, so a missing or unknown key names the entry it is in.
        let entry = match table.get("id").and_then(toml::Value::as_str) {
            Some(id) => format!("{id:?}"),
            None => format!("#{} (no id)", i + 1),
        };
        let raw: RawConnection =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    setting: format!("SFPRIVACY_CONNECTIONS_FILE: connection {entry}"),
                    reason: super::redact_serde_values(e.message()),
                })?;
        let c = validate(raw)?;
        if out.iter().any(|o| o.id == c.id) {
            return Err(field(&c.id, "id", "duplicate connection id"));
        }
        out.push(c);
    }
    Ok(out)
}

fn field(id: &str, name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: format!("connection {id:?} field `{name}`"),
        reason: reason.into(),
    }
}

/// Inline value or the content of `*_file`; never both.
fn secret(
    id: &str,
    name: &str,
    inline: Option<String>,
    file: Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(field(
            id,
            name,
            format!("give `{name}` or `{name}_file`, not both"),
        )),
        (Some(v), None) if v.trim().is_empty() => Err(field(id, name, "is empty")),
        (Some(v), None) => Ok(Some(Secret::new(v))),
        (None, Some(p)) => {
            let setting = format!("connection {id:?} field `{name}_file`");
            Ok(Some(Secret::new(read_secret_file(&setting, &p)?)))
        }
        (None, None) => Ok(None),
    }
}

fn validate(raw: RawConnection) -> Result<Connection, ConfigError> {
    let id = raw.id.clone();
    let id_ok = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !id_ok {
        return Err(field(&id, "id", "1 to 128 letters, digits and - _ . :"));
    }
    let environment = match raw.environment.as_str() {
        "production" => Environment::Production,
        "sandbox" => Environment::Sandbox,
        other => {
            let u = url::Url::parse(other).map_err(|e| {
                field(
                    &id,
                    "environment",
                    format!("production, sandbox or a My Domain URL: {e}"),
                )
            })?;
            if !matches!(u.scheme(), "https" | "http") || u.host_str().is_none() {
                return Err(field(
                    &id,
                    "environment",
                    "My Domain URL must be http(s)://host",
                ));
            }
            // Token requests go to `{url}/services/oauth2/token`: anything beyond a base URL
            // would be mangled (and credentials in it would end up in logs).
            if !u.username().is_empty() || u.password().is_some() {
                return Err(field(
                    &id,
                    "environment",
                    "My Domain URL must not carry credentials",
                ));
            }
            // Client secrets and refresh tokens travel in the token request: in clear only to
            // this machine, or where the entry says so (an emulator on a compose network).
            let loopback = matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                || u.host_str() == Some("localhost");
            if u.scheme() == "http" && !loopback && !raw.allow_insecure_http {
                return Err(field(
                    &id,
                    "environment",
                    "My Domain URL must be https:// (http:// only to this machine, or with allow_insecure_http = true)",
                ));
            }
            if u.path() != "/" && !u.path().is_empty() {
                return Err(field(
                    &id,
                    "environment",
                    "My Domain URL must be a base URL (no path)",
                ));
            }
            if u.query().is_some() || u.fragment().is_some() {
                return Err(field(
                    &id,
                    "environment",
                    "My Domain URL must be a base URL (no ?query or #fragment)",
                ));
            }
            Environment::Custom(u)
        }
    };
    if raw.client_id.trim().is_empty() {
        return Err(field(&id, "client_id", "is empty"));
    }
    let client_secret = secret(
        &id,
        "client_secret",
        raw.client_secret,
        raw.client_secret_file,
    )?;
    let refresh_token_file = raw.refresh_token_file.clone().map(std::path::PathBuf::from);
    let refresh = match (&raw.refresh_token, &raw.refresh_token_file) {
        // Not connected yet: `sfprivacy connect` writes this file, and the client re-reads
        // it when the (empty) token is refused, so a running worker picks it up.
        (None, Some(p)) if raw.grant == "refresh_token" && !std::path::Path::new(p).exists() => {
            Some(Secret::new(""))
        }
        _ => secret(
            &id,
            "refresh_token",
            raw.refresh_token,
            raw.refresh_token_file,
        )?,
    };
    let key_field = if raw.private_key_file.is_some() {
        "private_key_file"
    } else {
        "private_key"
    };
    let key = secret(&id, "private_key", raw.private_key, raw.private_key_file)?;
    let grant = match raw.grant.as_str() {
        "refresh_token" => Grant::RefreshToken {
            refresh_token: refresh.ok_or_else(|| {
                field(
                    &id,
                    "refresh_token",
                    "required by grant refresh_token (or run `sfprivacy connect`)",
                )
            })?,
        },
        "jwt_bearer" => {
            let username = raw
                .username
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| field(&id, "username", "required by grant jwt_bearer"))?;
            let private_key_pem =
                key.ok_or_else(|| field(&id, "private_key", "required by grant jwt_bearer"))?;
            // Signing is the only offline proof that the key works for RS256; a garbage key
            // would otherwise fail every request at run time.
            check_rs256_key(&private_key_pem).map_err(|why| field(&id, key_field, why))?;
            Grant::JwtBearer {
                username,
                private_key_pem,
            }
        }
        "client_credentials" => {
            if client_secret.is_none() {
                return Err(field(
                    &id,
                    "client_secret",
                    "required by grant client_credentials",
                ));
            }
            Grant::ClientCredentials
        }
        other => {
            return Err(field(
                &id,
                "grant",
                format!("{other:?}: expected refresh_token, jwt_bearer or client_credentials"),
            ));
        }
    };
    let v = &raw.api_version;
    let version_ok = v
        .split_once('.')
        .is_some_and(|(a, b)| a.parse::<u32>().is_ok_and(|n| n >= 20) && b == "0");
    if !version_ok {
        return Err(field(
            &id,
            "api_version",
            format!("{v:?}: expected like 62.0"),
        ));
    }
    if !(60..=86_400).contains(&raw.session_timeout_secs) {
        return Err(field(
            &id,
            "session_timeout_secs",
            "must be between 60 and 86400",
        ));
    }
    for f in &raw.anonymize_fields {
        let ok = f
            .split_once('.')
            .is_some_and(|(o, fl)| api_name(o) && api_name(fl));
        if !ok {
            return Err(field(
                &id,
                "anonymize_fields",
                format!("{f:?}: expected Object.Field"),
            ));
        }
    }
    for (child, policy) in &raw.child_policy {
        if !api_name(child) {
            return Err(field(
                &id,
                "child_policy",
                format!("{child:?} is not an API name"),
            ));
        }
        if policy.parse::<crate::dsr::policy::ChildPolicy>().is_err() {
            return Err(field(
                &id,
                "child_policy",
                format!("{child}: {policy:?}: expected delete or keep"),
            ));
        }
    }
    Ok(Connection {
        id,
        environment,
        client_id: raw.client_id,
        client_secret,
        grant,
        refresh_token_file,
        api_version: raw.api_version,
        session_timeout_secs: raw.session_timeout_secs,
        anonymize_fields: raw.anonymize_fields,
        child_policy: raw.child_policy,
        delete_field_history: raw.delete_field_history,
    })
}

/// Whether the PEM parses as an RSA private key that can sign an RS256 JWT. The reason never
/// quotes the key.
fn check_rs256_key(pem: &Secret) -> Result<(), String> {
    let text = pem.expose();
    if !text.contains("-----BEGIN") || !text.contains("PRIVATE KEY-----") {
        return Err(
            "not a PEM private key (expected -----BEGIN PRIVATE KEY----- or \
                    -----BEGIN RSA PRIVATE KEY-----)"
                .into(),
        );
    }
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(text.as_bytes())
        .map_err(|e| format!("not an RSA private key in PEM form ({:?})", e.kind()))?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &serde_json::json!({ "probe": true }), &key)
        .map(|_| ())
        .map_err(|e| format!("cannot sign an RS256 JWT with this key ({:?})", e.kind()))
}

fn api_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[connection]]
id = "acme-prod"
environment = "production"
client_id = "cid"
client_secret = "csecret"
grant = "refresh_token"
refresh_token = "rtoken"
child_policy = { Case = "keep" }
anonymize_fields = ["Contact.Twitter__c"]

[[connection]]
id = "emu"
environment = "http://127.0.0.1:8443"
client_id = "cid"
client_secret = "s"
grant = "client_credentials"
"#;

    #[test]
    fn parses_a_good_file_and_redacts() {
        let cs = parse(GOOD).unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(
            cs[0].environment.login_url(),
            "https://login.salesforce.com"
        );
        assert_eq!(cs[1].environment.login_url(), "http://127.0.0.1:8443");
        assert_eq!(cs[0].session_timeout_secs, 7200);
        let d = format!("{cs:?}");
        assert!(!d.contains("rtoken") && !d.contains("csecret"), "{d}");
    }

    #[test]
    fn secrets_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rt");
        std::fs::write(&p, "from-file\n").unwrap();
        let text = format!(
            "[[connection]]\nid=\"a\"\nenvironment=\"sandbox\"\nclient_id=\"c\"\ngrant=\"refresh_token\"\nrefresh_token_file=\"{}\"\n",
            p.display()
        );
        let cs = parse(&text).unwrap();
        match &cs[0].grant {
            Grant::RefreshToken { refresh_token } => {
                assert_eq!(refresh_token.expose(), "from-file")
            }
            g => panic!("{g:?}"),
        }
    }

    #[test]
    fn refresh_token_file_may_be_missing_until_connect() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("not-yet");
        let text = format!(
            "[[connection]]\nid=\"a\"\nenvironment=\"sandbox\"\nclient_id=\"c\"\ngrant=\"refresh_token\"\nrefresh_token_file=\"{}\"\n",
            p.display()
        );
        let cs = parse(&text).unwrap();
        assert_eq!(cs[0].refresh_token_file.as_deref(), Some(p.as_path()));
        match &cs[0].grant {
            Grant::RefreshToken { refresh_token } => assert_eq!(refresh_token.expose(), ""),
            g => panic!("{g:?}"),
        }
    }

    fn jwt_entry(key_line: &str) -> String {
        format!(
            "[[connection]]\nid=\"jwt-org\"\nenvironment=\"sandbox\"\nclient_id=\"c\"\ngrant=\"jwt_bearer\"\nusername=\"int@example.com\"\n{key_line}\n"
        )
    }

    #[test]
    fn a_jwt_key_must_sign_rs256_and_is_never_printed() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/emulator/fixtures/test-only");
        let good = format!("{fixtures}/jwt-private-key.pem");
        let cs = parse(&jwt_entry(&format!("private_key_file=\"{good}\""))).unwrap();
        assert!(matches!(cs[0].grant, Grant::JwtBearer { .. }));

        let dir = tempfile::tempdir().unwrap();
        let pem = |body: &str| {
            format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
        };
        let bad_cases = [
            // garbage, PEM armour around garbage, valid base64 that is no key, and a public key
            "GARBAGE-KEY-MATERIAL".to_string(),
            pem("GARBAGE-KEY-MATERIAL!!"),
            pem("R0FSQkFHRUtFWU1BVEVSSUFMR0FSQkFHRUtFWU1BVEVSSUFM"),
            std::fs::read_to_string(format!("{fixtures}/jwt-public-key.pem")).unwrap(),
        ];
        for (i, bad) in bad_cases.iter().enumerate() {
            let p = dir.path().join(format!("k{i}.pem"));
            std::fs::write(&p, bad).unwrap();
            let e = parse(&jwt_entry(&format!("private_key_file=\"{}\"", p.display())))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("connection \"jwt-org\" field `private_key_file`"),
                "{i}: {e}"
            );
            assert!(
                !e.contains("GARBAGE") && !e.contains("R0FSQkFH"),
                "{i}: {e}"
            );
            let inline = format!("private_key=\"\"\"{bad}\"\"\"");
            let e = parse(&jwt_entry(&inline)).unwrap_err().to_string();
            assert!(
                e.contains("connection \"jwt-org\" field `private_key`"),
                "{i}: {e}"
            );
            assert!(
                !e.contains("GARBAGE") && !e.contains("R0FSQkFH"),
                "{i}: {e}"
            );
        }
    }

    #[test]
    fn a_login_url_must_be_a_plain_base_url() {
        for env in [
            "not a url",
            "https://",
            "https://u:p@acme.my.salesforce.com",
            "https://acme.my.salesforce.com?x=1",
            "https://acme.my.salesforce.com#f",
            "https://acme.my.salesforce.com/some/path",
            // Secrets would travel in clear to another machine.
            "http://acme.my.salesforce.com",
        ] {
            let text = format!(
                "[[connection]]\nid=\"a\"\nenvironment=\"{env}\"\nclient_id=\"c\"\nclient_secret=\"s\"\ngrant=\"client_credentials\"\n"
            );
            let e = parse(&text).unwrap_err().to_string();
            assert!(
                e.contains("connection \"a\" field `environment`"),
                "{env}: {e}"
            );
            assert!(!e.contains(":p@"), "{e}");
        }
        let ok = |env: &str, extra: &str| {
            parse(&format!(
                "[[connection]]\nid=\"a\"\nenvironment=\"{env}\"\nclient_id=\"c\"\nclient_secret=\"s\"\ngrant=\"client_credentials\"\n{extra}"
            ))
            .is_ok()
        };
        assert!(ok("https://acme.my.salesforce.com/", ""));
        assert!(ok("http://127.0.0.1:8585", ""), "this machine");
        assert!(ok("http://localhost:8585", ""));
        assert!(ok("http://emulator:8585", "allow_insecure_http = true"));
        assert!(!ok("http://emulator:8585", ""));
    }

    #[test]
    fn each_bad_connection_is_named() {
        let base = "id=\"a\"\nenvironment=\"production\"\nclient_id=\"c\"\nclient_secret=\"s\"\n";
        let cases: &[(&str, &str)] = &[
            ("grant=\"refresh_token\"", "refresh_token"),
            ("grant=\"password\"", "grant"),
            ("grant=\"jwt_bearer\"\nprivate_key=\"x\"", "username"),
            (
                "grant=\"jwt_bearer\"\nusername=\"u\"\nprivate_key=\"x\"",
                "private_key",
            ),
            (
                "grant=\"client_credentials\"\napi_version=\"v62\"",
                "api_version",
            ),
            (
                "grant=\"client_credentials\"\nsession_timeout_secs=5",
                "session_timeout_secs",
            ),
            (
                "grant=\"client_credentials\"\nanonymize_fields=[\"Twitter\"]",
                "anonymize_fields",
            ),
            (
                "grant=\"client_credentials\"\nchild_policy={Case=\"nuke\"}",
                "child_policy",
            ),
            (
                "grant=\"client_credentials\"\nrefresh_token=\"a\"\nrefresh_token_file=\"/b\"",
                "refresh_token",
            ),
            (
                "grant=\"client_credentials\"\nrefresh_token_file=\"/nonexistent/rt\"",
                "refresh_token_file",
            ),
            ("grant=\"client_credentials\"\ncolour=\"red\"", "colour"),
        ];
        for (extra, name) in cases {
            let text = format!("[[connection]]\n{base}{extra}\n");
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(name), "{extra}: {e}");
            assert!(e.contains("\"a\""), "the entry is named: {e}");
        }
        // A missing key names the entry too, by id or by position when the id is missing.
        let good = format!("[[connection]]\n{base}grant=\"client_credentials\"\n");
        let e = parse(&format!(
            "{good}[[connection]]\nid=\"b\"\nenvironment=\"production\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("connection \"b\"") && e.contains("client_id"),
            "{e}"
        );
        let e = parse(&format!(
            "{good}[[connection]]\nenvironment=\"production\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("connection #2 (no id)") && e.contains("`id`"),
            "{e}"
        );
        let e = parse("[[connection]]\nid=\"a\"\nenvironment=\"ftp://x\"\nclient_id=\"c\"\nclient_secret=\"s\"\ngrant=\"client_credentials\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("environment"), "{e}");
        let dup = format!(
            "{GOOD}\n[[connection]]\n{base}grant=\"client_credentials\"\n[[connection]]\n{base}grant=\"client_credentials\"\n"
        );
        let e = parse(&dup).unwrap_err().to_string();
        assert!(e.contains("duplicate"), "{e}");
    }
}
