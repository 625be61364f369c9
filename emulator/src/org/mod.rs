//! The emulated org: schema, rows (seeded + overlay), recycle bin, write rules, ground truth.
//!
//! Layering: `rest`, `soql`, `sosl`, `bulk` and `admin` read and write through [`Org`];
//! nothing above this module touches tables or the generator directly. The org lives behind
//! one `RwLock` in the server state: reads share it, writes are short and exclusive.

pub mod describe;
pub mod ids;
pub mod locale;
pub mod pii;
pub mod rules;
pub mod schema;
pub mod seeded;
pub mod store;
pub mod truth;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use ids::{make_id, parse_id};
use schema::{ObjectDef, Schema};
use seeded::{Gen, Generator};
use store::{Row, StoredRow, Table};

/// Sorted (parent row number, child row number) pairs of one reference field.
type ChildIndex = Arc<Vec<(u64, u64)>>;

/// Settings tests can change at run time through the admin API.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    /// Block inserts/updates of a Contact or Lead matching another of the same object on
    /// [`duplicate_rule_fields`](Self::duplicate_rule_fields) (standard duplicate rules set to
    /// "Block"), unless `Sforce-Duplicate-Rule-Header: allowSave=true`.
    pub duplicate_rules: bool,
    /// The matching rule's fields: all must be non-blank and equal (case-insensitive) to
    /// another live record's; the rule runs when a write changes one of them. `["Email"]` by
    /// default; `["LastName"]` or `["FirstName","LastName"]` approximate Salesforce's standard
    /// name-based matching rules.
    pub duplicate_rule_fields: Vec<String>,
    pub validation_rules: Vec<rules::ValidationRule>,
    /// Fields visible but read-only for the integration user (none by default).
    pub read_only_fields: Vec<rules::FieldRef>,
    /// Field lengths that replace the schema's (describe and `STRING_TOO_LONG` follow them), so
    /// tests can have a field shorter than a client's placeholders.
    pub field_lengths: Vec<rules::FieldLength>,
    /// Objects the integration user's profile cannot read: a SOQL query on one answers
    /// `INVALID_TYPE`. Describe Global still lists them, as a client's cached describe does
    /// after access was taken away.
    pub unreadable_objects: Vec<String>,
    /// The integration user's "Delete From Field History" permission: with it, field-history
    /// rows (`ContactHistory`, …) can be deleted, permanently (off by default).
    pub delete_field_history: bool,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            duplicate_rules: true,
            duplicate_rule_fields: vec!["Email".into()],
            validation_rules: Vec::new(),
            read_only_fields: Vec::new(),
            field_lengths: Vec::new(),
            unreadable_objects: Vec::new(),
            delete_field_history: false,
        }
    }
}

/// One emulated org.
pub struct Org {
    pub schema: Arc<Schema>,
    pub generator: Generator,
    pub tables: Vec<Table>,
    pub settings: OrgSettings,
    /// Lazily built (child object, field, parent object) → sorted (parent row number, child
    /// row number) over seeded rows; seeded rows never change, so it never goes stale.
    child_index: Mutex<HashMap<(usize, usize, usize), ChildIndex>>,
}

/// A readable row: where it lives, and its values on demand.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    pub org: &'a Org,
    pub oi: usize,
    pub number: u64,
    pub row: Row<'a>,
}

