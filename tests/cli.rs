//! The `convlab` command line: a whole workflow, a kill and resume, and its error paths.
mod common;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn convlab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convlab")).current_dir(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn synth(dir: &Path) {
    let o = convlab(
        dir,
        &[
            "data",
            "synth",
            "--out",
            "tree",
            "--classes",
            "3",
            "--train-per-class",
            "32",
            "--val-per-class",
            "8",
            "--test",
            "6",
            "--size",
            "12",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

const TINY: [&str; 16] = [
    "--data",
    "imagefolder:tree",
    "--cache",
    "cache",
    "--width",
    "8",
    "--blocks",
    "1,1,1,1",
    "--lr",
    "0.05",
    "--device",
    "cpu",
    "--threads",
    "1",
    "--schedule",
    "step:3:0.5",
];

#[test]
fn workflow_train_runs_plot_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    synth(d);
    let mut args = vec!["train", "--name", "tiny", "--epochs", "3", "--seeds", "1,2"];
    args.extend(TINY);
    let o = convlab(d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    assert!(log.contains("epoch  3/3  train"), "one line per epoch when not a terminal:\n{log}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("over 2 seed(s)"));

    let o = convlab(d, &["runs"]);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(table.lines().any(|l| l.starts_with("│ tiny ") && l.contains(" 2 ")), "{table}");

    let o = convlab(d, &["plot", "runs/tiny", "-o", "fig.svg", "--title", "tiny"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(d.join("fig.svg")).unwrap();
    assert!(svg.contains("seed-1") && svg.contains("seed-2"));

    let o = convlab(d, &["predict", "runs/tiny/seed-2", "--split", "val", "--device", "cpu"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("runs/tiny/seed-2/val.txt")).unwrap().lines().count(),
        24
    );

    // Same command again: the stored result, no training.
    let o = convlab(d, &args);
    assert!(o.status.success() && !stderr(&o).contains("epoch  1/3"), "{}", stderr(&o));
    // Another config under the same name is refused.
    let mut other = args.clone();
    other.extend(["--dropout", "0.1"]);
    let o = convlab(d, &other);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("different config") && stderr(&o).contains("model.dropout"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn killed_run_resumes_to_the_same_history() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    synth(d);
    let epochs = "40";
    let mut full = vec!["train", "--name", "full", "--epochs", epochs];
    full.extend(TINY);
    assert!(convlab(d, &full).status.success());

    let mut cut = vec!["train", "--name", "cut", "--epochs", epochs];
    cut.extend(TINY);
    let mut child = Command::new(env!("CARGO_BIN_EXE_convlab"))
        .current_dir(d)
        .args(&cut)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let history = d.join("runs/cut/seed-20211108/history.csv");
    let t0 = Instant::now();
    // Four epochs in the history: the checkpoint of the third is on disk (an epoch's row is
    // written before its checkpoint, and the next row after it), so the resume is after epoch ≥ 3.
    while !std::fs::read_to_string(&history).is_ok_and(|h| h.lines().count() > 4) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(!d.join("runs/cut/seed-20211108/summary.json").exists(), "killed before the end");

    let o = convlab(d, &cut);
    assert!(!o.status.success() && stderr(&o).contains("--resume"), "{}", stderr(&o));
    cut.push("--resume");
    let o = convlab(d, &cut);
    assert!(o.status.success(), "{}", stderr(&o));
    // Paths relative to the working directory; the epoch it resumed after is in the log and the
    // record.
    let log = stderr(&o);
    let after: usize = log
        .split("resuming runs/cut/seed-20211108 after epoch ")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume line naming the run and epoch:\n{log}"));
    assert!(after >= 3, "{log}");
    assert!(
        log.contains(&format!("cut seed 20211108  epoch {:>2}/40  train", after + 1)),
        "epoch lines name run and seed:\n{log}"
    );
    assert!(log.contains(" eta "), "epoch lines give the time left:\n{log}");
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.join("runs/cut/seed-20211108/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["resumed_at"], serde_json::json!([after]));
    assert_eq!(
        common::history_numbers(&history),
        common::history_numbers(&d.join("runs/full/seed-20211108/history.csv"))
    );
}

#[test]
fn bad_arguments_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    synth(d);
    let cases: [(&[&str], &str); 15] = [
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--set",
                "train.label_smothing=0.1",
            ],
            "error: --set train.label_smothing: unknown key; did you mean train.label_smoothing?",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--set",
                "train.optimizer=adam",
            ],
            "error: --set train.optimizer=adam: unknown variant `adam`, expected `sgd` or `adamw`",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--set",
                "label_smoothing",
            ],
            "`label_smoothing`: expected key=value",
        ),
        // The overrides are checked before the data is read: a missing tree is not what it reports.
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:nowhere",
                "--cache",
                "c",
                "--set",
                "model.widht=8",
            ],
            "error: --set model.widht: unknown key; did you mean model.width?",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--blocks",
                "2,2",
            ],
            "--blocks 2,2: expected 4 numbers",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--preset",
                "resnet99",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
            ],
            "invalid value 'resnet99' for '--preset <PRESET>'",
        ),
        (&["train", "--name", "x", "--data", "imagefolder:nowhere", "--cache", "c"], "nowhere"),
        (
            &["train", "--name", "x", "--data", "mnist", "--cache", "c"],
            "invalid value 'mnist' for '--data <DATA>': expected imagefolder:PATH",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--norm",
                "layer",
            ],
            "invalid value 'layer' for '--norm <NORM>': expected batch, instance",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--schedule",
                "step:x:0.1",
            ],
            "step size `x`",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--dropout",
                "1.5",
            ],
            "`dropout` = 1.5",
        ),
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--device",
                "tpu",
            ],
            "invalid value 'tpu' for '--device <DEVICE>'",
        ),
        (&["predict", "runs/none"], "runs/none"),
        (&["bench", "--profile", "full"], "needs data: --data imagefolder:PATH"),
        // A layout libtorch's oneDNN would segfault on: refused before anything runs.
        (
            &[
                "train",
                "--name",
                "x",
                "--data",
                "imagefolder:tree",
                "--cache",
                "c",
                "--size",
                "64",
                "--width",
                "8",
                "--channels-last",
                "--device",
                "cpu",
            ],
            "layer2.0.downsample.0 (1×1, stride 2) would get 8 input channels on 64×64",
        ),
    ];
    for (args, want) in cases {
        let o = convlab(d, args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(want), "{args:?}: expected `{want}` in:\n{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    let o = convlab(d, &["train"]);
    assert!(!o.status.success() && stderr(&o).contains("--name"));
}

/// `convlab train --set`: any field by name, after the flags, recorded in the run's config;
/// `convlab keys` lists the keys with the paper's values and what a profile scales.
#[test]
fn train_sets_any_field_by_name_and_keys_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    synth(d);
    let mut args = vec![
        "train",
        "--name",
        "ls",
        "--epochs",
        "1",
        "--set",
        "train.label_smoothing=0.1",
        "--set",
        "train.optimizer=adamw",
        "--set",
        "model.norm=group:2",
    ];
    args.extend(TINY);
    let o = convlab(d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(d.join("runs/ls/seed-20211108/config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (config["train"]["label_smoothing"].as_f64(), config["train"]["optimizer"].as_str()),
        (Some(0.1), Some("adamw"))
    );
    assert_eq!(config["model"]["norm"], serde_json::json!({"group": {"groups": 2}}));
    assert_eq!(
        config["train"]["lr"].as_f64(),
        Some(0.05),
        "--set comes after the flags, which it leaves alone"
    );
    let o = convlab(d, &["keys"]);
    let keys = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        keys.lines().any(|l| l.trim_start().starts_with("train.lr ")
            && l.contains("0.001")
            && l.contains("scaled: × the profile's lr scale")),
        "{keys}"
    );
    assert!(
        keys.lines()
            .any(|l| l.trim_start().starts_with("train.label_smoothing ") && !l.contains("scaled")),
        "{keys}"
    );
    assert!(
        keys.contains("model.stem                 small"),
        "xknet18's values by default: {keys}"
    );
}

/// `convlab study --list` under `CONVLAB_ROOT=d`, with `env` set and every other `CONVLAB_*`
/// variable removed.
fn study_list(d: &Path, env: &[(&str, &str)], flags: &[&str]) -> Output {
    let mut cmd = common::scrubbed_convlab();
    cmd.current_dir(d)
        .env("CONVLAB_ROOT", d)
        .env("CONVLAB_CACHE", d.join("cache"))
        .envs(env.iter().copied());
    cmd.args(["study", "--list", "--sections", "residual"]).args(flags).output().unwrap()
}

/// The seed of the first variant `study --list` prints (its run config's `"seed":N`).
fn listed(o: &Output) -> (String, u64) {
    assert!(o.status.success(), "{}", stderr(o));
    let out = String::from_utf8_lossy(&o.stdout);
    let seed = out
        .split("\"seed\":")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok());
    // The study's first line: `data (smoke profile): …`.
    let profile = stderr(o)
        .split("data (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_default()
        .to_string();
    (profile, seed.unwrap_or_else(|| panic!("no seed in:\n{out}")))
}

#[test]
fn study_settings_flag_over_environment_over_toml_over_default() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Default: quick is the profile with no settings, but it needs Fashion-MNIST; smoke is named
    // everywhere below.
    std::fs::write(d.join("convlab.toml"), "profile = \"smoke\"\n").unwrap();
    assert_eq!(
        listed(&study_list(d, &[], &[])),
        ("smoke".into(), 20211108),
        "the profile's default seed"
    );
    std::fs::write(d.join("convlab.toml"), "profile = \"smoke\"\nseeds = [7, 8]\n").unwrap();
    assert_eq!(listed(&study_list(d, &[], &[])).1, 7, "convlab.toml over the default");
    assert_eq!(
        listed(&study_list(d, &[("CONVLAB_SEEDS", "5")], &[])).1,
        5,
        "the environment over convlab.toml"
    );
    assert_eq!(
        listed(&study_list(d, &[("CONVLAB_SEEDS", "5")], &["--seeds", "3,4"])).1,
        3,
        "a flag over the environment"
    );
    // The profile too: a flag names smoke over an environment naming full.
    assert_eq!(
        listed(&study_list(d, &[("CONVLAB_PROFILE", "full")], &["--profile", "smoke"])).0,
        "smoke"
    );
    let o = study_list(d, &[("CONVLAB_PROFILE", "full")], &[]);
    assert!(
        !o.status.success() && stderr(&o).contains("profile `full` runs on your copy"),
        "{}",
        stderr(&o)
    );

    // Malformed values, at each level, name the setting and where it came from.
    let o = study_list(d, &[("CONVLAB_SEEDS", "1,x")], &[]);
    assert_eq!(stderr(&o).trim(), "error: CONVLAB_SEEDS=1,x: `x` is not a number");
    let o = study_list(d, &[("CONVLAB_EPOCHS", "0")], &[]);
    assert_eq!(stderr(&o).trim(), "error: CONVLAB_EPOCHS=0: must be at least 1");
    let o = study_list(d, &[], &["--seeds", "1,x"]);
    assert!(
        !o.status.success() && stderr(&o).contains("invalid value 'x' for '--seeds <SEEDS>'"),
        "{}",
        stderr(&o)
    );
    std::fs::write(d.join("convlab.toml"), "profile = \"huge\"\n").unwrap();
    let o = study_list(d, &[], &[]);
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "error: {}: profile = \"huge\": expected full, quick or smoke",
            d.join("convlab.toml").display()
        )
    );
    std::fs::write(d.join("convlab.toml"), "seed = [1]\n").unwrap();
    let o = study_list(d, &[], &[]);
    assert!(
        !o.status.success()
            && stderr(&o).contains("convlab.toml")
            && stderr(&o).contains("unknown field `seed`"),
        "{}",
        stderr(&o)
    );
}
