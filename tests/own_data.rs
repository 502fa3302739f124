//! A researcher's own data through the real binary, as the "Your own data" chapter walks it:
//! Tiny ImageNet's published layout (an unlabelled test split), a 64×64 colour ImageFolder
//! tree without `val/`, and a tree of mixed sizes with grayscale among colour. Each goes
//! through `convlab data inspect`, then studies on `quick` (the paper's whole plan, so the
//! half-width variant at 64×64 too) and on `full`, and ends in a write-up — or in a one-line
//! error before any unit trains.
use std::path::{Path, PathBuf};

mod common;
use common::{convlab_cmd, text};

/// A generated tree under `root` (`convlab data synth`, as the chapter writes one).
fn synth(root: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = root.join(name);
    let o = convlab_cmd(root, &root.join("runs"))
        .args(["data", "synth", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    out
}

/// `convlab ARGS` in the project at `root`; (exit code, stdout + stderr, the last line of stderr).
fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let o = convlab_cmd(root, &root.join("runs")).args(args).output().unwrap();
    let last =
        String::from_utf8_lossy(&o.stderr).trim_end().lines().last().unwrap_or("").to_string();
    (o.status.code().unwrap_or(-1), text(&o), last)
}

/// Run directories with a `config.json` under `runs/<profile>/`: what was trained.
fn trained(root: &Path, profile: &str) -> Vec<PathBuf> {
    common::files_under(&root.join("runs").join(profile))
        .into_iter()
        .filter(|p| {
            p.ends_with("config.json")
                && p.parent().unwrap().file_name().unwrap().to_string_lossy().starts_with("seed-")
        })
        .collect()
}

fn config(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run).unwrap()).unwrap()
}

/// Refused in one line that names the fix, before anything trained.
fn refused(root: &Path, args: &[&str], fix: &str, profile: &str) {
    let (code, all, last) = run(root, args);
    assert_eq!(code, 1, "{all}");
    assert!(
        last.starts_with("error: ") && last.contains(fix),
        "the last line should name `{fix}`:\n{all}"
    );
    assert!(trained(root, profile).is_empty(), "refused, yet something trained:\n{all}");
}

