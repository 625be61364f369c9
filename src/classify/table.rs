//! A table's worth of classification state: one profile and one [`FieldStats`] per column.
//! Records stream through [`TableClassifier::add_record`]; nothing but counts is kept, so
//! memory is bounded by the number of columns, not rows.
//!
//! Phone numbers in national format depend on the country: the record's own country columns
//! (profile hint `country`) give the region for its phone values.
//!
//! A field history object's value columns are read with each row's tracked field as their
//! name hint ([`history`](super::history)).

use super::aggregate::{FieldStats, verdict};
use super::detect::{Detector, region_of};
use super::history::{self, HistoryColumns};
use super::profile::FieldProfile;
use super::types::DataType;
use crate::message::{ConfidenceLevel, FieldVerdict};

/// Classification state for one table (an object, or a file).
#[derive(Debug, Clone)]
pub struct TableClassifier {
    detector: Detector,
    profiles: Vec<FieldProfile>,
    stats: Vec<FieldStats>,
    country_cols: Vec<usize>,
    history: Option<HistoryColumns>,
    records: u64,
}

/// A cell as text: strings as they are, numbers and booleans printed, null/objects empty.
pub fn cell_text(v: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        serde_json::Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        serde_json::Value::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}

impl TableClassifier {
    pub fn new(detector: Detector, profiles: Vec<FieldProfile>) -> Self {
        let country_cols = profiles
            .iter()
            .enumerate()
            .filter(|(_, p)| p.hints.contains(DataType::Country))
            .map(|(i, _)| i)
            .collect();
        let stats = vec![FieldStats::default(); profiles.len()];
        Self {
            detector,
            profiles,
            stats,
            country_cols,
            history: None,
            records: 0,
        }
    }

    /// Reads the table as a field history of `parent`: each row's `Field` is the name hint
    /// for its `OldValue`/`NewValue`. Without those columns, nothing changes.
    pub fn history_of(mut self, parent: &str) -> Self {
        self.history = HistoryColumns::find(parent, &self.profiles);
        self
    }

    /// Adds a column met late (JSON Lines keys): earlier records simply lacked it, and only
    /// non-empty values count, so nothing needs replaying. Returns its index.
    pub fn add_column(&mut self, profile: FieldProfile) -> usize {
        if profile.hints.contains(DataType::Country) {
            self.country_cols.push(self.profiles.len());
        }
        self.profiles.push(profile);
        self.stats.push(FieldStats::default());
        self.profiles.len() - 1
    }

    pub fn profiles(&self) -> &[FieldProfile] {
        &self.profiles
    }

