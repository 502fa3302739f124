//! Leases: who is training a run directory right now, safe on a directory shared by
//! many processes and hosts (a cluster's shared filesystem).
//!
//! A claim creates `lease-<n>.json` in the run directory with `O_EXCL` (atomic on local
//! filesystems and NFSv3+): of two claimants of generation `n`, exactly one succeeds. The
//! holder's heartbeat thread rewrites its file (write to a temporary file, rename over) on
//! a timer, not per epoch. A lease is stale when its owner is gone: on the same host its
//! pid no longer exists; anywhere, its heartbeat is older than the timeout. A stale lease
//! of generation `n` is taken over by creating generation `n + 1` — again `O_EXCL`, so one
//! taker wins — and the old holder, should it still be alive (a paused process, a
//! partitioned node), sees the newer generation at its next heartbeat and stops at the
//! next epoch boundary: never two writers of one run.
use super::run_dir::RunDir;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often a holder refreshes its lease.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A lease whose heartbeat is older than this is stale, whoever holds it (the default
/// of `Settings::lease_timeout`: 12 missed heartbeats).
pub const DEFAULT_LEASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a lease file says about its holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub host: String,
    pub pid: u32,
    /// `SLURM_JOB_ID` (with `_<task>` for an array task) when the holder runs under Slurm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_job: Option<String>,
    /// Unix seconds.
    pub started: f64,
    /// Unix seconds of the last refresh.
    pub heartbeat: f64,
}

/// Who this process is, as written into its leases.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    pub slurm_job: Option<String>,
}

impl Holder {
    /// This process: its host name, pid, and the Slurm job it runs in (read by the caller
    /// from `SLURM_ARRAY_JOB_ID`/`SLURM_ARRAY_TASK_ID` or `SLURM_JOB_ID`, at the edge).
    pub fn this_process(slurm_job: Option<String>) -> Holder {
        Holder { host: crate::io::host_name(), pid: std::process::id(), slurm_job }
    }
}

/// Whether a process with this pid exists on this host.
pub fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl LeaseInfo {
    /// Seconds since the last heartbeat.
    pub fn age(&self) -> f64 {
        (now() - self.heartbeat).max(0.0)
    }

    /// Whether the holder is gone: its pid is dead (same host), or its heartbeat is older than
    /// `timeout`.
    pub fn is_stale(&self, this_host: &str, timeout: Duration) -> bool {
        self.age() > timeout.as_secs_f64() || (self.host == this_host && !pid_alive(self.pid))
    }

    /// `node3 pid 4121 (Slurm job 812_4), heartbeat 4 s ago`.
    pub fn describe(&self) -> String {
        let job = self.slurm_job.as_ref().map_or(String::new(), |j| format!(" (Slurm job {j})"));
        format!("{} pid {}{job}, heartbeat {:.0} s ago", self.host, self.pid, self.age())
    }
}

/// The outcome of a claim.
#[derive(Debug)]
pub enum Claim {
    /// This process holds the run until the lease is dropped.
    Held(Lease),
    /// Another live holder has it.
    Busy(LeaseInfo),
}

/// A held lease: refreshed by a heartbeat thread, removed when dropped.
#[derive(Debug)]
pub struct Lease {
    path: PathBuf,
    lost: Arc<AtomicBool>,
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Whether this claim took a stale lease over (the unit then resumes from its checkpoint).
    pub took_over: Option<LeaseInfo>,
}

fn lease_path(dir: &Path, generation: u64) -> PathBuf {
    RunDir::new(dir).lease(generation)
}

/// The lease generations present in `dir`, highest last.
fn generations(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in rd {
        let name = e?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = RunDir::lease_generation(&name) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The current lease of `dir` (the highest generation), if any. A file being replaced
/// or removed as it is read counts as no lease only when no other generation remains.
pub fn current(dir: &Path) -> std::io::Result<Option<(u64, LeaseInfo)>> {
    for _ in 0..5 {
        let Some(&g) = generations(dir)?.last() else { return Ok(None) };
        match std::fs::read(lease_path(dir, g)) {
            Ok(bytes) => match serde_json::from_slice::<LeaseInfo>(&bytes) {
                Ok(info) => return Ok(Some((g, info))),
                // Created but not yet written (the holder writes right after creating it): a fresh
                // claim.
                Err(_) if bytes.is_empty() => {
                    return Ok(Some((
                        g,
                        LeaseInfo {
                            host: String::new(),
                            pid: 0,
                            slurm_job: None,
                            started: now(),
                            heartbeat: now(),
                        },
                    )));
                }
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {e}", lease_path(dir, g).display()),
                    ));
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn write_info(path: &Path, info: &LeaseInfo) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec(info).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}

/// Claim `dir` (created if missing) for `holder`: a new lease when there is none, a
/// takeover when the current one is stale (see the module's rules), else [`Claim::Busy`].
pub fn claim(dir: &Path, holder: &Holder, timeout: Duration) -> std::io::Result<Claim> {
    std::fs::create_dir_all(dir)?;
    let (generation, took_over) = match current(dir)? {
        None => (1, None),
        Some((_, info)) if info.host == holder.host && info.pid == holder.pid => {
            return Err(std::io::Error::other(format!(
                "{}: this process already holds its lease",
                dir.display()
            )));
        }
        Some((g, info)) if info.is_stale(&holder.host, timeout) => (g + 1, Some(info)),
        Some((_, info)) => return Ok(Claim::Busy(info)),
    };
    let path = lease_path(dir, generation);
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(_) => {}
        // Another claimant created this generation first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(match current(dir)? {
                Some((_, info)) => Claim::Busy(info),
                None => Claim::Busy(LeaseInfo {
                    host: "?".into(),
                    pid: 0,
                    slurm_job: None,
                    started: now(),
                    heartbeat: now(),
                }),
            });
        }
        Err(e) => return Err(e),
    }
    let t = now();
    let info = LeaseInfo {
        host: holder.host.clone(),
        pid: holder.pid,
        slurm_job: holder.slurm_job.clone(),
        started: t,
        heartbeat: t,
    };
    write_info(&path, &info)?;
    // Older generations are history once this one is written.
    for g in generations(dir)? {
        if g < generation {
            let _ = std::fs::remove_file(lease_path(dir, g));
        }
    }
    let lost = Arc::new(AtomicBool::new(false));
    let stop = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let thread =
        heartbeat(dir.to_path_buf(), path.clone(), generation, info, lost.clone(), stop.clone());
    Ok(Claim::Held(Lease { path, lost, stop, thread: Some(thread), took_over }))
}