impl<'a> RowRef<'a> {
    pub fn obj(&self) -> &'a ObjectDef {
        &self.org.schema.objects[self.oi]
    }

    pub fn id(&self) -> String {
        make_id(self.obj().key_prefix, self.number)
    }

    pub fn is_deleted(&self) -> bool {
        matches!(self.row, Row::Stored(r) if r.deleted)
    }

    /// When the row was last written (0 for untouched seeded rows).
    pub fn written_ms(&self) -> i64 {
        match self.row {
            Row::Stored(r) => r.written_ms,
            Row::Seeded(_) => 0,
        }
    }

    /// The value of field `fi` (computed fields included).
    pub fn get(&self, fi: usize) -> Value {
        let obj = self.obj();
        let fd = &obj.fields[fi];
        match fd.fill {
            Gen::FullName => self.full_name(),
            // A person account's name is its person's name (Salesforce derives it from
            // FirstName/LastName), so a write to those fields renames the account too.
            Gen::AccountName if self.get_by_name("IsPersonAccount") == Value::Bool(true) => {
                self.full_name()
            }
            Gen::AddressOf(prefix) => {
                let get = |s: &str| {
                    obj.field_index_any(&format!("{prefix}{s}"))
                        .map_or(Value::Null, |i| self.get(i))
                };
                let parts = [
                    ("street", get("Street")),
                    ("city", get("City")),
                    ("state", get("State")),
                    ("postalCode", get("PostalCode")),
                    ("country", get("Country")),
                    ("latitude", get("Latitude")),
                    ("longitude", get("Longitude")),
                ];
                if parts.iter().all(|(_, v)| v.is_null()) {
                    return Value::Null;
                }
                let mut m = Map::new();
                m.insert("city".into(), parts[1].1.clone());
                m.insert("country".into(), parts[4].1.clone());
                m.insert("geocodeAccuracy".into(), Value::Null);
                m.insert("latitude".into(), parts[5].1.clone());
                m.insert("longitude".into(), parts[6].1.clone());
                m.insert("postalCode".into(), parts[3].1.clone());
                m.insert("state".into(), parts[2].1.clone());
                m.insert("street".into(), parts[0].1.clone());
                Value::Object(m)
            }
            Gen::Same(other) => obj
                .field_index_any(other)
                .map_or(Value::Null, |i| self.get(i)),
            Gen::FromMember(member_field) => self.member_value(member_field),
            _ => match self.row {
                Row::Stored(r) => {
                    if fd.name == "IsDeleted" {
                        Value::Bool(r.deleted)
                    } else {
                        r.values.get(fi).cloned().unwrap_or(Value::Null)
                    }
                }
                Row::Seeded(row) => self.org.generator.value(&self.org.schema, obj, row, fi),
            },
        }
    }

    /// A CampaignMember's person field: read-only in Salesforce, which shows the current value
    /// of its Contact's (else its Lead's) field, so an update to the member shows here too.
    fn member_value(&self, member_field: &str) -> Value {
        for link in ["ContactId", "LeadId"] {
            let Some(id) = self.get_by_name(link).as_str().map(str::to_string) else {
                continue;
            };
            return match self.org.locate(&id) {
                Some(Located::Live(m) | Located::Deleted(m)) => m.get_by_name(member_field),
                _ => Value::Null,
            };
        }
        Value::Null
    }

    /// `FirstName LastName` of the row, blanks left out.
    fn full_name(&self) -> Value {
        let obj = self.obj();
        let part = |n: &str| obj.field_index_any(n).map(|i| self.get(i));
        let parts: Vec<String> = [part("FirstName"), part("LastName")]
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            Value::Null
        } else {
            Value::String(parts.join(" "))
        }
    }

    pub fn get_by_name(&self, name: &str) -> Value {
        self.obj()
            .field_index_any(name)
            .map_or(Value::Null, |i| self.get(i))
    }

    /// A display name for messages (`Name`, else the name field, else the id).
    pub fn display_name(&self) -> String {
        self.obj()
            .name_field()
            .and_then(|i| self.get(i).as_str().map(str::to_string))
            .unwrap_or_else(|| self.id())
    }
}

