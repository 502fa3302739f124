//! The study as a grid of units: parallel workers, leases on a shared runs directory,
//! a killed worker's unit taken over, bad input.
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

/// `convlab study` on the smoke profile under project root `root`, runs in `runs`, every other
/// `CONVLAB_*` variable removed.
fn study_cmd(root: &Path, runs: &Path, args: &[&str]) -> Command {
    let mut cmd = common::convlab_cmd(root, runs);
    cmd.args(["study", "--profile", "smoke"]).args(args);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().unwrap()
}

use common::text;

/// Every unit directory under a profile's runs: `<variant>/seed-<s>`.
fn unit_dirs(profile_runs: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for v in std::fs::read_dir(profile_runs)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir() && e.file_name() != "logs")
    {
        for s in std::fs::read_dir(v.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("seed-"))
        {
            out.push(s.path());
        }
    }
    out.sort();
    out
}

/// history.csv without the timing columns (seconds, images/s).
fn attempts(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("attempts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn two_workers_train_every_unit_once_with_one_workers_histories() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (one, two) = (root.join("runs-1"), root.join("runs-2"));
    let o = run(study_cmd(
        root,
        &one,
        &["--sections", "residual,width", "--seeds", "1,2", "--jobs", "1", "--threads", "1"],
    ));
    assert!(o.status.success(), "{}", text(&o));
    let o = run(study_cmd(
        root,
        &two,
        &["--sections", "residual,width", "--seeds", "1,2", "--jobs", "2", "--threads", "1"],
    ));
    assert!(o.status.success(), "{}", text(&o));
    let log = text(&o);
    assert!(log.contains("worker 2") && log.contains("[6/6 done, 0 running, 0 pending"), "{log}");
    let units = unit_dirs(&two.join("smoke"));
    assert_eq!(units.len(), 6, "3 variants × 2 seeds: {units:?}");
    for u in &units {
        let twin = one.join("smoke").join(u.strip_prefix(two.join("smoke")).unwrap());
        assert_eq!(
            common::history_numbers(&u.join("history.csv")),
            common::history_numbers(&twin.join("history.csv")),
            "{} trained alone and beside another worker",
            u.display()
        );
        assert_eq!(attempts(u).len(), 1, "{}", u.display());
    }
    // The launch is frozen beside the runs; status reads the units back.
    assert_eq!(
        std::fs::read_dir(two.join("smoke/grids")).unwrap().count(),
        1,
        "one frozen grid file per launch"
    );
    let o =
        run(study_cmd(root, &two, &["--sections", "residual,width", "--seeds", "1,2", "--status"]));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("6 units: 6 done, 0 running, 0 failed, 0 pending"),
        "{}",
        text(&o)
    );
    // Threads are an execution detail: a launch with other thread counts reuses every run.
    let o = run(study_cmd(
        root,
        &two,
        &["--sections", "residual,width", "--seeds", "1,2", "--jobs", "1", "--threads", "2"],
    ));
    assert!(o.status.success() && text(&o).contains("grid: 0 unit(s) trained"), "{}", text(&o));
}

