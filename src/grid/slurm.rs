//! The grid on Slurm: job arrays of `convlab run-unit`, one task per pending unit.
//!
//! Time limits and preemption as submitit does them: the script asks Slurm for a warning
//! signal (`--signal=B:USR1@<s>`) before the limit. A `B:` signal reaches only the batch
//! shell, so the script runs convlab in the background, traps USR1 and TERM and forwards
//! them. convlab stops at the next step boundary (the epoch in progress is dropped: the run
//! resumes from its last finished epoch), releases its lease and requeues its own task
//! with `scontrol requeue <array job>_<task>` — `--requeue` alone only covers node failure
//! and preemption. The requeued task waits in pending (Slurm sets a begin time) and then
//! resumes the unit.
use super::Unit;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`; in seconds.
pub fn parse_time(s: &str) -> Result<u64, String> {
    let bad = || format!("`{s}`: expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
    let num = |v: &str| v.parse::<u64>().map_err(|_| bad());
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (Some(num(d)?), r),
        None => (None, s),
    };
    let parts: Vec<u64> = rest.split(':').map(num).collect::<Result<_, _>>()?;
    let secs = match (days, parts.as_slice()) {
        (None, [m]) => m * 60,
        (None, [m, s]) => m * 60 + s,
        (None, [h, m, s]) => h * 3600 + m * 60 + s,
        (Some(d), [h]) => d * 86400 + h * 3600,
        (Some(d), [h, m]) => d * 86400 + h * 3600 + m * 60,
        (Some(d), [h, m, s]) => d * 86400 + h * 3600 + m * 60 + s,
        _ => return Err(bad()),
    };
    if secs == 0 {
        return Err(format!("`{s}`: a time limit must be more than zero"));
    }
    Ok(secs)
}

/// The warning before the time limit: a tenth of the limit, between 30 s and 10 min
/// (120 s when the limit is the partition's).
pub fn warning_seconds(limit: Option<u64>) -> u64 {
    limit.map_or(120, |l| (l / 10).clamp(30, 600))
}

/// What a submission asks Slurm for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub gpus_per_task: Option<u32>,
    /// Also each unit's libtorch thread count.
    pub cpus_per_task: usize,
    pub mem: Option<String>,
    /// Seconds (see [`parse_time`]); the string as given goes into the script.
    pub time: Option<(String, u64)>,
    /// Tasks of an array running at once (`%K`).
    pub max_parallel: Option<usize>,
    /// Further `#SBATCH` lines, as given (`--qos=low`).
    pub sbatch_args: Vec<String>,
}

/// One sbatch script: an array over `units` (at most the cluster's `MaxArraySize`).
pub fn script(
    exe: &Path,
    grid_file: &Path,
    log_dir: &Path,
    name: &str,
    units: &[Unit],
    opts: &SlurmOptions,
) -> String {
    let quote = |p: &Path| shell_quote(&p.display().to_string());
    let mut s = String::from("#!/bin/bash\n");
    s += &format!(
        "# Written by `convlab study --slurm`: {} unit(s) of the grid {}.\n",
        units.len(),
        grid_file.display()
    );
    s += &format!("#SBATCH --job-name={name}\n");
    let limit = opts.max_parallel.map_or(String::new(), |k| format!("%{k}"));
    s += &format!("#SBATCH --array=0-{}{limit}\n", units.len().saturating_sub(1));
    s += &format!("#SBATCH --output={}/%A_%a.out\n", log_dir.display());
    s += "#SBATCH --open-mode=append\n";
    s += &format!("#SBATCH --cpus-per-task={}\n", opts.cpus_per_task);
    if let Some(g) = opts.gpus_per_task {
        s += &format!("#SBATCH --gpus-per-task={g}\n");
    }
    for (flag, v) in
        [("partition", &opts.partition), ("account", &opts.account), ("mem", &opts.mem)]
    {
        if let Some(v) = v {
            s += &format!("#SBATCH --{flag}={v}\n");
        }
    }
    if let Some((t, _)) = &opts.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    s += &format!("#SBATCH --signal=B:USR1@{}\n", warning_seconds(opts.time.as_ref().map(|t| t.1)));
    s += "#SBATCH --requeue\n";
    for a in &opts.sbatch_args {
        s += &format!("#SBATCH {a}\n");
    }
    s += "\n# One unit (variant seed) per array task.\nUNITS=(\n";
    for u in units {
        s += &format!("  \"{} {}\"\n", u.variant.key, u.seed);
    }
    s += ")\nset -- ${UNITS[$SLURM_ARRAY_TASK_ID]}\n\n";
    s += "# Signals reach this shell only (B:), so they are forwarded to convlab. USR1, the \
        warning\n";
    s += "# before the time limit: it stops at a step boundary, releases the unit and requeues \
        this\n";
    s += "# task, which resumes from the last finished epoch. TERM (a cancel): it stops and \
        releases it.\n";
    s += &format!(
        "{} run-unit --grid {} --variant \"$1\" --seed \"$2\" --threads \"$SLURM_CPUS_PER_TASK\" \
            &\n",
        quote(exe),
        quote(grid_file)
    );
    s += "pid=$!\ntrap 'kill -USR1 $pid' USR1\ntrap 'kill -TERM $pid' TERM\n";
    s += "# `wait` returns when a trapped signal arrives: wait until convlab itself has exited.\n";
    s += "while true; do\n  wait $pid\n  status=$?\n  kill -0 $pid 2>/dev/null || \
        break\ndone\nexit $status\n";
    s
}

