//! The query builder: `where_eq`, `where_range` (half-open, `start <= field < end`, as
//! in the published flowdb crate), `where_in`,
//! `order_by`, `offset`, `limit`. It uses an index when one serves the query and
//! otherwise scans and filters; both ways give identical results (tests run every
//! query both ways via [`QueryBuilder::scan_only`]).
//!
//! Results are in primary-key order unless `order_by(field)` orders them by that
//! field's key order (ties by primary key; `Desc` is the exact reverse). Documents
//! without a valid key at the `order_by` field are left out, as an index would leave
//! them out.
//!
//! Three parts: this file holds what the caller asks for (the builder and its
//! filters); `plan` chooses how to read it (a [`plan::Plan`], by the filters, the
//! order and the store's indexes; the plans are listed there); `exec` reads the
//! documents by that plan. `offset`/`limit` apply after ordering and stop the scan
//! early in ascending plans.

mod exec;
mod plan;

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::doc::DocSink;
use super::schema::StoreEntry;
use super::{key, keypath, JsonDB, TransactionMode};
use crate::error::{Error, Result};
use plan::Plan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// A filter on a field, its keys encoded. The field and an equality's key are
/// borrowed when the caller keeps them (`where_key_eq`: the C API's built query).
enum Filter<'a> {
    Eq(Cow<'a, str>, Cow<'a, [u8]>),
    Range(Cow<'a, str>, Vec<u8>, Vec<u8>),
    In(Cow<'a, str>, Vec<Vec<u8>>),
}

impl Filter<'_> {
    fn field(&self) -> &str {
        match self {
            Filter::Eq(f, _) | Filter::Range(f, _, _) | Filter::In(f, _) => f,
        }
    }

    fn matches(&self, doc: &Value) -> bool {
        let Some(k) = keypath::evaluate(doc, self.field()).and_then(|v| key::encode(&v).ok())
        else {
            return false;
        };
        match self {
            Filter::Eq(_, e) => k == **e,
            Filter::Range(_, lo, end) => *lo <= k && k < *end,
            Filter::In(_, set) => set.contains(&k),
        }
    }
}

/// A query over one store; build it with `JsonDB::query`, run it with `collect`.
pub struct QueryBuilder<'a> {
    db: &'a JsonDB,
    store: &'a str,
    filters: Vec<Filter<'a>>,
    order: Option<(Cow<'a, str>, SortDir)>,
    limit: Option<usize>,
    offset: usize,
    use_indexes: bool,
    error: Option<Error>,
}

impl std::fmt::Debug for QueryBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryBuilder")
            .field("store", &self.store)
            .field("filters", &self.filters.len())
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl<'a> QueryBuilder<'a> {
    pub fn new(db: &'a JsonDB, store: &'a str) -> Self {
        QueryBuilder {
            db,
            store,
            filters: Vec::new(),
            order: None,
            limit: None,
            offset: 0,
            use_indexes: true,
            error: None,
        }
    }

    fn encode(&mut self, v: &Value) -> Vec<u8> {
        match key::encode(v) {
            Ok(k) => k,
            Err(e) => {
                self.error.get_or_insert(e);
                Vec::new()
            }
        }
    }

    /// Documents whose `field` equals `value` (a valid key).
    pub fn where_eq(mut self, field: &str, value: Value) -> Self {
        let k = self.encode(&value);
        self.filters
            .push(Filter::Eq(Cow::Owned(field.to_string()), Cow::Owned(k)));
        self
    }

    /// `where_eq` with the value's key already encoded ([`encode_key`](super::encode_key)),
    /// both borrowed for the query's life: for callers that build a query from steps
    /// they keep (the C API does), without copying them per run.
    pub fn where_key_eq(mut self, field: &'a str, key: &'a [u8]) -> Self {
        self.filters
            .push(Filter::Eq(Cow::Borrowed(field), Cow::Borrowed(key)));
        self
    }

    /// Documents with `start <= field < end` in key order (half-open, as the
    /// published crate's `where_range`: `[30, 30)` and `start > end` match nothing).
    pub fn where_range(mut self, field: &str, start: Value, end: Value) -> Self {
        let (lo, end) = (self.encode(&start), self.encode(&end));
        self.filters
            .push(Filter::Range(Cow::Owned(field.to_string()), lo, end));
        self
    }

    /// Documents whose `field` equals one of `values`; each document once.
    pub fn where_in(mut self, field: &str, values: Vec<Value>) -> Self {
        let mut ks: Vec<Vec<u8>> = values.iter().map(|v| self.encode(v)).collect();
        ks.sort();
        ks.dedup();
        self.filters
            .push(Filter::In(Cow::Owned(field.to_string()), ks));
        self
    }

    pub fn order_by(mut self, field: &str, dir: SortDir) -> Self {
        self.order = Some((Cow::Owned(field.to_string()), dir));
        self
    }

    /// `order_by` with the field borrowed for the query's life (see
    /// [`where_key_eq`](Self::where_key_eq)).
    pub fn order_by_field(mut self, field: &'a str, dir: SortDir) -> Self {
        self.order = Some((Cow::Borrowed(field), dir));
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn offset(mut self, n: usize) -> Self {
        self.offset = n;
        self
    }

    /// Ignores indexes (scan and filter): for checking plans against each other.
    pub fn scan_only(mut self) -> Self {
        self.use_indexes = false;
        self
    }

    /// Runs the query in a read-only transaction.
    pub fn collect(self) -> Result<Vec<Value>> {
        self.collect_as()
    }

    /// `collect`, into a [`DocSink`](super::DocSink): a `Vec` of [`Value`]s or
    /// [`RawDoc`](super::RawDoc)s, or one JSON array text ([`DocArray`](super::DocArray)).
    pub fn collect_as<S: DocSink>(mut self) -> Result<S> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let store = self.store;
        let tx = self.db.transaction(&[store], TransactionMode::ReadOnly)?;
        tx.read(&[store], |r| self.execute(r))
    }

    /// `collect`, deserializing each document.
    pub fn collect_doc<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.collect()?
            .into_iter()
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    Error::Data(format!("document does not fit the requested type: {e}"))
                })
            })
            .collect()
    }

    fn wanted(&self) -> usize {
        self.limit
            .map_or(usize::MAX, |l| self.offset.saturating_add(l))
    }

    /// How this query reads the store `s` (see [`plan::choose`]).
    fn plan<'p>(&'p self, s: &'p StoreEntry) -> Plan<'p> {
        plan::choose(
            s,
            &self.filters,
            self.order.as_ref().map(|(g, _)| &**g),
            self.use_indexes,
            self.wanted() < usize::MAX,
        )
    }
}
