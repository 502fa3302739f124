//! A study's notebooks, generated from its plan: one source of truth for their cells.
//! `convlab notebooks` writes the paper's into `notebooks/` (keeping the outputs of
//! cells whose source did not change); `convlab notebooks --plan studies/<name>.toml`
//! writes a plan's into `notebooks/<name>/`; `convlab notebooks --check` and the test
//! suite compare the committed notebooks with what this module generates.
//!
//! Every section notebook reads: question and the paper's numbers → profile →
//! run (a table) → curves → effects → [the best model per class] → [the final model] → one variant
//! alone →
//! conclusion and exported figures.
use crate::plan::{Plan, Section};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Markdown or code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Markdown,
    Code,
}

impl CellKind {
    fn as_str(self) -> &'static str {
        match self {
            CellKind::Markdown => "markdown",
            CellKind::Code => "code",
        }
    }
}

/// One cell's kind and source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub kind: CellKind,
    pub source: String,
}

/// A Markdown cell.
pub fn md(source: impl Into<String>) -> Cell {
    Cell { kind: CellKind::Markdown, source: source.into() }
}

/// A code cell.
pub fn code(source: impl Into<String>) -> Cell {
    Cell { kind: CellKind::Code, source: source.into() }
}

/// A notebook of the study: its file name under `notebooks/` and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct NotebookSpec {
    pub file: String,
    pub cells: Vec<Cell>,
}

/// How a plan's notebooks reach the library and open their study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The project root, relative to the notebooks' directory (`..` for `notebooks/`).
    pub root: String,
    /// The plan file, relative to the project root; none for the paper's own study.
    pub plan_file: Option<String>,
}

impl Layout {
    /// The paper's notebooks, in `notebooks/`.
    pub fn paper() -> Self {
        Self { root: "..".into(), plan_file: None }
    }

    /// A plan's notebooks, in `notebooks/<name>/`, opening `plan_file` (relative to the root).
    pub fn plan(plan_file: &str) -> Self {
        Self { root: "../..".into(), plan_file: Some(plan_file.into()) }
    }

    /// A plan's notebooks in the directory `dir`, for a project at `root` (both absolute):
    /// the `:dep` path from `dir` to the root (relative when `dir` is under it).
    pub fn plan_in(plan_file: &str, dir: &std::path::Path, root: &std::path::Path) -> Self {
        let root = if dir.starts_with(root) {
            crate::paths::relative(dir, root)
        } else {
            root.display().to_string()
        };
        Self { root, plan_file: Some(plan_file.into()) }
    }

    /// The first code cell: every `:dep` first.
    pub fn dep(&self) -> String {
        format!(":dep convlab = {{ path = \"{}\", default-features = false }}", self.root)
    }

    /// The second: the prelude and the study.
    pub fn setup(&self) -> String {
        let open = match &self.plan_file {
            None => "Study::from_env()?".to_string(),
            Some(f) => format!("Study::from_env_with_plan({f:?})?"),
        };
        format!(
            "use convlab::prelude::*;\nlet study = {open};\nprintln!(\"{{}}\", study.describe());"
        )
    }
}

/// How a notebook runs: said once, in the summary notebook's method, and linked from the others.
const RUNNING: &str = "**Running.** The profile (`CONVLAB_PROFILE`: `quick` by default, `full` on \
your data with `CONVLAB_DATA`, `smoke` for CI; or `convlab.toml`) sets the data and scale. Runs are \
stored under `runs/<profile>/<variant>/seed-<s>/`: re-running a cell reuses them, and a changed \
setting is refused rather than mixed in. While a run trains, its cell prints one line per epoch \
(run, seed, epoch, loss, accuracy, images/s, time left); **Kernel → Interrupt** stops it, and \
running the setup cells and the same cell again resumes it from its last finished epoch.";

/// The summary notebook's file name: after the sections' (`10_summary.ipynb` for nine).
fn summary_file(plan: &Plan) -> String {
    format!("{:02}_summary.ipynb", plan.sections.len() + 1)
}

