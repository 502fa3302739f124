//! The grid on a real one-node Slurm (`scripts/slurm-local.sh start`; `make test` starts it):
//! job arrays, the warning signal and requeue, cancel, bad input.
mod common;
use common::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn convlab(root: &Path, runs: &Path, args: &[&str]) -> Command {
    let mut cmd = common::convlab_cmd(root, runs);
    cmd.args(args);
    cmd
}

fn out(mut cmd: Command) -> Output {
    cmd.output().unwrap()
}

fn require_slurm() {
    let ok = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    assert!(
        ok,
        "Slurm is not running here: start it with `scripts/slurm-local.sh start` (make test does)"
    );
}

/// The array job ids `convlab study --slurm` printed.
fn submitted(o: &Output) -> Vec<String> {
    text(o)
        .lines()
        .filter_map(|l| l.strip_prefix("submitted array job "))
        .filter_map(|r| r.split(':').next())
        .map(String::from)
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("history.csv"))
        .map_or(0, |h| h.lines().count().saturating_sub(1))
}

fn in_queue(job: &str) -> bool {
    let q = Command::new("squeue").args(["-h", "-r", "-o", "%i"]).output().unwrap();
    String::from_utf8_lossy(&q.stdout)
        .lines()
        .any(|l| l.trim() == job || l.trim().starts_with(&format!("{job}_")))
}

