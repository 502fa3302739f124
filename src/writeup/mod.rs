//! The write-up: a study as a document — title, set-up, every section of its plan in order
//! (question, the paper's number, figures, table, conclusion, and for the paper's own
//! study the section's open question), then the summary, the family of comparisons and
//! (for the paper's study) the fidelity table — in Markdown
//! (relative links to the PNG and SVG figures: JupyterLab's Markdown viewer, GitHub) or
//! LaTeX (booktabs tables, PNG figures, ASCII only: pdflatex takes it as is). Every table
//! is also written as CSV, one file per table. Built from the stored runs: nothing is
//! trained, and units not finished are listed as missing.
mod document;
pub mod notebooks;

pub use document::{Block, Document, Format, inline_tex};

use crate::analysis::{
    self, Family, SectionResult, Table, overrides_table, summary_effects, summary_table,
};
use crate::looks::{Looks, Spending, listed};
use crate::plan::{Section, Setup, Variant};
use crate::train::recipe;
use std::path::{Path, PathBuf};

/// What a plan's own code adds to its write-up — the paper's open questions and its fidelity
/// table ([`crate::paper`]) — built from the finished sections by an [`AddendumFn`].
pub trait Addendum {
    /// Blocks after section `key`'s conclusion.
    fn section(&self, key: &str) -> anyhow::Result<Vec<Block>>;
    /// Blocks at the end of the summary, after the family of comparisons.
    fn summary(&self, family: &Family) -> anyhow::Result<Vec<Block>>;
}

/// An addendum built from a set-up that reads stored runs only, and its finished sections.
pub type AddendumFn = fn(&Setup, &[SectionResult]) -> Box<dyn Addendum>;

/// No addendum: a plan's write-up is its sections and the summary.
struct Nothing;

impl Addendum for Nothing {
    fn section(&self, _: &str) -> anyhow::Result<Vec<Block>> {
        Ok(vec![])
    }
    fn summary(&self, _: &Family) -> anyhow::Result<Vec<Block>> {
        Ok(vec![])
    }
}

/// The machine: CPU model, cores, and the device the profile trains on.
fn hardware(study: &Setup) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let device = study
        .profile
        .device
        .resolve()
        .map_or_else(|e| format!("unavailable ({e})"), |d| format!("{d:?}"));
    format!("{} ({cores} cores); training device {device}", crate::device::cpu_model())
}

/// A set-up that reads stored runs only: nothing it does trains
/// ([`crate::train::RunOptions::stored_only`]).
pub fn reader(study: &Setup) -> Setup {
    let mut reader = study.clone();
    reader.options.stored_only = true;
    reader.options.quiet = true;
    reader.options.progress = false;
    reader
}

/// Figures exported under the figures directory, as blocks.
pub fn figure_blocks(files: &[PathBuf], captions: &[(&str, String)]) -> Vec<Block> {
    let mut out = Vec::new();
    for (suffix, caption) in captions {
        let png = files.iter().find(|f| f.to_string_lossy().ends_with(&format!("{suffix}.png")));
        let svg = files.iter().find(|f| f.to_string_lossy().ends_with(&format!("{suffix}.svg")));
        if let Some(png) = png {
            out.push(Block::Figure {
                png: png.clone(),
                svg: svg.cloned(),
                caption: caption.clone(),
            });
        }
    }
    out
}

