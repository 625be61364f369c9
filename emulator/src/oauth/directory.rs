//! The org's identity directory: connected apps and the users who can log in through them.
//!
//! Plain data, no HTTP. The defaults are documented in `emulator/README.md` so the demo, the
//! tests and the conformance suites can log in with no interactive step. The JWT certificate is
//! a test-only fixture (`emulator/fixtures/test-only/`).

use std::collections::HashMap;

/// The emulated org's default id (18 characters, as the identity URL carries it); another one
/// is set with `EmulatorConfig::org_id` or `--org-id`.
pub const ORG_ID: &str = "00D000000000EMUAAA";
/// The default connected app's consumer key.
pub const DEFAULT_CLIENT_ID: &str = "sfprivacy-emulator-client";
/// The default connected app's consumer secret (test value, public on purpose).
pub const DEFAULT_CLIENT_SECRET: &str = "sfprivacy-emulator-secret";
/// The integration user every default login acts as.
pub const INTEGRATION_USER_ID: &str = "005000000000001AAA";
pub const INTEGRATION_USERNAME: &str = "integration@sfprivacy.example";
/// Password for the username-password grant (no security token needed: trusted IP range).
pub const INTEGRATION_PASSWORD: &str = "emulator-password";
/// A refresh token for the integration user that exists from start, so tests need no login page.
pub const INTEGRATION_REFRESH_TOKEN: &str = "5Aep861EMULATOR.integration.refresh.token.TEST.ONLY";
/// A user who denies every authorization request and has not approved the app.
pub const DENIER_USERNAME: &str = "denier@sfprivacy.example";
/// A deactivated user.
pub const INACTIVE_USERNAME: &str = "inactive@sfprivacy.example";
/// Callback URLs registered on the default app (sfdx's and a common local one).
pub const DEFAULT_CALLBACK_URLS: [&str; 2] = [
    "http://localhost:1717/OauthRedirect",
    "http://localhost:8080/callback",
];

/// The test-only certificate that JWT bearer assertions of the default app are checked with.
pub const TEST_JWT_CERTIFICATE_PEM: &str =
    include_str!("../../fixtures/test-only/jwt-certificate.pem");

/// A connected app (consumer) as configured in Setup.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub client_id: String,
    pub client_secret: String,
    pub callback_urls: Vec<String>,
    /// PEM certificate (or public key) that JWT bearer assertions must be signed for.
    pub certificate_pem: String,
    /// Refresh token rotation: each refresh returns a new refresh token and kills the old one.
    pub rotate_refresh_tokens: bool,
    /// Run-as user of the client credentials flow (None: that flow is not enabled).
    pub client_credentials_user: Option<String>,
    /// Scopes granted to tokens, space-separated as Salesforce returns them.
    pub scope: String,
}

/// A user who can log in.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub id: String,
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub active: bool,
    /// Whether the user has approved (or is pre-authorized for) the connected apps; a user who
    /// has not is refused by JWT bearer and denies on the authorize page.
    pub approves: bool,
}

impl DirectoryUser {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// Connected apps by client id and users by lower-cased username.
#[derive(Debug, Clone)]
pub struct Directory {
    pub apps: HashMap<String, ConnectedApp>,
    pub users: HashMap<String, DirectoryUser>,
}

impl Default for Directory {
    fn default() -> Self {
        let app = ConnectedApp {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            callback_urls: DEFAULT_CALLBACK_URLS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            certificate_pem: TEST_JWT_CERTIFICATE_PEM.into(),
            rotate_refresh_tokens: false,
            client_credentials_user: Some(INTEGRATION_USERNAME.into()),
            scope: "api refresh_token".into(),
        };
        let user =
            |id: &str, username: &str, first: &str, last: &str, active, approves| DirectoryUser {
                id: id.into(),
                username: username.into(),
                password: INTEGRATION_PASSWORD.into(),
                first_name: first.into(),
                last_name: last.into(),
                email: username.into(),
                active,
                approves,
            };
        let users = [
            user(
                INTEGRATION_USER_ID,
                INTEGRATION_USERNAME,
                "Integration",
                "User",
                true,
                true,
            ),
            user(
                "005000000000002AAA",
                DENIER_USERNAME,
                "Dana",
                "Denier",
                true,
                false,
            ),
            user(
                "005000000000003AAA",
                INACTIVE_USERNAME,
                "Ivan",
                "Inactive",
                false,
                true,
            ),
        ];
        Self {
            apps: HashMap::from([(app.client_id.clone(), app)]),
            users: users
                .into_iter()
                .map(|u| (u.username.to_ascii_lowercase(), u))
                .collect(),
        }
    }
}

impl Directory {
    pub fn user(&self, username: &str) -> Option<&DirectoryUser> {
        self.users.get(&username.to_ascii_lowercase())
    }

    pub fn user_by_id(&self, id: &str) -> Option<&DirectoryUser> {
        self.users.values().find(|u| u.id == id)
    }
}
