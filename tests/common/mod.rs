//! Helpers shared by the integration tests: a real smoke study, the binary with a clean environment.
// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]
use convlab::settings::Settings;
use convlab::study::{ProfileName, Study};
use std::path::Path;

/// The smoke profile with `seeds`, everything under `root`, quiet.
pub fn smoke_study(root: &Path, seeds: Vec<u64>) -> Study {
    let settings = Settings { profile: ProfileName::Smoke, seeds: Some(seeds), ..Settings::defaults(root, &root.join("cache")) };
    let mut study = Study::open(&settings).unwrap();
    study.options.progress = false;
    study.options.quiet = true;
    study
}

/// A run's best validation accuracy, read from its `summary.json` itself.
pub fn best_val_acc(dir: &Path) -> f64 {
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    s["best_val_acc"].as_f64().unwrap()
}

/// The `convlab` binary with every `CONVLAB_*` variable of the test's environment removed,
/// run in `root` (the project root) on the smoke profile's cache, with runs in `runs` and
/// figures under `root/figures`.
pub fn convlab_cmd(root: &Path, runs: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convlab"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CONVLAB_")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(root)
        .env("CONVLAB_ROOT", root)
        .env("CONVLAB_CACHE", root.join("cache"))
        .env("CONVLAB_RUNS", runs)
        .env("CONVLAB_FIGURES", root.join("figures"));
    cmd
}

/// stdout and stderr of a finished command, as text.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
