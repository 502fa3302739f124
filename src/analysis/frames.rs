//! Runs as polars tables, for slicing in a notebook cell: a runs frame (one row per finished
//! run, with every field of its configuration) and a history frame (one row per run and epoch).
//! [`runs_frame`] / [`history_frame`] read them from the runs directory;
//! [`super::SectionResult::runs_frame`] builds one from a section's loaded runs, and the
//! section's table is computed from it.
use crate::grid::units;
use crate::plan::Setup;
use crate::train::{EpochRecord, RunConfig, RunDir, RunSummary};
use polars::prelude::*;
use std::collections::BTreeMap;

/// One finished run, as a row of a runs frame.
pub(crate) struct RunRow<'a> {
    pub variant: &'a str,
    pub summary: &'a RunSummary,
    pub config: &'a RunConfig,
}

/// One run's epochs, as rows of a history frame.
pub(crate) struct HistoryRows<'a> {
    pub variant: &'a str,
    pub seed: u64,
    pub history: &'a [EpochRecord],
}

/// A configuration as dotted keys (`model.width`, `train.schedule.step_size`) and leaf values.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                flatten(&format!("{prefix}.{k}"), x, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// One column from each row's value of `key` (missing: null): whole numbers as i64, other
/// numbers as f64, booleans as booleans, anything else as text (strings as they are, the rest
/// as JSON).
fn column(key: &str, rows: &[BTreeMap<String, serde_json::Value>]) -> Column {
    let values: Vec<Option<&serde_json::Value>> =
        rows.iter().map(|r| r.get(key).filter(|v| !v.is_null())).collect();
    let name = PlSmallStr::from(key);
    if values.iter().flatten().all(|v| v.is_i64()) {
        Column::new(name, values.iter().map(|v| v.and_then(|v| v.as_i64())).collect::<Vec<_>>())
    } else if values.iter().flatten().all(|v| v.is_number()) {
        Column::new(name, values.iter().map(|v| v.and_then(|v| v.as_f64())).collect::<Vec<_>>())
    } else if values.iter().flatten().all(|v| v.is_boolean()) {
        Column::new(name, values.iter().map(|v| v.and_then(|v| v.as_bool())).collect::<Vec<_>>())
    } else {
        let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Column::new(name, values.iter().map(|v| v.map(text)).collect::<Vec<_>>())
    }
}

/// A configuration's fields as dotted keys, `model.*` then `train.*`.
fn config_row(config: &RunConfig) -> PolarsResult<BTreeMap<String, serde_json::Value>> {
    let json = |v: serde_json::Result<serde_json::Value>| {
        v.map_err(|e| polars_err!(ComputeError: "a run's configuration as JSON: {e}"))
    };
    let mut row = BTreeMap::new();
    flatten("model", &json(serde_json::to_value(&config.model))?, &mut row);
    flatten("train", &json(serde_json::to_value(&config.train))?, &mut row);
    Ok(row)
}

/// A runs frame: `variant`, `seed`, `best_val_acc`, `best_epoch`, `test_acc` (null where the
/// test split is unlabelled), `minutes`, then every configuration field as a typed column.
pub(crate) fn runs_frame_of<'a>(
    rows: impl IntoIterator<Item = RunRow<'a>>,
) -> PolarsResult<DataFrame> {
    let (mut variant, mut seed, mut best_val_acc, mut best_epoch, mut test_acc, mut minutes) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut configs: Vec<BTreeMap<String, serde_json::Value>> = Vec::new();
    for r in rows {
        configs.push(config_row(r.config)?);
        variant.push(r.variant);
        seed.push(r.summary.seed);
        best_val_acc.push(r.summary.best_val_acc);
        best_epoch.push(r.summary.best_epoch as u64);
        test_acc.push(r.summary.test_acc);
        minutes.push(r.summary.wall_seconds / 60.0);
    }
    let mut columns = vec![
        Column::new("variant".into(), variant),
        Column::new("seed".into(), seed),
        Column::new("best_val_acc".into(), best_val_acc),
        Column::new("best_epoch".into(), best_epoch),
        Column::new("test_acc".into(), test_acc),
        Column::new("minutes".into(), minutes),
    ];
    let keys: std::collections::BTreeSet<&String> = configs.iter().flat_map(|r| r.keys()).collect();
    columns.extend(keys.into_iter().map(|k| column(k, &configs)));
    DataFrame::new_infer_height(columns)
}

