//! Field history objects (`ContactHistory`, `LeadHistory`, `Foo__History`, …): one row per
//! tracked change, `Field` naming the tracked field, `OldValue`/`NewValue` (anyType) its
//! values before and after. A value column mixes every tracked field's values, so no name
//! hint fits the column as a whole; each row's `Field` is the hint for that row's values.
//!
//! A value column's findings are split by that hint. The types the row's tracked field hints
//! at go to a bucket for that tracked field, judged as in a field of that name (rows of
//! `LastName` as a last name field). Every other finding goes to the column itself, judged
//! over all its rows as any unhinted column is, stray-hit rules included. The column's
//! verdict is the union of the two. A tracked field whose name hints at nothing (`Status`,
//! `StageName`) has no bucket: its rows count on the column alone.

use super::aggregate::{FieldStats, verdict as field_verdict};
use super::detect::Findings;
use super::profile::{FieldProfile, credential_name, name_hints, tokens};
use super::types::{DataType, TypeSet};
use crate::message::{ConfidenceLevel, FieldVerdict};
pub use crate::salesforce::history::parent_object;

/// The column naming each row's tracked field.
pub const KEY: &str = "Field";
/// The columns holding the tracked field's values.
pub const VALUES: [&str; 2] = ["OldValue", "NewValue"];
/// Salesforce tracks at most 20 fields per object (60 with Field Audit Trail): more distinct
/// `Field` values than this are not tracked field names, and further ones count on the
/// column alone (the buckets are stored per scan, so their number must stay bounded).
pub const MAX_TRACKED: usize = 64;
/// Between a value column and a tracked field in a bucket's name (`OldValue/LastName`): no
/// API name holds it.
const BUCKET_SEP: char = '/';

/// The stored name of a value column's bucket for one tracked field.
pub fn bucket_name(column: &str, tracked: &str) -> String {
    format!("{column}{BUCKET_SEP}{tracked}")
}

/// A bucket's value column and tracked field, when `name` is a bucket's.
pub fn split_bucket(name: &str) -> Option<(&str, &str)> {
    name.split_once(BUCKET_SEP)
}

/// A tracked field name as Salesforce writes it (an API name, or `created`,
/// `ownerAssignment`, …): anything else is not a name to take a hint from.
fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 80 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a value column's rows from `tracked` are read, when that name hints at a kind of
/// personal data: the column's own profile with the tracked field's name hints.
pub fn bucket_profile(column: &FieldProfile, parent: &str, tracked: &str) -> Option<FieldProfile> {
    if !is_field_name(tracked) {
        return None;
    }
    let (hints, business_number, person_object_name) = name_hints(tracked, "", parent);
    if hints.is_empty() {
        return None;
    }
    Some(FieldProfile {
        name: bucket_name(&column.name, tracked),
        kind: column.kind,
        hints,
        typed: TypeSet::EMPTY,
        business_number,
        flagged_sensitive: column.flagged_sensitive,
        person_object_name,
        partly_person_name: false,
        credential: credential_name(&tokens(tracked)),
    })
}

/// The part of `f` a bucket with `profile` counts (its hinted types), and the rest.
pub fn split(f: Findings, profile: &FieldProfile) -> (Findings, Findings) {
    let hinted = profile.hints.union(profile.typed);
    (
        Findings {
            hits: f.hits.intersection(hinted),
            cands: f.cands.intersection(hinted),
        },
        Findings {
            hits: f.hits.difference(hinted),
            cands: f.cands.difference(hinted),
        },
    )
}

