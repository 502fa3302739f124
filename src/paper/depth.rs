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
    /// Seconds of one training epoch of each depth (in `results`' order), in [`ROUNDS`]
    /// interleaved rounds ([`crate::bench::epoch_rounds`]): `rounds[round][depth]`.
    #[serde(default)]
    pub rounds: Vec<Vec<f64>>,
}

/// Rounds of epoch timings behind the time ratio's interval.
pub const ROUNDS: usize = 7;

/// "About twice": resnet34's epoch takes 1.5–2.5× resnet14's.
pub const TWICE: std::ops::RangeInclusive<f64> = 1.5..=2.5;

/// A ratio of epoch times: the geometric mean over rounds of the within-round ratios, and its
/// 95% interval (Student's t on the logarithms, rounds − 1 degrees of freedom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRatio {
    pub ratio: f64,
    pub ci95: (f64, f64),
    pub rounds: usize,
}

impl TimeRatio {
    /// From paired timings `(key, base)`, one pair per round; `None` with fewer than two.
    pub fn of(pairs: &[(f64, f64)]) -> Option<TimeRatio> {
        let logs: Vec<f64> = pairs.iter().map(|(k, b)| (k / b).ln()).collect();
        let (lo, hi) = crate::analysis::stats::mean_ci95(&logs)?;
        let m = crate::analysis::stats::mean(&logs);
        Some(TimeRatio { ratio: m.exp(), ci95: (lo.exp(), hi.exp()), rounds: pairs.len() })
    }

    /// Whether the ratio lies in `band`, judged on the interval: `Some(true)` when it lies
    /// inside, `Some(false)` when it lies wholly outside, `None` when it straddles an edge.
    pub fn within(&self, band: &std::ops::RangeInclusive<f64>) -> Option<bool> {
        let (lo, hi) = self.ci95;
        if band.contains(&lo) && band.contains(&hi) {
            Some(true)
        } else if hi < *band.start() || lo > *band.end() {
            Some(false)
        } else {
            None
        }
    }

