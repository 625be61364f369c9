//! Binding: checks a parsed query against the schema (objects, fields, relationships,
//! field-level security, filterability, literal types) and resolves names to field
//! indexes, so execution never looks names up per row. Errors are Salesforce's
//! `INVALID_TYPE` / `INVALID_FIELD` / `MALFORMED_QUERY` in caret form.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::Value;

use super::ast::*;
use crate::error::{ApiError, caret_message, row_col};
use crate::org::Org;
use crate::org::ids::parse_id;
use crate::org::schema::{FType, ObjectDef};

/// One hop along a parent relationship: per possible source object, the reference field.
#[derive(Debug, Clone)]
pub struct Hop {
    pub name: &'static str,
    pub via: Vec<(usize, usize)>,
}

/// A resolved field path: parent hops, then the field on each possible final object.
#[derive(Debug, Clone)]
pub struct BPath {
    pub hops: Vec<Hop>,
    pub leaf: Vec<(usize, usize)>,
    pub name: &'static str,
    pub kind: FType,
}

/// A literal converted to the compared field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum BVal {
    Null,
    Bool(bool),
    Num(f64),
    /// Lower-cased text.
    Text(String),
    /// An 18-character id.
    Id(String),
    /// Inclusive range of dates `YYYY-MM-DD`.
    Dates(String, String),
    /// Half-open range of epoch milliseconds.
    Instants(i64, i64),
}

#[derive(Debug, Clone)]
pub enum BCond {
    And(Vec<BCond>),
    Or(Vec<BCond>),
    Not(Box<BCond>),
    Cmp {
        path: BPath,
        op: &'static str,
        val: BVal,
    },
    Like {
        path: BPath,
        re: regex::Regex,
        not: bool,
    },
    In {
        path: BPath,
        not: bool,
        vals: Vec<BVal>,
    },
    InSet {
        path: BPath,
        not: bool,
        set: HashSet<String>,
    },
}

/// What a record renders as, in select order.
#[derive(Debug, Clone)]
pub enum Entry {
    Field {
        name: &'static str,
        at: Vec<(usize, usize)>,
    },
    Parent {
        hop: Hop,
        tree: Vec<Entry>,
    },
    Children(Box<SubQuery>),
}

#[derive(Debug, Clone)]
pub struct SubQuery {
    pub rel_name: &'static str,
    pub child_oi: usize,
    pub field: usize,
    pub query: Bound,
}

#[derive(Debug, Clone)]
pub struct BOrder {
    pub path: BPath,
    pub desc: bool,
    pub nulls_last: bool,
}

/// A checked query, ready to run.
#[derive(Debug, Clone)]
pub struct Bound {
    pub oi: usize,
    pub tree: Vec<Entry>,
    pub where_: Option<BCond>,
    pub order: Vec<BOrder>,
    pub limit: Option<u64>,
    pub offset: u64,
    /// `COUNT()`.
    pub count_only: bool,
    /// `COUNT(field) [alias]`.
    pub count_of: Option<(BPath, String)>,
    /// Row-number bounds implied by top-level `Id` conditions (for slicing).
    pub first: u64,
    pub last: u64,
    pub only: Option<Vec<u64>>,
}

pub struct Binder<'a> {
    pub org: &'a Org,
    pub q: &'a str,
    pub include_deleted: bool,
    pub now: chrono::DateTime<Utc>,
}

fn err_at(q: &str, pos: usize, code: &str, detail: &str) -> ApiError {
    let (row, col) = row_col(q, pos);
    ApiError::bad_request(code, caret_message(q, row, col, detail))
}

