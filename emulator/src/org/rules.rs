//! Writes and the rules that make them fail as Salesforce does: object permissions,
//! unknown / read-only / compound fields, required fields, lengths, email format, unique
//! fields, duplicate rules, validation rules, converted leads, restricted and cascade
//! delete, the recycle bin. Each failure is a [`RecordError`] with Salesforce's
//! `statusCode`, message form and `fields`.

use serde_json::{Map, Value};

use super::ids::parse_id;
use super::schema::{FType, ObjectDef, OnDelete};
use super::store::StoredRow;
use super::{Located, Org, RowRef};
use crate::error::RecordError;

/// A configurable validation rule: a field must (not) match a pattern.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationRule {
    pub object: String,
    pub field: String,
    /// Regex the value must match when present; `None` means "must not be blank".
    #[serde(default)]
    pub pattern: Option<String>,
    pub message: String,
}

/// A field the integration user can see but not edit (field-level security "Read-Only").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRef {
    pub object: String,
    pub field: String,
}

/// A field length set by the admin API in place of the schema's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldLength {
    pub object: String,
    pub field: String,
    pub length: u32,
}

/// Per-call options from request headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// `Sforce-Duplicate-Rule-Header: allowSave=true`.
    pub allow_save: bool,
    pub now_ms: i64,
}

const ACCESS_MSG: &str = "insufficient access rights on object id";

fn err(code: &str, msg: impl Into<String>, fields: Vec<String>) -> RecordError {
    RecordError::new(code, msg, fields)
}

fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn valid_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn valid_datetime(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
}

/// Converts one JSON value to what the field stores, or the JSON parser's complaint.
fn coerce(obj: &ObjectDef, fi: usize, v: &Value) -> Result<Value, RecordError> {
    let fd = &obj.fields[fi];
    let bad = |what: &str| {
        err(
            "JSON_PARSER_ERROR",
            format!(
                "Cannot deserialize instance of {what} from {} value {v} or request may be missing a required field",
                match v {
                    Value::String(_) => "VALUE_STRING",
                    Value::Number(_) => "VALUE_NUMBER_INT",
                    Value::Bool(_) => "VALUE_TRUE",
                    Value::Array(_) => "START_ARRAY",
                    Value::Object(_) => "START_OBJECT",
                    Value::Null => "VALUE_NULL",
                }
            ),
            vec![fd.name.to_string()],
        )
    };
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match fd.kind {
        FType::Boolean => match v {
            Value::Bool(_) => v.clone(),
            Value::String(s)
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                Value::Bool(s.eq_ignore_ascii_case("true"))
            }
            _ => return Err(bad("boolean")),
        },
        FType::Int | FType::Double | FType::Currency => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| bad("double"))?,
            _ => return Err(bad("double")),
        },
        FType::Date => match v {
            Value::String(s) if valid_date(s) => v.clone(),
            _ => return Err(bad("date")),
        },
        FType::DateTime => match v {
            Value::String(s) if valid_datetime(s) => v.clone(),
            _ => return Err(bad("datetime")),
        },
        _ => match v {
            Value::String(_) => v.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            _ => return Err(bad("string")),
        },
    })
}

impl Org {
    /// Whether field-level security makes field `fi` of `oi` read-only for the integration
    /// user (`readOnlyFields`; names are stored as the schema spells them).
    /// Whether the integration user may delete rows of `oi`: the object's own flag, or field
    /// history with the Delete From Field History permission. Describe and delete agree on it.
    pub fn deletable(&self, oi: usize) -> bool {
        let obj = &self.schema.objects[oi];
        obj.deletable || (self.settings.delete_field_history && obj.name.ends_with("History"))
    }

    pub fn fls_read_only(&self, oi: usize, fi: usize) -> bool {
        let obj = &self.schema.objects[oi];
        self.settings
            .read_only_fields
            .iter()
            .any(|r| r.object == obj.name && r.field == obj.fields[fi].name)
    }

