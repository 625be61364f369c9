//! Data classification: which kinds of personal data each field holds, and how sure we are.
//!
//! Layers inside, each one concept:
//! - [`types`]: the data type vocabulary (shared with the emulator's ground truth), taxonomy
//!   categories, validator strength.
//! - [`validators`]: exact checks (Luhn + issuer ranges, IBAN mod 97, SSN rules, national id
//!   check digits, IP parse, …).
//! - [`lexicon`]: compact name and place lexicons shipped as source.
//! - [`profile`]: what a field's metadata says (type, API name tokens, Salesforce
//!   SecurityClassification/ComplianceGroup).
//! - [`detect`]: one multi-pattern pass finds candidates in a value; validators confirm them.
//! - [`aggregate`]: per-field counts and the field verdict (prevalence, confidence, level).
//! - [`history`]: field history objects, whose rows' `Field` is the name hint for their
//!   `OldValue`/`NewValue`.
//! - [`table`]: streaming classification of a table's records into per-field counts.
//! - [`offline`]: `sfprivacy classify FILE` (CSV or JSON Lines).
//! - [`score`]: field-level precision/recall/F1 against ground truth.
//!
//! This module is plain code over typed inputs: no broker, no HTTP. The scan flow (plan and
//! part runner over the Salesforce client and Redis) sits in [`scan`].

pub mod aggregate;
pub mod detect;
pub mod history;
pub mod lexicon;
pub mod offline;
pub mod profile;
pub mod scan;
pub mod score;
pub mod table;
pub mod types;
pub mod validators;

pub use aggregate::{FieldStats, verdict};
pub use detect::{Detector, Findings};
pub use profile::FieldProfile;
pub use table::TableClassifier;
pub use types::{DataType, TypeSet};
