//! Q5. What do resnet14 / resnet18 / resnet34 cost? Measured by the benchmark.
use crate::analysis::results::SectionResult;
use crate::analysis::stats::round;
use crate::bench::{BenchConfig, BenchResult};
use crate::plan as sections;
use crate::plan::Setup;
use crate::plan::Variant;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// The benchmark of the three depths, stored as `<runs>/<profile>/questions/depth-bench.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepthBench {
    /// The CPU (`/proc/cpuinfo`'s model name) or GPU it ran on.
    pub machine: String,
    /// (variant key, what was run, what was measured).
    pub results: Vec<(String, BenchConfig, BenchResult)>,
}

/// What depth costs and buys. See [`depth_cost`].
#[derive(Debug, Clone)]
pub struct DepthCost {
    pub bench: DepthBench,
    /// Multiply-accumulates per image of each variant, at the profile's image size.
    pub macs: Vec<i64>,
    /// The depth section: accuracies and the comparisons with xknet18.
    pub section: SectionResult,
}

/// Q5. The paper: "resnet34 takes about twice resnet14's time". Run records are confounded
/// when workers share the machine, so the three depths are timed by [`crate::bench::run`]
/// alone, with every thread: a training step on a resident batch and a whole epoch with the
/// loader, at the profile's scale. Stored beside the runs and reused while the configs match;
/// `force` measures again. Run it on an otherwise idle machine.
pub fn depth_cost(setup: &Setup, section: SectionResult, force: bool) -> anyhow::Result<DepthCost> {
    let path = setup.runs_dir.join("questions").join("depth-bench.json");
    let variants: Vec<Variant> = ["resnet14", "xknet18", "resnet34"]
        .iter()
        .map(|k| sections::paper_variant(k).cloned())
        .collect::<anyhow::Result<_>>()?;
    let configs: Vec<BenchConfig> = variants
        .iter()
        .map(|v| {
            let c = setup.config(v)?;
            // Threads: the machine's (a study's workers pin one each; this runs alone).
            let train = crate::train::TrainConfig { threads: None, ..c.train };
            Ok(BenchConfig {
                name: v.key.clone(),
                model: c.model,
                size: setup.data.shape()[1],
                batch_size: train.batch_size,
                steps: 10,
                warmup: 3,
                epochs: 2,
                train,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let stored: Option<DepthBench> =
        if force || !path.exists() { None } else { Some(crate::io::read_json(&path)?) };

    let same = |b: &DepthBench| {
        b.results.len() == configs.len()
            && b.results.iter().zip(&configs).all(|((_, c, _), want)| {
                serde_json::to_value(c).ok() == serde_json::to_value(want).ok()
            })
    };
    let bench = match stored {
        Some(b) if same(&b) => b,
        _ if setup.options.stored_only => {
            anyhow::bail!(
                "the depth benchmark of this profile has not run: {} is missing or older than the \
                    configs (`convlab study` runs it after the grid)",
                path.display()
            )
        }
        _ => {
            let mut results = Vec::new();
            for (v, cfg) in variants.iter().zip(&configs) {
                let r = crate::bench::run(cfg, Some(&setup.data))?;
                results.push((v.key.to_string(), cfg.clone(), r));
            }
            let b = DepthBench { machine: crate::device::cpu_model(), results };
            std::fs::create_dir_all(path.parent().expect("under the runs directory"))?;
            crate::io::write_json(&path, &b)?;
            b
        }
    };
    let side = setup.data.shape()[1];
    let macs = configs.iter().map(|c| c.model.macs(side)).collect();
    Ok(DepthCost { bench, macs, section })
}

impl DepthCost {
    fn result(&self, key: &str) -> Option<&BenchResult> {
        self.bench.results.iter().find(|(k, _, _)| k == key).map(|(_, _, r)| r)
    }

    /// Seconds per epoch of `key` ÷ those of `base` (the loader's epoch; the resident step when no
    /// epoch was timed).
    pub fn time_ratio(&self, key: &str, base: &str) -> Option<f64> {
        let t = |r: &BenchResult| r.epoch_seconds.unwrap_or(1.0 / r.step_img_s);
        Some(t(self.result(key)?) / t(self.result(base)?))
    }

    /// One row per depth: blocks, parameters, MACs per image, step and epoch throughput,
    /// time and MACs relative to resnet14, and the study's score `S` ([`crate::settings::Score::column`]): its
    /// mean (`S_mean`) and its Δ to xknet18 (`S_delta_pp_vs_xknet18`).
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rows: Vec<(&String, &BenchConfig, &BenchResult)> =
            self.bench.results.iter().map(|(k, c, r)| (k, c, r)).collect();
        let macs14 = self.macs.first().copied().unwrap_or(1) as f64;
        let s = self.section.score().column();
        let mut t = df!(
            "variant" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "blocks" => rows.iter().map(|r| format!("{:?}", r.1.model.blocks)).collect::<Vec<_>>(),
            "params" => rows.iter().map(|r| r.2.parameters).collect::<Vec<_>>(),
            "mmacs_per_image" => self.macs.iter().map(|&m| round(m as f64 / 1e6, 1)).collect::<Vec<_>>(),
            "step_img_s" => rows.iter().map(|r| round(r.2.step_img_s, 0)).collect::<Vec<_>>(),
            "epoch_s" => rows.iter().map(|r| r.2.epoch_seconds.map(|s| round(s, 2))).collect::<Vec<_>>(),
            "time_vs_resnet14" => rows.iter().map(|r| self.time_ratio(r.0, "resnet14").map(|x| round(x, 2))).collect::<Vec<_>>(),
            "macs_vs_resnet14" => self.macs.iter().map(|&m| round(m as f64 / macs14, 2)).collect::<Vec<_>>(),
            "mean" => rows.iter().map(|r| self.section.get(r.0).map(|v| round(v.mean_score(), 4))).collect::<Vec<_>>(),
            "delta_pp_vs_xknet18" => rows.iter().map(|r| self.section.comparison(r.0).and_then(|c| c.diff()).map(|d| round(100.0 * d, 2))).collect::<Vec<_>>(),
        )?;
        t.rename("mean", format!("{s}_mean").into())?;
        t.rename("delta_pp_vs_xknet18", format!("{s}_delta_pp_vs_xknet18").into())?;
        Ok(t)
    }

    /// Whether "about twice" holds: resnet34's epoch takes 1.5–2.5× resnet14's.
    pub fn twice(&self) -> Option<bool> {
        self.time_ratio("resnet34", "resnet14").map(|r| (1.5..=2.5).contains(&r))
    }

    pub fn conclusion(&self) -> String {
        let Some(ratio) = self.time_ratio("resnet34", "resnet14") else {
            return "The depth benchmark has no result.".into();
        };
        let threads = self.bench.results.first().map_or(0, |r| r.2.threads);
        let macs = self.macs[2] as f64 / self.macs[0] as f64;
        let mut out = vec![format!(
            "Measured on {} ({threads} threads, alone on the machine): an epoch of resnet34 takes \
                {ratio:.2}× resnet14's and xknet18's {:.2}×; by multiply-accumulates resnet34 is \
                {macs:.2}× resnet14. \"About twice\": {}.",
            self.bench.machine,
            self.time_ratio("xknet18", "resnet14").unwrap_or(f64::NAN),
            match self.twice() {
                Some(true) => "**reproduced** (within 1.5–2.5×)",
                _ => "**not reproduced** (outside 1.5–2.5×)",
            }
        )];
        for key in ["resnet14", "resnet34"] {
            if let Some(c) = self.section.comparison(key) {
                out.push(format!("{} against xknet18: {}.", c.variant.variant.label, c.describe()));
            }
        }
        out.join("\n\n")
    }
}