#[test]
fn tiny_imagenet_from_inspect_to_the_write_up_on_quick_and_full() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tree = synth(
        root,
        "tiny",
        &[
            "--layout",
            "tiny-imagenet",
            "--classes",
            "6",
            "--train-per-class",
            "12",
            "--val-per-class",
            "3",
            "--test",
            "10",
            "--size",
            "64",
        ],
    );
    let data = format!("tiny:{}", tree.display());

    let (code, out, _) = run(root, &["data", "inspect", "--data", &data, "--profile", "quick"]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "layout: Tiny ImageNet",
        "classes: 6 of 6 (CRC-32 288d41f9)",
        "test 10 (unlabelled",
        "sizes (1): 64×64 100",
        "NCHW for xknet18-half",
        "a study would be refused before training",
        "--score best-val",
    ] {
        assert!(out.contains(want), "inspect lacks `{want}`:\n{out}");
    }
    // quick scores test accuracy: refused before any unit trains, the fix in one line.
    refused(
        root,
        &["study", "--profile", "quick", "--data", &data, "--sections", "baseline,xknet18"],
        "--score best-val",
        "quick",
    );

    // The paper's whole plan on quick, scored on validation: every section, the half-width net
    // NCHW.
    let quick = [
        "--profile",
        "quick",
        "--data",
        &data,
        "--score",
        "best-val",
        "--epochs",
        "1",
        "--seeds",
        "1",
    ];
    let (code, out, _) = run(root, &[&["study"][..], &quick].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("memory format auto: channels-last, NCHW for xknet18-half"), "{out}");
    let runs = trained(root, "quick");
    assert_eq!(runs.len(), 27, "16 variants and 11 probes, one seed each");
    for r in &runs {
        let c = config(r);
        assert_eq!(c["dataset"]["classes_crc32"], "288d41f9", "{}", r.display());
        let half = r.to_string_lossy().contains("/xknet18-half/");
        assert_eq!(c["train"]["channels_last"], !half, "{}", r.display());
    }
    let (code, out, _) = run(root, &[&["report"][..], &quick].concat());
    assert_eq!(code, 0, "{out}");
    let doc = std::fs::read_to_string(root.join("figures/quick/writeup.md")).unwrap();
    for want in [
        "**Data.** tiny-imagenet at",
        "6 of its 6 classes, every class (CRC-32 of the class list `288d41f9`",
        "test 10, unlabelled",
        "NCHW for xknet18-half",
        "compare the best validation accuracy",
    ] {
        assert!(doc.contains(want), "the write-up lacks `{want}`");
    }
    let classes = std::fs::read_to_string(root.join("figures/quick/tables/classes.csv")).unwrap();
    assert_eq!(classes.lines().count(), 7, "{classes}");
    assert!(classes.contains("5,n90000005"), "{classes}");

    // The notebooks for it: the settings go beside them, where their kernel reads them.
    let nb = root.join("nb");
    let (code, out, _) = run(
        root,
        &[
            "notebooks",
            "--dir",
            nb.to_str().unwrap(),
            "--profile",
            "quick",
            "--data",
            &data,
            "--score",
            "best-val",
            "--epochs",
            "1",
            "--seeds",
            "1",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let written = std::fs::read_to_string(nb.join("convlab.toml")).unwrap();
    let layer =
        convlab::settings::Layer::from_toml(&nb.join("convlab.toml"), &written, &nb).unwrap();
    assert_eq!(
        layer.data,
        Some(convlab::data::Source::TinyImageNet { root: tree.clone(), readable_names: false }),
        "{written}"
    );
    assert_eq!(layer.data_settings.score, Some(convlab::settings::Score::BestVal));
    assert!(nb.join("01_baseline.ipynb").is_file() && nb.join("10_summary.ipynb").is_file());

    // Two sections on full: 64×64 RGB, width 64, channels-last for every variant.
    let full = [
        "--profile",
        "full",
        "--data",
        &data,
        "--sections",
        "baseline,xknet18",
        "--epochs",
        "1",
        "--seeds",
        "1,2",
    ];
    let (code, out, _) = run(root, &[&["study"][..], &full].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("memory format auto: channels-last for every variant"), "{out}");
    assert_eq!(trained(root, "full").len(), 4);
    let (code, out, _) = run(root, &[&["report"][..], &full[..4]].concat());
    assert_eq!(code, 0, "{out}");
    let doc = std::fs::read_to_string(root.join("figures/full/writeup.md")).unwrap();
    assert!(
        doc.contains("**Missing.**") && doc.contains("tiny-imagenet at"),
        "a partial study's write-up says what is missing"
    );
}

#[test]
fn an_image_folder_without_val_holds_out_part_of_train() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tree = synth(
        root,
        "folder",
        &[
            "--classes",
            "5",
            "--train-per-class",
            "20",
            "--val-per-class",
            "0",
            "--test",
            "15",
            "--labelled-test",
            "--size",
            "64",
        ],
    );
    let data = format!("imagefolder:{}", tree.display());
    let (code, out, _) = run(root, &["data", "inspect", "--data", &data, "--profile", "quick"]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "val held out of train/ (10% of each class, seed 0)",
        "test/<class>/ (labelled)",
        "images: train 90, val 10, test 15 (labelled)",
        "a study can train and score it",
    ] {
        assert!(out.contains(want), "inspect lacks `{want}`:\n{out}");
    }
    // Test accuracy at the best epoch, on quick's default score; the width section has the
    // half-width net.
    let args = [
        "--profile",
        "quick",
        "--data",
        &data,
        "--sections",
        "baseline,width",
        "--epochs",
        "1",
        "--seeds",
        "1,2",
    ];
    let (code, out, _) = run(root, &[&["study"][..], &args].concat());
    assert_eq!(code, 0, "{out}");
    let runs = trained(root, "quick");
    assert_eq!(runs.len(), 6);
    let c = config(&runs[0]);
    assert_eq!(
        c["data"]["holdout"],
        serde_json::json!({"fraction": 0.1, "seed": 0}),
        "the run records its hold-out"
    );
    assert_eq!(
        (c["dataset"]["train"].as_u64(), c["dataset"]["val"].as_u64()),
        (Some(90), Some(10))
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(runs[0].with_file_name("summary.json")).unwrap())
            .unwrap();
    assert!(summary["test_acc"].is_f64(), "the labelled test split was scored");
    let (code, out, _) = run(root, &[&["report"][..], &args[..4]].concat());
    assert_eq!(code, 0, "{out}");
    let doc = std::fs::read_to_string(root.join("figures/quick/writeup.md")).unwrap();
    assert!(
        doc.contains("Validation is held out of `train/`: 0.1 of each class's images")
            && doc.contains("test accuracy of the best epoch")
    );
    // Asked for on a tree that has val/: the fraction wins, and a bad one is one line.
    refused(
        root,
        &[
            "study",
            "--profile",
            "quick",
            "--data",
            &data,
            "--holdout",
            "1.5",
            "--sections",
            "baseline",
        ],
        "--holdout 1.5: the share of training images held out must be between 0 and 1",
        "none",
    );
}