/// The job that carries a sequential study to its next look: when the look's arrays `after`
/// have ended (`afterany`), it runs the same `convlab study … --slurm` command again in `cwd`,
/// which judges the look and submits the next one's units (and another such job), or, after
/// the last, writes the tables and figures. One CPU; the submission's partition, account and
/// time. `CONVLAB_AFTER_LOOK` tells it the look it follows, so that a look whose units failed
/// is not resubmitted in a loop.
pub fn next_look_script(
    command: &[String],
    cwd: &Path,
    log_dir: &Path,
    name: &str,
    after: &[String],
    judged: usize,
    opts: &SlurmOptions,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s += "# Written by `convlab study --slurm` for a sequential study: its next look.\n";
    s += &format!("#SBATCH --job-name={name}-next-look\n");
    s += &format!("#SBATCH --output={}/next-look-%j.out\n", log_dir.display());
    s += &format!("#SBATCH --dependency=afterany:{}\n", after.join(":"));
    s += "#SBATCH --kill-on-invalid-dep=no\n#SBATCH --cpus-per-task=1\n";
    for (flag, v) in [("partition", &opts.partition), ("account", &opts.account)] {
        if let Some(v) = v {
            s += &format!("#SBATCH --{flag}={v}\n");
        }
    }
    if let Some((t, _)) = &opts.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    s += &format!("cd {}\n", shell_quote(&cwd.display().to_string()));
    let words: Vec<String> = command.iter().map(|w| shell_quote(w)).collect();
    s += &format!("CONVLAB_AFTER_LOOK={judged} exec {}\n", words.join(" "));
    s
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A Slurm command's output, or an error naming the command.
fn run(cmd: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(cmd).args(args).output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!(
            "`{cmd}` not found: --slurm needs Slurm's \
            client commands (sbatch, scontrol, squeue) on PATH"
        ),
        _ => anyhow::anyhow!("cannot run `{cmd}`: {e}"),
    })?;
    anyhow::ensure!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The cluster's `MaxArraySize` (`scontrol show config`): array indices run below it.
pub fn max_array_size() -> anyhow::Result<usize> {
    let config = run("scontrol", &["show", "config"])?;
    parse_max_array_size(&config)
        .ok_or_else(|| anyhow::anyhow!("`scontrol show config` has no MaxArraySize line"))
}

fn parse_max_array_size(config: &str) -> Option<usize> {
    config.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "MaxArraySize").then(|| v.trim().parse().ok()).flatten()
    })
}

/// Submit `script_path` with `sbatch --parsable`; the array job's id.
pub fn submit(script_path: &Path) -> anyhow::Result<String> {
    let out = run("sbatch", &["--parsable", &script_path.display().to_string()])?;
    Ok(out.trim().split(';').next().unwrap_or("").to_string())
}

