//! Ground truth: for every visible field of every object, the kinds of personal data the
//! seeded generator puts in it, in the classifier's vocabulary. Derived from each field's
//! [`Gen`](super::seeded::Gen), so it cannot disagree with the data. Fields hidden by
//! field-level security are left out: a scan cannot see them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Org;

/// The classifier's vocabulary; every label emitted is one of these.
pub const VOCABULARY: &[&str] = &[
    "email",
    "phone",
    "person_name",
    "street_address",
    "city",
    "state",
    "postal_code",
    "country",
    "credit_card",
    "iban",
    "us_ssn",
    "us_itin",
    "aba_routing",
    "uk_nino",
    "ca_sin",
    "br_cpf",
    "in_aadhaar",
    "nl_bsn",
    "es_nif",
    "fr_insee",
    "passport_number",
    "drivers_license",
    "date_of_birth",
    "ip_address",
    "mac_address",
    "url",
    "geolocation",
    "gender",
    "credential",
];

/// `{"objects":{"Contact":{"Email":["email"],…},…}}`, every visible field listed.
pub fn ground_truth(org: &Org) -> Value {
    let mut objects = BTreeMap::new();
    for o in &org.schema.objects {
        let mut fields = BTreeMap::new();
        for (_, fd) in o.visible_fields() {
            let labels = match fd.fill {
                super::seeded::Gen::HistoryValue(_) => org.generator.history_labels(o.name),
                _ => fd.fill.labels(o, org.generator.person_accounts),
            };
            fields.insert(fd.name.to_string(), json!(labels));
        }
        objects.insert(o.name.to_string(), json!(fields));
    }
    json!({ "objects": objects })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_use_only_the_vocabulary() {
        let org = Org::new(1, 100, true);
        let gt = ground_truth(&org);
        for (_, fields) in gt["objects"].as_object().unwrap() {
            for (_, labels) in fields.as_object().unwrap() {
                for l in labels.as_array().unwrap() {
                    assert!(VOCABULARY.contains(&l.as_str().unwrap()), "{l}");
                }
            }
        }
        assert_eq!(gt["objects"]["Contact"]["Email"], json!(["email"]));
        assert_eq!(
            gt["objects"]["Contact"]["Description"],
            json!(["email", "phone"])
        );
        assert!(
            gt["objects"]["Contact"].get("SSN__c").is_none(),
            "hidden by FLS"
        );
        for kind in VOCABULARY {
            let used = gt["objects"].as_object().unwrap().values().any(|f| {
                f.as_object()
                    .unwrap()
                    .values()
                    .any(|l| l.as_array().unwrap().iter().any(|x| x == kind))
            });
            assert!(used, "no field holds {kind}");
        }
    }

    /// History values are labelled by the tracked fields their rows really record: exactly
    /// the kinds read back from the rows.
    #[test]
    fn history_values_are_labelled_by_what_their_rows_record() {
        for size in [1000, 100_000] {
            let org = Org::new(11, size, true);
            let gt = ground_truth(&org);
            for history in ["ContactHistory", "LeadHistory"] {
                let oi = org.schema.object_index(history).unwrap();
                let o = &org.schema.objects[oi];
                let fi = o.field_index_any("Field").unwrap();
                let rows = org.generator.count(history).min(10_000);
                let mut seen: Vec<&str> = (0..rows)
                    .map(|row| match org.generator.value(&org.schema, o, row, fi) {
                        Value::String(f) if f == "Email" => "email",
                        Value::String(f) if f == "Phone" => "phone",
                        Value::String(f) if f == "LastName" => "person_name",
                        _ => "city",
                    })
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                for col in ["OldValue", "NewValue"] {
                    assert_eq!(gt["objects"][history][col], json!(seen), "{history}.{col}");
                }
                if size == 100_000 {
                    assert_eq!(seen, ["city", "email", "person_name", "phone"]);
                }
            }
        }
    }
}