impl Binder<'_> {
    pub fn bind(&self, query: &Query) -> Result<Bound, ApiError> {
        let unreadable = |oi: usize| {
            let name = self.org.schema.objects[oi].name;
            self.org
                .settings
                .unreadable_objects
                .iter()
                .any(|o| o.eq_ignore_ascii_case(name))
        };
        let oi = self.org.object_index(&query.object).filter(|oi| !unreadable(*oi)).ok_or_else(|| {
            err_at(
                self.q,
                query.object_pos,
                "INVALID_TYPE",
                &format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    query.object
                ),
            )
        })?;
        self.bind_on(oi, query, false)
    }

    fn obj(&self, oi: usize) -> &ObjectDef {
        &self.org.schema.objects[oi]
    }

    fn bind_on(&self, oi: usize, query: &Query, is_sub: bool) -> Result<Bound, ApiError> {
        let mut tree: Vec<Entry> = Vec::new();
        let mut count_only = false;
        let mut count_of = None;
        let mut has_fields_all = false;
        for item in &query.items {
            match item {
                SelectItem::Field(p) => {
                    let bp = self.path(oi, p)?;
                    insert(&mut tree, &bp, 0);
                }
                SelectItem::Count => count_only = true,
                SelectItem::CountOf(p, alias) => {
                    let bp = self.path(oi, p)?;
                    count_of = Some((bp, alias.clone().unwrap_or_else(|| "expr0".into())));
                }
                SelectItem::Fields(which, _) => {
                    if *which != FieldsFn::Standard {
                        has_fields_all = true;
                    }
                    let obj = self.obj(oi);
                    for (fi, fd) in obj.visible_fields() {
                        let keep = match which {
                            FieldsFn::All => true,
                            FieldsFn::Standard => !fd.custom,
                            FieldsFn::Custom => fd.custom,
                        };
                        if keep {
                            let bp = BPath {
                                hops: vec![],
                                leaf: vec![(oi, fi)],
                                name: fd.name,
                                kind: fd.kind,
                            };
                            insert(&mut tree, &bp, 0);
                        }
                    }
                }
                SelectItem::Sub(sub) => {
                    if is_sub {
                        return Err(err_at(
                            self.q,
                            sub.object_pos,
                            "MALFORMED_QUERY",
                            "Nesting of semi join sub-selects is not supported",
                        ));
                    }
                    let obj = self.obj(oi);
                    let rel = self.org.schema.child_relationship(obj.name, &sub.object).ok_or_else(|| {
                        err_at(
                            self.q,
                            sub.object_pos,
                            "INVALID_TYPE",
                            &format!(
                                "Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                                sub.object
                            ),
                        )
                    })?;
                    let child_oi = self.org.object_index(rel.child).unwrap_or(oi);
                    let field = self.obj(child_oi).field_index_any(rel.field).unwrap_or(0);
                    let query = self.bind_on(child_oi, sub, true)?;
                    tree.push(Entry::Children(Box::new(SubQuery {
                        rel_name: rel.name,
                        child_oi,
                        field,
                        query,
                    })));
                }
            }
        }
        if has_fields_all && query.limit.is_none_or(|l| l > 200) {
            return Err(err_at(
                self.q,
                query.object_pos,
                "MALFORMED_QUERY",
                "The SOQL FIELDS function must have a LIMIT of at most 200",
            ));
        }
        let where_ = query
            .where_
            .as_ref()
            .map(|c| self.cond(oi, c))
            .transpose()?;
        let mut order = Vec::new();
        for o in &query.order {
            let path = self.path(oi, &o.path)?;
            if matches!(
                path.kind,
                FType::TextArea | FType::Address | FType::Location
            ) {
                return Err(err_at(
                    self.q,
                    o.path.pos,
                    "INVALID_FIELD",
                    &format!("field '{}' can not be sorted in a query call", path.name),
                ));
            }
            order.push(BOrder {
                path,
                desc: o.desc,
                nulls_last: o.nulls_last,
            });
        }
        if let Some(off) = query.offset
            && off > 2000
        {
            {
                return Err(err_at(
                    self.q,
                    query.object_pos,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    "Maximum SOQL offset allowed is 2000",
                ));
            }
        }
        let (first, last, only) = id_bounds(where_.as_ref());
        Ok(Bound {
            oi,
            tree,
            where_,
            order,
            limit: query.limit,
            offset: query.offset.unwrap_or(0),
            count_only,
            count_of,
            first,
            last,
            only,
        })
    }

    fn no_such_column(&self, pos: usize, name: &str, obj: &str) -> ApiError {
        err_at(
            self.q,
            pos,
            "INVALID_FIELD",
            &format!(
                "No such column '{name}' on entity '{obj}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
            ),
        )
    }

    /// Resolves `A.B.Field` from object `oi`.
    pub fn path(&self, oi: usize, p: &Path) -> Result<BPath, ApiError> {
        let mut parts: &[String] = &p.parts;
        // A leading object name is allowed: `Contact.Email` FROM Contact.
        if parts.len() > 1
            && parts[0].eq_ignore_ascii_case(self.obj(oi).name)
            && self.obj(oi).relationship_field(&parts[0]).is_none()
        {
            parts = &parts[1..];
        }
        let mut current: Vec<usize> = vec![oi];
        let mut hops = Vec::new();
        for rel in &parts[..parts.len() - 1] {
            let mut via = Vec::new();
            let mut next = Vec::new();
            let mut canonical: Option<&'static str> = None;
            for &o in &current {
                if let Some(fi) = self.obj(o).relationship_field(rel) {
                    let fd = &self.obj(o).fields[fi];
                    canonical = fd.relationship_name;
                    via.push((o, fi));
                    for t in &fd.reference_to {
                        if let Some(ti) = self.org.object_index(t)
                            && !next.contains(&ti)
                        {
                            next.push(ti);
                        }
                    }
                }
            }
            let Some(name) = canonical else {
                return Err(err_at(
                    self.q,
                    p.pos,
                    "INVALID_FIELD",
                    &format!(
                        "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                    ),
                ));
            };
            hops.push(Hop { name, via });
            current = next;
        }
        let leaf_name = &parts[parts.len() - 1];
        let leaf: Vec<(usize, usize)> = current
            .iter()
            .filter_map(|&o| self.obj(o).field_index(leaf_name).map(|fi| (o, fi)))
            .collect();
        let Some(&(lo, lf)) = leaf.first() else {
            let on = current.first().map_or("", |o| self.obj(*o).name);
            return Err(self.no_such_column(p.pos, leaf_name, on));
        };
        let fd = &self.obj(lo).fields[lf];
        Ok(BPath {
            hops,
            leaf,
            name: fd.name,
            kind: fd.kind,
        })
    }

    fn cond(&self, oi: usize, c: &Cond) -> Result<BCond, ApiError> {
        Ok(match c {
            Cond::And(v) => BCond::And(
                v.iter()
                    .map(|c| self.cond(oi, c))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Or(v) => BCond::Or(
                v.iter()
                    .map(|c| self.cond(oi, c))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Not(c) => BCond::Not(Box::new(self.cond(oi, c)?)),
            Cond::Cmp {
                path,
                op,
                value,
                value_pos,
            } => {
                let bp = self.filter_path(oi, path)?;
                let val = self.value(&bp, value, *value_pos)?;
                if matches!(val, BVal::Null) && !matches!(*op, "=" | "!=") {
                    return Err(err_at(
                        self.q,
                        *value_pos,
                        "MALFORMED_QUERY",
                        &format!("invalid operator on null: {op}"),
                    ));
                }
                BCond::Cmp { path: bp, op, val }
            }
            Cond::Like { path, pattern, not } => {
                let bp = self.filter_path(oi, path)?;
                if !bp.kind.is_text() && !matches!(bp.kind, FType::Id | FType::Reference) {
                    return Err(err_at(
                        self.q,
                        path.pos,
                        "INVALID_FIELD",
                        &format!(
                            "invalid operator on field '{}'. Only string fields can use LIKE",
                            bp.name
                        ),
                    ));
                }
                BCond::Like {
                    path: bp,
                    re: like_regex(pattern),
                    not: *not,
                }
            }
            Cond::In { path, not, values } => {
                let bp = self.filter_path(oi, path)?;
                let vals = values
                    .iter()
                    .map(|v| self.value(&bp, v, path.pos))
                    .collect::<Result<_, _>>()?;
                BCond::In {
                    path: bp,
                    not: *not,
                    vals,
                }
            }
            Cond::InQuery { path, not, sub } => {
                let bp = self.filter_path(oi, path)?;
                let set = self.semi_join(sub)?;
                BCond::InSet {
                    path: bp,
                    not: *not,
                    set,
                }
            }
        })
    }

    fn filter_path(&self, oi: usize, p: &Path) -> Result<BPath, ApiError> {
        let bp = self.path(oi, p)?;
        let long_text = bp.leaf.iter().any(|(o, f)| {
            let fd = &self.obj(*o).fields[*f];
            fd.kind == FType::TextArea && fd.length > 255
        });
        if long_text || matches!(bp.kind, FType::Address | FType::Location) {
            return Err(err_at(
                self.q,
                p.pos,
                "INVALID_FIELD",
                &format!("field '{}' can not be filtered in a query call", bp.name),
            ));
        }
        Ok(bp)
    }

    /// Evaluates a semi-join sub-select to the set of values it returns.
    fn semi_join(&self, sub: &Query) -> Result<HashSet<String>, ApiError> {
        let bound = self.bind(sub)?;
        let Some(Entry::Field { at, .. }) = bound.tree.first() else {
            return Err(err_at(
                self.q,
                sub.object_pos,
                "MALFORMED_QUERY",
                "semi join sub-selects can only query id fields",
            ));
        };
        let (_, fi) = at[0];
        let mut set = HashSet::new();
        let mut scan = super::exec::Scan::start(&bound);
        while let Some(r) = scan.next_match(self.org, &bound, self.include_deleted) {
            if let Value::String(s) = r.get(fi) {
                set.insert(s);
            }
        }
        Ok(set)
    }

    fn type_error(&self, pos: usize, bp: &BPath, want: &str, quoted: bool) -> ApiError {
        let q = if quoted {
            "should be enclosed in quotes"
        } else {
            "should not be enclosed in quotes"
        };
        err_at(
            self.q,
            pos,
            "INVALID_FIELD",
            &format!(
                "value of filter criterion for field '{}' must be of type {want} and {q}",
                bp.name
            ),
        )
    }

    fn value(&self, bp: &BPath, lit: &Lit, pos: usize) -> Result<BVal, ApiError> {
        if *lit == Lit::Null {
            return Ok(BVal::Null);
        }
        Ok(match bp.kind {
            FType::Id | FType::Reference => match lit {
                Lit::Str(s) => match parse_id(s) {
                    Some(p) => BVal::Id(p.id18),
                    None => {
                        return Err(err_at(
                            self.q,
                            pos,
                            "INVALID_QUERY_FILTER_OPERATOR",
                            &format!("invalid ID field: {s}"),
                        ));
                    }
                },
                _ => return Err(self.type_error(pos, bp, "id", true)),
            },
            FType::Boolean => match lit {
                Lit::Bool(b) => BVal::Bool(*b),
                _ => return Err(self.type_error(pos, bp, "boolean", false)),
            },
            FType::Int | FType::Double | FType::Currency => match lit {
                Lit::Num(n) => BVal::Num(*n),
                _ => return Err(self.type_error(pos, bp, "double", false)),
            },
            FType::Date => match lit {
                Lit::Date(d) => BVal::Dates(d.clone(), d.clone()),
                Lit::Relative(k, n) => {
                    let (a, b) = relative_range(k, *n, self.now.date_naive());
                    BVal::Dates(
                        a.format("%Y-%m-%d").to_string(),
                        b.format("%Y-%m-%d").to_string(),
                    )
                }
                _ => return Err(self.type_error(pos, bp, "date", false)),
            },
            FType::DateTime => match lit {
                Lit::DateTime(d) => {
                    let ms = parse_instant(d).ok_or_else(|| {
                        err_at(
                            self.q,
                            pos,
                            "MALFORMED_QUERY",
                            &format!("line 1:{pos} no viable alternative at character '{d}'"),
                        )
                    })?;
                    BVal::Instants(ms, ms + 1)
                }
                Lit::Date(d) => {
                    let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_default();
                    BVal::Instants(day_ms(day), day_ms(day + Duration::days(1)))
                }
                Lit::Relative(k, n) => {
                    let (a, b) = relative_range(k, *n, self.now.date_naive());
                    BVal::Instants(day_ms(a), day_ms(b + Duration::days(1)))
                }
                _ => return Err(self.type_error(pos, bp, "dateTime", false)),
            },
            _ => match lit {
                Lit::Str(s) => BVal::Text(s.replace("\\%", "%").replace("\\_", "_").to_lowercase()),
                _ => return Err(self.type_error(pos, bp, "string", true)),
            },
        })
    }
}

fn insert(tree: &mut Vec<Entry>, bp: &BPath, depth: usize) {
    if depth == bp.hops.len() {
        let exists = tree
            .iter()
            .any(|e| matches!(e, Entry::Field { name, .. } if *name == bp.name));
        if !exists {
            tree.push(Entry::Field {
                name: bp.name,
                at: bp.leaf.clone(),
            });
        }
        return;
    }
    let hop = &bp.hops[depth];
    for e in tree.iter_mut() {
        if let Entry::Parent { hop: h, tree: sub } = e
            && h.name == hop.name
        {
            insert(sub, bp, depth + 1);
            return;
        }
    }
    let mut sub = Vec::new();
    insert(&mut sub, bp, depth + 1);
    tree.push(Entry::Parent {
        hop: hop.clone(),
        tree: sub,
    });
}

pub fn like_regex(pattern: &str) -> regex::Regex {
    let mut re = String::from("(?is)^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => re.push_str(&regex::escape("\\")),
            },
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re)
        .unwrap_or_else(|_| regex::Regex::new("^$").unwrap_or_else(|_| unreachable!()))
}

pub fn parse_instant(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|d| d.timestamp_millis())
}