/// The heartbeat thread of the lease of `generation` at `path` in `dir`: `info` rewritten every
/// [`HEARTBEAT`] until `stop`'s flag is set (and notified), or until a newer generation appears
/// (then `lost` is set and the thread ends).
fn heartbeat(
    dir: PathBuf,
    path: PathBuf,
    generation: u64,
    mut info: LeaseInfo,
    lost: Arc<AtomicBool>,
    stop: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let (flag, cvar) = &*stop;
        let mut stopped = flag.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // Checked before waiting too: the holder may have dropped the lease before this
            // thread ran.
            if *stopped {
                return;
            }
            let (guard, waited) =
                cvar.wait_timeout(stopped, HEARTBEAT).unwrap_or_else(|p| p.into_inner());
            stopped = guard;
            if *stopped {
                return;
            }
            if !waited.timed_out() {
                continue; // a spurious wake-up: not yet time for a heartbeat
            }
            // A newer generation: someone judged this lease stale and took the run over.
            if generations(&dir).is_ok_and(|gs| gs.last().is_some_and(|&g| g > generation)) {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            info.heartbeat = now();
            let _ = write_info(&path, &info);
        }
    })
}

impl Lease {
    /// Whether another process took this run over (this one must stop writing to it).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        {
            let (flag, cvar) = &*self.stop;
            *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cvar.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if !self.is_lost() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(pid: u32) -> Holder {
        Holder { host: crate::io::host_name(), pid, slurm_job: None }
    }

    #[test]
    fn one_claimant_wins_and_a_dead_holder_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("seed-1");
        let me = Holder::this_process(None);
        let Claim::Held(lease) = claim(&dir, &me, DEFAULT_LEASE_TIMEOUT).unwrap() else {
            panic!("an unleased run is claimed")
        };
        assert!(lease.took_over.is_none());
        // Another live process (pid 1 exists everywhere) finds it busy.
        let Claim::Busy(info) = claim(&dir, &holder(1), DEFAULT_LEASE_TIMEOUT).unwrap() else {
            panic!("busy")
        };
        assert_eq!(info.pid, std::process::id());
        assert!(
            info.describe().contains(&format!("pid {}", std::process::id())),
            "{}",
            info.describe()
        );
        drop(lease);
        assert!(current(&dir).unwrap().is_none(), "released on drop");

        // A lease of a dead process on this host is taken over at once, as the next generation.
        let mut dead = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = dead.id();
        dead.wait().unwrap();
        let Claim::Held(l1) = claim(&dir, &holder(dead_pid), DEFAULT_LEASE_TIMEOUT).unwrap() else {
            panic!()
        };
        std::mem::forget(l1); // the "dead" holder never releases
        let Claim::Held(l2) = claim(&dir, &me, DEFAULT_LEASE_TIMEOUT).unwrap() else {
            panic!("a dead holder's lease is stale")
        };
        assert_eq!(l2.took_over.as_ref().map(|i| i.pid), Some(dead_pid));
        assert_eq!(
            generations(&dir).unwrap(),
            [2],
            "the old generation is removed once the new one is written"
        );
        drop(l2);
    }

    #[test]
    fn another_hosts_lease_is_stale_only_after_the_timeout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let old = LeaseInfo {
            host: "elsewhere".into(),
            pid: 1,
            slurm_job: Some("812_4".into()),
            started: now() - 60.0,
            heartbeat: now() - 30.0,
        };
        write_info(&lease_path(dir, 3), &old).unwrap();
        let me = Holder::this_process(None);
        assert!(
            matches!(claim(dir, &me, Duration::from_secs(60)).unwrap(), Claim::Busy(i) if i.host == "elsewhere")
        );
        assert!(old.describe().contains("(Slurm job 812_4)"));
        let Claim::Held(l) = claim(dir, &me, Duration::from_secs(20)).unwrap() else {
            panic!("30 s old > 20 s timeout")
        };
        assert_eq!(generations(dir).unwrap(), [4]);
        drop(l);
    }

    #[test]
    fn many_threads_claiming_at_once_give_one_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Arc::new(tmp.path().join("run"));
        let held: Vec<bool> = (0..8)
            .map(|i| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    // Distinct (live) claimants: this pid with a distinct host name each.
                    let h =
                        Holder { host: format!("h{i}"), pid: std::process::id(), slurm_job: None };
                    match claim(&dir, &h, DEFAULT_LEASE_TIMEOUT).unwrap() {
                        Claim::Held(l) => {
                            std::mem::forget(l);
                            true
                        }
                        Claim::Busy(_) => false,
                    }
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(held.iter().filter(|&&h| h).count(), 1, "{held:?}");
    }
}
