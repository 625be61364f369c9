//! Execution: scanning rows in id order (or a sorted list of row numbers when the query
//! has ORDER BY), evaluating WHERE, rendering records with parent paths and child
//! subqueries. A scan position is a row number, so a cursor resumes without holding rows.

use std::cmp::Ordering;

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::bind::{BCond, BPath, BVal, Bound, Entry, Hop, SubQuery};
use super::parser::parse;
use crate::error::ApiError;
use crate::org::ids::parse_id;
use crate::org::schema::FType;
use crate::org::{Located, Org, RowRef};

/// Where a scan stands.
#[derive(Debug, Clone)]
pub enum Scan {
    /// Streaming in id order: next row number to look at; matches skipped (OFFSET) so far.
    Stream {
        next: u64,
        only_pos: usize,
        skipped: u64,
    },
    /// ORDER BY: all matching row numbers, sorted (keys dropped), and the position.
    Sorted {
        numbers: std::sync::Arc<Vec<u64>>,
        pos: usize,
    },
}

impl Scan {
    pub fn start(b: &Bound) -> Scan {
        Scan::Stream {
            next: b.first,
            only_pos: 0,
            skipped: 0,
        }
    }

    /// The next row matching the query's WHERE (OFFSET applied), in scan order.
    pub fn next_match<'o>(
        &mut self,
        org: &'o Org,
        b: &Bound,
        include_deleted: bool,
    ) -> Option<RowRef<'o>> {
        match self {
            Scan::Sorted { numbers, pos } => {
                while *pos < numbers.len() {
                    let n = numbers[*pos];
                    *pos += 1;
                    if let Some(r) = org.row(b.oi, n) {
                        return Some(r);
                    }
                }
                None
            }
            Scan::Stream {
                next,
                only_pos,
                skipped,
            } => loop {
                let r = if let Some(only) = &b.only {
                    let n = *only.get(*only_pos)?;
                    *only_pos += 1;
                    match org.row(b.oi, n) {
                        Some(r) => r,
                        None => continue,
                    }
                } else {
                    let r = org.next_row(b.oi, *next)?;
                    if r.number > b.last {
                        return None;
                    }
                    *next = r.number + 1;
                    r
                };
                if (!include_deleted && r.is_deleted()) || !matches(&r, b.where_.as_ref()) {
                    continue;
                }
                if *skipped < b.offset {
                    *skipped += 1;
                    continue;
                }
                return Some(r);
            },
        }
    }
}

/// Follows a path's parent hops from `r`; `None` when a hop is empty.
fn walk<'o>(r: &RowRef<'o>, path: &BPath) -> Option<RowRef<'o>> {
    let mut cur = *r;
    for hop in &path.hops {
        let (_, fi) = hop.via.iter().find(|(o, _)| *o == cur.oi)?;
        let Value::String(id) = cur.get(*fi) else {
            return None;
        };
        match cur.org.locate(&id)? {
            Located::Live(p) => cur = p,
            _ => return None,
        }
    }
    Some(cur)
}

pub fn path_value(r: &RowRef<'_>, path: &BPath) -> Value {
    let Some(target) = walk(r, path) else {
        return Value::Null;
    };
    match path.leaf.iter().find(|(o, _)| *o == target.oi) {
        Some((_, fi)) => target.get(*fi),
        None => Value::Null,
    }
}

fn instant(v: &Value) -> Option<i64> {
    v.as_str().and_then(super::bind::parse_instant)
}

