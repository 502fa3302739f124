//! Link-time settings for binaries and tests of this crate:
//! - an rpath to libtorch's `lib/`, so they run without LD_LIBRARY_PATH;
//! - `libtorch_cuda` kept with `--no-as-needed` when present, so CUDA's
//!   kernels register and `tch::Cuda::is_available()` is true on a GPU machine.
//! - libtorch's C++ API, reached one way: `extern "C"` wrappers compiled against
//!   libtorch's headers — src/train/optim.cpp (the multi-tensor SGD and AdamW steps) and
//!   src/autocast.cpp (CUDA autocast in bf16), src/torch_info.cpp (versions, for `convlab doctor`).
//!
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
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    println!("cargo:rerun-if-changed=src/train/optim.cpp");
    println!("cargo:rerun-if-changed=src/autocast.cpp");
    println!("cargo:rerun-if-changed=src/torch_info.cpp");
    let lib = env::var("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys did not report libtorch's lib dir; run `make setup`");
    // The C++ wrappers (optimizer steps, autocast), against libtorch's headers, with
    // the C++ ABI torch-sys builds with (PyTorch wheels since 2.7 use the new one).
    let include = Path::new(&lib)
        .parent()
        .map(|torch| torch.join("include"))
        .filter(|p| p.join("ATen").is_dir());
    let include =
        include.unwrap_or_else(|| panic!("no libtorch headers (include/ATen) beside {lib}"));
    let abi = env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    cc::Build::new()
        .cpp(true)
        .file("src/train/optim.cpp")
        .file("src/autocast.cpp")
        .file("src/torch_info.cpp")
        .include(&include)
        .std("c++17")
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .warnings(false)
        .extra_warnings(false)
        .flag_if_supported("-w")
        .compile("convlab_cpp");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