#[test]
fn slurm_arrays_give_a_local_grids_runs() {
    require_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (slurm_runs, local_runs) = (root.join("slurm-runs"), root.join("local-runs"));
    let study = ["study", "--profile", "smoke", "--sections", "residual,width", "--seeds", "1,2"];
    // Six units; slurm-local.sh sets MaxArraySize = 4, so two arrays.
    let o = out(convlab(
        root,
        &slurm_runs,
        &[&study[..], &["--slurm", "--cpus-per-task", "1", "--time", "10"]].concat(),
    ));
    assert!(o.status.success(), "{}", text(&o));
    let jobs = submitted(&o);
    assert_eq!(jobs.len(), 2, "6 units in arrays of at most 4: {}", text(&o));
    let o =
        out(convlab(root, &local_runs, &[&study[..], &["--jobs", "1", "--threads", "1"]].concat()));
    assert!(o.status.success(), "{}", text(&o));
    let status = || text(&out(convlab(root, &slurm_runs, &[&study[..], &["--status"]].concat())));
    wait_until("every unit done on Slurm", Duration::from_secs(300), || {
        status().contains("6 units: 6 done")
    });
    for v in ["xknet18", "xknet18-half", "no-residual"] {
        for s in [1, 2] {
            let unit = PathBuf::from(format!("smoke/{v}/seed-{s}"));
            assert_eq!(
                common::history_numbers(&slurm_runs.join(&unit).join("history.csv")),
                common::history_numbers(&local_runs.join(&unit).join("history.csv")),
                "{}",
                unit.display()
            );
            let attempts =
                std::fs::read_to_string(slurm_runs.join(&unit).join("attempts.jsonl")).unwrap();
            assert!(
                attempts.contains("\"slurm_job\":\""),
                "the record names the Slurm task: {attempts}"
            );
        }
    }
    // Per-task logs under the runs directory.
    assert!(
        std::fs::read_dir(slurm_runs.join("smoke/slurm"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with("_0.out"))
    );
    // Nothing left to submit.
    let o = out(convlab(root, &slurm_runs, &[&study[..], &["--slurm"]].concat()));
    assert!(text(&o).contains("nothing to submit"), "{}", text(&o));
}

#[test]
fn a_warned_task_requeues_itself_and_resumes() {
    require_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (runs, clean) = (root.join("runs"), root.join("clean"));
    let study = [
        "study",
        "--profile",
        "smoke",
        "--sections",
        "baseline",
        "--seeds",
        "1",
        "--epochs",
        "300",
    ];
    let o = out(convlab(root, &clean, &[&study[..], &["--jobs", "1", "--threads", "1"]].concat()));
    assert!(o.status.success(), "{}", text(&o));
    let o = out(convlab(root, &runs, &[&study[..], &["--slurm", "--cpus-per-task", "1"]].concat()));
    assert!(o.status.success(), "{}", text(&o));
    let job = submitted(&o).remove(0);
    let unit = runs.join("smoke/resnet18/seed-1");
    wait_until("four epochs on Slurm", Duration::from_secs(120), || rows(&unit) >= 4);
    // While it runs: its Slurm task in the status.
    let status = text(&out(convlab(root, &runs, &[&study[..], &["--status"]].concat())));
    assert!(
        status.contains(&format!("(Slurm job {job}_0)")) && status.contains("running"),
        "{status}"
    );
    // The warning a time limit sends (`--signal=B:USR1@…`), to the batch shell.
    let o = Command::new("scancel")
        .args(["--signal=USR1", "--batch", &format!("{job}_0")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Requeued: pending (BeginTime) for a while, then it runs again and finishes.
    wait_until("the requeued task to finish the unit", Duration::from_secs(400), || {
        unit.join("summary.json").exists()
    });
    let attempts: Vec<serde_json::Value> = std::fs::read_to_string(unit.join("attempts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(
        attempts[1]["slurm_job"],
        serde_json::json!(format!("{job}_0")),
        "the same task, requeued"
    );
    let from = attempts[1]["from_epoch"].as_u64().unwrap();
    assert!(from >= 3, "resumed from its checkpoint: {attempts:?}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unit.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["resumed_at"], serde_json::json!([from]));
    assert!(!unit.join("error.txt").exists(), "a requested stop is not a failure");
    assert_eq!(
        common::history_numbers(&unit.join("history.csv")),
        common::history_numbers(&clean.join("smoke/resnet18/seed-1/history.csv"))
    );
    let log = std::fs::read_to_string(runs.join(format!("smoke/slurm/{job}_0.out"))).unwrap();
    assert!(
        log.contains("requeueing Slurm task")
            && log.contains(&format!("resuming runs/smoke/resnet18/seed-1 after epoch {from}/300")),
        "{log}"
    );
}

#[test]
fn a_cancelled_array_leaves_no_lease_in_the_way() {
    require_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let study = [
        "study",
        "--profile",
        "smoke",
        "--sections",
        "baseline",
        "--seeds",
        "1",
        "--epochs",
        "150",
    ];
    let o = out(convlab(root, &runs, &[&study[..], &["--slurm", "--cpus-per-task", "1"]].concat()));
    assert!(o.status.success(), "{}", text(&o));
    let job = submitted(&o).remove(0);
    let unit = runs.join("smoke/resnet18/seed-1");
    wait_until("two epochs on Slurm", Duration::from_secs(120), || rows(&unit) >= 2);
    assert!(Command::new("scancel").arg(&job).status().unwrap().success());
    wait_until("the array to leave the queue", Duration::from_secs(60), || !in_queue(&job));
    // Not requeued by a cancel; and a later run finishes the unit at once, not waiting on a lease.
    let t0 = Instant::now();
    let o = out(convlab(root, &runs, &[&study[..], &["--jobs", "1", "--threads", "1"]].concat()));
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).lines().any(|l| l.starts_with("skipped ")), "{}", text(&o));
    assert!(
        text(&o).contains("finished resnet18 seed 1") && text(&o).contains("resumed after epoch"),
        "resumed from the cancelled run's checkpoint: {}",
        text(&o)
    );
    assert!(unit.join("summary.json").exists());
    assert!(t0.elapsed() < Duration::from_secs(100), "waited on a lease: {:?}", t0.elapsed());
    assert!(!in_queue(&job));

    // A fresh lease of a Slurm task that is gone from the queue (its node died, say): flagged.
    let other = runs.join("smoke/resnet18/seed-2");
    std::fs::create_dir_all(&other).unwrap();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let lease = serde_json::json!({"host": "node7", "pid": 4242, "slurm_job": "999999_3", "started": now, "heartbeat": now});
    std::fs::write(other.join("lease-1.json"), lease.to_string()).unwrap();
    let status = text(&out(convlab(
        root,
        &runs,
        &[
            "study",
            "--profile",
            "smoke",
            "--sections",
            "baseline",
            "--seeds",
            "1,2",
            "--epochs",
            "150",
            "--status",
        ],
    )));
    assert!(
        status.contains("node7 pid 4242 (Slurm job 999999_3)")
            && status.contains("its Slurm task 999999_3 is no longer in the queue"),
        "{status}"
    );
}

#[test]
fn slurm_bad_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let study = ["study", "--profile", "smoke", "--sections", "residual", "--seeds", "1"];
    // No Slurm commands on PATH (the binary itself is found by its path).
    let mut cmd = convlab(root, &runs, &[&study[..], &["--slurm"]].concat());
    cmd.env("PATH", root.join("empty-bin"));
    let o = out(cmd);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let last = String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default().to_string();
    assert_eq!(
        last,
        "error: `scontrol` not found: --slurm needs Slurm's client commands (sbatch, scontrol, \
            squeue) on PATH"
    );
    let o = out(convlab(root, &runs, &[&study[..], &["--slurm", "--time", "1h"]].concat()));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let last = String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default().to_string();
    assert_eq!(
        last,
        "error: --time `1h`: expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS"
    );
    // --dry-run writes and prints the script, submits nothing.
    let mut cmd = convlab(
        root,
        &runs,
        &[&study[..], &["--slurm", "--dry-run", "--partition", "gpu", "--sbatch-arg=--qos=low"]]
            .concat(),
    );
    cmd.env("PATH", root.join("empty-bin"));
    let o = out(cmd);
    assert!(o.status.success(), "{}", text(&o));
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(
        script.contains("#SBATCH --partition=gpu")
            && script.contains("#SBATCH --qos=low")
            && script.contains("run-unit --grid"),
        "{script}"
    );
}

/// Your own study on Slurm: a one-line sweep's units (their names hold `+` and `=`) go out
/// as an array, run from the grid file's frozen plan, and its reference is xknet18's runs.
#[test]
fn a_sweep_runs_as_a_slurm_array() {
    require_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let sweep = [
        "sweep",
        "--base",
        "xknet18",
        "train.weight_decay=0,5e-4",
        "--profile",
        "smoke",
        "--seeds",
        "1,2",
    ];
    let o = out(convlab(
        root,
        &runs,
        &[&sweep[..], &["--slurm", "--cpus-per-task", "1", "--time", "10"]].concat(),
    ));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(submitted(&o).len(), 1, "{}", text(&o));
    let status = || text(&out(convlab(root, &runs, &[&sweep[..], &["--status"]].concat())));
    wait_until("the sweep's units done on Slurm", Duration::from_secs(300), || {
        status().contains("4 units: 4 done")
    });
    let s = status();
    assert!(s.contains("xknet18+weight_decay=0") && s.contains("xknet18+weight_decay=5e-4"), "{s}");
    for (dir, decay) in [("xknet18", 0.0), ("xknet18+weight_decay=5e-4", 5e-4)] {
        for seed in [1, 2] {
            let unit = runs.join(format!("smoke/{dir}/seed-{seed}"));
            let config: serde_json::Value =
                serde_json::from_slice(&std::fs::read(unit.join("config.json")).unwrap()).unwrap();
            assert_eq!(config["train"]["weight_decay"].as_f64(), Some(decay), "{}", unit.display());
            assert!(
                std::fs::read_to_string(unit.join("attempts.jsonl"))
                    .unwrap()
                    .contains("\"slurm_job\":\"")
            );
        }
    }
}

/// A sequential sweep on Slurm: the first look's arrays, then a job after them that judges the
/// look and submits the next one's units (only the open comparison's and its reference's),
/// then a last job that writes the tables — no command typed in between.
#[test]
fn a_sequential_sweep_goes_from_look_to_look_on_slurm() {
    require_slurm();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let sweep = [
        "sweep",
        "--profile",
        "smoke",
        "--sequential",
        "pocock:5,10",
        "--base",
        "xknet18",
        "train.lr=0.001,1e-9,0.00101",
    ];
    let o = out(convlab(
        root,
        &runs,
        &[&sweep[..], &["--slurm", "--cpus-per-task", "1", "--time", "10"]].concat(),
    ));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("look 1 judged when its units end"), "{}", text(&o));
    let table = root.join("figures/smoke/sweep-lr/tables/comparisons.csv");
    wait_until("the last look's tables", Duration::from_secs(600), || table.exists());
    let t = std::fs::read_to_string(&table).unwrap();
    assert!(t.lines().nth(1).unwrap().contains(",1/2,"), "decided at the first look: {t}");
    assert!(t.lines().nth(2).unwrap().contains(",2/2,"), "open to the last look: {t}");
    let seeds = |run: &str| common::seed_dirs(&runs.join("smoke").join(run));
    assert_eq!(
        [seeds("xknet18+lr=1e-9"), seeds("xknet18"), seeds("xknet18+lr=0.00101")],
        [5, 10, 10]
    );
    let logs: String = std::fs::read_dir(runs.join("smoke/slurm"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("next-look-"))
        .filter(|e| e.file_name().to_string_lossy().ends_with(".out"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(logs.contains("submitted job") && logs.contains("the study is finished"), "{logs}");
}
