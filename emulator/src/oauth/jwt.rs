//! JWT bearer assertions (RFC 7523) as Salesforce checks them: RS256 signed with the key of the
//! connected app's certificate, `iss` = consumer key, `sub` = username, `aud` = a login URL,
//! `exp` in the future.
//!
//! The issuer is read before the signature is checked only to pick the certificate; nothing
//! else from an unverified assertion is trusted.

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::directory::{ConnectedApp, Directory, DirectoryUser};
use super::errors::{self, OAuthError};

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<i64>,
}

fn unverified_issuer(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    claims.iss
}

/// Checks an assertion; `audiences` are the login URLs this host answers for.
pub fn verify<'d>(
    assertion: &str,
    directory: &'d Directory,
    audiences: &[String],
    now: DateTime<Utc>,
) -> Result<(&'d ConnectedApp, &'d DirectoryUser), OAuthError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| errors::INVALID_ASSERTION)?;
    if header.alg != Algorithm::RS256 {
        return Err(errors::INVALID_ASSERTION);
    }
    let iss = unverified_issuer(assertion).ok_or(errors::INVALID_ASSERTION)?;
    let app = directory.apps.get(&iss).ok_or(errors::INVALID_CLIENT_ID)?;
    let key = DecodingKey::from_rsa_pem(app.certificate_pem.as_bytes())
        .map_err(|_| errors::INVALID_ASSERTION)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Claims are checked below so each failure gets Salesforce's own error text.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .map_err(|_| errors::INVALID_ASSERTION)?
        .claims;
    let aud_ok = match &claims.aud {
        Some(Audience::One(a)) => audiences.iter().any(|x| same_url(x, a)),
        Some(Audience::Many(v)) => v.iter().any(|a| audiences.iter().any(|x| same_url(x, a))),
        None => false,
    };
    if !aud_ok {
        return Err(errors::AUDIENCE_INVALID);
    }
    match claims.exp {
        Some(exp) if exp > now.timestamp() => {}
        _ => return Err(errors::EXPIRED_CODE),
    }
    let sub = claims.sub.ok_or(errors::INVALID_ASSERTION)?;
    let user = directory.user(&sub).ok_or(errors::INVALID_ASSERTION)?;
    if !user.active {
        return Err(errors::INACTIVE_USER);
    }
    if !user.approves {
        return Err(errors::NOT_APPROVED);
    }
    Ok((app, user))
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}
