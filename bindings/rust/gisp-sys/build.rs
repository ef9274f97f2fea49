//! Finds libgisp.so: $GISP_LIB_DIR, else the repository's bazel-bin/c_api
//! (`bazel build //c_api:shared_library`). An rpath is added so test and example binaries run
//! without LD_LIBRARY_PATH.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=GISP_LIB_DIR");
    let dir = match env::var("GISP_LIB_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
            manifest.join("../../../bazel-bin/c_api")
        }
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("libgisp.so").display()
    );
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=gisp");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    // Dependents (the safe crate) read this as DEP_GISP_LIB_DIR to set the same rpath on their
    // tests and examples: link arguments do not propagate between crates.
    println!("cargo:lib_dir={}", dir.display());
}