/// Jobs in the queue (`squeue`), as `<array job>_<task>` for array tasks and the job id otherwise;
/// `None` when squeue is not there (not on a cluster).
pub fn queued_jobs() -> Option<Vec<String>> {
    let out = run("squeue", &["-h", "-r", "-o", "%i"]).ok()?;
    Some(out.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
}

/// Requeue this array task (`scontrol requeue <array job>_<task>`): it waits in pending, then
/// resumes its unit.
pub fn requeue(task: &str) -> anyhow::Result<()> {
    run("scontrol", &["requeue", task]).map(|_| ())
}

/// Write the scripts for `units`, split into arrays of at most `max_array` tasks, under
/// `dir`; returns their paths.
pub fn write_scripts(
    exe: &Path,
    grid_file: &Path,
    dir: &Path,
    name: &str,
    units: &[Unit],
    opts: &SlurmOptions,
    max_array: usize,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut out = Vec::new();
    for (i, chunk) in units.chunks(max_array.max(1)).enumerate() {
        let text = script(exe, grid_file, dir, name, chunk, opts);
        let path = dir.join(format!("grid-{stamp}-{}.sbatch", i + 1));
        crate::io::write_bytes(&path, text.as_bytes())?;
        out.push((path, text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_time_formats() {
        assert_eq!(parse_time("30"), Ok(1800));
        assert_eq!(parse_time("5:30"), Ok(330));
        assert_eq!(parse_time("1:00:00"), Ok(3600));
        assert_eq!(parse_time("2-0"), Ok(172800));
        assert_eq!(parse_time("1-2:30"), Ok(86400 + 2 * 3600 + 1800));
        assert_eq!(parse_time("1-0:0:5"), Ok(86405));
        assert!(parse_time("1h").unwrap_err().contains("expected minutes, MM:SS"));
        assert!(parse_time("1:2:3:4").is_err());
        assert!(parse_time("0").unwrap_err().contains("more than zero"));
        assert_eq!(warning_seconds(Some(3600)), 360);
        assert_eq!(warning_seconds(Some(60)), 30);
        assert_eq!(warning_seconds(Some(86400)), 600);
        assert_eq!(warning_seconds(None), 120);
    }

    #[test]
    fn max_array_size_from_scontrol() {
        assert_eq!(
            parse_max_array_size("MaxArraySize            = 4\nMaxJobCount = 10000\n"),
            Some(4)
        );
        assert_eq!(parse_max_array_size("MaxJobCount = 10000\n"), None);
    }

    #[test]
    fn script_forwards_the_warning_and_lists_units() {
        let v = crate::plan::paper_variant("xknet18").unwrap();
        let units: Vec<Unit> = (1..=3)
            .map(|s| Unit {
                variant: v.clone(),
                seed: s,
                dir: PathBuf::from(format!("/r/{}/seed-{s}", v.key)),
            })
            .collect();
        let opts = SlurmOptions {
            cpus_per_task: 2,
            time: Some(("1:00:00".into(), 3600)),
            max_parallel: Some(2),
            partition: Some("gpu".into()),
            sbatch_args: vec!["--qos=low".into()],
            ..Default::default()
        };
        let s = script(
            Path::new("/opt/convlab"),
            Path::new("/r/grid.json"),
            Path::new("/r/slurm"),
            "convlab-quick",
            &units,
            &opts,
        );
        for line in [
            "#SBATCH --array=0-2%2",
            "#SBATCH --output=/r/slurm/%A_%a.out",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=1:00:00",
            "#SBATCH --signal=B:USR1@360",
            "#SBATCH --requeue",
            "#SBATCH --qos=low",
            "  \"xknet18 3\"",
            "/opt/convlab run-unit --grid /r/grid.json --variant \"$1\" --seed \"$2\" --threads \
                \"$SLURM_CPUS_PER_TASK\" &",
            "trap 'kill -USR1 $pid' USR1",
        ] {
            assert!(s.lines().any(|l| l == line), "no line `{line}` in:\n{s}");
        }
        assert!(!s.contains("--gpus-per-task"), "no GPU asked for unless given");
        let next = next_look_script(
            &["/opt/convlab".into(), "study".into(), "--slurm".into(), "--sequential".into()],
            Path::new("/home/me/proj"),
            Path::new("/r/slurm"),
            "convlab-quick",
            &["17".into(), "18".into()],
            1,
            &opts,
        );
        for line in [
            "#SBATCH --dependency=afterany:17:18",
            "#SBATCH --partition=gpu",
            "cd /home/me/proj",
            "CONVLAB_AFTER_LOOK=1 exec /opt/convlab study --slurm --sequential",
        ] {
            assert!(next.lines().any(|l| l == line), "no line `{line}` in:\n{next}");
        }
        assert_eq!(shell_quote("/a b/c'd"), "'/a b/c'\\''d'");
    }
}
