//! Record storage: per object, the seeded rows (computed by `gen`, never stored) plus an
//! overlay of written rows (inserted, updated, soft-deleted, purged), keyed by row number.
//!
//! Row numbers are the id counters: seeded rows are `1..=seeded`, inserted rows start at
//! [`FIRST_INSERTED`]. Scans walk numbers in order, so ids come out sorted and a cursor is
//! just "the next number to look at".

use std::collections::BTreeMap;

use serde_json::Value;

/// First row number of inserted rows (far above any seeded count).
pub const FIRST_INSERTED: u64 = 1_000_000_000;

/// A row that has been written: every stored field's value, in schema order.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub values: Vec<Value>,
    /// In the recycle bin.
    pub deleted: bool,
    /// Hard-deleted (purged from the recycle bin): gone for every read.
    pub purged: bool,
    /// When it was last written (emulated ms), for the search index lag.
    pub written_ms: i64,
    /// Was deleted as part of a cascade from this parent id (undelete restores together).
    pub cascade_root: Option<String>,
}

/// One object's rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub seeded: u64,
    pub overlay: BTreeMap<u64, StoredRow>,
    pub next_inserted: u64,
}

/// A row as read: computed from the seed, or stored.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    Seeded(u64),
    Stored(&'a StoredRow),
}

impl Table {
    pub fn new(seeded: u64) -> Self {
        Self {
            seeded,
            overlay: BTreeMap::new(),
            next_inserted: FIRST_INSERTED,
        }
    }

    /// The row with this number, unless it never existed or was purged.
    pub fn get(&self, number: u64) -> Option<Row<'_>> {
        match self.overlay.get(&number) {
            Some(r) if r.purged => None,
            Some(r) => Some(Row::Stored(r)),
            None if number >= 1 && number <= self.seeded => Some(Row::Seeded(number - 1)),
            None => None,
        }
    }

    /// The first existing row with number ≥ `from`.
    pub fn next_row(&self, mut from: u64) -> Option<(u64, Row<'_>)> {
        from = from.max(1);
        while from <= self.seeded {
            match self.overlay.get(&from) {
                Some(r) if r.purged => from += 1,
                Some(r) => return Some((from, Row::Stored(r))),
                None => return Some((from, Row::Seeded(from - 1))),
            }
        }
        self.overlay
            .range(from..)
            .find(|(_, r)| !r.purged)
            .map(|(n, r)| (*n, Row::Stored(r)))
    }

    /// Rows not deleted (and, with `include_deleted`, those in the recycle bin).
    pub fn count(&self, include_deleted: bool) -> u64 {
        let mut n = self.seeded;
        for (num, r) in &self.overlay {
            let seeded = *num <= self.seeded;
            let visible = !r.purged && (include_deleted || !r.deleted);
            match (seeded, visible) {
                (true, false) => n -= 1,
                (false, true) => n += 1,
                _ => {}
            }
        }
        n
    }

    pub fn allocate(&mut self) -> u64 {
        let n = self.next_inserted;
        self.next_inserted += 1;
        n
    }
}