#[test]
fn two_launchers_at_once_train_each_unit_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    // The dataset is not cached yet: four workers start on it at once and decode it once.
    let spawn = || {
        study_cmd(
            root,
            &runs,
            &["--sections", "residual,width", "--seeds", "1,2,3", "--jobs", "2", "--threads", "1"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let units = unit_dirs(&runs.join("smoke"));
    assert_eq!(units.len(), 9);
    for u in &units {
        // Counted from the run's own record: one training attempt each, and a finished summary.
        assert_eq!(attempts(u).len(), 1, "{} trained {} times", u.display(), attempts(u).len());
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(u.join("summary.json")).unwrap()).unwrap();
        assert!(s["best_val_acc"].as_f64().is_some());
    }
    let trained = |o: &Output| text(o).lines().filter(|l| l.starts_with("finished ")).count();
    assert_eq!(trained(&a) + trained(&b), 9, "{}\n---\n{}", text(&a), text(&b));
    // Experiment summaries hold every seed, whichever launcher wrote them last.
    for v in ["xknet18", "no-residual", "xknet18-half"] {
        let s: serde_json::Value = serde_json::from_slice(
            &std::fs::read(runs.join("smoke").join(v).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(s["seeds"], serde_json::json!([1, 2, 3]), "{v}");
    }
    // The launchers loaded the uncached dataset at the same moment: one decoded it, the other
    // waited for its cache (workers start after their launcher has loaded it).
    let decoded = [&a, &b].iter().filter(|o| text(o).contains("; decoded in")).count();
    let cached = [&a, &b].iter().filter(|o| text(o).contains("; from cache in")).count();
    assert_eq!((decoded, cached), (1, 1), "{}\n---\n{}", text(&a), text(&b));
    // One cache file for the dataset.
    let cached: Vec<_> = std::fs::read_dir(root.join("cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".safetensors"))
        .collect();
    assert_eq!(cached.len(), 1);
}

#[test]
fn a_killed_workers_unit_is_taken_over_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (runs, clean) = (root.join("runs"), root.join("clean"));
    let args = [
        "--sections",
        "residual",
        "--seeds",
        "1",
        "--epochs",
        "40",
        "--jobs",
        "1",
        "--threads",
        "1",
    ];
    // An uninterrupted grid, for comparison.
    let o = run(study_cmd(root, &clean, &args));
    assert!(o.status.success(), "{}", text(&o));

    let launcher =
        study_cmd(root, &runs, &args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let unit = runs.join("smoke/xknet18/seed-1");
    let t0 = Instant::now();
    // Four epochs on disk: the checkpoint of the third is written (see tests/cli.rs).
    while !std::fs::read_to_string(unit.join("history.csv")).is_ok_and(|h| h.lines().count() > 4) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The worker holding the unit, from its lease.
    let lease = std::fs::read_dir(&unit)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("lease-"))
        .unwrap()
        .path();
    let pid: i32 = serde_json::from_slice::<serde_json::Value>(&std::fs::read(lease).unwrap())
        .unwrap()["pid"]
        .as_i64()
        .unwrap() as i32;
    assert!(pid as u32 != launcher.id(), "units are trained by worker processes");
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let out = launcher.wait_with_output().unwrap();
    let log = text(&out);
    assert!(!out.status.success(), "a lost worker fails the launch:\n{log}");
    assert!(log.contains("worker 1: signal 9"), "{log}");
    assert!(!unit.join("summary.json").exists());

    // Another launch's worker finds the lease of a dead process and takes the unit over.
    let o = run(study_cmd(root, &runs, &args));
    assert!(o.status.success(), "{}", text(&o));
    let log = std::fs::read_to_string(runs.join("smoke/logs/worker-1.log")).unwrap();
    assert!(
        log.contains("taking over runs/smoke/xknet18/seed-1 from")
            && log.contains(&format!("pid {pid}")),
        "{log}"
    );
    let tries = attempts(&unit);
    assert_eq!(tries.len(), 2, "{tries:?}");
    let resumed = tries[1]["from_epoch"].as_u64().unwrap();
    assert!(resumed >= 3, "resumed from its checkpoint, not restarted: {tries:?}");
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unit.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["resumed_at"], serde_json::json!([resumed]));
    assert_eq!(
        common::history_numbers(&unit.join("history.csv")),
        common::history_numbers(&clean.join("smoke/xknet18/seed-1/history.csv"))
    );
}

#[test]
fn bad_grid_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let o = run(study_cmd(root, &root.join("runs"), &["--jobs", "0"]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "error: --jobs 0: at least one worker is needed"
    );
    // A regular file where the runs directory should be (root ignores permission bits).
    let file = root.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let o = run(study_cmd(root, &file, &[]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "error: cannot create the runs directory {}",
            file.join("smoke").display()
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}