pub fn paras(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .flat_map(|p| p.split('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| Block::Para(p.to_string()))
        .collect()
}

/// Each section's unfinished units (read once) and the finished sections' runs, with one
/// family of comparisons for all of them.
struct Gathered<'a> {
    missing: Vec<(&'a str, String)>,
    complete: Vec<SectionResult>,
    family: Family,
}

fn gather(study: &Setup) -> anyhow::Result<Gathered<'_>> {
    let mut missing: Vec<(&str, String)> = Vec::new();
    let mut complete: Vec<SectionResult> = Vec::new();
    for s in &study.plan.sections {
        match crate::grid::missing_units(study, s)? {
            Some(m) => missing.push((s.key.as_str(), m)),
            None => complete.push(analysis::section_runs(study, &s.key)?),
        }
    }
    let family = analysis::family(study)?;
    for r in &mut complete {
        r.comparisons = family.of_section(&r.section.key);
    }
    Ok(Gathered { missing, complete, family })
}

/// What the finished runs' records say about how they trained.
struct Trained {
    /// The sum of the runs' wall times.
    seconds: f64,
    devices: Vec<String>,
    /// libtorch threads per run, as a phrase (`[1] per run`).
    threads: String,
}

fn trained(study: &Setup) -> Trained {
    let (mut seconds, mut devices, mut threads, mut unrecorded) =
        (0.0, Vec::<String>::new(), Vec::<i32>::new(), 0usize);
    for u in crate::grid::units(study, &study.sections()) {
        if let Ok(Some(s)) = crate::train::RunDir::new(&u.dir).read_summary() {
            seconds += s.wall_seconds;
            if !devices.contains(&s.device) {
                devices.push(s.device.clone());
            }
            match s.threads {
                Some(t) if !threads.contains(&t) => threads.push(t),
                Some(_) => {}
                None => unrecorded += 1,
            }
        }
    }
    threads.sort();
    let threads = match (threads.is_empty(), unrecorded) {
        (true, _) => "not recorded (runs older than the record's `threads` field)".to_string(),
        (false, 0) => format!("{threads:?} per run"),
        (false, n) => {
            format!("{threads:?} per run ({n} runs older than the record's `threads` field)")
        }
    };
    Trained { seconds, devices, threads }
}

/// The write-up's method paragraph: what is compared, how a verdict is reached over the
/// study's `m` comparisons, the margin of equivalence and why, and how numbers are named.
fn statistics(study: &Setup, m: usize) -> String {
    use crate::analysis::compare::{ALPHA, POWER};
    let (p, plan) = (&study.profile, &study.plan);
    let margin = match plan.margin_pp {
        Some(pp) => {
            let own: Vec<String> = plan
                .sections
                .iter()
                .filter_map(|s| Some(format!("{} ±{:.1} pp", s.key, s.margin_pp?)))
                .collect();
            format!(
                " The margin of equivalence is ±{pp:.1} pp{}{}: *equivalent* means the \
                    simultaneous interval lies inside it.",
                if own.is_empty() { String::new() } else { format!(" ({})", own.join(", ")) },
                if plan.margin_reason.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", plan.margin_reason.trim_end_matches('.'))
                }
            )
        }
        None => " The plan states no margin of equivalence (`margin_pp`), so no comparison can \
            be called equivalent."
            .into(),
    };
    if let Some(looks) = study.looks() {
        return sequential_statistics(study, looks, m, &margin);
    }
    format!(
        "**Statistics.** Each variant is compared with its section's reference on the {}: the \
            difference of the means with its 95% CI (Welch's t) and its interval simultaneous \
            over the study's {m} comparisons (Welch's t at 1 − α/{m}, the one the verdicts read), \
            the p-value adjusted by Holm's method over the {m} comparisons, and the minimum \
            detectable effect — the smallest difference these seeds would detect at {:.0}% power \
            after the adjustment (Welch's test as it is run, its degrees of freedom estimated \
            from the samples, at α / {m}, with the two sides' measured spreads taken as the \
            truth). *Better* / *worse* means an adjusted p below {ALPHA}; *equivalent*, a \
            simultaneous interval inside ± the margin; otherwise *undecided*, with the seeds a \
            side that would decide it were the observed difference true \
            (`seeds_to_decide`).{margin} Every number is named after its metric: tables show the \
            paper's metric, best validation accuracy (`best_val_…`), and the test accuracy of \
            the best epoch (`test_at_best_…`) side by side, and the comparisons' columns carry \
            the score's name (`{}_delta_pp`, …).",
        p.score.sentence(),
        100.0 * POWER,
        p.score.column()
    )
}