/// The method, once for the whole plan: how notebooks run, what the tables' columns are, what the
/// effects figures draw, and how a verdict is reached over the plan's `n` comparisons.
fn method(n: usize) -> String {
    format!(
        "## Method\n\n{RUNNING}\n\n**Tables.** A section's table has one row per variant, and \
         each number is named after its metric. `best_val_by_seed` holds each seed's best \
         validation accuracy (the paper's metric) in the profile's seed order, \
         `best_val_mean` and `best_val_std` their mean and standard deviation; \
         `test_at_best_mean` and `test_at_best_std` are those of the test accuracy of the \
         best epochs, where the test split is labelled. The comparison with the section's \
         reference is on the profile's score `S` (`study.profile.score`: `best_val`, or \
         `test_at_best`), and its columns carry that name: `S_delta_pp`, the difference of the \
         means in percentage points, with its 95% confidence interval (`S_ci95_lo_pp`, \
         `S_ci95_hi_pp`; Welch's t, unequal variances, not adjusted for the other \
         comparisons) and simultaneous over the family (`S_ci95_family_lo_pp`, \
         `S_ci95_family_hi_pp`: at 1 − α/{n}, the interval the verdicts read), `p_holm`, the \
         p-value adjusted by Holm's method over the study's {n} comparisons, `S_mde_pp`, the \
         smallest difference these seeds would detect at 80% \
         power by Welch's test as it is run, from the two sides' `S_std` and seeds; `margin_pp`, \
         the margin of equivalence; the `verdict` and, when undecided, `seeds_to_decide`; \
         `paper_best_val`, the paper's own number, `best_epoch`, the mean epoch of the best \
         validation accuracy, and `minutes` of training. `section.runs_frame()` (one row per \
         run: variant, seed, every configuration field, best validation accuracy, best epoch, \
         test accuracy, minutes) and `section.history_frame()` (every epoch) are polars \
         tables to slice in a cell of your own.\n\n**Figures.** Curves are means over seeds; the shaded band runs from the lowest \
         to the highest seed. An effects figure shows each variant's score (dot: the mean; \
         whisker: its 95% CI; rings: the seeds), its difference to the section's reference with \
         its interval simultaneous over the family (filled: decided — better, worse or \
         equivalent; hollow: undecided) over a grey band of ± the margin, and — in its own \
         panel, since the paper's accuracies are on another scale — the paper's difference \
         between the same two variants (✕, one run each). Every variant keeps its colour and \
         dash in every figure of the study.\n\n**Verdicts.** The family of {n} comparisons is \
         fixed before any run; a comparison whose runs are missing counts as pending, never as \
         dropped. *Better* or *worse* means an adjusted p below 0.05; *equivalent*, a \
         simultaneous interval inside ± the plan's margin (`margin_pp`, stated before any \
         result); anything else is *undecided*, and `seeds_to_decide` says how many seeds a \
         side would decide it were the observed difference true. The minimum detectable \
         effect says how large a difference these seeds would catch."
    )
}

/// `06_normalization.ipynb` for the sixth section.
pub fn section_file(index: usize, section: &Section) -> String {
    format!("{:02}_{}.ipynb", index + 1, section.key.replace('-', "_"))
}

/// The section's heading cell: title, question, what the paper (or the plan's author) says, and
/// where the method is.
fn heading(s: &Section, plan: &Plan) -> String {
    let mut out = format!("# {}", s.title);
    if !s.question.is_empty() {
        out += &format!("\n\n**Question.** {}", s.question);
    }
    if !s.notes.is_empty() {
        out += &format!(
            "\n\n**{}.** {}",
            if plan.is_paper() { "The paper" } else { "Notes" },
            s.notes
        );
    }
    out + &format!(
        "\n\nHow the notebooks run, what the tables' columns mean and how a verdict is reached: \
         the [method]({}) in the summary notebook.",
        summary_file(plan)
    )
}