    /// The length of field `fi` of `oi`: the `fieldLengths` setting's, else the schema's.
    pub fn field_length(&self, oi: usize, fi: usize) -> u32 {
        let obj = &self.schema.objects[oi];
        let fd = &obj.fields[fi];
        self.settings
            .field_lengths
            .iter()
            .find(|l| l.object == obj.name && l.field == fd.name)
            .map_or(fd.length, |l| l.length)
    }

    /// Checks a write's fields and converts them to (field index, value) pairs.
    fn prepare(
        &self,
        oi: usize,
        fields: &Map<String, Value>,
        creating: bool,
    ) -> Result<Vec<(usize, Value)>, RecordError> {
        let obj = &self.schema.objects[oi];
        let mut out = Vec::new();
        let mut not_writable = Vec::new();
        for (k, v) in fields {
            if k == "attributes" || (!creating && k.eq_ignore_ascii_case("Id")) {
                continue;
            }
            if creating && k.eq_ignore_ascii_case("Id") {
                return Err(err(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "cannot specify Id in an insert call",
                    vec!["Id".into()],
                ));
            }
            let Some(fi) = obj.field_index(k) else {
                return Err(err(
                    "INVALID_FIELD",
                    format!("No such column '{k}' on sobject of type {}", obj.name),
                    vec![],
                ));
            };
            let fd = &obj.fields[fi];
            let writable = if creating {
                fd.createable
            } else {
                fd.updateable
            } && !self.fls_read_only(oi, fi);
            if !writable {
                not_writable.push(fd.name.to_string());
                continue;
            }
            out.push((fi, coerce(obj, fi, v)?));
        }
        if !not_writable.is_empty() {
            return Err(err(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!(
                    "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    not_writable.join(", ")
                ),
                not_writable,
            ));
        }
        Ok(out)
    }