/// [`statistics`] for a sequential study: its looks, boundaries and repeated intervals.
fn sequential_statistics(study: &Setup, looks: &Looks, m: usize, margin: &str) -> String {
    use crate::analysis::compare::ALPHA;
    let spending = match looks.spending {
        Spending::ObrienFleming => "O'Brien–Fleming",
        Spending::Pocock => "Pocock",
    };
    format!(
        "**Statistics.** Each variant is compared with its section's reference on the {}, in \
            looks of {} seeds a side. After each look every comparison still open is judged, and \
            a decided one stops: the next look's seeds go only to the open comparisons and their \
            references. *Better* / *worse* means Welch's p below the nominal level of a \
            group-sequential boundary (`p_bound`): Lan–DeMets {spending}-type spending of the \
            comparison's share of α = {ALPHA}, the shares by Holm's graph over the {m} \
            comparisons (α/j for each of the j not yet rejected; Maurer & Bretz 2013), the z \
            boundary carried to Welch's t through its p-value. *Equivalent* means the repeated \
            confidence interval at α/{m} — simultaneous over the comparisons and the looks — \
            inside ± the margin; a comparison still open after the last look is *undecided*. \
            Each comparison's numbers are those of the look that decided it, or of the last look \
            (`look`, `seeds`); the 95% CI beside them is Welch's alone, unadjusted.{margin} \
            Every number is named after its metric: tables show best validation accuracy \
            (`best_val_…`) and the test accuracy of the best epoch (`test_at_best_…`) side by \
            side, and the comparisons' columns carry the score's name (`{}_delta_pp`, …).",
        study.profile.score.sentence(),
        listed(&looks.seeds),
        study.profile.score.column()
    )
}

fn setup_blocks(study: &Setup, g: &Gathered, t: &Trained) -> anyhow::Result<Vec<Block>> {
    let (p, family, missing) = (&study.profile, &g.family, &g.missing);
    let paper_width = crate::model::ResNetConfig::resnet18().width;
    let mut blocks = vec![Block::Heading(1, "Set-up".into())];
    blocks.extend([
        Block::Para(study.data_use(&study.sections())?.paragraph(&study.options.paths)),
        Block::Para(format!(
            "**Profile.** `{}`: {} epochs, batch {}, width {}, seeds {} (probes: the first {}), \
                device `{}`, memory format `{}`.",
            p.name.as_str(),
            p.epochs,
            p.batch_size,
            p.width,
            match study.looks() {
                Some(l) => format!(
                    "{:?} (looks: the first {} of them)",
                    study.seed_list(l.most()),
                    listed(&l.seeds)
                ),
                None => format!("{:?}", p.seeds),
            },
            crate::plan::PROBE_SEEDS.min(p.seeds.len()),
            p.device,
            p.memory_format.as_str()
        )),
        Block::Para(format!(
            "**Scaling rule.** Every variant is the paper's recipe ({}, width {paper_width}) with \
                overrides in the paper's units, mapped onto the profile: epochs and StepLR step \
                sizes scale with {} / {} (rounded, at least 1), every learning rate is multiplied \
                by {} ({} becomes {}), widths scale with {} / {paper_width} and batch sizes with \
                {} / {}; everything else (momentum, gammas, flip probabilities, dropout, weight \
                decay, label smoothing) is taken as written, as are a variant's `absolute` keys.",
            recipe::words(),
            p.epochs,
            recipe::EPOCHS,
            p.lr_scale,
            recipe::LR,
            p.scaled_lr(recipe::LR),
            p.width,
            p.batch_size,
            recipe::BATCH_SIZE,
        )),
        Block::Para(format!(
            "**Hardware.** {}. The runs trained on {} with libtorch threads {}.",
            hardware(study),
            if t.devices.is_empty() { "nothing yet".into() } else { t.devices.join(", ") },
            t.threads
        )),
        Block::Para(format!(
            "**Training time.** {:.1} minutes over every finished unit (the sum of the runs' wall \
                times; workers ran in parallel).",
            t.seconds / 60.0
        )),
        Block::Para(format!("**Code.** convlab {}.", crate::train::code_version())),
        Block::Para(statistics(study, family.comparisons.len())),
    ]);
    blocks.push(Block::Para(
        "**Variants.** Each is the paper's recipe with these overrides, in \
        the paper's units (the profile scales epochs, learning rates, StepLR steps, batch sizes \
        and widths; `absolute` ones are taken as written); variants with equal configs share one \
        run directory."
            .into(),
    ));
    let plan = &study.plan;
    let all: Vec<&Variant> = plan.variants().into_iter().chain(plan.probes()).collect();
    blocks.push(Block::Table(overrides_table(study, &all)?));
    if missing.is_empty() {
        blocks.push(Block::Para("Every unit of the study is finished.".into()));
    } else {
        blocks.push(Block::Para(format!(
            "**Missing.** Not every unit is finished; the sections \
            below that lack runs say which, and show no numbers: {}.",
            missing.iter().map(|(k, m)| format!("{k}: {m}")).collect::<Vec<_>>().join("; ")
        )));
    }
    Ok(blocks)
}