fn section_notebook(
    index: usize,
    s: &Section,
    plan: &Plan,
    layout: &Layout,
    extras: &dyn Extras,
) -> NotebookSpec {
    let mut cells = vec![
        md(heading(s, plan)),
        code(layout.dep()),
        code(layout.setup()),
        md("## Variants\n\nWhat each variant changes from the paper's recipe, in the paper's \
            units (the profile scales epochs, learning rates, StepLR steps, batch sizes and widths)."),
        code(format!("study.overrides(\"{}\")?", s.key)),
        md("## Run\n\nEvery variant of the section, each seed of the profile (stored runs are \
            loaded, not retrained), and each one's comparison with the section's reference."),
        code(format!("let section = study.run_section(\"{}\")?;\nsection.table()?.show()", s.key)),
        md("## Curves\n\nValidation accuracy and loss per epoch, then training (thin) against \
            validation (thick)."),
        code("section.curves()"),
        code("section.train_val_curves()"),
        md("## Effects\n\nEach variant's score, its difference to the reference, and the paper's."),
        code("section.effects()"),
    ];
    if s.per_class {
        cells.extend([
            md("## The best model, class by class\n\nThe section's best run (the highest best \
                validation accuracy over its variants and seeds), from its best weights on the \
                validation split: the confusion matrix, then the accuracy of every class, the \
                worst on top. `best.table()?` has every class with the class it is most often \
                taken for."),
            code("let best = study.best_model(&section)?;\nbest.confusion()"),
            code("best.per_class()"),
        ]);
    }
    if let Some(key) = &s.final_model {
        cells.extend([
            md(format!(
                "## The final model\n\nThe paper's final model is `{key}`. Its confusion matrix on \
                 the validation split (first seed's best weights), and its predictions for the test \
                 split — `test.txt`, one line per image: file name, a tab, the predicted class."
            )),
            code(format!(
                "let last = section.get(\"{key}\").expect(\"{key} is in this section\").clone();\n\
                 study.confusion(&last)?"
            )),
            code("println!(\"{}\", study.test_predictions(&last, 5)?);"),
        ]);
    }
    cells.extend(extras.section(s));
    let alone = s
        .alone
        .clone()
        .unwrap_or_else(|| s.variants.last().map_or(String::new(), |v| v.key.clone()));
    let figures = if plan.is_paper() {
        "figures/<profile>/".to_string()
    } else {
        format!("figures/<profile>/{}/", plan.name)
    };
    cells.extend([
        md(
            "## One variant alone\n\nRe-run a single ablation without the rest of the section: its \
            seeds' curves. Stored runs are reused; delete its directory under `runs/<profile>/` to \
            train it again.",
        ),
        code(format!("let one = study.run_variant({alone:?})?;\none.seed_curves()")),
        md(format!(
            "## Conclusion\n\nDrawn from the numbers above; the figures are exported to \
             `{figures}` as SVG and PNG."
        )),
        code("println!(\"{}\", section.conclusion());\nprintln!(\"{}\", study.export(&section)?);"),
    ]);
    NotebookSpec { file: section_file(index, s), cells }
}

