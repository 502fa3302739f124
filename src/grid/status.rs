//! Where every unit of a study stands: done, running (whose lease, which Slurm task),
//! failed or pending — as rows, as a polars table for notebooks, as `--status` text.
use super::{UnitState, slurm, unit_state, units};
use crate::plan::{Section, Setup};
use crate::table::Table;

/// One unit's line of [`status`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusRow {
    pub variant: String,
    pub seed: u64,
    /// `done`, `running`, `failed` or `pending`.
    pub state: &'static str,
    pub best_val_acc: Option<f64>,
    pub epochs_done: Option<usize>,
    /// `host pid N (Slurm job J)` of a running unit.
    pub holder: Option<String>,
    pub heartbeat_s_ago: Option<f64>,
    /// The epoch in progress, the first line of an error, or where a pending unit resumes.
    pub note: String,
}

/// Every unit of `sections` with its state, as rows (see [`status`]).
pub fn status_rows(setup: &Setup, sections: &[&Section]) -> anyhow::Result<Vec<StatusRow>> {
    let mut rows = Vec::new();
    // squeue, asked once and only when a running unit belongs to a Slurm task.
    let mut queue: Option<Option<Vec<String>>> = None;
    for u in units(setup, sections) {
        let st = unit_state(setup, &u)?;
        let mut row = StatusRow {
            variant: u.variant.key.clone(),
            seed: u.seed,
            state: st.name(),
            ..StatusRow::default()
        };
        match st {
            UnitState::Done { acc } => {
                row.best_val_acc = Some(acc);
                row.epochs_done = Some(setup.profile.epochs);
            }
            UnitState::Running { holder, epoch, epochs } => {
                let job = holder
                    .slurm_job
                    .as_ref()
                    .map_or(String::new(), |j| format!(" (Slurm job {j})"));
                row.holder = Some(format!("{} pid {}{job}", holder.host, holder.pid));
                row.heartbeat_s_ago = Some(holder.age().round());
                row.epochs_done = Some(epoch);
                row.note = format!("epoch {}/{epochs}", epoch + 1);
                if let Some(job) = &holder.slurm_job
                    && let Some(q) = queue.get_or_insert_with(slurm::queued_jobs)
                    && !q.iter().any(|x| x == job)
                {
                    row.note += &format!(
                        "; its Slurm task {job} is no longer in the queue (the lease goes \
                            stale in at most {} s)",
                        setup.options.lease.timeout.as_secs()
                    );
                }
            }
            UnitState::Failed { error } => row.note = error,
            UnitState::Pending { epoch, stale } => {
                row.epochs_done = Some(epoch);
                row.note = match (&stale, epoch) {
                    (Some(s), _) => {
                        format!("holder gone ({}); resumes after epoch {epoch}", s.describe())
                    }
                    (None, 0) => String::new(),
                    (None, k) => format!("resumes after epoch {k}"),
                };
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// `study.status()` in a notebook: every unit of `sections` with its state — done
/// (accuracy), running (host, pid, Slurm job, epoch k of n, last heartbeat), failed
/// (first line of its error), pending (epochs to resume from).
pub fn status(setup: &Setup, sections: &[&Section]) -> anyhow::Result<polars::prelude::DataFrame> {
    let rows = status_rows(setup, sections)?;
    Ok(polars::df!(
        "variant" => rows.iter().map(|r| r.variant.clone()).collect::<Vec<_>>(),
        "seed" => rows.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "state" => rows.iter().map(|r| r.state.to_string()).collect::<Vec<_>>(),
        "best_val_acc" => rows.iter().map(|r| r.best_val_acc).collect::<Vec<_>>(),
        "epochs_done" => rows.iter().map(|r| r.epochs_done.map(|e| e as u32)).collect::<Vec<_>>(),
        "holder" => rows.iter().map(|r| r.holder.clone()).collect::<Vec<_>>(),
        "heartbeat_s_ago" => rows.iter().map(|r| r.heartbeat_s_ago).collect::<Vec<_>>(),
        "note" => rows.iter().map(|r| r.note.clone()).collect::<Vec<_>>(),
    )?)
}

/// `convlab study --status`: one line per unit, then the counts per state.
pub fn status_text(setup: &Setup, sections: &[&Section]) -> anyhow::Result<String> {
    let rows = status_rows(setup, sections)?;
    let table = Table {
        name: "status".into(),
        header: ["variant", "seed", "state", "best val acc", "detail"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                let detail = match (&r.holder, r.heartbeat_s_ago) {
                    (Some(h), Some(hb)) => format!("{h}, heartbeat {hb:.0} s ago, {}", r.note),
                    _ => r.note.clone(),
                };
                let acc = r.best_val_acc.map_or(String::new(), |a| format!("{a:.4}"));
                vec![r.variant.clone(), r.seed.to_string(), r.state.into(), acc, detail]
            })
            .collect(),
    };
    let mut out = vec![table.text()];
    let count = |s: &str| rows.iter().filter(|r| r.state == s).count();
    out.push(format!(
        "{} units: {} done, {} running, {} failed, {} pending",
        rows.len(),
        count("done"),
        count("running"),
        count("failed"),
        count("pending")
    ));
    Ok(out.join("\n"))
}
