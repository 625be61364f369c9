//! Salesforce's naming of field history objects, both ways: the history object of a tracked
//! object (`ContactHistory.ContactId`, `Foo__History.ParentId`,
//! `OpportunityFieldHistory.OpportunityId`) and the object a history object tracks. Used by
//! the anonymize proof (which history rows hold old values) and the classifier (which tracked
//! field a history row's values come from).

/// History object and its parent field for `object`.
pub fn history_object(object: &str) -> (String, String) {
    match object.strip_suffix("__c") {
        Some(base) => (format!("{base}__History"), "ParentId".into()),
        // `OpportunityHistory` is the stage history, not field history.
        None if object == "Opportunity" => {
            ("OpportunityFieldHistory".into(), "OpportunityId".into())
        }
        None => (format!("{object}History"), format!("{object}Id")),
    }
}

/// The object whose fields a history object tracks, when `object` is one: `Foo__History`
/// tracks `Foo__c`, `OpportunityFieldHistory` `Opportunity`, `ContactHistory` `Contact`.
pub fn parent_object(object: &str) -> Option<String> {
    let parent = if let Some(p) = object.strip_suffix("__History") {
        format!("{p}__c")
    } else if let Some(p) = object.strip_suffix("FieldHistory") {
        p.to_string()
    } else {
        object.strip_suffix("History")?.to_string()
    };
    (!parent.is_empty() && !parent.starts_with("__")).then_some(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_objects_and_the_objects_they_track_name_each_other() {
        for (object, history, field) in [
            ("Contact", "ContactHistory", "ContactId"),
            ("Lead", "LeadHistory", "LeadId"),
            ("Account", "AccountHistory", "AccountId"),
            ("Opportunity", "OpportunityFieldHistory", "OpportunityId"),
            ("Invoice__c", "Invoice__History", "ParentId"),
        ] {
            assert_eq!(
                history_object(object),
                (history.to_string(), field.to_string())
            );
            assert_eq!(parent_object(history).as_deref(), Some(object), "{history}");
        }
        assert_eq!(parent_object("Contact"), None);
        assert_eq!(parent_object("History"), None);
        assert_eq!(parent_object("__History"), None);
    }
}