/// A value column's verdict: its own (unhinted findings over all its rows) joined with its
/// buckets' (each on its tracked field's rows). A type found both ways keeps its most
/// confident verdict; its hits and prevalence are the column's totals.
pub fn verdict(
    column: &FieldProfile,
    stats: &FieldStats,
    buckets: &[(FieldProfile, FieldStats)],
    threshold: ConfidenceLevel,
) -> FieldVerdict {
    let mut out = field_verdict(column, stats, threshold);
    for (p, s) in buckets {
        for d in field_verdict(p, s, threshold).data_types {
            match out
                .data_types
                .iter_mut()
                .find(|m| m.data_type == d.data_type)
            {
                Some(m) if m.confidence < d.confidence => *m = d,
                Some(_) => {}
                None => out.data_types.push(d),
            }
        }
    }
    for d in &mut out.data_types {
        let Some(t) = DataType::from_name(&d.data_type) else {
            continue;
        };
        let hits =
            stats.hits[t.index()] + buckets.iter().map(|(_, s)| s.hits[t.index()]).sum::<u64>();
        d.hits = hits;
        d.prevalence = if stats.non_empty == 0 {
            0.0
        } else {
            (hits as f64 / stats.non_empty as f64 * 1000.0).round() / 1000.0
        };
        if hits > 0 && !d.evidence.iter().any(|e| e == "content") {
            d.evidence.push("content".to_string());
        }
    }
    out.data_types
        .sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

/// A history object's value columns within a table, and their buckets.
#[derive(Debug, Clone)]
pub struct HistoryColumns {
    parent: String,
    /// Index of the `Field` column.
    pub key: usize,
    /// Indices of the value columns.
    values: Vec<usize>,
    /// Per tracked field seen, its bucket (index into `buckets`) for each value column.
    tracked: std::collections::HashMap<String, Vec<Option<usize>>>,
    /// Each bucket's value column, profile and counts.
    pub buckets: Vec<(usize, FieldProfile, FieldStats)>,
}

impl HistoryColumns {
    /// The history columns among `profiles`, when the key and a value column are there.
    pub fn find(parent: &str, profiles: &[FieldProfile]) -> Option<Self> {
        let key = profiles.iter().position(|p| p.name == KEY)?;
        let values: Vec<usize> = profiles
            .iter()
            .enumerate()
            .filter(|(_, p)| VALUES.contains(&p.name.as_str()))
            .map(|(i, _)| i)
            .collect();
        (!values.is_empty()).then(|| HistoryColumns {
            parent: parent.to_string(),
            key,
            values,
            tracked: Default::default(),
            buckets: Vec::new(),
        })
    }

    /// The buckets a row from `tracked` counts in, as (value column, bucket index); the
    /// buckets are made the first time a tracked field is seen.
    pub fn row_buckets(&mut self, tracked: &str, profiles: &[FieldProfile]) -> Vec<(usize, usize)> {
        if !self.tracked.contains_key(tracked) {
            if self.tracked.len() >= MAX_TRACKED {
                return Vec::new();
            }
            let mut slots = Vec::with_capacity(self.values.len());
            for &col in &self.values {
                let slot = bucket_profile(&profiles[col], &self.parent, tracked).map(|p| {
                    self.buckets.push((col, p, FieldStats::default()));
                    self.buckets.len() - 1
                });
                slots.push(slot);
            }
            self.tracked.insert(tracked.to_string(), slots);
        }
        self.values
            .iter()
            .zip(&self.tracked[tracked])
            .filter_map(|(&col, slot)| slot.map(|b| (col, b)))
            .collect()
    }

    /// The buckets of value column `col`.
    pub fn of_column(&self, col: usize) -> Vec<(FieldProfile, FieldStats)> {
        self.buckets
            .iter()
            .filter(|(c, _, _)| *c == col)
            .map(|(_, p, s)| (p.clone(), s.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::detect::Detector;
    use crate::classify::table::TableClassifier;

    const LAST: &[&str] = &["Okafor", "Lindqvist", "Brennan", "Moreau", "Tanaka"];
    const CITIES: &[&str] = &["Lyon", "Leeds", "Porto", "Utrecht", "Seattle"];
    const STATUS: &[&str] = &["Working", "Closed", "Open", "Qualified", "Nurturing"];
    const STAGE: &[&str] = &["Prospecting", "Negotiation", "Closed Won", "Closed Lost"];

    fn det() -> Detector {
        Detector::new(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
    }

    fn table() -> TableClassifier {
        let profiles = [KEY, "OldValue", "NewValue"]
            .iter()
            .map(|n| FieldProfile::from_column(n))
            .collect();
        TableClassifier::new(det(), profiles)
    }

    /// `rows` of (tracked field, old value, new value), and the value columns' verdicts.
    fn verdicts(mut t: TableClassifier, rows: &[(&str, String, String)]) -> Vec<FieldVerdict> {
        for (field, old, new) in rows {
            t.add_record(&[Some(*field), Some(old.as_str()), Some(new.as_str())]);
        }
        t.verdicts(ConfidenceLevel::Low).split_off(1)
    }

    fn types(v: &FieldVerdict) -> Vec<&str> {
        let mut t: Vec<&str> = v.data_types.iter().map(|d| d.data_type.as_str()).collect();
        t.sort();
        t
    }

    /// A contact history: a quarter last names, a quarter cities, the rest status changes.
    fn contact_rows(n: usize) -> Vec<(&'static str, String, String)> {
        (0..n)
            .map(|i| {
                let (f, pool) = match i % 4 {
                    0 => ("LastName", LAST),
                    1 => ("MailingCity", CITIES),
                    _ => ("Status", STATUS),
                };
                let (a, b) = (pool[i % pool.len()], pool[(i + 1) % pool.len()]);
                (f, a.to_string(), b.to_string())
            })
            .collect()
    }

    #[test]
    fn each_rows_tracked_field_is_the_name_hint_for_its_values() {
        let rows = contact_rows(200);
        for v in verdicts(table().history_of("Contact"), &rows) {
            assert_eq!(types(&v), ["city", "person_name"], "{v:?}");
            assert_eq!(v.non_empty, 200);
            for d in &v.data_types {
                assert!(d.level >= ConfidenceLevel::Medium, "{d:?}");
                assert_eq!((d.hits, d.prevalence), (50, 0.25), "{d:?}");
            }
        }
        // The same values read as one column: a quarter of last names and of cities is not
        // enough for an unhinted field.
        for v in verdicts(table(), &rows) {
            assert!(v.data_types.is_empty(), "{v:?}");
        }
    }

    #[test]
    fn a_history_of_status_and_stage_changes_is_not_personal() {
        let rows: Vec<(&str, String, String)> = (0..300)
            .map(|i| {
                let (f, pool) = if i % 2 == 0 {
                    ("Status", STATUS)
                } else {
                    ("StageName", STAGE)
                };
                (
                    f,
                    pool[i % pool.len()].into(),
                    pool[(i + 1) % pool.len()].into(),
                )
            })
            .collect();
        for v in verdicts(table().history_of("Lead"), &rows) {
            assert!(v.data_types.is_empty(), "{v:?}");
        }
    }

    #[test]
    fn stray_values_in_unhinted_rows_do_not_label_a_history_column() {
        // Among 400 status changes, an email and a few name- and city-like values: judged on
        // the whole column, as any unhinted field's strays are.
        let mut rows: Vec<(&str, String, String)> = (0..400)
            .map(|i| ("Status", STATUS[i % 5].into(), STATUS[(i + 2) % 5].into()))
            .collect();
        rows[10] = (
            "Description",
            "sent to jane.doe@example.com".into(),
            "n/a".into(),
        );
        rows[20] = ("Status", "Jordan".into(), "Paris".into());
        rows[30] = ("Rating", "Lyon".into(), "Okafor".into());
        for v in verdicts(table().history_of("Contact"), &rows) {
            assert!(v.data_types.is_empty(), "{v:?}");
        }
    }

    #[test]
    fn history_objects_and_the_objects_they_track() {
        for (history, parent) in [
            ("ContactHistory", Some("Contact")),
            ("LeadHistory", Some("Lead")),
            ("AccountHistory", Some("Account")),
            ("Foo__History", Some("Foo__c")),
            ("OpportunityFieldHistory", Some("Opportunity")),
            ("History", None),
            ("Contact", None),
        ] {
            assert_eq!(parent_object(history).as_deref(), parent, "{history}");
        }
        let old = FieldProfile::from_column("OldValue");
        assert!(bucket_profile(&old, "Contact", "Status").is_none());
        assert!(bucket_profile(&old, "Contact", "Last Name\u{241f}").is_none());
        let p = bucket_profile(&old, "Lead", "Name").unwrap();
        assert_eq!(p.name, "OldValue/Name");
        assert!(p.hints.contains(DataType::PersonName));
        assert_eq!(split_bucket(&p.name), Some(("OldValue", "Name")));
    }
}