fn summary_notebook(plan: &Plan, layout: &Layout, extras: &dyn Extras) -> NotebookSpec {
    let n = plan.family_members().len();
    let (doc, tables) = if plan.is_paper() {
        ("figures/<profile>/writeup.md".to_string(), "figures/<profile>/tables/".to_string())
    } else {
        (
            format!("figures/<profile>/{}/writeup.md", plan.name),
            format!("figures/<profile>/{}/tables/", plan.name),
        )
    };
    let mut cells = vec![
        md(if plan.is_paper() {
            "# Summary: the whole paper, re-run\n\nEvery variant of every section once, next to the paper's single-run \
             numbers (full profile; other profiles use other data, so compare directions and \
             differences, not absolute \
             accuracy). Variants shared by sections (xknet18 is the reference of every ablation) \
             are trained once."
                .to_string()
        } else {
            format!(
                "# Summary: {}\n\nEvery variant of every section once. Variants shared by sections, or with the paper's study \
                 (the same config), are trained once.",
                plan.title
            )
        }),
        code(layout.dep()),
        code(layout.setup()),
        md(method(n)),
        md(
            "## The grid\n\nEvery unit (variant × seed) and where it stands: done, running (on a worker of `convlab study --jobs N`, \
            or anywhere else sharing the runs directory), failed or pending. The cells below \
            train what is pending and wait \
            for what another process is training.",
        ),
        code("study.status(&study.sections())?.show()"),
        code(
            "let sections = study.run_all()?;\nconvlab::analysis::summary_table(&sections)?.show()",
        ),
        code("convlab::analysis::summary_effects(&sections, study.profile.name)"),
        md(
            "## Every run, as data\n\n`study.runs_frame()` is every finished run as a polars table — variant, seed, every field of \
            its configuration (`model.*`, `train.*`), best validation accuracy, test accuracy, \
            minutes — and \
            `study.history_frame()` every epoch of every run. Slice them in a cell of your own.",
        ),
        code(
            "study.runs_frame()?.select([\"variant\", \"seed\", \"model.width\", \"train.lr\", \
                \"best_val_acc\", \"test_acc\", \"minutes\"])?.show()",
        ),
        md(format!(
            "## Effect or noise: the study's {n} comparisons\n\nEach variant against its \
             section's reference, as the [method](#Method) says; `paper_delta_pp` is the paper's \
             own single-run difference, where it gives both numbers."
        )),
        code(
            "let family = study.family()?;\nprintln!(\"{}\", family.tally());\nfamily.table()?.show()",
        ),
    ];
    cells.extend(extras.summary());
    cells.extend([
        md("## Section by section"),
        code("for s in &sections \
            {\n    println!(\"{}\\n{}\\n\", s.section.title, \
                s.conclusion());\n}\nprintln!(\"{}\", study.export_summary(&sections)?);"),
        md(format!(
            "## The write-up\n\nThe study as a document, from the stored runs (nothing is trained): `{doc}` — set-up, every \
             section with its figures, table and conclusion, {}the summary — with relative links \
             to the figures, and every \
             table as CSV under `{tables}`. `convlab report{} --format latex` writes `writeup.tex` \
             for pdflatex.",
            if plan.is_paper() { "the open questions, the fidelity table, " } else { "" },
            layout.plan_file.as_ref().map_or(String::new(), |f| format!(" --plan {f}"))
        )),
        code("println!(\"{}\", study.write_up(convlab::writeup::Format::Md, None)?);"),
    ]);
    NotebookSpec { file: summary_file(plan), cells }
}

/// What a plan's own code adds to its notebooks — the paper's models notebook, open questions
/// and fidelity table ([`crate::paper`]).
pub trait Extras {
    /// Notebooks before the section notebooks.
    fn first(&self, layout: &Layout) -> Vec<NotebookSpec>;
    /// Cells of a section notebook after its results, before "One variant alone".
    fn section(&self, s: &Section) -> Vec<Cell>;
    /// Cells of the summary notebook after the family of comparisons.
    fn summary(&self) -> Vec<Cell>;
}

/// No extras: a plan's notebooks are its sections' and the summary.
pub struct NoExtras;

impl Extras for NoExtras {
    fn first(&self, _: &Layout) -> Vec<NotebookSpec> {
        vec![]
    }
    fn section(&self, _: &Section) -> Vec<Cell> {
        vec![]
    }
    fn summary(&self) -> Vec<Cell> {
        vec![]
    }
}

/// Every notebook of `plan`, in order: `extras`' first ones, one per section, the summary.
pub fn notebooks(plan: &Plan, layout: &Layout, extras: &dyn Extras) -> Vec<NotebookSpec> {
    let mut out = extras.first(layout);
    out.extend(
        plan.sections.iter().enumerate().map(|(i, s)| section_notebook(i, s, plan, layout, extras)),
    );
    out.push(summary_notebook(plan, layout, extras));
    out
}

