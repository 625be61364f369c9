//! A table's worth of classification state: one profile and one [`FieldStats`] per column.
//! Records stream through [`TableClassifier::add_record`]; nothing but counts is kept, so
//! memory is bounded by the number of columns, not rows.
//!
//! Phone numbers in national format depend on the country: the record's own country columns
//! (profile hint `country`) give the region for its phone values.

use super::aggregate::{FieldStats, verdict};
use super::detect::{Detector, region_of};
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
            records: 0,
        }
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

    /// One record, its cells in profile order (`None` or empty for missing values).
    pub fn add_record<S: AsRef<str>>(&mut self, cells: &[Option<S>]) {
        self.records += 1;
        let region = self
            .country_cols
            .iter()
            .filter_map(|&i| cells.get(i).and_then(|c| c.as_ref()))
            .find_map(|c| region_of(c.as_ref()));
        for (i, cell) in cells.iter().enumerate().take(self.profiles.len()) {
            let Some(value) = cell.as_ref().map(|c| c.as_ref().trim()) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let f = self.detector.detect(value, &self.profiles[i], region);
            self.stats[i].add(f);
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
            .map(|(p, s)| verdict(p, s, threshold))
            .collect()
    }
}