/// A history frame: `variant`, `seed`, then `history.csv`'s columns.
pub(crate) fn history_frame_of<'a>(
    runs: impl IntoIterator<Item = HistoryRows<'a>>,
) -> PolarsResult<DataFrame> {
    let (mut variant, mut seed, mut epoch) = (Vec::new(), Vec::new(), Vec::new());
    let mut values: [Vec<f64>; 8] = Default::default();
    for run in runs {
        for r in run.history {
            variant.push(run.variant);
            seed.push(run.seed);
            epoch.push(r.epoch as u64);
            for (col, v) in values.iter_mut().zip([
                r.lr,
                r.train_loss,
                r.train_acc,
                r.val_loss,
                r.val_acc,
                r.val_top5,
                r.seconds,
                r.images_per_s,
            ]) {
                col.push(v);
            }
        }
    }
    let names = [
        "lr",
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "val_top5",
        "seconds",
        "images_per_s",
    ];
    let mut columns = vec![
        Column::new("variant".into(), variant),
        Column::new("seed".into(), seed),
        Column::new("epoch".into(), epoch),
    ];
    columns.extend(names.iter().zip(values).map(|(n, v)| Column::new((*n).into(), v)));
    DataFrame::new_infer_height(columns)
}

/// Every finished run of the plan's sections, one row each: `variant`, `seed`, every field
/// of the run's configuration (`model.*`, `train.*`), `best_val_acc`, `best_epoch`,
/// `test_acc` (when the test split is labelled) and `minutes`. Nothing is trained.
///
/// ```ignore
/// study.runs_frame()?.sort(["best_val_acc"], Default::default())?.select(["variant", "seed",
/// "model.width", "best_val_acc"])?
/// ```
pub fn runs_frame(setup: &Setup) -> anyhow::Result<DataFrame> {
    let mut stored = Vec::new();
    for u in units(setup, &setup.sections()) {
        let files = RunDir::new(&u.dir);
        if let Some(summary) = files.read_summary()? {
            stored.push((u.variant.key.clone(), summary, files.read_config()?));
        }
    }
    Ok(runs_frame_of(stored.iter().map(|(variant, summary, config)| RunRow {
        variant,
        summary,
        config,
    }))?)
}

/// Every epoch of every run of the plan's sections, finished or not, one row each:
/// `variant`, `seed`, then `history.csv`'s columns (`epoch`, `lr`, `train_loss`,
/// `train_acc`, `val_loss`, `val_acc`, `val_top5`, `seconds`, `images_per_s`).
pub fn history_frame(setup: &Setup) -> anyhow::Result<DataFrame> {
    let mut stored = Vec::new();
    for u in units(setup, &setup.sections()) {
        let files = RunDir::new(&u.dir);
        if files.is_started() {
            stored.push((u.variant.key.clone(), u.seed, files.read_history()?));
        }
    }
    Ok(history_frame_of(stored.iter().map(|(variant, seed, history)| HistoryRows {
        variant,
        seed: *seed,
        history,
    }))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_flatten_to_typed_columns() {
        let mut a = BTreeMap::new();
        flatten(
            "train",
            &serde_json::json!({"lr": 0.02, "schedule": {"step": {"step_size": 2, "gamma": 0.1}}, "nesterov": false}),
            &mut a,
        );
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            [
                "train.lr",
                "train.nesterov",
                "train.schedule.step.gamma",
                "train.schedule.step.step_size"
            ]
        );
        let mut b = BTreeMap::new();
        flatten(
            "train",
            &serde_json::json!({"lr": 0.001, "schedule": "constant", "nesterov": true}),
            &mut b,
        );
        let rows = [a, b];
        let lr = column("train.lr", &rows);
        assert_eq!(lr.dtype(), &DataType::Float64);
        assert_eq!(column("train.nesterov", &rows).dtype(), &DataType::Boolean);
        // A key one row lacks is null there; a value that is not a leaf of every row is text.
        let step = column("train.schedule.step.step_size", &rows);
        assert_eq!((step.dtype(), step.null_count()), (&DataType::Int64, 1));
        assert_eq!(column("train.schedule", &rows).str().unwrap().get(1), Some("constant"));
        // What the notebooks' chapter does with a runs frame: sort, then select.
        let df = DataFrame::new_infer_height(vec![Column::new("variant".into(), ["a", "b"]), lr])
            .unwrap();
        let sorted =
            df.sort(["train.lr"], Default::default()).unwrap().select(["variant"]).unwrap();
        assert_eq!(sorted.column("variant").unwrap().str().unwrap().get(0), Some("b"));
    }
}