fn day_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

/// Inclusive date range of a relative date literal.
fn relative_range(kind: &str, n: i64, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let add_months = |d: NaiveDate, m: i64| {
        let total = d.year() as i64 * 12 + d.month0() as i64 + m;
        NaiveDate::from_ymd_opt((total / 12) as i32, (total % 12) as u32 + 1, 1).unwrap_or(d)
    };
    let year_start = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today);
    let week_start = today - Duration::days(today.weekday().num_days_from_sunday() as i64);
    match kind {
        "TODAY" => (today, today),
        "YESTERDAY" => (today - Duration::days(1), today - Duration::days(1)),
        "TOMORROW" => (today + Duration::days(1), today + Duration::days(1)),
        "THIS_WEEK" => (week_start, week_start + Duration::days(6)),
        "LAST_WEEK" => (
            week_start - Duration::days(7),
            week_start - Duration::days(1),
        ),
        "NEXT_WEEK" => (
            week_start + Duration::days(7),
            week_start + Duration::days(13),
        ),
        "THIS_MONTH" => (month_start(today), add_months(today, 1) - Duration::days(1)),
        "LAST_MONTH" => (
            add_months(today, -1),
            month_start(today) - Duration::days(1),
        ),
        "NEXT_MONTH" => (
            add_months(today, 1),
            add_months(today, 2) - Duration::days(1),
        ),
        "THIS_YEAR" => (
            year_start(today.year()),
            year_start(today.year() + 1) - Duration::days(1),
        ),
        "LAST_YEAR" => (
            year_start(today.year() - 1),
            year_start(today.year()) - Duration::days(1),
        ),
        "NEXT_YEAR" => (
            year_start(today.year() + 1),
            year_start(today.year() + 2) - Duration::days(1),
        ),
        "LAST_90_DAYS" => (today - Duration::days(90), today),
        "NEXT_90_DAYS" => (today, today + Duration::days(90)),
        "LAST_N_DAYS" => (today - Duration::days(n), today),
        "NEXT_N_DAYS" => (today, today + Duration::days(n)),
        "N_DAYS_AGO" => (today - Duration::days(n), today - Duration::days(n)),
        "LAST_N_MONTHS" => (
            add_months(today, -n),
            month_start(today) - Duration::days(1),
        ),
        "NEXT_N_MONTHS" => (
            add_months(today, 1),
            add_months(today, n + 1) - Duration::days(1),
        ),
        "N_MONTHS_AGO" => (
            add_months(today, -n),
            add_months(today, -n + 1) - Duration::days(1),
        ),
        "LAST_N_YEARS" => (
            year_start(today.year() - n as i32),
            year_start(today.year()) - Duration::days(1),
        ),
        "NEXT_N_YEARS" => (
            year_start(today.year() + 1),
            year_start(today.year() + 1 + n as i32) - Duration::days(1),
        ),
        "N_YEARS_AGO" => (
            year_start(today.year() - n as i32),
            year_start(today.year() - n as i32 + 1) - Duration::days(1),
        ),
        _ => (today, today),
    }
}

