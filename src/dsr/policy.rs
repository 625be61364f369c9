//! Which associated records belong to the subject (and go with them) and which are shared
//! business records (and stay). Pure; read by delete, anonymize and copy (`objects: "all"`).
//!
//! Default policy per child object of a matched Contact, Lead or person account:
//!
//! | child object | policy | why |
//! |---|---|---|
//! | Case, Task, Event, EmailMessage, CampaignMember, OpportunityContactRole | delete | the subject's own interactions |
//! | ContactPointEmail, ContactPointPhone, ContactPointAddress, ContactPointTypeConsent, ContactPointConsent | delete | the subject's contact points and consents |
//! | Individual (parent of Contact/Lead) | delete (or anonymize) when no other record uses it; a shared one is kept (anonymize reports it) | the subject's privacy preferences |
//! | Account, Opportunity, Campaign, User, anything else | keep | shared business records |
//!
//! A connection overrides any entry with `child_policy: {Object: "delete" | "keep"}`.

use std::collections::BTreeMap;

/// What happens to an associated record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildPolicy {
    /// The subject's own record: deleted (and anonymized) with the subject.
    Delete,
    /// A shared business record: left alone.
    Keep,
}

/// The default policy's "delete" list (everything else is kept).
pub const DEFAULT_DELETE: [&str; 12] = [
    "Case",
    "Task",
    "Event",
    "EmailMessage",
    "CampaignMember",
    "OpportunityContactRole",
    "ContactPointEmail",
    "ContactPointPhone",
    "ContactPointAddress",
    "ContactPointTypeConsent",
    "ContactPointConsent",
    "Individual",
];

/// A `child_policy` entry that is neither `delete` nor `keep`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("child_policy.{object}: {value:?} is neither \"delete\" nor \"keep\"")]
pub struct PolicyError {
    pub object: String,
    pub value: String,
}

impl std::str::FromStr for ChildPolicy {
    type Err = String;

    /// `delete` or `keep`, as the connections file writes them (case-insensitive); the error is
    /// the refused value.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "delete" => Ok(ChildPolicy::Delete),
            "keep" => Ok(ChildPolicy::Keep),
            _ => Err(s.to_string()),
        }
    }
}

/// A connection's policy: defaults plus overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    overrides: BTreeMap<String, ChildPolicy>,
}

impl Policy {
    /// Builds the policy from `Connection.child_policy`; an unknown value is an error naming
    /// the object.
    pub fn from_overrides(raw: &BTreeMap<String, String>) -> Result<Self, PolicyError> {
        let mut overrides = BTreeMap::new();
        for (object, value) in raw {
            let p = value.parse().map_err(|value| PolicyError {
                object: object.clone(),
                value,
            })?;
            overrides.insert(object.clone(), p);
        }
        Ok(Self { overrides })
    }

    pub fn for_object(&self, object: &str) -> ChildPolicy {
        if let Some(p) = self.overrides.get(object) {
            return *p;
        }
        if DEFAULT_DELETE.contains(&object) {
            ChildPolicy::Delete
        } else {
            ChildPolicy::Keep
        }
    }

    /// Whether records of `object` go with the subject.
    pub fn deletes(&self, object: &str) -> bool {
        self.for_object(object) == ChildPolicy::Delete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_delete_own_records_and_keep_shared_ones() {
        let p = Policy::default();
        for o in [
            "Case",
            "Task",
            "Event",
            "CampaignMember",
            "OpportunityContactRole",
            "EmailMessage",
            "ContactPointEmail",
            "Individual",
        ] {
            assert!(p.deletes(o), "{o}");
        }
        for o in ["Account", "Opportunity", "Campaign", "User", "Custom__c"] {
            assert!(!p.deletes(o), "{o}");
        }
    }

    #[test]
    fn overrides_win_and_bad_values_are_named() {
        let mut raw = BTreeMap::new();
        raw.insert("Task".to_string(), "keep".to_string());
        raw.insert("Invoice__c".to_string(), "Delete".to_string());
        let p = Policy::from_overrides(&raw).unwrap();
        assert!(!p.deletes("Task"));
        assert!(p.deletes("Invoice__c"));
        raw.insert("Case".to_string(), "purge".to_string());
        let err = Policy::from_overrides(&raw).unwrap_err();
        assert_eq!(
            err.to_string(),
            "child_policy.Case: \"purge\" is neither \"delete\" nor \"keep\""
        );
    }
}