    /// Field-level checks on the values a row will have after the write.
    fn check_values(
        &self,
        oi: usize,
        values: &[Value],
        changed: &[(usize, Value)],
        creating: bool,
        self_number: Option<u64>,
        opts: WriteOptions,
    ) -> Result<(), RecordError> {
        let obj = &self.schema.objects[oi];
        // Required fields.
        let missing: Vec<String> = obj
            .fields
            .iter()
            .enumerate()
            .filter(|(fi, fd)| {
                !fd.nillable
                    && !fd.defaulted_on_create
                    && fd.kind != FType::Boolean
                    && fd.createable
                    && !fd.hidden
                    && (creating || changed.iter().any(|(c, _)| c == fi))
                    && values[*fi].as_str().is_none_or(str::is_empty)
                    && !values[*fi].is_number()
            })
            .map(|(_, fd)| fd.name.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(err(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
                missing,
            ));
        }
        for (fi, v) in changed {
            let fd = &obj.fields[*fi];
            let Some(s) = v.as_str() else { continue };
            let length = self.field_length(oi, *fi);
            if length > 0 && s.chars().count() > length as usize && fd.kind.is_text() {
                return Err(err(
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {s} (max length={length})",
                        fd.label
                    ),
                    vec![fd.name.to_string()],
                ));
            }
            if fd.kind == FType::Email && !s.is_empty() && !is_valid_email(s) {
                return Err(err(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", fd.label),
                    vec![fd.name.to_string()],
                ));
            }
            if fd.kind == FType::Reference && !s.is_empty() {
                let Some(p) = parse_id(s) else {
                    return Err(err(
                        "MALFORMED_ID",
                        format!("{}: id value of incorrect type: {s}", fd.label),
                        vec![fd.name.to_string()],
                    ));
                };
                let target_ok = self
                    .schema
                    .object_by_prefix(&p.prefix)
                    .is_some_and(|t| fd.reference_to.contains(&t.name));
                let exists = matches!(self.locate(s), Some(Located::Live(_)));
                if !target_ok || !exists {
                    return Err(err(
                        "INVALID_CROSS_REFERENCE_KEY",
                        format!("{}: id value of incorrect type: {s}", fd.label),
                        vec![fd.name.to_string()],
                    ));
                }
            }
        }
        // Validation rules.
        for rule in &self.settings.validation_rules {
            if !rule.object.eq_ignore_ascii_case(obj.name) {
                continue;
            }
            let Some(fi) = obj.field_index_any(&rule.field) else {
                continue;
            };
            let value = values[fi].as_str().unwrap_or("");
            let failed = match &rule.pattern {
                None => value.is_empty(),
                Some(p) => {
                    !value.is_empty()
                        && regex::Regex::new(p)
                            .map(|re| !re.is_match(value))
                            .unwrap_or(false)
                }
            };
            if failed {
                return Err(err(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    rule.message.clone(),
                    vec![obj.fields[fi].name.to_string()],
                ));
            }
        }
        // Unique fields.
        for (fi, v) in changed {
            let fd = &obj.fields[*fi];
            let Some(s) = v.as_str() else { continue };
            if !fd.unique || s.is_empty() {
                continue;
            }
            if let Some(other) = self.find_equal(oi, *fi, s, self_number) {
                return Err(err(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {}",
                        fd.name,
                        other.id()
                    ),
                    vec![],
                ));
            }
        }
        // Duplicate rules (standard Contact / Lead rules, matching on the configured fields).
        if self.settings.duplicate_rules
            && !opts.allow_save
            && matches!(obj.name, "Contact" | "Lead")
            && let Some(keys) = self.duplicate_keys(oi, values, changed)
            && self.find_matching(oi, &keys, self_number).is_some()
        {
            return Err(err(
                "DUPLICATES_DETECTED",
                "Use one of these records?",
                vec![],
            ));
        }
        Ok(())
    }

    /// The (field index, value) pairs the duplicate rule matches a write on: `None` when the
    /// object lacks a rule field, one is blank, or the write changes none of them.
    fn duplicate_keys<'v>(
        &self,
        oi: usize,
        values: &'v [Value],
        changed: &[(usize, Value)],
    ) -> Option<Vec<(usize, &'v str)>> {
        let obj = &self.schema.objects[oi];
        let fields = &self.settings.duplicate_rule_fields;
        if fields.is_empty() {
            return None;
        }
        let mut keys = Vec::new();
        for name in fields {
            let fi = obj.field_index_any(name)?;
            let v = values[fi].as_str().filter(|s| !s.is_empty())?;
            keys.push((fi, v));
        }
        keys.iter()
            .any(|(fi, _)| changed.iter().any(|(c, _)| c == fi))
            .then_some(keys)
    }

    /// A live row of `oi` whose field equals `value` case-insensitively (not `except`).
    fn find_equal(
        &self,
        oi: usize,
        fi: usize,
        value: &str,
        except: Option<u64>,
    ) -> Option<RowRef<'_>> {
        self.find_matching(oi, &[(fi, value)], except)
    }

    /// A live row of `oi` (not `except`) whose fields equal every `(field, value)`
    /// case-insensitively.
    fn find_matching(
        &self,
        oi: usize,
        keys: &[(usize, &str)],
        except: Option<u64>,
    ) -> Option<RowRef<'_>> {
        let mut n = 1;
        while let Some(r) = self.next_row(oi, n) {
            n = r.number + 1;
            if Some(r.number) == except || r.is_deleted() {
                continue;
            }
            if keys.iter().all(|(fi, value)| {
                r.get(*fi)
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            }) {
                return Some(r);
            }
        }
        None
    }

    /// Inserts a record; returns its id.
    pub fn create(
        &mut self,
        object: &str,
        fields: &Map<String, Value>,
        opts: WriteOptions,
    ) -> Result<String, RecordError> {
        let Some(oi) = self.object_index(object) else {
            return Err(err(
                "NOT_FOUND",
                "The requested resource does not exist",
                vec![],
            ));
        };
        let obj = &self.schema.objects[oi];
        if !obj.createable {
            return Err(err("INSUFFICIENT_ACCESS_OR_READONLY", ACCESS_MSG, vec![]));
        }
        let changed = self.prepare(oi, fields, true)?;
        let mut values = vec![Value::Null; obj.fields.len()];
        for (fi, v) in &changed {
            values[*fi] = v.clone();
        }
        self.check_values(oi, &values, &changed, true, None, opts)?;
        let number = self.tables[oi].allocate();
        let id = super::ids::make_id(obj.key_prefix, number);
        self.fill_defaults(oi, &mut values, &id, opts.now_ms);
        self.tables[oi].overlay.insert(
            number,
            StoredRow {
                values,
                deleted: false,
                purged: false,
                written_ms: opts.now_ms,
                cascade_root: None,
            },
        );
        Ok(id)
    }

    fn fill_defaults(&self, oi: usize, values: &mut [Value], id: &str, now_ms: i64) {
        let obj = &self.schema.objects[oi];
        let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let stamp = Value::String(crate::clock::sf_datetime(now));
        let me = Value::String(super::ids::make_id("005", 1));
        for (fi, fd) in obj.fields.iter().enumerate() {
            match fd.name {
                "Id" => values[fi] = Value::String(id.to_string()),
                "IsDeleted" => values[fi] = Value::Bool(false),
                "CreatedDate" | "LastModifiedDate" | "SystemModstamp" => values[fi] = stamp.clone(),
                "CreatedById" | "LastModifiedById" => values[fi] = me.clone(),
                "OwnerId" if values[fi].is_null() => values[fi] = me.clone(),
                "IsConverted" | "IsPersonAccount" if values[fi].is_null() => {
                    values[fi] = Value::Bool(false)
                }
                _ => {
                    if values[fi].is_null() {
                        if fd.kind == FType::Boolean {
                            values[fi] = Value::Bool(false);
                        } else if fd.defaulted_on_create && !fd.picklist.is_empty() {
                            values[fi] = Value::String(fd.picklist[0].to_string());
                        } else if let super::seeded::Gen::AutoNumber(prefix) = fd.fill {
                            let n = super::ids::parse_id(id).map_or(0, |p| p.number);
                            values[fi] = Value::String(format!("{prefix}{n:08}"));
                        }
                    }
                }
            }
        }
    }

    /// Updates a record by id; `object` (from the URL or `attributes.type`) must match.
    pub fn update(
        &mut self,
        object: Option<&str>,
        id: &str,
        fields: &Map<String, Value>,
        opts: WriteOptions,
    ) -> Result<(), RecordError> {
        let (oi, number) = self.resolve_for_write(object, id)?;
        let obj = &self.schema.objects[oi];
        if !obj.updateable {
            return Err(err("INSUFFICIENT_ACCESS_OR_READONLY", ACCESS_MSG, vec![]));
        }
        if obj.name == "Lead"
            && let Some(r) = self.row(oi, number)
            && r.get_by_name("IsConverted") == Value::Bool(true)
        {
            return Err(err(
                "CANNOT_UPDATE_CONVERTED_LEAD",
                "cannot reference converted lead",
                vec![],
            ));
        }
        let changed = self.prepare(oi, fields, false)?;
        let current = self
            .row(oi, number)
            .map(|r| {
                (0..obj.fields.len())
                    .map(|fi| r.get(fi))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let mut values = current;
        for (fi, v) in &changed {
            values[*fi] = v.clone();
        }
        self.check_values(oi, &values, &changed, false, Some(number), opts)?;
        let obj_fields: Vec<&'static str> = obj.fields.iter().map(|f| f.name).collect();
        let stamp = Value::String(crate::clock::sf_datetime(
            chrono::DateTime::from_timestamp_millis(opts.now_ms).unwrap_or_default(),
        ));
        let twin = self.person_twin(oi, number);
        let mirrored: Vec<(usize, Value)> = match twin {
            Some((toi, _)) => changed
                .iter()
                .filter_map(|(fi, v)| {
                    let name = obj_fields[*fi];
                    let other = super::schema::PERSON_CONTACT_FIELDS.iter().find_map(
                        |(cf, af)| match self.schema.objects[oi].name {
                            "Account" if *af == name => Some(*cf),
                            "Contact" if *cf == name => Some(*af),
                            _ => None,
                        },
                    )?;
                    Some((self.schema.objects[toi].field_index_any(other)?, v.clone()))
                })
                .collect(),
            None => Vec::new(),
        };
        if let Some(row) = self.materialize(oi, number) {
            for (fi, v) in changed {
                row.values[fi] = v;
            }
            for (fi, name) in obj_fields.iter().enumerate() {
                if matches!(*name, "LastModifiedDate" | "SystemModstamp") {
                    row.values[fi] = stamp.clone();
                }
            }
            row.written_ms = opts.now_ms;
        }
        // A person account is one record stored as an Account and its person Contact: the
        // shared fields change on both, and both get the same modification stamp.
        if let Some((toi, tnum)) = twin {
            let twin_fields: Vec<&'static str> = self.schema.objects[toi]
                .fields
                .iter()
                .map(|f| f.name)
                .collect();
            if let Some(row) = self.materialize(toi, tnum) {
                for (fi, v) in mirrored {
                    row.values[fi] = v;
                }
                for (fi, name) in twin_fields.iter().enumerate() {
                    if matches!(*name, "LastModifiedDate" | "SystemModstamp") {
                        row.values[fi] = stamp.clone();
                    }
                }
                row.written_ms = opts.now_ms;
            }
        }
        Ok(())
    }

    /// The other half of a person account: an Account's person Contact, or a person Contact's
    /// Account (live rows only).
    ///
    /// A direct write to a person Contact is mirrored onto its Account rather than refused:
    /// Salesforce's docs say a person account is both records and that updating it changes
    /// both (Change Data Capture guide, "Updating a Person Account"); the only refusal we
    /// could confirm is for the person Contact's RecordTypeId (Help article 005305352,
    /// INSUFFICIENT_ACCESS_OR_READONLY), a field this schema does not have.
    fn person_twin(&self, oi: usize, number: u64) -> Option<(usize, u64)> {
        let r = self.row(oi, number)?;
        if r.get_by_name("IsPersonAccount") != Value::Bool(true) {
            return None;
        }
        let link = match r.obj().name {
            "Account" => "PersonContactId",
            "Contact" => "AccountId",
            _ => return None,
        };
        match self.locate(r.get_by_name(link).as_str()?)? {
            Located::Live(t) => Some((t.oi, t.number)),
            _ => None,
        }
    }

    /// Finds a live row for a write, with Salesforce's errors for everything else.
    fn resolve_for_write(
        &self,
        object: Option<&str>,
        id: &str,
    ) -> Result<(usize, u64), RecordError> {
        let malformed = || {
            err(
                "MALFORMED_ID",
                format!(
                    "{} ID: id value of incorrect type: {id}",
                    object.unwrap_or("Record")
                ),
                vec!["Id".into()],
            )
        };
        let loc = self.locate(id).ok_or_else(malformed)?;
        let (r, deleted) = match loc {
            Located::Live(r) => (r, false),
            Located::Deleted(r) => (r, true),
            Located::Missing => {
                return Err(err(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    vec![],
                ));
            }
        };
        if let Some(o) = object
            && !r.obj().name.eq_ignore_ascii_case(o)
        {
            return Err(malformed());
        }
        if deleted {
            return Err(err("ENTITY_IS_DELETED", "entity is deleted", vec![]));
        }
        Ok((r.oi, r.number))
    }

    /// Soft-deletes a record into the recycle bin (cascading to children), or purges it
    /// with `hard`.
    pub fn delete(
        &mut self,
        object: Option<&str>,
        id: &str,
        hard: bool,
        opts: WriteOptions,
    ) -> Result<(), RecordError> {
        let (oi, number) = self.resolve_for_write(object, id)?;
        if !self.deletable(oi) {
            return Err(err("INSUFFICIENT_ACCESS_OR_READONLY", ACCESS_MSG, vec![]));
        }
        // Deletable only through the field-history permission: such rows skip the recycle bin.
        let history = !self.schema.objects[oi].deletable;
        let hard = hard || history;
        // Collect the cascade (depth-first), checking restrictions on every node.
        let mut plan: Vec<(usize, u64)> = Vec::new();
        let mut clear: Vec<(usize, u64, usize)> = Vec::new();
        self.plan_delete(oi, number, &mut plan, &mut clear, 0)?;
        let root = id.to_string();
        for (coi, cnum, fi) in clear {
            if let Some(row) = self.materialize(coi, cnum) {
                row.values[fi] = Value::Null;
                row.written_ms = opts.now_ms;
            }
        }
        for (i, (poi, pnum)) in plan.into_iter().enumerate() {
            if let Some(row) = self.materialize(poi, pnum) {
                row.deleted = true;
                row.purged = hard;
                row.written_ms = opts.now_ms;
                if i > 0 {
                    row.cascade_root = Some(root.clone());
                }
            }
        }
        Ok(())
    }

    fn plan_delete(
        &self,
        oi: usize,
        number: u64,
        plan: &mut Vec<(usize, u64)>,
        clear: &mut Vec<(usize, u64, usize)>,
        depth: usize,
    ) -> Result<(), RecordError> {
        if depth > 8 || plan.contains(&(oi, number)) {
            return Ok(());
        }
        let Some(parent) = self.row(oi, number) else {
            return Ok(());
        };
        plan.push((oi, number));
        let obj = parent.obj();
        for rel in self.schema.children_of(obj.name) {
            let Some(coi) = self.object_index(rel.child) else {
                continue;
            };
            let Some(fi) = self.schema.objects[coi].field_index_any(rel.field) else {
                continue;
            };
            let kids = self.children(coi, fi, &parent, false);
            if kids.is_empty() {
                continue;
            }
            match rel.on_delete {
                OnDelete::Restrict => {
                    let child_obj = &self.schema.objects[coi];
                    let names: Vec<String> =
                        kids.iter().take(10).map(RowRef::display_name).collect();
                    return Err(err(
                        "DELETE_FAILED",
                        format!(
                            "Your attempt to delete {} could not be completed because it is associated with the following {}.: {}\n",
                            parent.display_name(),
                            child_obj.label_plural.to_lowercase(),
                            names.join(", ")
                        ),
                        vec![],
                    ));
                }
                OnDelete::Cascade => {
                    let nums: Vec<u64> = kids.iter().map(|k| k.number).collect();
                    for n in nums {
                        self.plan_delete(coi, n, plan, clear, depth + 1)?;
                    }
                }
                OnDelete::SetNull => {
                    for k in kids {
                        clear.push((coi, k.number, fi));
                    }
                }
            }
        }
        Ok(())
    }

    /// Empties a record from the recycle bin (hard delete of an already deleted row).
    pub fn purge(&mut self, id: &str) -> bool {
        let Some(p) = parse_id(id) else { return false };
        let Some(oi) = self
            .schema
            .object_by_prefix(&p.prefix)
            .and_then(|o| self.object_index(o.name))
        else {
            return false;
        };
        match self.materialize(oi, p.number) {
            Some(row) if row.deleted => {
                row.purged = true;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live<'a>(org: &'a Org, id: &str) -> RowRef<'a> {
        match org.locate(id) {
            Some(Located::Live(r)) => r,
            _ => panic!("{id} is not live"),
        }
    }

    /// Seeded person account `5j + 4` and its person contact, by id.
    fn person_pair(org: &Org) -> (String, String) {
        let acc = super::super::ids::make_id("001", 5);
        let contact = live(org, &acc)
            .get_by_name("PersonContactId")
            .as_str()
            .map(str::to_string)
            .expect("a person account has a person contact");
        (acc, contact)
    }

    #[test]
    fn a_seeded_person_account_has_a_person_contact_with_its_person_fields() {
        let org = Org::new(3, 400, true);
        let (acc, pc) = person_pair(&org);
        let a = live(&org, &acc);
        let c = live(&org, &pc);
        assert_eq!(a.get_by_name("IsPersonAccount"), json!(true));
        assert_eq!(c.get_by_name("IsPersonAccount"), json!(true));
        assert_eq!(c.get_by_name("AccountId"), json!(acc));
        for (cf, af) in super::super::schema::PERSON_CONTACT_FIELDS {
            assert_eq!(c.get_by_name(cf), a.get_by_name(af), "{cf} = {af}");
        }
        assert!(c.get_by_name("Email").as_str().is_some());
        assert_eq!(c.get_by_name("Name"), a.get_by_name("Name"));
        // One person contact per person account, after the business contacts.
        let accounts = org.generator.count("Account");
        assert_eq!(
            org.generator.count("Contact"),
            org.generator.base_contacts + accounts / 5
        );
        let business = live(&org, &super::super::ids::make_id("001", 1));
        assert_eq!(business.get_by_name("PersonContactId"), Value::Null);
        let contact = live(&org, &super::super::ids::make_id("003", 1));
        assert_eq!(contact.get_by_name("IsPersonAccount"), json!(false));
        // Without person accounts nothing changes.
        let plain = Org::new(3, 400, false);
        assert_eq!(
            plain.generator.count("Contact"),
            org.generator.base_contacts
        );
    }

    #[test]
    fn person_fields_written_on_either_record_show_on_both_and_delete_takes_both() {
        let mut org = Org::new(3, 400, true);
        let (acc, pc) = person_pair(&org);
        let opts = WriteOptions {
            allow_save: false,
            now_ms: 1_700_000_000_000,
        };
        let fields = |v: Value| v.as_object().cloned().unwrap_or_default();
        org.update(
            Some("Account"),
            &acc,
            &fields(json!({"PersonEmail": "new@example.com", "LastName": "Renamed", "Industry": "Retail"})),
            opts,
        )
        .unwrap();
        let c = live(&org, &pc);
        assert_eq!(c.get_by_name("Email"), json!("new@example.com"));
        assert_eq!(c.get_by_name("LastName"), json!("Renamed"));
        assert_eq!(
            c.get_by_name("LastModifiedDate"),
            live(&org, &acc).get_by_name("LastModifiedDate")
        );
        // A direct write to the person Contact is mirrored onto its Account, not refused.
        org.update(
            Some("Contact"),
            &pc,
            &fields(json!({"MobilePhone": "+1 415 555 0199", "FirstName": "Kim"})),
            opts,
        )
        .unwrap();
        let a = live(&org, &acc);
        assert_eq!(a.get_by_name("PersonMobilePhone"), json!("+1 415 555 0199"));
        assert_eq!(a.get_by_name("FirstName"), json!("Kim"));
        assert_eq!(a.get_by_name("Name"), json!("Kim Renamed"));
        // Deleting the Account deletes its person Contact with it.
        org.delete(Some("Account"), &acc, false, opts).unwrap();
        assert!(matches!(org.locate(&pc), Some(Located::Deleted(_))));
    }

    #[test]
    fn email_format() {
        assert!(is_valid_email("jane.doe+x@example.co.uk"));
        assert!(!is_valid_email("jane"));
        assert!(!is_valid_email("jane@"));
        assert!(!is_valid_email("jane@example"));
        assert!(!is_valid_email("ja ne@example.com"));
    }
}
