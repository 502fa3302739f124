//! A study's results gathered from its runs: a section's or a variant's runs (trained when
//! not stored, unless the set-up's options say stored only), the family of comparisons read
//! from disk, the best model, and a section's figures exported.
use super::compare::{Family, Member, members_of};
use super::results::{BestModel, SectionResult, VariantResult, confusion_matrix};
use crate::plan::Setup;
use crate::table::Table;
use std::path::PathBuf;

/// A section's variants run (or loaded), its comparisons not yet filled in.
pub fn section_runs(setup: &Setup, key: &str) -> anyhow::Result<SectionResult> {
    let section = setup.find_section(key)?;
    let mut results = Vec::new();
    for v in &section.variants {
        let (summary, runs) =
            setup.experiment(v)?.run(&setup.runs_dir, &setup.data, &setup.options)?;
        results.push(VariantResult {
            variant: v.clone(),
            summary,
            runs,
            score: setup.profile.score,
        });
    }
    Ok(SectionResult {
        section: section.clone(),
        profile: setup.profile.name,
        results,
        comparisons: Vec::new(),
        classes: setup.data.classes.clone(),
    })
}

/// The plan's comparisons ([`super::compare`]) from the runs finished so far, read from disk
/// (nothing is trained): the adjusted p-values and verdicts every section shows.
/// Only the profile's seeds count; a run stored under another config is an error.
pub fn family(setup: &Setup) -> anyhow::Result<Family> {
    family_over(setup, members_of(&setup.plan))
}

/// Any fixed family of comparisons from the runs finished so far (nothing is trained).
pub fn family_over(setup: &Setup, members: Vec<Member>) -> anyhow::Result<Family> {
    Family::over(members, setup.profile.score, &|s| setup.plan.margin_of(s), |v| {
        let exp = setup.experiment(v)?;
        let mut values = Vec::new();
        for &seed in &exp.seeds {
            if let Some(s) = exp.stored_seed(&setup.runs_dir, seed)?.and_then(|r| r.summary) {
                let v = setup.profile.score.of(&s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} seed {seed} has no {}: the {} profile needs a labelled test split",
                        exp.name,
                        setup.profile.score.sentence(),
                        setup.profile.name.as_str()
                    )
                })?;
                values.push((seed, v));
            }
        }
        Ok((values, exp.seeds.len()))
    })
}

/// Run (or load) one variant or probe alone — a single ablation. A variant whose config
/// equals another's loads that one's runs ([`Setup::run_name`]): nothing is trained twice.
pub fn variant_runs(setup: &Setup, key: &str) -> anyhow::Result<VariantResult> {
    let v = setup.plan.find_variant(key)?.clone();
    let (summary, runs) =
        setup.experiment(&v)?.run(&setup.runs_dir, &setup.data, &setup.options)?;
    Ok(VariantResult { variant: v, summary, runs, score: setup.profile.score })
}

/// Confusion matrix of a variant's first-seed best weights on the validation split, as a
/// figure.
pub fn confusion(setup: &Setup, result: &VariantResult) -> anyhow::Result<crate::plot::Figure> {
    let m = confusion_matrix(&result.runs[0], &setup.data, &setup.data.val)?;
    let title = format!(
        "{} — confusion on validation (seed {})",
        result.variant.label, result.runs[0].config.train.seed
    );
    Ok(crate::plot::Figure::confusion(&title, setup.data.classes.clone(), m))
}

/// The section's best model: of all its runs, the one with the highest best validation
/// accuracy (the earlier variant and seed on a tie), with its confusion matrix on the
/// validation split from its best weights.
pub fn best_model(setup: &Setup, section: &SectionResult) -> anyhow::Result<BestModel> {
    let (result, run, acc) = section
        .results
        .iter()
        .flat_map(|r| {
            r.runs.iter().zip(&r.summary.runs).map(move |(run, s)| (r, run, s.best_val_acc))
        })
        .fold(None, |best: Option<(&VariantResult, &crate::train::Run, f64)>, x| match best {
            Some(b) if b.2 >= x.2 => Some(b),
            _ => Some(x),
        })
        .ok_or_else(|| anyhow::anyhow!("section `{}` has no finished runs", section.section.key))?;
    let matrix = confusion_matrix(run, &setup.data, &setup.data.val)?;
    Ok(BestModel {
        variant: result.variant.clone(),
        seed: run.config.train.seed,
        best_val_acc: acc,
        matrix,
        classes: setup.data.classes.clone(),
    })
}

/// Every figure of a section, exported to [`Setup::figures_dir`]: its curves and effects,
/// and for sections that show it ([`crate::plan::Section::per_class`]) the best model's confusion
/// matrix and per-class accuracy (figures, and `tables/<section>-per-class.csv`).
pub fn export_files(setup: &Setup, section: &SectionResult) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = section.export(&setup.figures_dir)?;
    if section.section.per_class {
        let best = best_model(setup, section)?;
        let per_class = format!("{}-per-class", section.section.key);
        files.extend(
            best.confusion()
                .export(&setup.figures_dir, &format!("{}-confusion", section.section.key))?,
        );
        files.extend(best.per_class().export(&setup.figures_dir, &per_class)?);
        let csv = setup.figures_dir.join("tables").join(format!("{per_class}.csv"));
        crate::io::write_bytes(
            &csv,
            Table::from_frame(&per_class, &best.table()?)?.csv().as_bytes(),
        )?;
        files.push(csv);
    }
    Ok(files)
}
