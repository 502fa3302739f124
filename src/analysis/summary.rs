//! The study's summary: every variant once, as a table and as one effects figure; and the
//! presets as a table.
use super::results::{self, VariantResult};
use super::{SectionResult, frames, stats};
use crate::plan::{Score, Setup, Variant};
use crate::settings::ProfileName;
use crate::table::Table;

/// Every variant of the study once, each number under its metric's name: its seeds, the
/// mean and std of its best validation accuracy and of the test accuracy of its best epochs,
/// the 95% CI of the mean of the study's score `S` (`S_ci95_lo`, `S_ci95_hi`:
/// [`Score::column`]), the paper's best validation accuracy, minutes of training. The
/// comparisons between variants, with their verdicts, are [`super::family`]'s table.
pub fn summary_table(
    sections: &[SectionResult],
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let seen = distinct_variants(sections);
    // The runs' columns from the variants' runs frame, the CIs from their scores.
    let frame = frames::runs_frame_of(seen.iter().flat_map(|r| r.run_rows()))?;
    let runs = seen
        .iter()
        .map(|r| results::VariantRuns::of(&frame, &r.variant.key))
        .collect::<PolarsResult<Vec<_>>>()?;
    let s = seen.first().map_or(Score::BestVal, |r| r.score).column();
    let r4 = |x: Option<f64>| x.map(|x| stats::round(x, 4));
    let of_runs = |name: &str, g: &dyn Fn(&results::VariantRuns) -> Option<f64>| {
        Column::new(name.into(), runs.iter().map(|r| r4(g(r))).collect::<Vec<_>>())
    };
    let ci = |name: String, g: &dyn Fn((f64, f64)) -> f64| {
        Column::new(name.into(), seen.iter().map(|r| r4(r.ci95().map(g))).collect::<Vec<_>>())
    };
    let cols = vec![
        Column::new(
            "variant".into(),
            seen.iter().map(|r| r.variant.key.to_string()).collect::<Vec<_>>(),
        ),
        Column::new("seeds".into(), runs.iter().map(|r| r.seeds as u32).collect::<Vec<_>>()),
        of_runs("best_val_mean", &|r| r.best_val_mean),
        of_runs("best_val_std", &|r| r.best_val_std),
        of_runs("test_at_best_mean", &|r| r.test_at_best_mean),
        of_runs("test_at_best_std", &|r| r.test_at_best_std),
        ci(format!("{s}_ci95_lo"), &|c| c.0),
        ci(format!("{s}_ci95_hi"), &|c| c.1),
        Column::new(
            "paper_best_val".into(),
            seen.iter().map(|r| r.variant.reported).collect::<Vec<_>>(),
        ),
        Column::new(
            "minutes".into(),
            runs.iter().map(|r| stats::round(r.minutes, 2)).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(seen.len(), cols)
}

/// Each variant of `sections` once, in order.
fn distinct_variants(sections: &[SectionResult]) -> Vec<&VariantResult> {
    let mut seen: Vec<&VariantResult> = Vec::new();
    for s in sections {
        for r in &s.results {
            if !seen.iter().any(|x| x.variant.key == r.variant.key) {
                seen.push(r);
            }
        }
    }
    seen
}

/// Every preset built for `classes` classes and RGB `side`×`side` images: depth,
/// parameters and the shape of the logits of a batch of two run through it.
pub fn presets_table(classes: i64, side: i64) -> anyhow::Result<polars::prelude::DataFrame> {
    use crate::model::{Preset, ResNet, ResNetConfig, parameter_count};
    use tch::nn::ModuleT;
    let (mut layers, mut params, mut logits) = (Vec::new(), Vec::new(), Vec::new());
    for p in Preset::ALL {
        let cfg = ResNetConfig { num_classes: classes, ..p.config() };
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let net = ResNet::new(&vs.root(), &cfg)?;
        let out = tch::no_grad(|| {
            net.forward_t(
                &tch::Tensor::zeros([2, 3, side, side], (tch::Kind::Float, tch::Device::Cpu)),
                false,
            )
        });
        layers.push(cfg.depth() as u32);
        params.push(parameter_count(&vs));
        logits.push(format!("{:?}", out.size()));
    }
    Ok(polars::df!(
        "preset" => Preset::names(),
        "layers" => layers,
        "params" => params,
        "logits" => logits,
    )?)
}

/// Every variant of the study once: its accuracy (mean, 95% CI, seeds), its difference to
/// its section's reference with the CI and verdict, and the paper's difference.
pub fn summary_effects(sections: &[SectionResult], profile: ProfileName) -> crate::plot::Figure {
    let rows = distinct_variants(sections)
        .into_iter()
        .map(|r| {
            let c = sections
                .iter()
                .flat_map(|s| &s.comparisons)
                .find(|c| c.variant.variant.key == r.variant.key);
            let is_reference = c.is_none()
                && sections
                    .iter()
                    .any(|s| s.section.reference.as_deref() == Some(r.variant.key.as_str()));
            r.effect_row(
                c,
                false,
                c.map(|c| format!("{} vs {}", results::short_verdict(c), c.reference.variant.key))
                    .or(is_reference.then(|| "a reference".to_string())),
            )
        })
        .collect();
    let score = distinct_variants(sections).first().map_or(Score::BestVal, |r| r.score);
    crate::plot::Figure::effects_of(
        score.name(),
        &format!("Every variant — {} and effects ({} profile)", score.sentence(), profile.as_str()),
        None,
        rows,
    )
}

/// What each of `variants` is: its overrides from the paper's recipe (its bases' first), the
/// keys among them not scaled, and the run directory its runs are in — those two columns only
/// when some variant has one, or shares another's runs.
pub fn overrides_table(study: &Setup, variants: &[&Variant]) -> anyhow::Result<Table> {
    let plan = &study.plan;
    let mut rows = Vec::new();
    for &v in variants {
        let r = plan.resolve(&v.key)?;
        let set = if r.overrides.is_empty() {
            "—".to_string()
        } else {
            r.overrides.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(" ")
        };
        let absolute = r.absolute.iter().map(|o| o.key.as_str()).collect::<Vec<_>>().join(", ");
        rows.push(vec![
            v.key.clone(),
            v.label.clone(),
            set,
            if absolute.is_empty() { "—".into() } else { absolute },
            study.run_name(v).to_string(),
        ]);
    }
    let mut header: Vec<String> =
        ["variant", "label", "overrides", "absolute", "runs"].map(String::from).to_vec();
    let shared = rows.iter().any(|r| r[4] != r[0]);
    let absolute = rows.iter().any(|r| r[3] != "—");
    for (keep, col) in [(shared, 4), (absolute, 3)] {
        if !keep {
            header.remove(col);
            rows.iter_mut().for_each(|r| drop(r.remove(col)));
        }
    }
    Ok(Table { name: "variants".into(), header, rows })
}
