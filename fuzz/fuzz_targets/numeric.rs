#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| flowdb_fuzz::numeric(data));
