//! Bad input gets a clear error naming what was wrong, and nothing of the rejected
//! call is written: size limits, config fields, locks, missing directories.

mod common;

use flowdb::{Config, Engine, Error, Record, StatusCode, MAX_KEY_LEN, MAX_VALUE_LEN};

#[test]
fn a_bad_record_rejects_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    let cases = [
        (Record::new("", 1, vec![]), "empty"),
        (
            Record::new(vec![b'k'; MAX_KEY_LEN + 1], 1, vec![]),
            "64 KiB",
        ),
        (Record::new("k", 1, vec![0; MAX_VALUE_LEN + 1]), "64 MiB"),
    ];
    for (bad, what) in cases {
        let err = e
            .write_batch(&[Record::new("ok", 1, vec![]), bad])
            .unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument);
        assert!(err.to_string().contains(what), "{err}");
        assert!(
            e.get("ok", 1).unwrap().is_none(),
            "nothing of the batch is written"
        );
    }
    e.write_batch(&[Record::new(vec![b'k'; MAX_KEY_LEN], 1, vec![0; 1 << 20])])
        .unwrap();
    assert!(matches!(
        e.delete_batch(&[(String::new(), 1)]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn config_is_validated_at_open_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (config, field) in [
        (
            Config {
                memtable_size_mb: 0,
                ..common::small_config(dir.path())
            },
            "memtable_size_mb",
        ),
        (
            Config {
                max_frozen_memtables: 0,
                ..common::small_config(dir.path())
            },
            "max_frozen_memtables",
        ),
        (
            Config {
                time_bucket_secs: u64::MAX,
                ..common::small_config(dir.path())
            },
            "time_bucket_secs",
        ),
        (
            Config {
                default_ttl_secs: Some(0),
                ..common::small_config(dir.path())
            },
            "default_ttl_secs",
        ),
        (
            Config {
                data_dir: "".into(),
                ..common::small_config(dir.path())
            },
            "data_dir",
        ),
    ] {
        let err = Engine::open(config).err().unwrap();
        assert_eq!(err.code(), StatusCode::InvalidArgument);
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn missing_directory_without_create_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        create_if_missing: false,
        ..common::small_config(&dir.path().join("nope"))
    };
    assert_eq!(
        Engine::open(config).err().unwrap().code(),
        StatusCode::NotFound
    );
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert_eq!(
        Engine::open(common::small_config(&file))
            .err()
            .unwrap()
            .code(),
        StatusCode::InvalidArgument
    );
}

#[test]
fn a_second_open_is_locked_at_once_until_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    let started = std::time::Instant::now();
    let err = Engine::open(common::small_config(dir.path()))
        .err()
        .unwrap();
    assert_eq!(err.code(), StatusCode::Locked);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    e.shutdown().unwrap();
    Engine::open(common::small_config(dir.path()))
        .unwrap()
        .shutdown()
        .unwrap();
}