    pub fn stats(&self) -> &[FieldStats] {
        &self.stats
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Every set of counts to store, by name: the columns', then any history buckets'
    /// (named by [`history::bucket_name`]).
    pub fn counted(&self) -> Vec<(&str, &FieldStats)> {
        let mut out: Vec<(&str, &FieldStats)> = self
            .profiles
            .iter()
            .zip(&self.stats)
            .map(|(p, s)| (p.name.as_str(), s))
            .collect();
        if let Some(h) = &self.history {
            out.extend(h.buckets.iter().map(|(_, p, s)| (p.name.as_str(), s)));
        }
        out
    }

    /// One record, its cells in profile order (`None` or empty for missing values).
    pub fn add_record<S: AsRef<str>>(&mut self, cells: &[Option<S>]) {
        self.records += 1;
        let region = self
            .country_cols
            .iter()
            .filter_map(|&i| cells.get(i).and_then(|c| c.as_ref()))
            .find_map(|c| region_of(c.as_ref()));
        let buckets = match &mut self.history {
            Some(h) => match cells.get(h.key).and_then(|c| c.as_ref()) {
                Some(tracked) => h.row_buckets(tracked.as_ref().trim(), &self.profiles),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        for (i, cell) in cells.iter().enumerate().take(self.profiles.len()) {
            let Some(value) = cell.as_ref().map(|c| c.as_ref().trim()) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let bucket = buckets.iter().find(|(col, _)| *col == i).map(|&(_, b)| b);
            match (bucket, &mut self.history) {
                (Some(b), Some(h)) => {
                    let (_, p, s) = &mut h.buckets[b];
                    let f = self.detector.detect(value, p, region);
                    let (hinted, rest) = history::split(f, p);
                    s.add(hinted);
                    self.stats[i].add(rest);
                }
                _ => {
                    let f = self.detector.detect(value, &self.profiles[i], region);
                    self.stats[i].add(f);
                }
            }
        }
    }

    /// One JSON record (a Salesforce row or a JSON Lines object), looked up by profile name.
    pub fn add_json(&mut self, record: &serde_json::Map<String, serde_json::Value>) {
        let cells: Vec<Option<std::borrow::Cow<'_, str>>> = self
            .profiles
            .iter()
            .map(|p| record.get(&p.name).and_then(cell_text))
            .collect();
        self.add_record(&cells);
    }

    /// Verdicts for every column, in column order.
    pub fn verdicts(&self, threshold: ConfidenceLevel) -> Vec<FieldVerdict> {
        self.profiles
            .iter()
            .zip(&self.stats)
            .enumerate()
            .map(|(i, (p, s))| match &self.history {
                Some(h) => history::verdict(p, s, &h.of_column(i), threshold),
                None => verdict(p, s, threshold),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::aggregate::FieldStats;
    use crate::classify::lexicon;
    use crate::classify::validators;

    const N: usize = 1000;

    fn det() -> Detector {
        Detector::new(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap())
    }

    /// A small deterministic generator (no test depends on a random seed).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 16
        }
        fn hex(&mut self, len: usize) -> String {
            (0..len)
                .map(|_| char::from(b"0123456789abcdef"[(self.next() % 16) as usize]))
                .collect()
        }
        fn digits(&mut self, len: usize) -> String {
            (0..len)
                .map(|_| char::from(b'0' + (self.next() % 10) as u8))
                .collect()
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
        fn upper(&mut self) -> char {
            char::from(b'A' + (self.next() % 26) as u8)
        }
    }

    /// Millisecond timestamps (13 digits, 2020–2026) that pass Luhn, as card numbers must.
    fn luhn_timestamps() -> Vec<String> {
        let mut out = Vec::new();
        let mut t: u64 = 1_580_000_000_000;
        while out.len() < N {
            t += 197_003_117;
            let s = t.to_string();
            let d = validators::digits(&s).unwrap();
            if validators::luhn(&d) {
                out.push(s);
            }
        }
        out
    }

    /// Whole GUIDs and the fragments systems store of them (the first group, the last group;
    /// some last groups are all digits, shaped like a phone number).
    fn guid_fragments() -> Vec<String> {
        let mut g = Lcg(7);
        (0..N)
            .map(|i| {
                let guid = format!(
                    "{}-{}-4{}-a{}-{}",
                    g.hex(8),
                    g.hex(4),
                    g.hex(3),
                    g.hex(3),
                    g.hex(12)
                );
                match i % 4 {
                    0 => guid,
                    1 => guid[..8].to_string(),
                    2 => guid[24..].to_string(),
                    _ => format!("{:012}", g.next() % 1_000_000_000_000),
                }
            })
            .collect()
    }

    fn order_numbers() -> Vec<String> {
        (0..N)
            .map(|i| match i % 3 {
                0 => format!("ORD-{:06}", 100 + i * 37),
                1 => format!("{:08}", 10_000 + i * 53),
                _ => format!("ORD-2024-{:06}", 1 + i * 11),
            })
            .collect()
    }

    /// Salesforce CaseNumber: an auto-number, zero padded to eight digits.
    fn case_numbers() -> Vec<String> {
        (0..N).map(|i| format!("{:08}", 1_000 + i)).collect()
    }

    /// Verdicts of one column holding `values`, at the lowest threshold.
    fn column(name: &str, values: &[String]) -> FieldVerdict {
        let mut t = TableClassifier::new(det(), vec![FieldProfile::from_column(name)]);
        for v in values {
            t.add_record(&[Some(v.as_str())]);
        }
        t.verdicts(ConfidenceLevel::Low).remove(0)
    }

    fn types(v: &FieldVerdict) -> Vec<&str> {
        v.data_types.iter().map(|d| d.data_type.as_str()).collect()
    }

    /// Values shaped like one checksum-validated type, with random digits (and letters) where
    /// the real ones carry check digits: the validator passes a few by chance only.
    struct Shape {
        ty: DataType,
        valid: fn(&str) -> bool,
        draw: fn(&mut Lcg) -> String,
    }

    fn shapes() -> Vec<Shape> {
        use DataType::*;
        vec![
            Shape {
                ty: CreditCard,
                valid: validators::credit_card,
                draw: |g| {
                    // Visa, Mastercard, Amex, Discover prefixes with their lengths.
                    let p = g.pick(&["4", "51", "55", "37", "6011"]);
                    let len = if p == "37" { 15 } else { 16 };
                    format!("{p}{}", g.digits(len - p.len()))
                },
            },
            Shape {
                ty: CreditCard,
                valid: validators::credit_card,
                draw: |g| {
                    let d = format!("4{}", g.digits(15));
                    format!("{} {} {} {}", &d[..4], &d[4..8], &d[8..12], &d[12..])
                },
            },
            Shape {
                ty: Iban,
                valid: validators::iban,
                draw: |g| match g.next() % 4 {
                    0 => format!("DE{}", g.digits(20)),
                    1 => format!("NL{}ABNA{}", g.digits(2), g.digits(10)),
                    2 => format!("FR{}", g.digits(25)),
                    _ => format!("ES{}", g.digits(22)),
                },
            },
            Shape {
                ty: CaSin,
                valid: validators::ca_sin,
                draw: |g| {
                    let d = format!("{}{}", g.pick(&["1", "2", "4", "5", "7"]), g.digits(8));
                    format!("{} {} {}", &d[..3], &d[3..6], &d[6..])
                },
            },
            Shape {
                ty: BrCpf,
                valid: validators::br_cpf,
                draw: |g| {
                    let d = g.digits(11);
                    format!("{}.{}.{}-{}", &d[..3], &d[3..6], &d[6..9], &d[9..])
                },
            },
            Shape {
                ty: NlBsn,
                valid: validators::nl_bsn,
                draw: |g| {
                    let d = g.digits(9);
                    format!("{}.{}.{}", &d[..4], &d[4..6], &d[6..])
                },
            },
            Shape {
                ty: EsNif,
                valid: validators::es_nif,
                draw: |g| match g.next() % 2 {
                    0 => format!("{}{}", g.digits(8), g.upper()),
                    _ => format!("{}{}{}", g.pick(&["X", "Y", "Z"]), g.digits(7), g.upper()),
                },
            },
            Shape {
                ty: FrInsee,
                valid: validators::fr_insee,
                draw: |g| {
                    // Sex, year, a real month, department, commune, order, then a random key.
                    let month = 1 + g.next() % 12;
                    let dept = 1 + g.next() % 95;
                    format!(
                        "{}{}{month:02}{dept:02}{}{:02}",
                        1 + g.next() % 2,
                        g.digits(2),
                        g.digits(6),
                        1 + g.next() % 97
                    )
                },
            },
            Shape {
                ty: AbaRouting,
                valid: validators::aba_routing,
                draw: |g| format!("{}{}", g.pick(&["01", "02", "11", "26", "07"]), g.digits(7)),
            },
            Shape {
                ty: InAadhaar,
                valid: validators::in_aadhaar,
                draw: |g| {
                    let d = format!("{}{}", 2 + g.next() % 8, g.digits(11));
                    format!("{} {} {}", &d[..4], &d[4..8], &d[8..])
                },
            },
        ]
    }

    /// `n` values of the shape; `valid_share` of them (in per cent) pass its validator.
    fn column_of(shape: &Shape, seed: u64, n: usize, valid_share: u64) -> Vec<String> {
        let mut g = Lcg(seed);
        (0..n)
            .map(|i| {
                let want_valid = (i as u64 % 100) < valid_share;
                loop {
                    let v = (shape.draw)(&mut g);
                    if !want_valid || (shape.valid)(&v) {
                        break v;
                    }
                }
            })
            .collect()
    }

    /// A column's verdict (lowest threshold) and its counts.
    fn column_stats(name: &str, values: &[String]) -> (FieldVerdict, FieldStats) {
        let mut t = TableClassifier::new(det(), vec![FieldProfile::from_column(name)]);
        for v in values {
            t.add_record(&[Some(v.as_str())]);
        }
        (
            t.verdicts(ConfidenceLevel::Low).remove(0),
            t.stats()[0].clone(),
        )
    }

    #[test]
    fn random_numbers_shaped_like_checksum_ids_do_not_label_a_column() {
        for (i, shape) in shapes().iter().enumerate() {
            // A thousand values, and a smaller column where a mod-97 type's couple of chance
            // passes are more than one per cent of the values.
            for n in [N, 150] {
                let values = column_of(shape, 100 + i as u64, n, 0);
                let in_text: Vec<String> =
                    values.iter().map(|v| format!("Ref {v} logged")).collect();
                for (name, vals) in [("External_Code__c", &values), ("Description", &in_text)] {
                    let (v, s) = column_stats(name, vals);
                    let (h, c) = (s.hits[shape.ty.index()], s.cands[shape.ty.index()]);
                    // The hard case: some values pass the check by chance. (A few dotted BSN
                    // shapes read as dates and are no candidates.)
                    assert!(
                        n != N || (h >= 2 && c >= N as u64 * 99 / 100),
                        "{name} {}: {h}/{c}",
                        shape.ty
                    );
                    assert!(
                        !types(&v).contains(&shape.ty.name()),
                        "{name} holding {n} random {} shapes ({} …, {h} of {c} pass): {v:?}",
                        shape.ty,
                        vals[0]
                    );
                }
            }
        }
    }

    #[test]
    fn checksum_id_columns_with_a_few_typos_keep_their_label() {
        for (i, shape) in shapes().iter().enumerate() {
            let values = column_of(shape, 200 + i as u64, N, 97);
            let (v, _) = column_stats("External_Code__c", &values);
            let found = v.data_types.iter().find(|d| d.data_type == shape.ty.name());
            assert!(
                found.is_some_and(|d| d.level >= ConfidenceLevel::Medium),
                "{} with 3% typos ({} …): {v:?}",
                shape.ty,
                values[0]
            );
        }
    }

    #[test]
    fn one_validated_value_labels_a_small_text_field_or_one_named_for_it() {
        use DataType::*;
        for (i, shape) in shapes().iter().enumerate() {
            let valid = column_of(shape, 300 + i as u64, 1, 100).remove(0);
            // A handful of notes, one of which carries the value.
            let mut notes: Vec<String> = (0..9).map(|n| format!("Called back, note {n}")).collect();
            notes.push(format!("Customer gave {valid} over the phone"));
            let (v, _) = column_stats("Description", &notes);
            // The nine-digit ids are held to their stricter rule (most values must be one).
            let strict = matches!(shape.ty, CaSin | NlBsn | AbaRouting);
            assert_eq!(
                types(&v).contains(&shape.ty.name()),
                !strict,
                "{}: {v:?}",
                shape.ty
            );
        }
        // A small field named for the kind: one valid card among mistyped ones.
        let card = &shapes()[0];
        let mut values = column_of(card, 400, 11, 0);
        values.push(column_of(card, 401, 1, 100).remove(0));
        let (v, s) = column_stats("Card_Number__c", &values);
        assert_eq!(s.hits[CreditCard.index()], 1, "{values:?}");
        assert!(types(&v).contains(&"credit_card"), "{v:?}");
        // Unnamed, the same values are a stray pass among non-cards.
        let (v, _) = column_stats("External_Code__c", &values);
        assert!(!types(&v).contains(&"credit_card"), "{v:?}");
    }

    #[test]
    fn columns_of_hard_negatives_are_neither_cards_nor_phones() {
        let kinds: [(&str, Vec<String>); 4] = [
            ("Created_Ms__c", luhn_timestamps()),
            ("External_Ref__c", guid_fragments()),
            ("Order_Number__c", order_numbers()),
            ("CaseNumber", case_numbers()),
        ];
        for (natural, values) in &kinds {
            assert_eq!(values.len(), N);
            // Under its own name, under a neutral one, and inside free text.
            let in_text: Vec<String> = values.iter().map(|v| format!("Ref {v} logged")).collect();
            for (name, vals) in [
                (*natural, values),
                ("Value__c", values),
                ("Description", &in_text),
            ] {
                let v = column(name, vals);
                assert_eq!(v.non_empty, N as u64);
                let found = types(&v);
                assert!(
                    !found.contains(&"credit_card") && !found.contains(&"phone"),
                    "{name} holding {natural} values ({} …): {found:?}",
                    vals[0]
                );
                assert!(found.is_empty(), "{name} ({natural}): {v:?}");
            }
        }
    }

    #[test]
    fn an_all_caps_names_column_is_person_names_and_an_email_column_is_not_urls() {
        let mut first: Vec<&String> = lexicon::FIRST.iter().collect();
        let mut last: Vec<&String> = lexicon::LAST.iter().collect();
        first.sort();
        last.sort();
        let names: Vec<String> = (0..N)
            .map(|i| {
                format!("{} {}", first[i % first.len()], last[(i * 7) % last.len()]).to_uppercase()
            })
            .collect();
        let v = column("Attendee__c", &names);
        assert_eq!(types(&v), ["person_name"], "{} …", names[0]);
        assert!(v.data_types[0].level >= ConfidenceLevel::Medium, "{v:?}");

        let emails: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let host = ["example.com", "mail.example.org", "corp.example.co.uk"][i % 3];
                format!("{}@{host}", n.to_lowercase().replace(' ', "."))
            })
            .collect();
        for name in ["Contact_Info__c", "Value__c"] {
            let v = column(name, &emails);
            assert_eq!(types(&v), ["email"], "{name}: {} …", emails[0]);
        }
    }
}
