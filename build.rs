//! Link-time settings for binaries and tests of this crate:
//! - an rpath to libtorch's `lib/`, so they run without LD_LIBRARY_PATH;
//! - `libtorch_cuda` kept with `--no-as-needed` when present, so CUDA's
//!   kernels register and `tch::Cuda::is_available()` is true on a GPU machine.
//! torch-sys (links = "tch") tells us where libtorch's libraries are.
use std::{env, path::Path};

fn main() {
    // The commit this build comes from, recorded in every run's config.json.
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CONVLAB_GIT={git}");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:warning=torch-sys did not report libtorch's lib dir; run `make setup`");
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