#[test]
fn mixed_sizes_and_grayscale_need_a_size_on_quick_and_are_resized_on_full() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tree = synth(
        root,
        "mixed",
        &[
            "--classes",
            "4",
            "--train-per-class",
            "10",
            "--val-per-class",
            "3",
            "--test",
            "8",
            "--labelled-test",
            "--size",
            "64",
            "--mixed",
        ],
    );
    let data = format!("imagefolder:{}", tree.display());
    let (code, out, _) = run(root, &["data", "inspect", "--data", &data, "--profile", "quick"]);
    assert_eq!(code, 0, "a histogram, not an error:\n{out}");
    for want in [
        "sizes (3): ",
        "64×64",
        "48×48",
        "80×80",
        "gray ",
        "grayscale images repeated into 3 channels",
        "refused: 3 sizes and no --size",
        "--size N",
    ] {
        assert!(out.contains(want), "inspect lacks `{want}`:\n{out}");
    }
    refused(
        root,
        &["study", "--profile", "quick", "--data", &data, "--sections", "baseline,xknet18"],
        "--size N",
        "quick",
    );
    let (code, out, _) = run(
        root,
        &[
            "study",
            "--profile",
            "quick",
            "--data",
            &data,
            "--size",
            "32",
            "--channels",
            "3",
            "--sections",
            "baseline,xknet18",
            "--epochs",
            "1",
            "--seeds",
            "1,2",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("images: 3×32×32, RGB (every image brought to 32×32"), "{out}");
    // full resizes to its 64×64 RGB.
    let full = [
        "--profile",
        "full",
        "--data",
        &data,
        "--sections",
        "baseline,xknet18",
        "--epochs",
        "1",
        "--seeds",
        "1,2",
    ];
    let (code, out, _) = run(root, &[&["study"][..], &full].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("images: 3×64×64, RGB (every image brought to 64×64"), "{out}");
    let (code, out, _) = run(root, &[&["report"][..], &full[..4]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(
        std::fs::read_to_string(root.join("figures/full/writeup.md"))
            .unwrap()
            .contains("Images 3×64×64")
    );
}

#[test]
fn a_run_trained_on_other_data_is_not_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tree = synth(
        root,
        "tree",
        &[
            "--classes",
            "3",
            "--train-per-class",
            "8",
            "--val-per-class",
            "2",
            "--test",
            "0",
            "--size",
            "16",
        ],
    );
    let data = format!("imagefolder:{}", tree.display());
    let args = [
        "study",
        "--profile",
        "quick",
        "--data",
        &data,
        "--score",
        "best-val",
        "--sections",
        "baseline",
        "--epochs",
        "1",
        "--seeds",
        "1,2",
    ];
    let (code, out, _) = run(root, &args);
    assert_eq!(code, 0, "{out}");
    // One more training image per class: the config is the same, the data is not.
    for c in 0..3 {
        std::fs::copy(
            tree.join(format!("train/class{c:02}/img0000.png")),
            tree.join(format!("train/class{c:02}/img9999.png")),
        )
        .unwrap();
    }
    let (code, all, last) = run(root, &args);
    assert_eq!(code, 1, "{all}");
    assert!(
        last.contains("was trained on other data (train 24 → 27 images)")
            && last.contains("--runs"),
        "{all}"
    );
}

#[test]
fn doctor_reports_the_cpu_and_fails_on_an_absent_device() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, _) = run(tmp.path(), &["doctor", "--steps", "2"]);
    assert_eq!(code, 0, "{out}");
    for want in [
        "libtorch: ",
        "libtorch_cpu.so (compiled against 2.11.0)",
        "CUDA: ",
        "cuDNN: ",
        "device: `auto` → Cpu",
        "one training step on Cpu: ",
    ] {
        assert!(out.contains(want), "doctor lacks `{want}`:\n{out}");
    }
    if !tch::Cuda::is_available() {
        let (code, all, last) = run(tmp.path(), &["doctor", "--device", "cuda", "--steps", "1"]);
        assert_eq!(code, 1, "{all}");
        assert!(
            last.starts_with(
                "error: device `cuda` was asked for, but libtorch sees no CUDA device"
            ),
            "{all}"
        );
        let o = convlab_cmd(tmp.path(), &tmp.path().join("runs"))
            .env("CONVLAB_DEVICE", "cuda")
            .args(["doctor", "--steps", "1"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "the configured device comes from the settings too");
    }
}
