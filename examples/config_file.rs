//! Loads the engine's configuration from a TOML file, as programs written for the
//! published flowdb 0.7 crate do: fields left out take their defaults, and the sync
//! mode is written `"always"` or `{ intervalms = N }`.
//!
//! `cargo run --example config_file [DATA_DIR]`

use flowdb::{Config, Engine, Record, SyncMode};

const FILE: &str = r#"
memtable_size_mb = 16
block_size = 4096
default_ttl_secs = 86400
wal_sync_mode = { intervalms = 200 }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./data-config-example".into());
    let mut config: Config = toml::from_str(FILE)?;
    config.data_dir = data_dir.into();
    assert_eq!(config.wal_sync_mode, SyncMode::IntervalMs(200));
    assert_eq!(config.bloom_bits_per_key, 10); // not in the file: the default
                                               // The same configuration as JSON, for programs that keep it there.
    let json = serde_json::to_string_pretty(&config)?;
    assert_eq!(serde_json::from_str::<Config>(&json)?, config);

    let engine = Engine::open(config)?;
    let now = flowdb::now_micros();
    engine.write_batch(&[Record::new("cpu.host-1", now, b"42.5".to_vec())])?;
    let latest = engine.get_latest("cpu.host-1")?;
    println!(
        "latest: {:?}",
        latest.map(|r| String::from_utf8_lossy(&r.value).into_owned())
    );
    engine.shutdown()?;
    Ok(())
}