/// One section: its question, the paper's words, figures, table, conclusion and, for the
/// paper's plan, its open question.
fn section_blocks(
    study: &Setup,
    s: &Section,
    g: &Gathered,
    addendum: &dyn Addendum,
) -> anyhow::Result<Vec<Block>> {
    let p = &study.profile;
    let mut blocks = Vec::new();
    blocks.push(Block::Heading(1, s.title.clone()));
    if !s.question.is_empty() {
        blocks.push(Block::Para(format!("**Question.** {}", s.question)));
    }
    if !s.notes.is_empty() {
        blocks.push(Block::Para(format!(
            "**{}.** {}",
            if study.plan.is_paper() { "The paper" } else { "Notes" },
            s.notes
        )));
    }
    let Some(result) = g.complete.iter().find(|r| r.section.key == s.key) else {
        let m = g.missing.iter().find(|(k, _)| *k == s.key).map_or("", |(_, m)| m.as_str());
        blocks.push(Block::Para(format!(
            "**Missing:** {m}. Run this study's grid (`convlab study \
            --profile {}`, with its plan) to finish them.",
            p.name.as_str()
        )));
        return Ok(blocks);
    };
    let files = analysis::export_files(study, result)?;
    blocks.extend(figure_blocks(
        &files,
        &[
            (
                "-curves",
                format!(
                    "{}: validation loss and accuracy per epoch (mean over seeds, \
                band: lowest to highest seed).",
                    s.title
                ),
            ),
            (
                "-train-val",
                format!(
                    "{}: training (thin) and validation (thick) per epoch, mean \
                over seeds.",
                    s.title
                ),
            ),
            (
                "-effects",
                format!(
                    "{}: {} (dot: mean; whisker: 95% CI; rings: seeds), the \
                difference to the reference with its 95% CI (filled: detectable after Holm), and \
                the paper's difference (cross).",
                    s.title,
                    p.score.sentence()
                ),
            ),
            (
                "-confusion",
                format!("{}: the best model's confusion matrix on the validation split.", s.title),
            ),
            (
                "-per-class",
                format!(
                    "{}: the best model's accuracy per class on the validation \
                split, the worst first; every class in `tables/{}-per-class.csv`.",
                    s.title, s.key
                ),
            ),
        ],
    ));
    blocks.push(Block::Table(Table::from_frame(&s.key, &result.table()?)?));
    blocks.push(Block::Heading(2, "Conclusion".into()));
    blocks.extend(paras(&result.conclusion()));
    blocks.extend(addendum.section(&s.key)?);
    Ok(blocks)
}

