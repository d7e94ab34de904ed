//! Gives cargo's shared library a SONAME, as C libraries have: libflowdb.so.MAJOR.MINOR
//! while the major version is 0 (every 0.x minor release may break the ABI), then
//! libflowdb.so.MAJOR, as cargo-c names them.
//!
//! The shared library CMake ships (and installs) is not this one: CMake links it again
//! from the static library with a linker version script, so that its symbols carry the
//! version node FLOWDB_<soversion> (cmake/flowdb-artifacts.cmake). A version script
//! passed from here cannot do that: rustc hands the linker its own, unversioned one
//! first, which the linker follows. docs/install.md has the policy.
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_else(|_| "0".into());
    let soversion = if major == "0" {
        format!("{major}.{minor}")
    } else {
        major
    };
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libflowdb.so.{soversion}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