fn compare(v: &Value, kind: FType, val: &BVal) -> Option<Ordering> {
    match (val, v) {
        (BVal::Null, _) | (_, Value::Null) => None,
        (BVal::Text(t), Value::String(s)) => Some(s.to_lowercase().cmp(t)),
        (BVal::Text(t), other) => Some(other.to_string().to_lowercase().cmp(t)),
        (BVal::Id(t), Value::String(s)) => {
            let s18 = parse_id(s).map_or_else(|| s.clone(), |p| p.id18);
            Some(s18[..15.min(s18.len())].cmp(&t[..15]))
        }
        (BVal::Num(n), Value::Number(x)) => x.as_f64().and_then(|x| x.partial_cmp(n)),
        (BVal::Bool(b), Value::Bool(x)) => Some(x.cmp(b)),
        (BVal::Dates(a, b), Value::String(s)) => {
            let d = &s[..10.min(s.len())];
            Some(if d < a.as_str() {
                Ordering::Less
            } else if d > b.as_str() {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        (BVal::Instants(a, b), v) if kind == FType::DateTime => {
            let t = instant(v)?;
            Some(if t < *a {
                Ordering::Less
            } else if t >= *b {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        _ => None,
    }
}

fn cmp_op(v: &Value, kind: FType, op: &str, val: &BVal) -> bool {
    if *val == BVal::Null {
        return match op {
            "=" => v.is_null(),
            _ => !v.is_null(),
        };
    }
    let Some(o) = compare(v, kind, val) else {
        // Null field: only `!=` a value holds.
        return op == "!=" && v.is_null();
    };
    match op {
        "=" => o == Ordering::Equal,
        "!=" => o != Ordering::Equal,
        "<" => o == Ordering::Less,
        "<=" => o != Ordering::Greater,
        ">" => o == Ordering::Greater,
        ">=" => o != Ordering::Less,
        _ => false,
    }
}

pub fn matches(r: &RowRef<'_>, c: Option<&BCond>) -> bool {
    let Some(c) = c else { return true };
    match c {
        BCond::And(v) => v.iter().all(|c| matches(r, Some(c))),
        BCond::Or(v) => v.iter().any(|c| matches(r, Some(c))),
        BCond::Not(c) => !matches(r, Some(c)),
        BCond::Cmp { path, op, val } => cmp_op(&path_value(r, path), path.kind, op, val),
        BCond::Like { path, re, not } => {
            let v = path_value(r, path);
            let m = v.as_str().is_some_and(|s| re.is_match(s));
            m != *not && !v.is_null()
        }
        BCond::In { path, not, vals } => {
            let v = path_value(r, path);
            let hit = vals.iter().any(|x| cmp_op(&v, path.kind, "=", x));
            // SOQL (unlike SQL) counts a null as "not in" a list of values.
            hit != *not
        }
        BCond::InSet { path, not, set } => {
            let v = path_value(r, path);
            let hit = v
                .as_str()
                .is_some_and(|s| set.contains(s) || set.iter().any(|x| x.eq_ignore_ascii_case(s)));
            hit != *not
        }
    }
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Null,
    Num(f64),
    Text(String),
}

fn sort_key(v: Value) -> Key {
    match v {
        Value::Null => Key::Null,
        Value::Number(n) => Key::Num(n.as_f64().unwrap_or(0.0)),
        Value::Bool(b) => Key::Num(if b { 1.0 } else { 0.0 }),
        Value::String(s) => Key::Text(s.to_lowercase()),
        other => Key::Text(other.to_string()),
    }
}

/// Sorts every match (keys plus row numbers only; records are rendered page by page).
pub fn sorted(org: &Org, b: &Bound, include_deleted: bool) -> Vec<u64> {
    sorted_bounded(org, b, include_deleted).0
}

/// [`sorted`], and the most keys it held at once. With a LIMIT only the first
/// `OFFSET + LIMIT` matches can be returned, so at most twice that many keys are kept: when
/// the buffer fills it is cut back to its best `OFFSET + LIMIT` (the order is total, row
/// number last, so the result is the same as sorting everything).
fn sorted_bounded(org: &Org, b: &Bound, include_deleted: bool) -> (Vec<u64>, usize) {
    // OFFSET applies after sorting: scan every match, then skip.
    let mut unsorted = b.clone();
    unsorted.offset = 0;
    let keep = b
        .limit
        .map(|l| usize::try_from(l.saturating_add(b.offset)).unwrap_or(usize::MAX));
    let cmp = |(ka, na): &(Vec<Key>, u64), (kb, nb): &(Vec<Key>, u64)| {
        for (i, o) in b.order.iter().enumerate() {
            let (a, c) = (&ka[i], &kb[i]);
            let ord = match (a, c) {
                (Key::Null, Key::Null) => Ordering::Equal,
                (Key::Null, _) => {
                    if o.nulls_last {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (_, Key::Null) => {
                    if o.nulls_last {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                _ => {
                    let x = a.partial_cmp(c).unwrap_or(Ordering::Equal);
                    if o.desc { x.reverse() } else { x }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        na.cmp(nb)
    };
    let mut scan = Scan::start(&unsorted);
    let mut keyed: Vec<(Vec<Key>, u64)> = Vec::new();
    let mut peak = 0;
    while let Some(r) = scan.next_match(org, &unsorted, include_deleted) {
        let keys = b
            .order
            .iter()
            .map(|o| sort_key(path_value(&r, &o.path)))
            .collect();
        keyed.push((keys, r.number));
        peak = peak.max(keyed.len());
        if let Some(k) = keep
            && keyed.len() >= k.saturating_mul(2).max(64)
        {
            if k == 0 {
                keyed.clear();
            } else {
                keyed.select_nth_unstable_by(k - 1, cmp);
                keyed.truncate(k);
            }
        }
    }
    keyed.sort_by(cmp);
    let out = keyed
        .into_iter()
        .skip(b.offset as usize)
        .take(b.limit.map_or(usize::MAX, |l| l as usize))
        .map(|(_, n)| n)
        .collect();
    (out, peak)
}

/// The value of a selected field on `r` (null when the field is not on `r`'s object).
pub(crate) fn field_value(r: &RowRef<'_>, at: &[(usize, usize)]) -> Value {
    at.iter()
        .find(|(o, _)| *o == r.oi)
        .map_or(Value::Null, |(_, fi)| r.get(*fi))
}

/// The live parent row a hop reaches from `r`, if any.
pub(crate) fn parent<'o>(r: &RowRef<'o>, hop: &Hop) -> Option<RowRef<'o>> {
    let (_, fi) = hop.via.iter().find(|(o, _)| *o == r.oi)?;
    let Value::String(id) = r.get(*fi) else {
        return None;
    };
    match r.org.locate(&id) {
        Some(Located::Live(p)) => Some(p),
        _ => None,
    }
}

fn record_url(r: &RowRef<'_>, version: &str) -> String {
    format!(
        "/services/data/{version}/sobjects/{}/{}",
        r.obj().name,
        r.id()
    )
}

/// Renders one record: `attributes`, then the selected fields, parents and children.
pub fn render(r: &RowRef<'_>, tree: &[Entry], version: &str) -> Value {
    let obj = r.obj();
    let mut m = Map::new();
    m.insert(
        "attributes".into(),
        json!({"type": obj.name, "url": record_url(r, version)}),
    );
    for e in tree {
        match e {
            Entry::Field { name, at } => {
                m.insert((*name).to_string(), field_value(r, at));
            }
            Entry::Parent { hop, tree } => {
                let v = parent(r, hop).map_or(Value::Null, |p| render(&p, tree, version));
                m.insert(hop.name.to_string(), v);
            }
            Entry::Children(sub) => {
                m.insert(sub.rel_name.to_string(), children(r, sub, version));
            }
        }
    }
    Value::Object(m)
}

/// Appends `v` as compact JSON.
pub(crate) fn put(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    // Serializing strings and `Value`s into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Whether no two entries of a tree (at any level) share a key. With a repeated key,
/// [`render`]'s map keeps one entry, which [`write_record`] would not reproduce.
pub fn keys_unique(tree: &[Entry]) -> bool {
    let key = |e: &Entry| match e {
        Entry::Field { name, .. } => *name,
        Entry::Parent { hop, .. } => hop.name,
        Entry::Children(sub) => sub.rel_name,
    };
    tree.iter().enumerate().all(|(i, e)| {
        tree[..i].iter().all(|p| key(p) != key(e))
            && match e {
                Entry::Parent { tree, .. } => keys_unique(tree),
                _ => true,
            }
    })
}

/// Appends exactly the compact JSON of `render(r, tree, version)`, without building the
/// record's map: a page of 2,000 records is written, not built, copied and then written.
/// Callers check [`keys_unique`] first.
pub fn write_record(out: &mut Vec<u8>, r: &RowRef<'_>, tree: &[Entry], version: &str) {
    out.extend_from_slice(b"{\"attributes\":{\"type\":");
    put(out, r.obj().name);
    out.extend_from_slice(b",\"url\":");
    put(out, &record_url(r, version));
    out.push(b'}');
    for e in tree {
        out.push(b',');
        match e {
            Entry::Field { name, at } => {
                put(out, *name);
                out.push(b':');
                put(out, &field_value(r, at));
            }
            Entry::Parent { hop, tree } => {
                put(out, hop.name);
                out.push(b':');
                match parent(r, hop) {
                    Some(p) => write_record(out, &p, tree, version),
                    None => out.extend_from_slice(b"null"),
                }
            }
            Entry::Children(sub) => {
                put(out, sub.rel_name);
                out.push(b':');
                put(out, &children(r, sub, version));
            }
        }
    }
    out.push(b'}');
}

/// A child subquery's result on `r`: `{totalSize, done, records}`, or null without rows.
fn children(r: &RowRef<'_>, sub: &SubQuery, version: &str) -> Value {
    let q = &sub.query;
    let mut kids: Vec<RowRef<'_>> = r
        .org
        .children(sub.child_oi, sub.field, r, false)
        .into_iter()
        .filter(|k| matches(k, q.where_.as_ref()))
        .collect();
    if !q.order.is_empty() {
        let numbers = {
            let mut keyed: Vec<(Vec<Key>, usize)> = kids
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    (
                        q.order
                            .iter()
                            .map(|o| sort_key(path_value(k, &o.path)))
                            .collect(),
                        i,
                    )
                })
                .collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for (i, o) in q.order.iter().enumerate() {
                    let x = a[i].partial_cmp(&b[i]).unwrap_or(Ordering::Equal);
                    let x = if o.desc { x.reverse() } else { x };
                    if x != Ordering::Equal {
                        return x;
                    }
                }
                Ordering::Equal
            });
            keyed.into_iter().map(|(_, i)| i).collect::<Vec<_>>()
        };
        kids = numbers.into_iter().map(|i| kids[i]).collect();
    }
    let kids: Vec<RowRef<'_>> = kids
        .into_iter()
        .skip(q.offset as usize)
        .take(q.limit.map_or(usize::MAX, |l| l as usize))
        .collect();
    if kids.is_empty() {
        Value::Null
    } else {
        // Built field by field: `json!` would deep-copy the records through `to_value`.
        let mut m = Map::new();
        m.insert("totalSize".into(), json!(kids.len()));
        m.insert("done".into(), Value::Bool(true));
        m.insert(
            "records".into(),
            Value::Array(kids.iter().map(|k| render(k, &q.tree, version)).collect()),
        );
        Value::Object(m)
    }
}

/// Total rows the query returns (LIMIT/OFFSET applied), counted without rendering.
pub fn total(org: &Org, b: &Bound, include_deleted: bool) -> u64 {
    let all = if b.where_.is_none() && b.only.is_none() && b.first <= 1 && b.last == u64::MAX {
        org.tables[b.oi]
            .count(include_deleted)
            .saturating_sub(b.offset)
    } else {
        let mut scan = Scan::start(b);
        let mut n = 0u64;
        let cap = b.limit.unwrap_or(u64::MAX);
        while n < cap && scan.next_match(org, b, include_deleted).is_some() {
            n += 1;
        }
        n
    };
    b.limit.map_or(all, |l| all.min(l))
}

/// Parses and binds a query for `org`.
pub fn prepare(
    org: &Org,
    soql: &str,
    include_deleted: bool,
    now: chrono::DateTime<Utc>,
) -> Result<Bound, ApiError> {
    let q = parse(soql)?;
    super::bind::Binder {
        org,
        q: soql,
        include_deleted,
        now,
    }
    .bind(&q)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ORDER BY with LIMIT keeps only the best OFFSET + LIMIT keys (twice that at most) and
    /// returns exactly what sorting every match and slicing gives, ties included.
    #[test]
    fn order_by_with_limit_keeps_a_bounded_buffer_and_the_same_rows() {
        let org = Org::new(7, 4000, true);
        let now = Utc::now();
        for (order, offset, limit) in [
            ("LastName", 0, 10),
            ("MailingCountry DESC NULLS LAST, LastName", 25, 40),
            ("Birthdate NULLS FIRST", 3, 1),
            ("Email DESC", 0, 0),
        ] {
            let base = format!("SELECT Id FROM Contact ORDER BY {order}");
            let all = prepare(&org, &base, false, now).unwrap();
            let (every, full_peak) = sorted_bounded(&org, &all, false);
            let limited = format!("{base} LIMIT {limit} OFFSET {offset}");
            let b = prepare(&org, &limited, false, now).unwrap();
            let (got, peak) = sorted_bounded(&org, &b, false);
            let want: Vec<u64> = every.iter().copied().skip(offset).take(limit).collect();
            assert_eq!(got, want, "{limited}");
            assert_eq!(full_peak, every.len(), "without LIMIT every match is kept");
            assert!(every.len() > 500, "{}", every.len());
            assert!(peak <= (2 * (offset + limit)).max(64), "{limited}: {peak}");
        }
    }

    /// The page writer gives byte for byte what rendering a record and serializing it gives.
    #[test]
    fn write_record_matches_render() {
        let org = Org::new(7, 4000, true);
        let now = Utc::now();
        for soql in [
            "SELECT Id, FirstName, LastName, Email, MailingAddress, Birthdate, IsDeleted FROM Contact",
            "SELECT Id, Name, Account.Name, Account.Phone FROM Contact",
            "SELECT Id, LastName, (SELECT Id, Subject FROM Cases ORDER BY Subject) FROM Contact",
            "SELECT FIELDS(STANDARD) FROM Lead",
        ] {
            let b = prepare(&org, soql, false, now).unwrap();
            assert!(keys_unique(&b.tree), "{soql}");
            let mut scan = Scan::start(&b);
            let mut n = 0;
            while let Some(r) = scan.next_match(&org, &b, false) {
                let mut direct = Vec::new();
                write_record(&mut direct, &r, &b.tree, "v62.0");
                let rendered = serde_json::to_string(&render(&r, &b.tree, "v62.0")).unwrap();
                assert_eq!(String::from_utf8_lossy(&direct), rendered, "{soql}");
                n += 1;
                if n == 300 {
                    break;
                }
            }
            assert!(n > 0, "{soql}: no rows");
        }
    }
}
