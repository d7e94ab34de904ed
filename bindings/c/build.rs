//! Gives the shared library a SONAME (libflowdb.so.MAJOR), as C libraries have, so
//! programs linked against it keep working across compatible updates.
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libflowdb.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