    /// `2.51× [2.47, 2.55] (7 rounds)`.
    pub fn describe(&self) -> String {
        format!(
            "{:.2}× [{:.2}, {:.2}] ({} rounds)",
            self.ratio, self.ci95.0, self.ci95.1, self.rounds
        )
    }
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
/// loader, at the profile's scale; then [`ROUNDS`] rounds of one epoch of each depth, which
/// give the time ratio its interval ([`DepthCost::ratio`]). Stored beside the runs and reused
/// while the configs match; `force` measures again. Run it on an otherwise idle machine.
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
            && b.rounds.len() == ROUNDS
            && b.rounds.iter().all(|r| r.len() == configs.len())
            && b.results.iter().zip(&configs).all(|((_, c, _), want)| {
                serde_json::to_value(c).ok() == serde_json::to_value(want).ok()
            })
    };
    let bench = match stored {
        Some(b) if same(&b) => b,
        _ if setup.options.stored_only => {
            anyhow::bail!(
                "the depth benchmark of this profile has not run: {} is missing, older than the \
                    configs or without its {ROUNDS} timed rounds (`convlab study` runs it after \
                    the grid)",
                path.display()
            )
        }
        _ => {
            let mut results = Vec::new();
            for (v, cfg) in variants.iter().zip(&configs) {
                let r = crate::bench::run(cfg, Some(&setup.data))?;
                results.push((v.key.to_string(), cfg.clone(), r));
            }
            let rounds = crate::bench::epoch_rounds(&configs, &setup.data, ROUNDS)?;
            let b = DepthBench { machine: crate::device::cpu_model(), results, rounds };
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
    /// One row per depth: blocks, parameters, MACs per image, step throughput, seconds per
    /// epoch (geometric mean over the rounds), time relative to resnet14 over the rounds with
    /// its 95% interval, MACs relative to resnet14, and the study's score `S` ([`crate::settings::Score::column`]): its mean (`S_mean`) and
    /// its Δ to xknet18 (`S_delta_pp_vs_xknet18`).
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rows: Vec<(&String, &BenchConfig, &BenchResult)> =
            self.bench.results.iter().map(|(k, c, r)| (k, c, r)).collect();
        let macs14 = self.macs.first().copied().unwrap_or(1) as f64;
        let s = self.section.score().column();
        let ratios: Vec<Option<TimeRatio>> =
            rows.iter().map(|r| self.ratio(r.0, "resnet14")).collect();
        let mut t = df!(
            "variant" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "blocks" => rows.iter().map(|r| format!("{:?}", r.1.model.blocks)).collect::<Vec<_>>(),
            "params" => rows.iter().map(|r| r.2.parameters).collect::<Vec<_>>(),
            "mmacs_per_image" => self.macs.iter().map(|&m| round(m as f64 / 1e6, 1)).collect::<Vec<_>>(),
            "step_img_s" => rows.iter().map(|r| round(r.2.step_img_s, 0)).collect::<Vec<_>>(),
            "epoch_s" => (0..rows.len()).map(|i| self.epoch_seconds(i).map(|s| round(s, 2))).collect::<Vec<_>>(),
            "time_vs_resnet14" => ratios.iter().map(|r| r.map(|x| round(x.ratio, 3))).collect::<Vec<_>>(),
            "time_ci95_lo" => ratios.iter().map(|r| r.map(|x| round(x.ci95.0, 3))).collect::<Vec<_>>(),
            "time_ci95_hi" => ratios.iter().map(|r| r.map(|x| round(x.ci95.1, 3))).collect::<Vec<_>>(),
            "macs_vs_resnet14" => self.macs.iter().map(|&m| round(m as f64 / macs14, 2)).collect::<Vec<_>>(),
            "mean" => rows.iter().map(|r| self.section.get(r.0).map(|v| round(v.mean_score(), 4))).collect::<Vec<_>>(),
            "delta_pp_vs_xknet18" => rows.iter().map(|r| self.section.comparison(r.0).and_then(|c| c.diff()).map(|d| round(100.0 * d, 2))).collect::<Vec<_>>(),
        )?;
        t.rename("mean", format!("{s}_mean").into())?;
        t.rename("delta_pp_vs_xknet18", format!("{s}_delta_pp_vs_xknet18").into())?;
        Ok(t)
    }

    /// The `i`th depth's seconds per epoch: the geometric mean over the rounds (the mean the
    /// ratios are taken of).
    fn epoch_seconds(&self, i: usize) -> Option<f64> {
        let logs: Vec<f64> =
            self.bench.rounds.iter().filter_map(|r| r.get(i).map(|s| s.ln())).collect();
        (!logs.is_empty()).then(|| crate::analysis::stats::mean(&logs).exp())
    }

    /// Epoch seconds of `key` ÷ those of `base` over the interleaved rounds, with its interval;
    /// `None` before the rounds were timed.
    pub fn ratio(&self, key: &str, base: &str) -> Option<TimeRatio> {
        let at = |k: &str| self.bench.results.iter().position(|(x, _, _)| x == k);
        let (i, j) = (at(key)?, at(base)?);
        let pairs: Vec<(f64, f64)> =
            self.bench.rounds.iter().filter_map(|r| Some((*r.get(i)?, *r.get(j)?))).collect();
        TimeRatio::of(&pairs)
    }

    /// Whether "about twice" holds, judged on resnet34 ÷ resnet14's interval ([`TWICE`]):
    /// `Some(true)` inside, `Some(false)` wholly outside, `None` straddling an edge or not timed.
    pub fn twice(&self) -> Option<bool> {
        self.ratio("resnet34", "resnet14")?.within(&TWICE)
    }

    pub fn conclusion(&self) -> String {
        let (Some(r34), Some(x18)) =
            (self.ratio("resnet34", "resnet14"), self.ratio("xknet18", "resnet14"))
        else {
            return "The depth benchmark has no timed rounds.".into();
        };
        let threads = self.bench.results.first().map_or(0, |r| r.2.threads);
        let macs = self.macs[2] as f64 / self.macs[0] as f64;
        let mut out = vec![format!(
            "Measured on {} ({threads} threads, alone on the machine), one epoch of each depth \
                per round, interleaved: an epoch of resnet34 takes {} of resnet14's, xknet18's \
                {}; by multiply-accumulates resnet34 is {macs:.2}× resnet14. \"About twice\" \
                (within {:.1}–{:.1}×, judged on the interval): {}.",
            self.bench.machine,
            r34.describe(),
            x18.describe(),
            TWICE.start(),
            TWICE.end(),
            match self.twice() {
                Some(true) => "**reproduced** (the interval lies inside the band)",
                Some(false) => "**contradicted** (the interval lies outside the band)",
                None => "**not separable** (the interval straddles the band's edge)",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy 1.17.1: `l = np.log(k / b); lo, hi = stats.t.interval(0.95, len(l) - 1,
    /// loc=l.mean(), scale=stats.sem(l)); np.exp(l.mean()), np.exp(lo), np.exp(hi)` with `k`,
    /// `b` the two lists below. A ratio of 2.51 whose interval straddles 2.5: not separable.
    #[test]
    fn the_time_ratio_is_judged_on_its_interval() {
        let k = [3.70, 3.62, 3.81, 3.66, 3.75, 3.69, 3.72];
        let b = [1.47, 1.49, 1.46, 1.50, 1.45, 1.48, 1.47];
        let pairs: Vec<(f64, f64)> = k.iter().copied().zip(b.iter().copied()).collect();
        let r = TimeRatio::of(&pairs).unwrap();
        assert!((r.ratio - 2.514384767550676).abs() < 1e-12, "{r:?}");
        assert!((r.ci95.0 - 2.4524139448991478).abs() < 1e-12, "{r:?}");
        assert!((r.ci95.1 - 2.5779215504953656).abs() < 1e-12, "{r:?}");
        assert_eq!(r.within(&TWICE), None);
        assert_eq!(r.describe(), "2.51× [2.45, 2.58] (7 rounds)");
        let inside = TimeRatio { ratio: 2.0, ci95: (1.9, 2.1), rounds: 7 };
        let outside = TimeRatio { ratio: 2.8, ci95: (2.6, 3.0), rounds: 7 };
        assert_eq!((inside.within(&TWICE), outside.within(&TWICE)), (Some(true), Some(false)));
        assert_eq!(TimeRatio::of(&pairs[..1]), None, "one round has no interval");
    }
}
