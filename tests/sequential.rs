//! A sequential study through the binary: looks of seeds, decided comparisons stopping,
//! the tables naming each comparison's look, a kill between looks resumed without training
//! anything twice, and bad looks refused in one line. (On Slurm: tests/slurm.rs.)
mod common;
use common::text;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A smoke sweep of the learning rate: 1e-9 trains nothing (decided worse at the first look),
/// 0.00101 is the reference's twin (open to the last).
const SWEEP: [&str; 10] = [
    "sweep",
    "--profile",
    "smoke",
    "--sequential",
    "pocock:5,10",
    "--jobs",
    "2",
    "--base",
    "xknet18",
    "train.lr=0.001,1e-9,0.00101",
];

fn sweep(root: &Path) -> Command {
    let mut cmd = common::convlab_cmd(root, &root.join("runs"));
    cmd.args(SWEEP).args(["--threads", "1"]);
    cmd
}

fn seed_dirs(root: &Path, run: &str) -> usize {
    common::seed_dirs(&root.join("runs/smoke").join(run))
}

fn comparisons(root: &Path) -> String {
    std::fs::read_to_string(root.join("figures/smoke/sweep-lr/tables/comparisons.csv")).unwrap()
}

fn finished(o: &str) -> usize {
    o.lines().filter(|l| l.starts_with("finished ")).count()
}

#[test]
fn decided_comparisons_stop_and_a_killed_study_resumes_between_looks() {
    let whole = tempfile::tempdir().unwrap();
    let o: Output = sweep(whole.path()).output().unwrap();
    let all = text(&o);
    assert!(o.status.success(), "{all}");
    assert!(
        all.contains("look 1 of 2 judged: 1 of 2 comparisons decided; look 2 runs 10 seeds"),
        "{all}"
    );
    assert!(all.contains("worse at look 1 of 2 (5 seeds a side)"), "{all}");
    assert!(all.contains("undecided after look 2 of 2 (10 seeds a side)"), "{all}");
    // The decided comparison's variant stopped at 5 seeds; the open one and the reference went on.
    let dirs =
        ["xknet18+lr=1e-9", "xknet18", "xknet18+lr=0.00101"].map(|r| seed_dirs(whole.path(), r));
    assert_eq!(dirs, [5, 10, 10]);
    assert_eq!(finished(&all), 25);
    let table = comparisons(whole.path());
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    let col = |row: usize, name: &str| {
        let i =
            header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name}: {table}"));
        table.lines().nth(row).unwrap().split(',').nth(i).unwrap().to_string()
    };
    assert_eq!(
        (col(1, "look"), col(1, "seeds"), col(1, "verdict")),
        ("1/2".into(), "5/5".into(), "worse".into())
    );
    assert_eq!(
        (col(2, "look"), col(2, "seeds"), col(2, "verdict")),
        ("2/2".into(), "10/10".into(), "undecided".into())
    );
    assert!(col(1, "p").parse::<f64>().unwrap() < col(1, "p_bound").parse::<f64>().unwrap());
    let writeup =
        std::fs::read_to_string(whole.path().join("figures/smoke/sweep-lr/writeup.md")).unwrap();
    assert!(writeup.contains("in looks of 5, 10 seeds a side"), "{writeup}");

    // Killed (launcher and workers) once the first look is judged, then run again.
    let killed = tempfile::tempdir().unwrap();
    let mut child = sweep(killed.path())
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut before = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        before += &line;
        before.push('\n');
        if line.starts_with("look 1 of 2 judged") {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            break;
        }
    }
    child.wait().unwrap();
    assert!(before.contains("look 1 of 2 judged"), "{before}");
    let o = sweep(killed.path()).output().unwrap();
    let after = text(&o);
    assert!(o.status.success(), "{after}");
    assert!(after.contains("look 1 of 2 judged: 1 of 2"), "{after}");
    assert!(
        !after.contains("finished xknet18+lr=1e-9"),
        "a decided variant trained again: {after}"
    );
    assert_eq!(
        finished(&before) + finished(&after),
        25,
        "every unit once:\n{before}\n---\n{after}"
    );
    assert_eq!(comparisons(killed.path()), table, "the same verdicts as without the kill");
}

#[test]
fn bad_looks_are_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = common::convlab_cmd(tmp.path(), &tmp.path().join("runs"));
        cmd.args(args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let o = run(&["study", "--profile", "smoke", "--sequential", "5,4", "--list"], None);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("5,4: each look needs more seeds than the one before"), "{e}");
    let o = run(&["study", "--profile", "smoke", "--list"], Some(("CONVLAB_SEQUENTIAL", "1,5")));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("CONVLAB_SEQUENTIAL") && e.contains("the first look needs at least 2 seeds"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

/// `cargo build` during a long study replaces the binary: the next look's workers still start
/// (from the running binary, `grid::worker_exe`), here with the binary's file deleted outright
/// once the first look is under way.
#[test]
fn the_next_looks_workers_start_when_the_binary_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("convlab");
    std::fs::copy(env!("CARGO_BIN_EXE_convlab"), &exe).unwrap();
    let cmd = sweep(tmp.path());
    let mut child = Command::new(&exe)
        .args(cmd.get_args())
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    let mut deleted = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if !deleted && line.starts_with("finished ") {
            std::fs::remove_file(&exe).unwrap();
            deleted = true;
        }
        log += &line;
        log.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{log}");
    assert!(deleted && log.contains("look 2 of 2 judged"), "{log}");
    assert_eq!(finished(&log), 25, "{log}");
}
