//! Query plans: how a query reads its documents. [`choose`] picks one from the
//! query's filters and order and the store's indexes, before anything is read;
//! `exec` runs it. Kept apart so that which plan a query gets can be read (and
//! tested) in one place rather than followed through the reading code.

use smallvec::SmallVec;

use super::Filter;
use crate::jsondb::schema::{IndexEntry, StoreEntry};

/// A way to run a query; the variants in order of preference. Every plan gives the
/// same documents in the same order as `Scan` (or `SortedScan` with an order), which
/// read every document: tests check each query against `scan_only`.
#[derive(Debug)]
pub(super) enum Plan<'p> {
    /// `order_by(g)` with equality filters on `f1..fk` and an index on `[f1..fk, g]`:
    /// a prefix scan of that compound index, already in `g` order. `prefix` holds
    /// the equality keys in the order of the index's key paths; `served` the filters
    /// the index guarantees (every equality filter), which are not checked again.
    CompoundPrefix {
        index: &'p IndexEntry,
        prefix: SmallVec<[&'p [u8]; 4]>,
        served: SmallVec<[usize; 4]>,
    },
    /// `order_by(g)` with an index on `g`: a scan of that index.
    IndexOrder { index: &'p IndexEntry },
    /// `order_by(g)` with no index for it: every matching document, sorted by its key
    /// at `field` (ties by primary key).
    SortedScan { field: &'p str },
    /// No `order_by`, and the first filter with an index is the equality `filter`:
    /// that key's entries, which are in primary-key order.
    IndexEq {
        index: &'p IndexEntry,
        filter: usize,
        key: &'p [u8],
    },
    /// No `order_by`, and the first filter with an index is the `in` filter `filter`:
    /// the primary keys of every listed key's entries, sorted, each read once.
    IndexIn {
        index: &'p IndexEntry,
        filter: usize,
        keys: &'p [Vec<u8>],
    },
    /// No `order_by`, and the first filter with an index is the range `filter`
    /// (`lo <= key < end`). Only reading tells how many keys and entries are in
    /// range, so this plan decides as it reads: with `merge` (the query has a limit)
    /// a k-way merge by primary key of one lazy cursor per distinct key, when at most
    /// `MERGE_MAX_KEYS` keys are in range; otherwise, when few entries are in range
    /// (under `RANGE_INDEX_MAX`, or under 4 x (offset + limit) with a limit), those
    /// entries' documents sorted by primary key; otherwise it runs as `Scan`, which
    /// stops early and so reads less.
    IndexRange {
        index: &'p IndexEntry,
        filter: usize,
        lo: &'p [u8],
        end: &'p [u8],
        merge: bool,
    },
    /// A primary-key scan checking every filter, stopping once `offset + limit`
    /// documents matched.
    Scan,
}

/// The plan for a query with `filters` and `order` (the `order_by` field) over the
/// store `s`: without `use_indexes` (`scan_only`) always a scan; `limited` says the
/// query has a limit (which makes a merge of index cursors worth trying).
pub(super) fn choose<'p>(
    s: &'p StoreEntry,
    filters: &'p [Filter<'_>],
    order: Option<&'p str>,
    use_indexes: bool,
    limited: bool,
) -> Plan<'p> {
    let single = |field: &str| {
        if use_indexes {
            single_index(s, field)
        } else {
            None
        }
    };
    if let Some(g) = order {
        if let Some(plan) = use_indexes.then(|| compound(s, filters, g)).flatten() {
            return plan;
        }
        return match single(g) {
            Some(index) => Plan::IndexOrder { index },
            None => Plan::SortedScan { field: g },
        };
    }
    // The first filter with an index decides, whatever its kind: the others are
    // checked on the documents it yields.
    for (i, f) in filters.iter().enumerate() {
        let Some(index) = single(f.field()) else {
            continue;
        };
        return match f {
            Filter::Eq(_, key) => Plan::IndexEq {
                index,
                filter: i,
                key,
            },
            Filter::In(_, keys) => Plan::IndexIn {
                index,
                filter: i,
                keys,
            },
            Filter::Range(_, lo, end) => Plan::IndexRange {
                index,
                filter: i,
                lo,
                end,
                merge: limited,
            },
        };
    }
    Plan::Scan
}

/// An index over exactly `field` (one key path, not multi-entry).
fn single_index<'s>(s: &'s StoreEntry, field: &str) -> Option<&'s IndexEntry> {
    s.indexes
        .iter()
        // (A one-path array key path, stored as `["a"]`, keys by `[a]`: not the field
        // named `["a"]`.)
        .find(|i| {
            let p = &i.def.key_paths;
            !i.def.multi_entry && p.len() == 1 && p[0] == field && !p[0].starts_with('[')
        })
}