/// The summary: every variant's table and effects, the family of comparisons and, for the
/// paper's plan, the profile against the paper.
fn summary_blocks(
    study: &Setup,
    g: &Gathered,
    addendum: &dyn Addendum,
) -> anyhow::Result<Vec<Block>> {
    let (p, complete, family) = (&study.profile, &g.complete, &g.family);
    let mut blocks = Vec::new();
    blocks.push(Block::Heading(1, "Summary".into()));
    if !complete.is_empty() {
        blocks.push(Block::Table(Table::from_frame("summary", &summary_table(complete)?)?));
        let files =
            summary_effects(complete, p.name).export(&study.figures_dir, "summary-effects")?;
        blocks.extend(figure_blocks(
            &files,
            &[(
                "summary-effects",
                "Every variant: its score with \
            its 95% CI, the difference to its section's reference with its 95% CI and verdict, \
            and the paper's difference."
                    .into(),
            )],
        ));
    }
    blocks.push(Block::Heading(
        2,
        format!("The study's {} comparisons: {}", family.comparisons.len(), family.tally()),
    ));
    blocks.push(Block::Table(Table::from_frame("comparisons", &family.table()?)?));
    blocks.extend(addendum.summary(family)?);
    Ok(blocks)
}

/// The document from the stored runs of `study` (figures exported to its figures directory),
/// with what `addendum` adds to it.
pub fn build(study: &Setup, addendum: Option<AddendumFn>) -> anyhow::Result<Document> {
    let study = reader(study);
    let g = gather(&study)?;
    let mut blocks = setup_blocks(&study, &g, &trained(&study))?;
    let addendum =
        addendum.map_or_else(|| Box::new(Nothing) as Box<dyn Addendum>, |f| f(&study, &g.complete));
    for s in &study.plan.sections {
        blocks.extend(section_blocks(&study, s, &g, addendum.as_ref())?);
    }
    blocks.extend(summary_blocks(&study, &g, addendum.as_ref())?);
    Ok(Document {
        title: format!("{} ({} profile)", study.plan.title, study.profile.name.as_str()),
        blocks,
    })
}

/// Write the document as `format` into `out` (default: the study's figures directory), with
/// every table as `tables/<name>.csv` beside it; returns the files written.
pub fn write(
    study: &Setup,
    format: Format,
    out: Option<&Path>,
    addendum: Option<AddendumFn>,
) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out.map_or_else(|| study.figures_dir.clone(), Path::to_path_buf);
    std::fs::create_dir_all(dir.join("tables"))
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.join("tables").display()))?;
    let dir = dir.canonicalize().map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let doc = build(study, addendum)?;
    let mut written = Vec::new();
    // Every class by label, which the data paragraph names by count and CRC-32.
    let classes = Table {
        name: "classes".into(),
        header: vec!["label".into(), "class".into()],
        rows: study
            .data
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| vec![i.to_string(), c.clone()])
            .collect(),
    };
    for t in std::iter::once(&classes).chain(doc.tables()) {
        let path = dir.join("tables").join(format!("{}.csv", t.name));
        crate::io::write_bytes(&path, t.csv().as_bytes())?;
        written.push(path);
    }
    let path = dir.join(format.file_name());
    let text = match format {
        Format::Md => doc.markdown(&dir),
        Format::Latex => {
            let (text, unknown) = doc.latex(&dir);
            if !unknown.is_empty() {
                eprintln!(
                    "{}: characters without a LaTeX form written as `?`: {}",
                    path.display(),
                    unknown.iter().collect::<String>()
                );
            }
            text
        }
    };
    crate::io::write_bytes(&path, text.as_bytes())?;
    written.push(path);
    Ok(written)
}