/// A cell's source as nbformat stores it: a string or a list of lines.
fn source_text(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// nbformat's list of lines, each but the last ending in `\n`.
fn source_lines(source: &str) -> Value {
    Value::Array(source.split_inclusive('\n').map(|l| Value::String(l.into())).collect())
}

impl NotebookSpec {
    /// The notebook as nbformat 4.5 JSON. A cell of `previous` (the notebook on disk)
    /// at the same position with the same kind and source keeps its outputs.
    pub fn to_json(&self, previous: Option<&Value>) -> Value {
        let old_cells = previous.and_then(|p| p["cells"].as_array());
        let cells: Vec<Value> = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = format!("c{i:02}");
                let old = old_cells.and_then(|cells| cells.get(i)).filter(|o| o["cell_type"] == c.kind.as_str() && source_text(o) == c.source);
                match c.kind {
                    CellKind::Markdown => json!({"cell_type": "markdown", "id": id, "metadata": {}, "source": source_lines(&c.source)}),
                    CellKind::Code => json!({
                        "cell_type": "code",
                        "execution_count": old.map_or(Value::Null, |o| o["execution_count"].clone()),
                        "id": id,
                        "metadata": {},
                        "outputs": old.map_or_else(|| json!([]), |o| o["outputs"].clone()),
                        "source": source_lines(&c.source),
                    }),
                }
            })
            .collect();
        json!({
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Rust (convlab)", "language": "rust", "name": "convlab"},
                "language_info": {"codemirror_mode": "rust", "file_extension": ".rs", "mimetype": "text/rust", "name": "Rust", "pygment_lexer": "rust", "version": ""},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        })
    }

    /// How a notebook on disk differs from this spec (cell kinds and sources; outputs are not
    /// compared).
    pub fn differences(&self, on_disk: &Value) -> Vec<String> {
        let cells = on_disk["cells"].as_array().cloned().unwrap_or_default();
        let mut out = Vec::new();
        if on_disk["metadata"]["kernelspec"]["name"] != "convlab" {
            out.push(format!(
                "kernel is {}, not convlab",
                on_disk["metadata"]["kernelspec"]["name"]
            ));
        }
        if cells.len() != self.cells.len() {
            out.push(format!("{} cells, the generator makes {}", cells.len(), self.cells.len()));
        }
        for (i, (want, got)) in self.cells.iter().zip(&cells).enumerate() {
            if got["cell_type"] != want.kind.as_str() {
                out.push(format!(
                    "cell {i} is {}, the generator makes {}",
                    got["cell_type"],
                    want.kind.as_str()
                ));
            } else if source_text(got) != want.source {
                out.push(format!(
                    "cell {i} source differs: {:?} vs generated {:?}",
                    source_text(got),
                    want.source
                ));
            }
        }
        out
    }
}

/// What [`write_notebooks`] did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Unchanged(PathBuf),
    /// Sources changed: the changed cells lost their outputs; re-execute with `make notebooks`.
    Updated(PathBuf),
    Created(PathBuf),
}

fn read_notebook(path: &Path) -> anyhow::Result<Option<Value>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!("{}: not a notebook (invalid JSON: {e})", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Write every notebook of `specs` into `dir` (atomically), keeping outputs of unchanged cells.
pub fn write_notebooks(dir: &Path, specs: &[NotebookSpec]) -> anyhow::Result<Vec<Written>> {
    let mut done = Vec::new();
    for spec in specs {
        let path = dir.join(&spec.file);
        let old = read_notebook(&path)?;
        if old.as_ref().is_some_and(|o| spec.differences(o).is_empty()) {
            done.push(Written::Unchanged(path));
            continue;
        }
        // nbformat's layout (one-space indent, sorted keys), so regenerating and executing diff
        // cleanly.
        let mut bytes = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut bytes,
            serde_json::ser::PrettyFormatter::with_indent(b" "),
        );
        serde::Serialize::serialize(&spec.to_json(old.as_ref()), &mut ser)?;
        bytes.push(b'\n');
        crate::io::write_bytes(&path, &bytes)?;
        done.push(if old.is_some() { Written::Updated(path) } else { Written::Created(path) });
    }
    Ok(done)
}