/// `CompoundPrefix` for `order_by(g)`, when an index's key paths are the equality
/// filters' fields followed by `g`: each path matched by exactly one filter, and each
/// filter's field by exactly one path (an index repeating a path, `["a", "a", "g"]`,
/// covers `a` twice and serves no other filter).
fn compound<'p>(s: &'p StoreEntry, filters: &'p [Filter<'_>], g: &str) -> Option<Plan<'p>> {
    let eqs: SmallVec<[(&str, &[u8]); 4]> = filters
        .iter()
        .filter_map(|f| match f {
            Filter::Eq(field, k) => Some((&**field, &**k)),
            _ => None,
        })
        .collect();
    let index = s.indexes.iter().find(|i| {
        let p = &i.def.key_paths;
        !i.def.multi_entry
            && !eqs.is_empty()
            && p.len() == eqs.len() + 1
            && p.last().is_some_and(|l| l == g)
            && p[..eqs.len()]
                .iter()
                .all(|f| eqs.iter().filter(|(e, _)| *e == f).count() == 1)
            && eqs
                .iter()
                .all(|(e, _)| p[..eqs.len()].iter().filter(|f| *f == e).count() == 1)
    })?;
    let prefix = index.def.key_paths[..eqs.len()]
        .iter()
        .map(|p| {
            eqs.iter()
                .find(|(e, _)| e == p)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        })
        .collect();
    // Every equality filter is a prefix of the index key: the index serves them.
    let served = (0..filters.len())
        .filter(|i| matches!(filters[*i], Filter::Eq(..)))
        .collect();
    Some(Plan::CompoundPrefix {
        index,
        prefix,
        served,
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::{json, Value};

    use super::*;
    use crate::jsondb::key;
    use crate::jsondb::schema::IndexDef;

    /// A store with indexes `(name, key paths, multi_entry)`.
    fn store(indexes: &[(&str, &[&str], bool)]) -> StoreEntry {
        StoreEntry {
            id: 1,
            name: "s".into(),
            key_path: "id".into(),
            auto_increment: false,
            indexes: indexes
                .iter()
                .zip(1..)
                .map(|((name, paths, multi), id)| IndexEntry {
                    id,
                    def: IndexDef {
                        name: name.to_string(),
                        key_paths: paths.iter().map(|p| p.to_string()).collect(),
                        unique: false,
                        multi_entry: *multi,
                    },
                })
                .collect(),
        }
    }

    fn k(v: Value) -> Vec<u8> {
        key::encode(&v).unwrap()
    }

    fn eq(field: &'static str, v: Value) -> Filter<'static> {
        Filter::Eq(Cow::Borrowed(field), Cow::Owned(k(v)))
    }

    fn range(field: &'static str, lo: Value, end: Value) -> Filter<'static> {
        Filter::Range(Cow::Borrowed(field), k(lo), k(end))
    }

    fn in_(field: &'static str, vs: &[Value]) -> Filter<'static> {
        Filter::In(Cow::Borrowed(field), vs.iter().cloned().map(k).collect())
    }

    fn name(index: &IndexEntry) -> &str {
        &index.def.name
    }

    fn all() -> StoreEntry {
        store(&[
            ("by_city", &["city"], false),
            ("by_age", &["age"], false),
            ("by_city_age", &["city", "age"], false),
            ("by_tag", &["tags"], true),
        ])
    }

    #[test]
    fn an_equality_on_an_indexed_field_uses_its_index() {
        let s = all();
        let f = [eq("age", json!(30))];
        match choose(&s, &f, None, true, false) {
            Plan::IndexEq { index, filter, key } => {
                assert_eq!((name(index), filter), ("by_age", 0));
                assert_eq!(key, &k(json!(30))[..]);
            }
            p => panic!("{p:?}"),
        };
    }

    #[test]
    fn scan_only_scans() {
        let s = all();
        let f = [eq("age", json!(30))];
        assert!(matches!(choose(&s, &f, None, false, false), Plan::Scan));
        assert!(matches!(
            choose(&s, &f, Some("age"), false, true),
            Plan::SortedScan { field: "age" }
        ));
    }

    #[test]
    fn the_first_indexed_filter_decides() {
        let s = all();
        // "name" has no index and the multi-entry index does not serve an equality.
        let f = [
            eq("name", json!("a")),
            eq("tags", json!("x")),
            range("age", json!(20), json!(30)),
            eq("city", json!("Oslo")),
        ];
        match choose(&s, &f, None, true, true) {
            Plan::IndexRange {
                index,
                filter,
                merge,
                ..
            } => assert_eq!((name(index), filter, merge), ("by_age", 2, true)),
            p => panic!("{p:?}"),
        }
        let f = [in_("city", &[json!("Oslo"), json!("Rome")])];
        match choose(&s, &f, None, true, false) {
            Plan::IndexIn { index, keys, .. } => {
                assert_eq!((name(index), keys.len()), ("by_city", 2))
            }
            p => panic!("{p:?}"),
        }
        let f = [eq("name", json!("a"))];
        assert!(matches!(choose(&s, &f, None, true, true), Plan::Scan));
    }

    #[test]
    fn order_by_prefers_a_compound_index_then_a_single_one() {
        let s = all();
        let f = [eq("city", json!("Oslo"))];
        match choose(&s, &f, Some("age"), true, false) {
            Plan::CompoundPrefix {
                index,
                prefix,
                served,
            } => {
                assert_eq!(name(index), "by_city_age");
                assert_eq!(prefix.as_slice(), [&k(json!("Oslo"))[..]]);
                assert_eq!(served.as_slice(), [0]);
            }
            p => panic!("{p:?}"),
        }
        // A range is no prefix of the compound key: the index on the order field.
        let f = [range("city", json!("A"), json!("P"))];
        assert!(matches!(
            choose(&s, &f, Some("age"), true, false),
            Plan::IndexOrder { index } if name(index) == "by_age"
        ));
        assert!(matches!(
            choose(&s, &[], Some("name"), true, false),
            Plan::SortedScan { field: "name" }
        ));
    }
}
