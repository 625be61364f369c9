//! Field aggregation: per-value findings become per-field counts ([`FieldStats`]), and counts
//! plus metadata become a [`FieldVerdict`] with prevalence, confidence and level.
//!
//! Counts are plain sums, so parts of a scan can add them up in any order (in Redis, or in
//! memory for offline files) and the verdict is the same.
//!
//! Confidence = 1 − (1 − content)(1 − metadata): content evidence grows with validator
//! strength and prevalence (and, for plain checksum numbers, with the share of candidates that
//! validate); metadata evidence is Salesforce's field type (strong) or a name hint (weaker).
//! A checksum-validated type whose candidates mostly fail the check labels a field only when
//! its name points to that type: the few that pass are chance.
//! A type is reported only when the content is enough on its own terms: single stray hits in a
//! large field are not, while a validated value in a small field is.

use super::detect::Findings;
use super::profile::{ContentKind, FieldProfile};
use super::types::{COUNT, DataType, Strength};
use crate::message::{ConfidenceLevel, DataTypeVerdict, FieldVerdict};
use serde::{Deserialize, Serialize};

/// Below this many non-empty values a field is "small": one validated value labels it.
pub const SMALL_FIELD: u64 = 20;

/// Per-field counters, summable across parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStats {
    pub non_empty: u64,
    pub hits: [u64; COUNT],
    pub cands: [u64; COUNT],
}

impl Default for FieldStats {
    fn default() -> Self {
        Self {
            non_empty: 0,
            hits: [0; COUNT],
            cands: [0; COUNT],
        }
    }
}

impl FieldStats {
    /// Counts one non-empty value's findings.
    pub fn add(&mut self, f: Findings) {
        self.non_empty += 1;
        for t in f.hits.iter() {
            self.hits[t.index()] += 1;
        }
        for t in f.cands.iter() {
            self.cands[t.index()] += 1;
        }
    }

    pub fn merge(&mut self, other: &FieldStats) {
        self.non_empty += other.non_empty;
        for i in 0..COUNT {
            self.hits[i] += other.hits[i];
            self.cands[i] += other.cands[i];
        }
    }
}

/// Plain nine-digit checksums: one random number in ten passes, so a column needs nearly every
/// candidate to validate before it counts without a name hint.
fn ambiguous_checksum(t: DataType) -> bool {
    matches!(
        t,
        DataType::AbaRouting
            | DataType::NlBsn
            | DataType::CaSin
            | DataType::UsSsn
            | DataType::UsItin
    )
}

/// Types whose validator checks a value's own digits or letters (check digit, mod 97, issuer
/// and prefix rules), so a candidate of the right shape can fail it. The nine-digit ones are
/// held to a stricter rule still ([`ambiguous_checksum`]). A NINO has no check digit: only
/// its excluded prefixes fail, so the rule catches a column of those, not random letters.
fn checksum_validated(t: DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        CreditCard
            | Iban
            | UkNino
            | CaSin
            | BrCpf
            | InAadhaar
            | NlBsn
            | EsNif
            | FrInsee
            | AbaRouting
    )
}

pub fn level_of(confidence: f64) -> Option<ConfidenceLevel> {
    if confidence >= 0.8 {
        Some(ConfidenceLevel::High)
    } else if confidence >= 0.6 {
        Some(ConfidenceLevel::Medium)
    } else if confidence >= 0.35 {
        Some(ConfidenceLevel::Low)
    } else {
        None
    }
}

/// The confidence that the field holds `t`, or `None` when the evidence is not enough.
pub fn confidence(p: &FieldProfile, s: &FieldStats, t: DataType) -> Option<f64> {
    let i = t.index();
    let (h, c, n) = (s.hits[i], s.cands[i], s.non_empty);
    let meta = p.metadata_weight(t);
    if h == 0 {
        // Metadata alone: only an empty field typed by Salesforce itself (an empty field
        // proves nothing either way, and a typed one is a strong promise).
        return (n == 0 && meta > 0.0).then_some(meta * 0.6);
    }
    let prevalence = h as f64 / n.max(1) as f64;
    let ratio = h as f64 / c.max(h) as f64;
    let (base, min_prev) = match t.strength() {
        // Names inside free text come with their context ("Hi, this is Jane Doe"): sparse
        // by nature, and the pattern is specific.
        _ if t == DataType::PersonName && p.kind == ContentKind::FreeText => (0.8, 0.05),
        // Person-account names: the data model says some rows hold one.
        _ if t == DataType::PersonName && p.partly_person_name => (0.6, 0.05),
        Strength::Strong => (0.95, 0.01),
        Strength::Medium => (0.8, 0.03),
        Strength::Weak => (0.6, if meta > 0.0 { 0.3 } else { 0.6 }),
    };
    // One validated value is a stray hit in an unnamed field, evidence in a field whose name
    // promises that kind (a "National ID" field holding one Dutch BSN among twenty ids).
    let named = meta > 0.0 && t.strength() != Strength::Weak;
    let enough = if n < SMALL_FIELD {
        t.strength() != Strength::Weak || prevalence >= min_prev
    } else {
        (h >= 2 || named) && prevalence >= min_prev
    };
    if !enough {
        return None;
    }
    // A check digit passes some random numbers by chance (Luhn and Verhoeff one in ten, mod 97
    // one in a hundred), so a column of other numbers of the same shape (order ids, tracking
    // numbers, codes) holds a few "valid" ones; a column of the real kind nearly all validate.
    // Unnamed, the candidates must mostly validate.
    if checksum_validated(t) && meta == 0.0 && ratio < 0.5 {
        return None;
    }
    let mut content = base * (0.75 + 0.25 * (prevalence / 0.5).min(1.0));
    if ambiguous_checksum(t) {
        if meta == 0.0 && (ratio < 0.8 || prevalence < 0.5) {
            return None;
        }
        content *= ratio;
    }
    let mut conf = 1.0 - (1.0 - content) * (1.0 - meta);
    if p.flagged_sensitive {
        conf += (1.0 - conf) * 0.2;
    }
    Some(conf.clamp(0.0, 1.0))
}

