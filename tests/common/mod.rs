//! Helpers shared by the integration tests that read a real smoke study.
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
