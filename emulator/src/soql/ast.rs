//! SOQL syntax tree, as parsed (names unresolved; `bind` checks them against the schema).

#[derive(Debug, Clone)]
pub struct Path {
    /// `Account.Owner.Name` → ["Account", "Owner", "Name"].
    pub parts: Vec<String>,
    pub pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsFn {
    All,
    Standard,
    Custom,
}

#[derive(Debug, Clone)]
pub enum SelectItem {
    Field(Path),
    /// `COUNT()`.
    Count,
    /// `COUNT(field) [alias]`.
    CountOf(Path, Option<String>),
    Fields(FieldsFn, usize),
    Sub(Box<Query>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(String),
    DateTime(String),
    /// `TODAY`, `LAST_N_DAYS:30`, …
    Relative(String, i64),
}

#[derive(Debug, Clone)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        path: Path,
        op: &'static str,
        value: Lit,
        value_pos: usize,
    },
    Like {
        path: Path,
        pattern: String,
        not: bool,
    },
    In {
        path: Path,
        not: bool,
        values: Vec<Lit>,
    },
    InQuery {
        path: Path,
        not: bool,
        sub: Box<Query>,
    },
}

#[derive(Debug, Clone)]
pub struct OrderItem {
    pub path: Path,
    pub desc: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub items: Vec<SelectItem>,
    pub object: String,
    pub object_pos: usize,
    pub where_: Option<Cond>,
    pub order: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}
