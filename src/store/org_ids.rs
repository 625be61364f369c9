//! Which Salesforce org each connection reaches, learned from the token response's identity
//! URL (`…/id/{orgId}/{userId}`) and shared by every replica through Redis.
//!
//! Salesforce counts the daily API allocation and the 25 concurrent long-running requests per
//! org, not per integration: two connections to one org (a second connected app, a rotated
//! integration user) must share one budget, one concurrency cap and one breaker. Until a
//! connection's first token names its org, its limits are kept under the connection id.

use super::{Store, StoreError};
use redis::AsyncCommands;
use std::time::Duration;

/// How long a learned org id is kept; every fresh token writes it again.
pub const ORG_ID_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The org id an identity URL names, as its 15-character form (the 18-character form only adds
/// a case checksum, and both appear in the wild for the same org).
pub fn org_id_from_identity_url(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("/id/")?;
    let org = rest.split('/').next()?;
    let valid = (org.len() == 15 || org.len() == 18)
        && org.starts_with("00D")
        && org.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| org[..15].to_string())
}

/// Records and reads the connection → org mapping.
#[derive(Clone)]
pub struct OrgIds {
    store: Store,
}

impl OrgIds {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn key(&self, connection: &str) -> String {
        self.store.key(&format!("org-of:{connection}"))
    }

    pub async fn record(&self, connection: &str, org_id: &str) -> Result<(), StoreError> {
        let ttl = ORG_ID_TTL.as_secs();
        let _: () = self
            .store
            .conn()
            .set_ex(self.key(connection), org_id, ttl)
            .await?;
        Ok(())
    }

    pub async fn get(&self, connection: &str) -> Result<Option<String>, StoreError> {
        Ok(self.store.conn().get(self.key(connection)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_org_from_an_identity_url_in_either_length() {
        let u18 = "https://login.salesforce.com/id/00D5g000004nB1bEAE/0055g00000AbCdEAAV";
        let u15 = "https://acme.my.salesforce.com/id/00D5g000004nB1b/0055g00000AbCdE";
        assert_eq!(
            org_id_from_identity_url(u18).as_deref(),
            Some("00D5g000004nB1b")
        );
        assert_eq!(
            org_id_from_identity_url(u15).as_deref(),
            Some("00D5g000004nB1b")
        );
    }

    #[test]
    fn refuses_what_is_not_an_org_id() {
        for u in [
            "",
            "https://login.salesforce.com/services/oauth2/token",
            "https://login.salesforce.com/id/",
            "https://login.salesforce.com/id/0055g00000AbCdEAAV/00D5g000004nB1bEAE",
            "https://login.salesforce.com/id/00D5g000004nB1bEA/005",
            "https://login.salesforce.com/id/00D5g000004n:1bEAE/005",
        ] {
            assert_eq!(org_id_from_identity_url(u), None, "{u}");
        }
    }
}
