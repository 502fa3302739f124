//! A study's results gathered from its runs: a section's or a variant's runs (trained when
//! not stored, unless the set-up's options say stored only), the family of comparisons read
//! from disk, the best model, and a section's figures exported.
use super::compare::{ALPHA, Family, Member, members_of};
use super::results::{BestModel, SectionResult, VariantResult, confusion_matrix};
use super::sequential::Design;
use crate::plan::Setup;
use crate::table::Table;
use std::collections::BTreeMap;
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

/// Any fixed family of comparisons from the runs finished so far (nothing is trained). In a
/// sequential study ([`Setup::looks`]) the plan's family is judged look by look
/// ([`Family::sequential`]); any other family, on the profile's seeds.
pub fn family_over(setup: &Setup, members: Vec<Member>) -> anyhow::Result<Family> {
    if let Some(design) = design(setup)?
        && members == members_of(&setup.plan)
    {
        return sequential_family(setup, &design);
    }
    Family::over(members, setup.profile.score, &|s| setup.plan.margin_of(s), |v| {
        let exp = setup.experiment(v)?;
        let mut values = Vec::new();
        for &seed in &exp.seeds {
            if let Some(s) = exp.stored_seed(&setup.runs_dir, seed)?.and_then(|r| r.summary) {
                values.push((seed, score_of(setup, &exp.name, seed, &s)?));
            }
        }
        Ok((values, exp.seeds.len()))
    })
}

/// A run's value of the study's score, or why it has none.
fn score_of(
    setup: &Setup,
    name: &str,
    seed: u64,
    s: &crate::train::RunSummary,
) -> anyhow::Result<f64> {
    setup.profile.score.of(s).ok_or_else(|| {
        anyhow::anyhow!(
            "{name} seed {seed} has no {}: the {} profile needs a labelled test split",
            setup.profile.score.sentence(),
            setup.profile.name.as_str()
        )
    })
}

/// The sequential design of the plan's family at [`ALPHA`], in a sequential study.
pub fn design(setup: &Setup) -> anyhow::Result<Option<Design>> {
    let Some(looks) = setup.looks() else { return Ok(None) };
    let m = setup.plan.family_members().len();
    Design::new(looks, ALPHA, m).map(Some).map_err(|e| anyhow::anyhow!("sequential {e}"))
}

/// The plan's family judged look by look over the stored runs ([`Family::sequential`]).
fn sequential_family(setup: &Setup, design: &Design) -> anyhow::Result<Family> {
    let margin = |s: &str| setup.plan.margin_of(s);
    Family::sequential(members_of(&setup.plan), setup.profile.score, &margin, design, |v| {
        stored_scores(setup, v)
    })
}

/// A variant's stored scores in the sequential study's seed order ([`Setup::seed_list`]), up to
/// the last look's, stopping at the first seed not stored: what the looks are judged on.
fn stored_scores(setup: &Setup, v: &crate::plan::Variant) -> anyhow::Result<Vec<(u64, f64)>> {
    let most = setup.looks().map_or(0, |l| l.most());
    let exp = setup.experiment(v)?;
    let mut values = Vec::new();
    for seed in setup.seed_list(most) {
        match exp.stored_seed(&setup.runs_dir, seed)?.and_then(|r| r.summary) {
            Some(s) => values.push((seed, score_of(setup, &exp.name, seed, &s)?)),
            None => break,
        }
    }
    Ok(values)
}

/// Where a sequential study's looks stand, read from its stored runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LookProgress {
    /// Seeds a side each variant of the family needs now: its comparisons' next look's while
    /// one is open, else the look that decided them.
    pub seeds: BTreeMap<String, usize>,
    /// Looks judged so far, of how many.
    pub judged: usize,
    pub looks: usize,
    /// Comparisons decided, of how many.
    pub decided: usize,
    pub comparisons: usize,
    /// Every look judged or every comparison decided: nothing more to run.
    pub finished: bool,
}

impl LookProgress {
    /// `look 2 of 4 judged: 9 of 15 comparisons decided; the next look runs 10 seeds a side of
    /// 8 variants`, or the end.
    pub fn line(&self, next_seeds: Option<usize>) -> String {
        let head = format!(
            "look {} of {} judged: {} of {} comparisons decided",
            self.judged, self.looks, self.decided, self.comparisons
        );
        match (self.finished, next_seeds) {
            (true, _) => format!("{head}; the study is finished"),
            (false, Some(n)) => {
                let open = self.seeds.values().filter(|&&s| s == n).count();
                format!(
                    "{head}; look {} runs {n} seeds a side of {open} variant(s)",
                    self.judged + 1
                )
            }
            (false, None) => head,
        }
    }
}

/// A sequential study's progress through its looks (`None` for a fixed one): the looks
/// replayed over the stored runs, and the seeds each variant of the family needs now.
pub fn look_progress(setup: &Setup) -> anyhow::Result<Option<LookProgress>> {
    let Some(design) = design(setup)? else { return Ok(None) };
    let family = sequential_family(setup, &design)?;
    let mut seeds: BTreeMap<String, usize> = BTreeMap::new();
    let (mut judged, mut finished, mut decided) = (0, true, 0);
    for c in &family.comparisons {
        let l = c.look.expect("a sequential family");
        judged = judged.max(l.look.map_or(0, |k| k + 1));
        finished &= !l.open;
        decided += l.decided.is_some() as usize;
        let need = match (l.open, l.look) {
            (true, Some(k)) => design.looks[k + 1],
            (true, None) => design.looks[0],
            (false, _) => l.seeds,
        };
        for key in [&c.reference.variant.key, &c.variant.variant.key] {
            let e = seeds.entry(key.clone()).or_insert(0);
            *e = (*e).max(need);
        }
    }
    Ok(Some(LookProgress {
        seeds,
        judged,
        looks: design.looks.len(),
        decided,
        comparisons: family.comparisons.len(),
        finished,
    }))
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