/// The field's verdict: every type at or above `threshold`, most confident first.
pub fn verdict(p: &FieldProfile, s: &FieldStats, threshold: ConfidenceLevel) -> FieldVerdict {
    let mut data_types: Vec<DataTypeVerdict> = DataType::ALL
        .iter()
        .filter_map(|&t| {
            let conf = confidence(p, s, t)?;
            let level = level_of(conf)?;
            if level < threshold {
                return None;
            }
            let hits = s.hits[t.index()];
            let mut evidence = Vec::new();
            if p.metadata_weight(t) > 0.0 {
                evidence.push("metadata".to_string());
            }
            if hits > 0 {
                evidence.push("content".to_string());
            }
            if p.flagged_sensitive {
                evidence.push("salesforce_classification".to_string());
            }
            Some(DataTypeVerdict {
                data_type: t.name().to_string(),
                category: t.category().to_string(),
                prevalence: if s.non_empty == 0 {
                    0.0
                } else {
                    round3(hits as f64 / s.non_empty as f64)
                },
                hits,
                confidence: round3(conf),
                level,
                evidence,
            })
        })
        .collect();
    data_types.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    FieldVerdict {
        field: p.name.clone(),
        non_empty: s.non_empty,
        data_types,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::types::TypeSet;

    fn stats(n: u64, t: DataType, hits: u64, cands: u64) -> FieldStats {
        let mut s = FieldStats {
            non_empty: n,
            ..Default::default()
        };
        s.hits[t.index()] = hits;
        s.cands[t.index()] = cands;
        s
    }

    fn types(v: &FieldVerdict) -> Vec<&str> {
        v.data_types.iter().map(|d| d.data_type.as_str()).collect()
    }

    #[test]
    fn single_stray_hit_in_a_large_field_does_not_label_it() {
        let p = FieldProfile::from_column("Description");
        let v = verdict(
            &p,
            &stats(5000, DataType::Email, 1, 1),
            ConfidenceLevel::Low,
        );
        assert!(v.data_types.is_empty());
    }

    #[test]
    fn one_validated_value_in_a_small_field_does() {
        let p = FieldProfile::from_column("Notes__c");
        let v = verdict(
            &p,
            &stats(3, DataType::CreditCard, 1, 1),
            ConfidenceLevel::Medium,
        );
        assert_eq!(types(&v), ["credit_card"]);
    }

    #[test]
    fn embedded_emails_in_free_text_reach_medium() {
        let p = FieldProfile::from_column("Description");
        let v = verdict(
            &p,
            &stats(1000, DataType::Email, 100, 100),
            ConfidenceLevel::Medium,
        );
        assert_eq!(types(&v), ["email"]);
        assert_eq!(v.data_types[0].prevalence, 0.1);
    }

    #[test]
    fn random_nine_digit_numbers_are_not_routing_numbers() {
        let p = FieldProfile::from_column("Ref__c");
        let v = verdict(
            &p,
            &stats(1000, DataType::AbaRouting, 100, 1000),
            ConfidenceLevel::Low,
        );
        assert!(v.data_types.is_empty());
        let v = verdict(
            &p,
            &stats(1000, DataType::AbaRouting, 990, 1000),
            ConfidenceLevel::Medium,
        );
        assert_eq!(types(&v), ["aba_routing"]);
    }

    #[test]
    fn twelve_digit_ids_a_tenth_of_which_pass_verhoeff_are_not_aadhaar() {
        let p = FieldProfile::from_column("Tracking_Number__c");
        let v = verdict(
            &p,
            &stats(1000, DataType::InAadhaar, 90, 910),
            ConfidenceLevel::Low,
        );
        assert!(v.data_types.is_empty(), "{v:?}");
        // Sparse real ones in text still count: their twelve-digit runs validate.
        let notes = FieldProfile::from_column("Notes");
        let v = verdict(
            &notes,
            &stats(1000, DataType::InAadhaar, 30, 2),
            ConfidenceLevel::Medium,
        );
        assert_eq!(types(&v), ["in_aadhaar"]);
        // A field named for it is not held to the ratio (its name is the evidence).
        let named = FieldProfile::from_column("Aadhaar_Number__c");
        assert!(named.metadata_weight(DataType::InAadhaar) > 0.0);
        let v = verdict(
            &named,
            &stats(1000, DataType::InAadhaar, 300, 700),
            ConfidenceLevel::Medium,
        );
        assert_eq!(types(&v), ["in_aadhaar"]);
    }

    #[test]
    fn a_column_whose_card_candidates_mostly_fail_luhn_is_not_cards_unless_named() {
        // One random card-shaped number in ten passes Luhn.
        let chance = stats(1000, DataType::CreditCard, 100, 1000);
        let plain = FieldProfile::from_column("External_Code__c");
        assert!(
            verdict(&plain, &chance, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
        // Named for cards, the name is the evidence.
        let named = FieldProfile::from_column("Card_Number__c");
        assert_eq!(
            types(&verdict(&named, &chance, ConfidenceLevel::Medium)),
            ["credit_card"]
        );
        // A real card column with a few typos.
        let typos = stats(1000, DataType::CreditCard, 970, 1000);
        assert_eq!(
            types(&verdict(&plain, &typos, ConfidenceLevel::High)),
            ["credit_card"]
        );
        // The same rule for the other check-digit types.
        for t in [
            DataType::Iban,
            DataType::BrCpf,
            DataType::EsNif,
            DataType::FrInsee,
        ] {
            let chance = stats(150, t, 2, 150);
            assert!(
                verdict(&plain, &chance, ConfidenceLevel::Low)
                    .data_types
                    .is_empty(),
                "{t}"
            );
        }
    }

    #[test]
    fn threshold_filters_and_metadata_raises() {
        let weak = FieldProfile::from_column("Col1");
        let s = stats(100, DataType::PersonName, 70, 90);
        let medium = verdict(&weak, &s, ConfidenceLevel::Medium);
        assert_eq!(medium.data_types[0].level, ConfidenceLevel::Medium);
        assert!(
            verdict(&weak, &s, ConfidenceLevel::High)
                .data_types
                .is_empty()
        );
        let hinted = FieldProfile::from_column("FirstName");
        assert_eq!(
            verdict(&hinted, &s, ConfidenceLevel::High).data_types[0].level,
            ConfidenceLevel::High
        );
    }

    #[test]
    fn names_in_free_text_count_at_low_prevalence() {
        let mut body = FieldProfile::from_column("TextBody");
        body.kind = ContentKind::FreeText;
        let s = stats(40, DataType::PersonName, 16, 16);
        assert_eq!(
            types(&verdict(&body, &s, ConfidenceLevel::Medium)),
            ["person_name"]
        );
        // A couple of names in a large body of text are strays.
        let few = stats(400, DataType::PersonName, 4, 4);
        assert!(
            verdict(&body, &few, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
    }

    #[test]
    fn one_validated_value_counts_only_in_a_field_named_for_it() {
        let s = stats(20, DataType::NlBsn, 1, 1);
        let named = FieldProfile::from_column("National_Id__c");
        assert!(types(&verdict(&named, &s, ConfidenceLevel::Medium)).contains(&"nl_bsn"));
        let unnamed = FieldProfile::from_column("Code__c");
        assert!(
            verdict(&unnamed, &s, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
        let stray = stats(20, DataType::Email, 1, 1);
        assert!(
            verdict(&unnamed, &stray, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
    }

    #[test]
    fn person_account_names_count_at_their_share() {
        let s = stats(80, DataType::PersonName, 16, 80);
        let plain = FieldProfile::from_column("Name");
        assert!(
            verdict(&plain, &s, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
        let person = FieldProfile::from_column("Name").person_accounts("Account", true);
        assert_eq!(
            types(&verdict(&person, &s, ConfidenceLevel::Medium)),
            ["person_name"]
        );
        // A handful of name-like company names without person accounts is nothing.
        let rare = stats(80, DataType::PersonName, 2, 80);
        assert!(
            verdict(&person, &rare, ConfidenceLevel::Low)
                .data_types
                .is_empty()
        );
    }

    #[test]
    fn merge_is_a_sum() {
        let mut a = stats(10, DataType::Phone, 3, 4);
        let b = stats(5, DataType::Phone, 2, 2);
        a.merge(&b);
        assert_eq!((a.non_empty, a.hits[DataType::Phone.index()]), (15, 5));
        let mut c = FieldStats::default();
        c.add(Findings {
            hits: TypeSet::of(&[DataType::Email]),
            cands: TypeSet::of(&[DataType::Email]),
        });
        assert_eq!(c.non_empty, 1);
    }
}
