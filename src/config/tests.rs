//! Tests of the configuration: the documented defaults, bad fields named, serde
//! forms (missing fields take defaults), what the published 0.7 crate accepts, and
//! the checks of `Tuning::metrics_labels`.

use super::*;

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.memtable_size_mb, 64);
    assert_eq!(c.wal_sync_mode, SyncMode::Always);
    assert!(c.validate().is_ok());
    assert!(Tuning::default().validate().is_ok());
}

#[test]
fn bad_fields_are_named() {
    let c = Config {
        block_size: 0,
        ..Config::default()
    };
    let msg = c.validate().unwrap_err().to_string();
    assert!(msg.contains("block_size"), "{msg}");
    let c = Config {
        compaction_threshold: 0,
        ..Config::default()
    };
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("compaction_threshold"));
    let c = Config {
        default_ttl_secs: Some(0),
        ..Config::default()
    };
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("default_ttl_secs"));
    let c = Config {
        time_bucket_secs: u64::MAX,
        ..Config::default()
    };
    assert!(c
        .validate()
        .unwrap_err()
        .to_string()
        .contains("time_bucket_secs"));
}

/// A configuration as data: fields left out take their defaults; `SyncMode` is
/// written as the published crate writes it.
#[test]
fn serde_fills_missing_fields_with_defaults() {
    let c: Config =
        serde_json::from_str(r#"{"data_dir":"/tmp/x","wal_sync_mode":{"intervalms":250}}"#)
            .unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(c.wal_sync_mode, SyncMode::IntervalMs(250));
    assert_eq!(c.block_size, 8192);
    assert!(c.auto_background);
    assert_eq!(
        serde_json::to_string(&SyncMode::Always).unwrap(),
        r#""always""#
    );
    let m: SyncMode = serde_json::from_str(r#"{"IntervalMs":5}"#).unwrap();
    assert_eq!(m, SyncMode::IntervalMs(5));
    let all = serde_json::to_string(&Config::default()).unwrap();
    assert_eq!(
        serde_json::from_str::<Config>(&all).unwrap(),
        Config::default()
    );
    assert_eq!(
        serde_json::from_str::<Config>("{}").unwrap(),
        Config::default()
    );
}

/// Every value the published 0.7 crate accepts (it refuses only zeros) is
/// accepted: tiny blocks, one-table merges, no intervals, huge counts.
#[test]
fn what_the_published_crate_accepts_is_accepted() {
    let c = Config {
        block_size: 1,
        compaction_threshold: 1,
        gc_interval_secs: 0,
        flush_interval_ms: 0,
        index_memory_budget_mb: 0,
        bloom_bits_per_key: 1000,
        max_frozen_memtables: 1000,
        wal_sync_mode: SyncMode::IntervalMs(0),
        ..Config::default()
    };
    c.validate().unwrap();
    assert_eq!(c.bloom_bits(), 64);
    assert_eq!(c.merge_threshold(), 4);
}

/// Metrics labels: valid names pass (any value); a bad, reserved or repeated name
/// is named in the error, with what is wrong with it.
#[test]
fn metrics_label_names_are_checked() {
    let with = |names: &[&str]| {
        let t = Tuning {
            metrics_labels: names
                .iter()
                .map(|n| (n.to_string(), "a \"b\"\n\\".to_string()))
                .collect(),
            ..Tuning::default()
        };
        t.validate().map_err(|e| e.to_string())
    };
    with(&["db", "_x", "Shard_2", "l_e", "quantiles"]).unwrap();
    for (names, wanted) in [
        (&["db", ""][..], "metrics_labels[1]: label name \"\" is not"),
        (&["2db"][..], "\"2db\" is not a Prometheus label name"),
        (&["d-b"][..], "\"d-b\" is not"),
        (&["db", "é"][..], "metrics_labels[1]"),
        (&["__name__"][..], "begins with \"__\""),
        (
            &["quantile"][..],
            "\"quantile\" is a label flowdb's own samples use",
        ),
        (&["le"][..], "\"le\" is a label flowdb"),
        (
            &["db", "x", "db"][..],
            "metrics_labels[2]: label name \"db\" is given twice",
        ),
    ] {
        let msg = with(names).unwrap_err();
        assert!(msg.contains(wanted), "{names:?}: {msg}");
        assert!(msg.starts_with("invalid argument"), "{msg}");
    }
}
