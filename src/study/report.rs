//! The write-up: a study as a document — title, set-up, every section of its plan in order
//! (question, the report's number, figures, table, conclusion, and for the report's own
//! study the section's open question), then the summary, the family of comparisons and
//! (for the report's study) the fidelity table — in Markdown
//! (relative links to the PNG and SVG figures: JupyterLab's Markdown viewer, GitHub) or
//! LaTeX (booktabs tables, PNG figures, ASCII only: pdflatex takes it as is). Every table
//! is also written as CSV, one file per table. Built from the stored runs: nothing is
//! trained, and units not finished are listed as missing.
use super::questions::{self, Answers};
use super::{Family, Section, SectionResult, Study, summary_effects, summary_table};
use polars::prelude::{AnyValue, DataFrame};
use std::path::{Path, PathBuf};

/// The document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Markdown (`report.md`).
    Md,
    /// LaTeX (`report.tex`), for pdflatex.
    Latex,
}

impl Format {
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Md => "report.md",
            Format::Latex => "report.tex",
        }
    }
}

/// A PNG's width in inches, from its pixels and the resolution its pHYs chunk gives; `None`
/// when it cannot be read or states no resolution.
fn png_inches(path: &Path) -> Option<f64> {
    let file = std::fs::File::open(path).ok()?;
    let reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().ok()?;
    let info = reader.info();
    match info.pixel_dims {
        Some(png::PixelDimensions { xppu, unit: png::Unit::Meter, .. }) if xppu > 0 => {
            Some(info.width as f64 / (xppu as f64 * 0.0254))
        }
        _ => None,
    }
}

