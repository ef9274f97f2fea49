//! Finds libgisp.so: `$GISP_LIB_DIR` when set (an override, e.g. a build tree), otherwise the
//! installed SDK through pkg-config (`gisp.pc`; set PKG_CONFIG_PATH to `PREFIX/lib/pkgconfig`
//! for an SDK outside the system paths). An rpath is added so test and example binaries run
//! without LD_LIBRARY_PATH.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Result<String, String> {
    let tool = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&tool)
        .args(args)
        .arg("gisp")
        .output()
        .map_err(|e| format!("cannot run {tool}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn find_library() -> Result<PathBuf, String> {
    if let Ok(dir) = env::var("GISP_LIB_DIR") {
        return Ok(PathBuf::from(dir));
    }
    // The crate's version is the release it was written for; an older library lacks symbols.
    let want = env::var("CARGO_PKG_VERSION").unwrap();
    let found = pkg_config(&["--modversion"]).map_err(|e| {
        format!(
            "gisp-sys: libgisp not found through pkg-config ({e}). Install the SDK \
             (`bazel run //:install -- --prefix DIR`) and set PKG_CONFIG_PATH=DIR/lib/pkgconfig, \
             or set GISP_LIB_DIR to the directory holding libgisp.so"
        )
    })?;
    pkg_config(&[&format!("--atleast-version={want}")]).map_err(|_| {
        format!("gisp-sys: pkg-config found gisp {found}, this crate needs {want} or newer")
    })?;
    Ok(PathBuf::from(pkg_config(&["--variable=libdir"])?))
}

fn main() {
    println!("cargo:rerun-if-env-changed=GISP_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    let dir = match find_library() {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(1);
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