/// Row-number window implied by top-level `Id` comparisons (AND-ed), so `Id > '…'`
/// slices start where they should instead of scanning from the first row.
fn id_bounds(c: Option<&BCond>) -> (u64, u64, Option<Vec<u64>>) {
    let mut first = 1u64;
    let mut last = u64::MAX;
    let mut only: Option<Vec<u64>> = None;
    let conj: Vec<&BCond> = match c {
        Some(BCond::And(v)) => v.iter().collect(),
        Some(other) => vec![other],
        None => vec![],
    };
    for c in conj {
        let is_id = |p: &BPath| p.hops.is_empty() && p.kind == FType::Id;
        match c {
            BCond::Cmp {
                path,
                op,
                val: BVal::Id(id),
            } if is_id(path) => {
                let Some(n) = parse_id(id).map(|p| p.number) else {
                    continue;
                };
                match *op {
                    ">" => first = first.max(n.saturating_add(1)),
                    ">=" => first = first.max(n),
                    "<" => last = last.min(n.saturating_sub(1)),
                    "<=" => last = last.min(n),
                    "=" => only = Some(vec![n]),
                    _ => {}
                }
            }
            BCond::In {
                path,
                not: false,
                vals,
            } if is_id(path) => {
                let mut v: Vec<u64> = vals
                    .iter()
                    .filter_map(|x| match x {
                        BVal::Id(id) => parse_id(id).map(|p| p.number),
                        _ => None,
                    })
                    .collect();
                v.sort_unstable();
                v.dedup();
                only = Some(v);
            }
            _ => {}
        }
    }
    (first, last, only)
}