/// A table as text: a header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its CSV file's name, without `.csv`.
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A cell as the tables show it: numbers in Rust's shortest form (the run records' own
/// values), missing values as `—`.
fn cell(v: AnyValue) -> String {
    match v {
        AnyValue::Null => "—".into(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(x) => format!("{x}"),
        AnyValue::Float32(x) => format!("{x}"),
        other => other.to_string(),
    }
}

impl Table {
    pub fn from_frame(name: &str, df: &DataFrame) -> anyhow::Result<Table> {
        let header: Vec<String> =
            df.get_column_names().into_iter().map(|n| n.to_string()).collect();
        let mut rows = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            rows.push(
                df.columns().iter().map(|c| c.get(i).map(cell)).collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(Table { name: name.into(), header, rows })
    }

    /// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled;
    /// missing values are empty fields.
    pub fn csv(&self) -> String {
        let field = |s: &str| {
            if s == "—" {
                String::new()
            } else if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let line = |cells: &[String]| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
        let mut out = vec![line(&self.header)];
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n") + "\n"
    }
}

/// One piece of the document. Text is Markdown inline: `**bold**` and `` `code` ``.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, String),
    Para(String),
    Table(Table),
    /// A figure's PNG (and SVG) files, and its caption.
    Figure {
        png: PathBuf,
        svg: Option<PathBuf>,
        caption: String,
    },
}

/// The study as a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

use crate::paths::relative;

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Document {
    /// The tables of the document, for their CSV files.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| if let Block::Table(t) = b { Some(t) } else { None })
    }

    /// Markdown; figure links relative to `dir`, where the file is written.
    pub fn markdown(&self, dir: &Path) -> String {
        let mut out = vec![format!("# {}", self.title)];
        for b in &self.blocks {
            out.push(match b {
                Block::Heading(level, text) => {
                    format!("{} {text}", "#".repeat(*level as usize + 1))
                }
                Block::Para(text) => text.clone(),
                Block::Table(t) => {
                    let mut lines = vec![format!(
                        "| {} |",
                        t.header.iter().map(|h| md_cell(h)).collect::<Vec<_>>().join(" | ")
                    )];
                    lines.push(format!("|{}|", vec!["---"; t.header.len()].join("|")));
                    lines.extend(t.rows.iter().map(|r| {
                        format!(
                            "| {} |",
                            r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
                        )
                    }));
                    lines.push(format!("\n*Table `{}` — also `tables/{}.csv`.*", t.name, t.name));
                    lines.join("\n")
                }
                Block::Figure { png, svg, caption } => {
                    let svg = svg
                        .as_ref()
                        .map_or(String::new(), |s| format!(" ([SVG]({}))", relative(dir, s)));
                    format!("![{caption}]({})\n\n*{caption}*{svg}", relative(dir, png))
                }
            });
        }
        out.join("\n\n") + "\n"
    }

    /// LaTeX for pdflatex (ASCII only); figure paths relative to `dir`. Characters without
    /// a LaTeX form are written as `?` and returned, so the caller can say which.
    pub fn latex(&self, dir: &Path) -> (String, Vec<char>) {
        let mut unknown = Vec::new();
        let mut t = |s: &str| inline_tex(s, &mut unknown);
        let mut out = vec![
            "\\documentclass[10pt]{article}".to_string(),
            "\\usepackage[T1]{fontenc}".into(),
            "\\usepackage{graphicx}".into(),
            "\\usepackage{booktabs}".into(),
            "\\usepackage{array}".into(),
            // The full text width is a page-width figure's 7.16 in (letter paper, 0.67 in margins).
            "\\setlength{\\textwidth}{7.16in}\\setlength{\\oddsidemargin}{-0.33in}\\setlength{\\evensidemargin}{-0.33in}".into(),
            "\\setlength{\\textheight}{9in}\\setlength{\\topmargin}{-0.5in}".into(),
            "\\setlength{\\parindent}{0pt}\\setlength{\\parskip}{0.5em}".into(),
            "\\begin{document}".into(),
            format!("\\title{{{}}}\n\\date{{}}\n\\maketitle", t(&self.title)),
        ];
        for b in &self.blocks {
            out.push(match b {
                // Unnumbered: the report's sections carry their own numbers.
                Block::Heading(1, text) => format!("\\section*{{{}}}", t(text)),
                Block::Heading(2, text) => format!("\\subsection*{{{}}}", t(text)),
                Block::Heading(_, text) => format!("\\subsubsection*{{{}}}", t(text)),
                Block::Para(text) => t(text),
                Block::Table(tab) => latex_table(tab, &mut t),
                // At the size it was laid out for: a column-width figure at its 3.5 in, the rest at
                // the text width.
                Block::Figure { png, caption, .. } => format!(
                    "\\begin{{figure}}[htbp]\n\\centering\n\\includegraphics[width={}]{{{}}}\n\\caption{{{}}}\n\\end{{figure}}",
                    png_inches(png).filter(|w| *w < 7.0).map_or("\\linewidth".to_string(), |w| format!("{w:.2}in")),
                    relative(dir, png),
                    t(caption)
                ),
            });
        }
        out.push("\\end{document}".into());
        unknown.sort();
        unknown.dedup();
        (out.join("\n\n") + "\n", unknown)
    }
}

/// A booktabs table: numeric columns right-aligned; columns with long text as paragraphs
/// sharing the line's width; wide tables scaled to the line.
fn latex_table(tab: &Table, t: &mut dyn FnMut(&str) -> String) -> String {
    let n = tab.header.len();
    let longest: Vec<usize> = (0..n)
        .map(|j| {
            tab.rows
                .iter()
                .map(|r| r[j].chars().count())
                .chain([tab.header[j].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric = |j: usize| tab.rows.iter().all(|r| r[j] == "—" || r[j].parse::<f64>().is_ok());
    // Few columns with long text: those wrap as paragraphs. Many columns: one line each, scaled to
    // fit.
    let wraps = |j: usize| n <= 6 && longest[j] > 30;
    let wide_text: f64 = (0..n).filter(|&j| wraps(j)).map(|j| longest[j] as f64).sum();
    let spec: String = (0..n)
        .map(|j| {
            if wraps(j) {
                // Ragged right: a justified narrow column spreads its words across the line.
                format!(
                    ">{{\\raggedright\\arraybackslash}}p{{{:.2}\\linewidth}}",
                    0.85 * longest[j] as f64 / wide_text.max(1.0) * if n > 3 { 0.7 } else { 1.0 }
                )
            } else if numeric(j) {
                "r".into()
            } else {
                "l".into()
            }
        })
        .collect();
    let row = |cells: &[String], t: &mut dyn FnMut(&str) -> String| {
        cells.iter().map(|c| t(c)).collect::<Vec<_>>().join(" & ") + " \\\\"
    };
    let mut body = vec![
        format!("\\begin{{tabular}}{{{spec}}}"),
        "\\toprule".into(),
        row(&tab.header, t),
        "\\midrule".into(),
    ];
    body.extend(tab.rows.iter().map(|r| row(r, t)));
    body.extend(["\\bottomrule".to_string(), "\\end{tabular}".into()]);
    let mut tabular = body.join("\n");
    if n > 6 {
        tabular = format!("\\resizebox{{\\linewidth}}{{!}}{{%\n{tabular}}}");
    }
    format!(
        "\\begin{{table}}[htbp]\n\\centering\\small\n{tabular}\n\\par\\footnotesize\\texttt{{tables/{}.csv}}\n\\end{{table}}",
        t(&tab.name)
    )
}

/// One character in LaTeX's ASCII, or `None` when it has no form here.
fn tex_char(c: char) -> Option<&'static str> {
    Some(match c {
        '\\' => "\\textbackslash{}",
        '&' => "\\&",
        '%' => "\\%",
        '$' => "\\$",
        '#' => "\\#",
        '_' => "\\_",
        '{' => "\\{",
        '}' => "\\}",
        '~' => "\\textasciitilde{}",
        '^' => "\\textasciicircum{}",
        '<' => "\\textless{}",
        '>' => "\\textgreater{}",
        '|' => "\\textbar{}",
        '"' => "''",
        '×' | '✕' => "$\\times$",
        'Δ' => "$\\Delta$",
        'η' => "$\\eta$",
        'α' => "$\\alpha$",
        '—' => "---",
        '–' => "--",
        '−' => "$-$",
        '±' => "$\\pm$",
        '≤' => "$\\leq$",
        '≥' => "$\\geq$",
        '≈' => "$\\approx$",
        '→' => "$\\to$",
        '·' => "$\\cdot$",
        '…' => "\\ldots{}",
        '“' => "``",
        '”' => "''",
        '‘' => "`",
        '’' => "'",
        '¼' => "$\\frac{1}{4}$",
        '½' => "$\\frac{1}{2}$",
        '²' => "$^2$",
        '³' => "$^3$",
        '⁻' => "$^-$",
        '₀' => "$_0$",
        '₁' => "$_1$",
        '₂' => "$_2$",
        '₃' => "$_3$",
        '₄' => "$_4$",
        '₅' => "$_5$",
        '₆' => "$_6$",
        '₇' => "$_7$",
        '₈' => "$_8$",
        '₉' => "$_9$",
        '\u{a0}' => "~",
        _ => return None,
    })
}

/// Markdown inline text (`**bold**`, `` `code` ``) as LaTeX; unknown characters become `?`
/// and are pushed to `unknown`.
pub fn inline_tex(s: &str, unknown: &mut Vec<char>) -> String {
    let mut out = String::new();
    let (mut bold, mut code, mut emph) = (false, false, false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') && !code => {
                chars.next();
                out.push_str(if bold { "}" } else { "\\textbf{" });
                bold = !bold;
            }
            '*' if !code => {
                out.push_str(if emph { "}" } else { "\\emph{" });
                emph = !emph;
            }
            '`' => {
                out.push_str(if code { "}" } else { "\\texttt{" });
                code = !code;
            }
            c if c.is_ascii() && tex_char(c).is_none() => out.push(c),
            c => match tex_char(c) {
                Some(t) => out.push_str(t),
                None => {
                    unknown.push(c);
                    out.push('?');
                }
            },
        }
    }
    // Unbalanced markers close at the end of the text.
    for open in [code, emph, bold] {
        if open {
            out.push('}');
        }
    }
    out
}

/// The machine: CPU model, cores, and the device the profile trains on.
fn hardware(study: &Study) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let device = study
        .profile
        .device
        .resolve()
        .map_or_else(|e| format!("unavailable ({e})"), |d| format!("{d:?}"));
    format!("{} ({cores} cores); training device {device}", crate::device::cpu_model())
}

/// A study that reads stored runs only: nothing it does trains
/// ([`crate::train::RunOptions::stored_only`]).
fn reader(study: &Study) -> Study {
    let mut reader = study.clone();
    reader.options.stored_only = true;
    reader.options.quiet = true;
    reader.options.progress = false;
    reader
}

/// Figures exported under the figures directory, as blocks.
fn figure_blocks(files: &[PathBuf], captions: &[(&str, String)]) -> Vec<Block> {
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

fn paras(text: &str) -> Vec<Block> {
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

fn gather(study: &Study) -> anyhow::Result<Gathered<'_>> {
    let mut missing: Vec<(&str, String)> = Vec::new();
    let mut complete: Vec<SectionResult> = Vec::new();
    for s in &study.plan.sections {
        match study.missing_units(s)? {
            Some(m) => missing.push((s.key.as_str(), m)),
            None => complete.push(study.section_runs(&s.key)?),
        }
    }
    let family = study.family()?;
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

fn trained(study: &Study) -> Trained {
    let (mut seconds, mut devices, mut threads, mut unrecorded) =
        (0.0, Vec::<String>::new(), Vec::<i32>::new(), 0usize);
    for u in study.units(&study.sections()) {
        if let Ok(s) = crate::io::read_json::<crate::train::RunSummary>(&u.dir.join("summary.json"))
        {
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

/// The set-up: data, profile, scaling rule, hardware, training time, code, statistics, the
/// variants' overrides, and what is missing.
fn setup_blocks(study: &Study, g: &Gathered, t: &Trained) -> anyhow::Result<Vec<Block>> {
    let (p, family, missing) = (&study.profile, &g.family, &g.missing);
    let mut blocks = vec![Block::Heading(1, "Set-up".into())];
    blocks.extend([
        Block::Para(study.data_use(&study.sections())?.paragraph(&study.options.paths)),
        Block::Para(format!(
            "**Profile.** `{}`: {} epochs, batch {}, width {}, seeds {:?} (probes: the first {}), \
                device `{}`, memory format `{}`.",
            p.name.as_str(),
            p.epochs,
            p.batch_size,
            p.width,
            p.seeds,
            super::PROBE_SEEDS.min(p.seeds.len()),
            p.device,
            p.memory_format.as_str()
        )),
        Block::Para(format!(
            "**Scaling rule.** Every variant is the report's recipe (SGD lr 0.001, momentum 0.9, \
                StepLR(7, 0.1), batch 64, 25 epochs, width 64) with overrides in the report's \
                units, mapped onto the profile: epochs and StepLR step sizes scale with {} / 25 \
                (rounded, at least 1), every learning rate is multiplied by {} (0.001 becomes \
                {}), widths scale with {} / 64 and batch sizes with {} / 64; everything else \
                (momentum, gammas, flip probabilities, dropout, weight decay, label smoothing) is \
                taken as written, as are a variant's `absolute` keys.",
            p.epochs,
            p.lr_scale,
            p.scaled_lr(crate::train::recipe::LR),
            p.width,
            p.batch_size
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
        Block::Para(format!(
            "**Statistics.** Each variant is compared with its section's reference on the {}: the \
                difference of the means with its 95% CI (Welch's t), the p-value adjusted by \
                Holm's method over the study's {} comparisons, and the minimum detectable effect \
                — the smallest difference these seeds would detect at {:.0}% power after the \
                adjustment (the noncentral t at α / {}, times the pooled spread of the two \
                sides). *Better* / *worse* means an adjusted p below {}. Tables show the report's \
                metric, best validation accuracy, whatever the score.",
            p.score.sentence(),
            family.comparisons.len(),
            100.0 * super::compare::POWER,
            family.comparisons.len(),
            super::compare::ALPHA
        )),
    ]);
    blocks.push(Block::Para(
        "**Variants.** Each is the report's recipe with these overrides, in \
        the report's units (the profile scales epochs, learning rates, StepLR steps, batch sizes \
        and widths; `absolute` ones are taken as written); variants with equal configs share one \
        run directory."
            .into(),
    ));
    blocks.push(Block::Table(variants_table(&study)?));
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

/// One section: its question, the report's words, figures, table, conclusion and, for the
/// report's plan, its open question.
fn section_blocks(
    study: &Study,
    s: &Section,
    g: &Gathered,
    answers: Option<&questions::Answers>,
) -> anyhow::Result<Vec<Block>> {
    let p = &study.profile;
    let mut blocks = Vec::new();
    blocks.push(Block::Heading(1, s.title.clone()));
    if !s.question.is_empty() {
        blocks.push(Block::Para(format!("**Question.** {}", s.question)));
    }
    if !s.report.is_empty() {
        blocks.push(Block::Para(format!(
            "**{}.** {}",
            if study.plan.is_report() { "The report" } else { "Notes" },
            s.report
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
    let files = study.export_files(result)?;
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
                the report's difference (cross).",
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
    if study.plan.is_report() {
        blocks.extend(question_blocks(study, &s.key, answers)?);
    }
    Ok(blocks)
}

/// The summary: every variant's table and effects, the family of comparisons and, for the
/// report's plan, the profile against the report.
fn summary_blocks(
    study: &Study,
    g: &Gathered,
    answers: Option<&questions::Answers>,
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
            and the report's difference."
                    .into(),
            )],
        ));
    }
    blocks.push(Block::Heading(
        2,
        format!("The study's {} comparisons: {}", family.comparisons.len(), family.tally()),
    ));
    blocks.push(Block::Table(Table::from_frame("comparisons", &family.table()?)?));
    if !study.plan.is_report() {
        return Ok(blocks);
    }
    blocks.push(Block::Heading(2, format!("The {} profile against the report", p.name.as_str())));
    match answers {
        Some(a) => {
            blocks.push(Block::Para(
                "*Reproduced*: the same direction, adjusted p < 0.05; \
                *contradicted*: the opposite direction, adjusted p < 0.05; *not separable*: \
                otherwise. The dropout trend is judged by its slope's CI, \"accurate but \
                unhealthy\" by the generalisation gap, depth's time by the benchmark (1.5–2.5× \
                counts as \"about twice\")."
                    .into(),
            ));
            let rows = a.fidelity(&family);
            blocks.push(Block::Table(Table {
                name: "fidelity".into(),
                header: ["finding", "the report", "here", "status", "why"]
                    .map(String::from)
                    .to_vec(),
                rows: rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.finding.to_string(),
                            r.report.clone(),
                            r.here.clone(),
                            r.status.as_str().to_string(),
                            r.reason.clone(),
                        ]
                    })
                    .collect(),
            }));
        }
        None => blocks.push(Block::Para(
            "Not available until every section, the probes and the \
            depth benchmark have run (`convlab study`)."
                .into(),
        )),
    }
    Ok(blocks)
}

/// The document from the stored runs of `study` (figures exported to its figures directory).
pub fn build(study: &Study) -> anyhow::Result<Document> {
    let study = reader(study);
    let g = gather(&study)?;
    let mut blocks = setup_blocks(&study, &g, &trained(&study))?;
    let answers =
        if study.plan.is_report() { questions::answer_all(&study, &g.complete).ok() } else { None };
    for s in &study.plan.sections {
        blocks.extend(section_blocks(&study, s, &g, answers.as_ref())?);
    }
    blocks.extend(summary_blocks(&study, &g, answers.as_ref())?);
    Ok(Document {
        title: format!("{} ({} profile)", study.plan.title, study.profile.name.as_str()),
        blocks,
    })
}

/// Every variant and probe of the study: its overrides from the report's recipe (its bases'
/// first), the keys among them not scaled, and the run directory its runs are in — those two
/// columns only when some variant has one, or shares another's runs.
fn variants_table(study: &Study) -> anyhow::Result<Table> {
    let plan = &study.plan;
    let mut rows = Vec::new();
    for v in plan.variants().into_iter().chain(plan.probes()) {
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

/// The blocks of a section's open question, when it has one and its answer could be computed.
fn question_blocks(
    study: &Study,
    key: &str,
    answers: Option<&Answers>,
) -> anyhow::Result<Vec<Block>> {
    let mut out = Vec::new();
    let Some(a) = answers else {
        if ["normalization", "dropout", "lr-decay", "depth"].contains(&key) {
            out.push(Block::Para(
                "The section's open question is answered once every section, the \
                probes and the depth benchmark have run (`convlab study`)."
                    .into(),
            ));
        }
        return Ok(out);
    };
    match key {
        "normalization" => {
            out.push(Block::Heading(2, "Why did InstanceNorm collapse?".into()));
            out.push(Block::Table(Table::from_frame("instance-norm", &a.instance_norm.table()?)?));
            let files =
                a.instance_norm.curves().export(&study.figures_dir, "normalization-probes")?;
            out.extend(figure_blocks(
                &files,
                &[(
                    "normalization-probes",
                    "BatchNorm and \
                InstanceNorm at the report's lr 0.001, each with an average- and a max-pooling \
                head: validation per epoch."
                        .into(),
                )],
            ));
            out.extend(paras(&a.instance_norm.conclusion()));
            out.push(Block::Heading(2, "Is no normalization better than BatchNorm?".into()));
            out.extend(paras(&a.no_norm));
        }
        "dropout" => {
            out.push(Block::Heading(2, "Does accuracy fall steadily as p grows?".into()));
            out.push(Block::Table(Table::from_frame("dropout-trend", &a.dropout.table()?)?));
            out.extend(paras(&a.dropout.conclusion()));
        }
        "lr-decay" => {
            out.push(Block::Heading(2, "Constant lr 1e-3: accurate but unhealthy?".into()));
            out.push(Block::Table(Table::from_frame(
                "generalisation",
                &a.generalisation.table()?,
            )?));
            out.extend(paras(&a.generalisation.conclusion()));
        }
        "depth" => {
            out.push(Block::Heading(2, "What does depth cost?".into()));
            out.push(Block::Table(Table::from_frame("depth-cost", &a.depth.table()?)?));
            out.extend(paras(&a.depth.conclusion()));
        }
        _ => {}
    }
    Ok(out)
}

/// Write the document as `format` into `out` (default: the study's figures directory), with
/// every table as `tables/<name>.csv` beside it; returns the files written.
pub fn write(study: &Study, format: Format, out: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out.map_or_else(|| study.figures_dir.clone(), Path::to_path_buf);
    std::fs::create_dir_all(dir.join("tables"))
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.join("tables").display()))?;
    let dir = dir.canonicalize().map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let doc = build(study)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latex_escapes_and_maps_every_character_the_text_uses() {
        let mut unknown = vec![];
        let t = inline_tex(
            "**worse**: −9.5 pp [−11.8, −7.2] — Δ 1×2 ± `run_x*` 100% & $5 #1 ✕ η² … “q” *better* ¼",
            &mut unknown,
        );
        assert_eq!(
            t,
            "\\textbf{worse}: $-$9.5 pp [$-$11.8, $-$7.2] --- $\\Delta$ 1$\\times$2 $\\pm$ \
                \\texttt{run\\_x*} 100\\% \\& \\$5 \\#1 $\\times$ $\\eta$$^2$ \\ldots{} ``q'' \
                \\emph{better} $\\frac{1}{4}$"
        );
        assert!(t.is_ascii() && unknown.is_empty());
        let t = inline_tex("猫 class", &mut unknown);
        assert_eq!((t.as_str(), unknown), ("? class", vec!['猫']));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            name: "t".into(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1.5".into(), "x, \"y\"".into()], vec!["—".into(), "z".into()]],
        };
        assert_eq!(t.csv(), "a,b\n1.5,\"x, \"\"y\"\"\"\n,z\n");
    }
}
