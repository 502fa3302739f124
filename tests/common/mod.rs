//! Helpers shared by the integration tests: a real smoke study, the binary with a clean
//! environment.
// Each test crate compiles this module and uses a part of it.
#![allow(dead_code)]
use convlab::settings::ProfileName;
use convlab::settings::Settings;
use convlab::study::Study;
use std::path::Path;

/// The smoke profile with `seeds`, everything under `root`, quiet.
pub fn smoke_study(root: &Path, seeds: Vec<u64>) -> Study {
    let settings = Settings {
        profile: ProfileName::Smoke,
        seeds: Some(seeds),
        ..Settings::defaults(root, &root.join("cache"))
    };
    let mut study = Study::open(&settings).unwrap();
    study.options.progress = false;
    study.options.quiet = true;
    study
}

/// A run's best validation accuracy, read from its `summary.json` itself.
pub fn best_val_acc(dir: &Path) -> f64 {
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    s["best_val_acc"].as_f64().unwrap()
}

/// The `convlab` binary with every `CONVLAB_*` variable of the test's environment removed.
pub fn scrubbed_convlab() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convlab"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CONVLAB_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// [`scrubbed_convlab`] run in `root` (the project root) on the smoke profile's cache, with
/// runs in `runs` and figures under `root/figures`.
pub fn convlab_cmd(root: &Path, runs: &Path) -> std::process::Command {
    let mut cmd = scrubbed_convlab();
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

/// A `history.csv`'s rows without the timing columns (seconds, images/s): what two runs of
/// one configuration must share.
pub fn history_numbers(csv: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .map(|l| l.split(',').take(7).map(String::from).collect())
        .collect()
}

/// A synthetic ImageFolder tree under `root`: `classes` classes of `train_per_class` training
/// and one validation image each, `size`×`size`, PNG only, no test split.
pub fn tiny_tree(root: &Path, classes: usize, train_per_class: usize, size: u32) {
    let s = convlab::data::SynthConfig {
        classes,
        train_per_class,
        val_per_class: 1,
        test: 0,
        size,
        seed: 0,
        mixed_formats: false,
        ..Default::default()
    };
    convlab::data::synthetic::write_image_folder(root, &s).unwrap();
}

/// The ImageFolder tree at `root`, cached in `cache`.
pub fn image_folder(root: &Path, cache: &Path) -> convlab::data::DataConfig {
    convlab::data::DataConfig {
        cache_dir: Some(cache.to_path_buf()),
        ..convlab::data::DataConfig::new(convlab::data::Source::ImageFolder {
            root: root.to_path_buf(),
        })
    }
}

/// An IDX file (Fashion-MNIST's format) of unsigned bytes with `dims`.
pub fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

/// Every file below `dir`, in path order (none when `dir` cannot be read).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The seed directories (`seed-<s>`) of one run directory: how many seeds a variant has run.
pub fn seed_dirs(run: &Path) -> usize {
    std::fs::read_dir(run).map_or(0, |d| {
        d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("seed-")).count()
    })
}
