//! `GET /services/oauth2/authorize`: the web-server flow's login-and-approve page, reduced to
//! its outcome. The user who "logs in" is the request's `login_hint` (a real Salesforce
//! parameter) or the admin-set default; a user who has not approved the app denies.
//!
//! Outcomes as Salesforce sends them: a 302 to `redirect_uri` with `code` and `state`, or with
//! `error=access_denied`; an unknown client or an unregistered redirect URI never redirects
//! (Salesforce shows an error page) and gets a 400 with the OAuth error body.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors;
use super::sessions::CodeGrant;
use crate::server::AppState;

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return errors::REDIRECT_MISMATCH.into_response(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

pub async fn authorize(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = super::now(&state);
    let mut inner = state.oauth.lock();
    let Some(app) = q
        .get("client_id")
        .and_then(|id| inner.directory.apps.get(id))
        .cloned()
    else {
        return errors::INVALID_CLIENT_ID.into_response();
    };
    let Some(redirect_uri) = q
        .get("redirect_uri")
        .filter(|r| app.callback_urls.iter().any(|c| c == *r))
        .cloned()
    else {
        return errors::REDIRECT_MISMATCH.into_response();
    };
    let state_param = q.get("state").cloned().unwrap_or_default();
    let with_state = |mut params: Vec<(&'static str, String)>| {
        if !state_param.is_empty() {
            params.push(("state", state_param.clone()));
        }
        params
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        let p = with_state(vec![
            ("error", "unsupported_response_type".into()),
            ("error_description", "response type not supported".into()),
        ]);
        return redirect(&redirect_uri, &borrow(&p));
    }
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some()
        && q.get("code_challenge_method")
            .is_some_and(|m| !m.eq_ignore_ascii_case("S256"))
    {
        let p = with_state(vec![
            ("error", errors::MISSING_CODE_CHALLENGE_METHOD.error.into()),
            (
                "error_description",
                errors::MISSING_CODE_CHALLENGE_METHOD.description.into(),
            ),
        ]);
        return redirect(&redirect_uri, &borrow(&p));
    }
    let username = q
        .get("login_hint")
        .cloned()
        .unwrap_or_else(|| inner.authorize_user.clone());
    let user = inner.directory.user(&username).cloned();
    let Some(user) = user.filter(|u| u.active && u.approves) else {
        let p = with_state(vec![
            ("error", "access_denied".into()),
            ("error_description", "end-user denied authorization".into()),
        ]);
        return redirect(&redirect_uri, &borrow(&p));
    };
    let scope = q
        .get("scope")
        .map(|s| s.replace('+', " "))
        .unwrap_or_else(|| app.scope.clone());
    let code = inner.sessions.insert_code(CodeGrant {
        username: user.username,
        client_id: app.client_id,
        redirect_uri: redirect_uri.clone(),
        code_challenge: challenge,
        scope,
        created_at: now,
    });
    let p = with_state(vec![("code", code)]);
    redirect(&redirect_uri, &borrow(&p))
}

fn borrow<'a>(p: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    p.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