/// Where an id points.
pub enum Located<'a> {
    Live(RowRef<'a>),
    Deleted(RowRef<'a>),
    /// Well formed, but no such row (never existed, other org, or purged).
    Missing,
}

impl Org {
    pub fn new(seed: u64, size: u64, person_accounts: bool) -> Self {
        let schema = Arc::new(Schema::standard(person_accounts));
        let generator = Generator::new(&schema, seed, size, person_accounts);
        let tables = schema
            .objects
            .iter()
            .map(|o| Table::new(generator.count(o.name)))
            .collect();
        Org {
            schema,
            generator,
            tables,
            settings: OrgSettings::default(),
            child_index: Mutex::new(HashMap::new()),
        }
    }

    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.schema.object_index(name)
    }

    pub fn row(&self, oi: usize, number: u64) -> Option<RowRef<'_>> {
        self.tables[oi].get(number).map(|row| RowRef {
            org: self,
            oi,
            number,
            row,
        })
    }

    pub fn next_row(&self, oi: usize, from: u64) -> Option<RowRef<'_>> {
        self.tables[oi].next_row(from).map(|(number, row)| RowRef {
            org: self,
            oi,
            number,
            row,
        })
    }

    /// Resolves an id string. `None` when it is not an id at all (→ `MALFORMED_ID`).
    pub fn locate(&self, id: &str) -> Option<Located<'_>> {
        let p = parse_id(id)?;
        let Some(oi) = self
            .schema
            .object_by_prefix(&p.prefix)
            .and_then(|o| self.object_index(o.name))
        else {
            return Some(Located::Missing);
        };
        Some(match self.row(oi, p.number) {
            Some(r) if r.is_deleted() => Located::Deleted(r),
            Some(r) => Located::Live(r),
            None => Located::Missing,
        })
    }

    /// Rows of `child_oi` whose field `fi` points at the row `parent` (live rows, plus
    /// deleted ones with `include_deleted`).
    pub fn children(
        &self,
        child_oi: usize,
        fi: usize,
        parent: &RowRef<'_>,
        include_deleted: bool,
    ) -> Vec<RowRef<'_>> {
        let parent_id = parent.id();
        let index = self.child_index(child_oi, fi, parent.oi);
        let table = &self.tables[child_oi];
        let start = index.partition_point(|(p, _)| *p < parent.number);
        let mut out: Vec<RowRef<'_>> = Vec::new();
        for (p, c) in &index[start..] {
            if *p != parent.number {
                break;
            }
            if table.overlay.contains_key(c) {
                continue; // written rows are checked below with their current values
            }
            if let Some(r) = self.row(child_oi, *c) {
                out.push(r);
            }
        }
        for (num, stored) in &table.overlay {
            if stored.purged || (stored.deleted && !include_deleted) {
                continue;
            }
            if stored.values.get(fi).and_then(Value::as_str) == Some(parent_id.as_str())
                && let Some(r) = self.row(child_oi, *num)
            {
                out.push(r);
            }
        }
        out.sort_by_key(|r| r.number);
        out
    }

    fn child_index(&self, child_oi: usize, fi: usize, parent_oi: usize) -> Arc<Vec<(u64, u64)>> {
        let key = (child_oi, fi, parent_oi);
        if let Some(ix) = self
            .child_index
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return ix;
        }
        let obj = &self.schema.objects[child_oi];
        let prefix = self.schema.objects[parent_oi].key_prefix;
        let mut v = Vec::new();
        for row in 0..self.tables[child_oi].seeded {
            if let Value::String(id) = self.generator.value(&self.schema, obj, row, fi)
                && let Some(p) = parse_id(&id).filter(|p| p.prefix == prefix)
            {
                v.push((p.number, row + 1));
            }
        }
        v.sort_unstable();
        let ix = Arc::new(v);
        if let Ok(mut m) = self.child_index.lock() {
            m.insert(key, ix.clone());
        }
        ix
    }

    /// Copies a seeded row into the overlay (first write) and returns it for mutation.
    pub fn materialize(&mut self, oi: usize, number: u64) -> Option<&mut StoredRow> {
        if !self.tables[oi].overlay.contains_key(&number) {
            let table = &self.tables[oi];
            if number == 0 || number > table.seeded {
                return None;
            }
            let obj = &self.schema.objects[oi];
            let values = (0..obj.fields.len())
                .map(|fi| {
                    if obj.fields[fi].fill.is_computed() {
                        Value::Null
                    } else {
                        self.generator.value(&self.schema, obj, number - 1, fi)
                    }
                })
                .collect();
            self.tables[oi].overlay.insert(
                number,
                StoredRow {
                    values,
                    deleted: false,
                    purged: false,
                    written_ms: 0,
                    cascade_root: None,
                },
            );
        }
        self.tables[oi].overlay.get_mut(&number)
    }

    /// A record as the REST API returns it: `attributes` then the given fields.
    pub fn record_json(&self, r: &RowRef<'_>, fields: &[usize], version: &str) -> Value {
        let obj = r.obj();
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            json!({"type": obj.name, "url": format!("/services/data/{version}/sobjects/{}/{}", obj.name, r.id())}),
        );
        for fi in fields {
            m.insert(obj.fields[*fi].name.to_string(), r.get(*fi));
        }
        Value::Object(m)
    }
}