/// Every way the notebooks in `dir` differ from `specs` (empty: they match).
/// A notebook in `dir` that the generator does not make counts as a difference too.
pub fn check_notebooks(dir: &Path, specs: &[NotebookSpec]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for spec in specs {
        let path = dir.join(&spec.file);
        match read_notebook(&path)? {
            None => out.push(format!("{}: missing", path.display())),
            Some(nb) => out.extend(
                spec.differences(&nb).into_iter().map(|d| format!("{}: {d}", path.display())),
            ),
        }
    }
    let rd = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", dir.display()))?;
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".ipynb") && !specs.iter().any(|s| s.file == name) {
            out.push(format!(
                "{}: not made by the generator (a section renamed or removed?)",
                entry.path().display()
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A user plan's notebooks: one per section and a summary, in `notebooks/<name>/`,
    /// opening the plan file from the project root; no paper-only cells.
    #[test]
    fn a_plans_notebooks_open_the_plan() {
        let plan = Plan::new("wd", "Weight decay")
            .with_section(
                crate::plan::Section::sweep("wd", "xknet18", &["train.weight_decay=0,5e-4"])
                    .unwrap(),
            )
            .validate()
            .map(Plan::with_styles)
            .unwrap();
        let nbs = notebooks(&plan, &Layout::plan("studies/wd.toml"), &NoExtras);
        let files: Vec<&str> = nbs.iter().map(|n| n.file.as_str()).collect();
        assert_eq!(files, ["01_wd.ipynb", "02_summary.ipynb"]);
        assert_eq!(
            nbs[0].cells[1].source,
            ":dep convlab = { path = \"../..\", default-features = false }"
        );
        assert!(
            nbs[0].cells[2].source.contains("Study::from_env_with_plan(\"studies/wd.toml\")?"),
            "{}",
            nbs[0].cells[2].source
        );
        assert!(nbs[1].cells.iter().any(|c| c.source.contains("study's 1 comparisons")));
        assert!(nbs[0].cells[0].source.contains("[method](02_summary.ipynb)"));
        assert!(
            !nbs[1].cells.iter().any(|c| c.source.contains("answer_all")),
            "the paper's questions are the paper's"
        );
        assert!(nbs[1].cells.iter().any(|c| c.source.contains("figures/<profile>/wd/writeup.md")));
    }

    #[test]
    fn write_keeps_outputs_of_unchanged_cells_and_check_finds_edits() {
        let dir = tempfile::tempdir().unwrap();
        let specs = notebooks(crate::plan::paper_plan(), &Layout::paper(), &NoExtras);
        let written = write_notebooks(dir.path(), &specs).unwrap();
        assert!(written.iter().all(|w| matches!(w, Written::Created(_))));
        assert!(check_notebooks(dir.path(), &specs).unwrap().is_empty());
        // An executed notebook: an output on cell 2; then an edit to cell 4's source.
        let path = dir.path().join("06_normalization.ipynb");
        let mut nb: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        nb["cells"][2]["outputs"] =
            json!([{"output_type": "stream", "name": "stdout", "text": ["profile quick\n"]}]);
        nb["cells"][4]["source"] = json!(["let section = study.run_section(\"dropout\")?;"]);
        nb["cells"][4]["outputs"] =
            json!([{"output_type": "stream", "name": "stdout", "text": ["stale\n"]}]);
        std::fs::write(&path, serde_json::to_vec(&nb).unwrap()).unwrap();
        let problems = check_notebooks(dir.path(), &specs).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("06_normalization.ipynb: cell 4 source differs"),
            "{}",
            problems[0]
        );
        std::fs::write(dir.path().join("99_extra.ipynb"), "{}").unwrap();
        assert!(
            check_notebooks(dir.path(), &specs)
                .unwrap()
                .iter()
                .any(|p| p.contains("99_extra.ipynb: not made by the generator"))
        );
        std::fs::remove_file(dir.path().join("99_extra.ipynb")).unwrap();

        let written = write_notebooks(dir.path(), &specs).unwrap();
        assert!(written.contains(&Written::Updated(path.clone())));
        assert_eq!(
            written.iter().filter(|w| matches!(w, Written::Unchanged(_))).count(),
            written.len() - 1
        );
        let nb: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            nb["cells"][2]["outputs"][0]["text"][0], "profile quick\n",
            "unchanged cell keeps its output"
        );
        assert_eq!(
            nb["cells"][4]["outputs"],
            json!([]),
            "a regenerated cell loses its stale output"
        );
        assert!(check_notebooks(dir.path(), &specs).unwrap().is_empty());
        std::fs::write(&path, "{oops").unwrap();
        let err = write_notebooks(dir.path(), &specs).unwrap_err().to_string();
        assert!(err.contains("06_normalization.ipynb") && err.contains("invalid JSON"), "{err}");
    }
}
