//! The document the write-up builds — headings, paragraphs, tables and figures — rendered as
//! Markdown (relative links to the PNG and SVG figures: JupyterLab's Markdown viewer, GitHub) or
//! LaTeX (booktabs tables, PNG figures, ASCII only: pdflatex takes it as is).
use crate::analysis::Table;
use crate::paths::relative;
use std::path::{Path, PathBuf};

/// The document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Markdown (`writeup.md`).
    Md,
    /// LaTeX (`writeup.tex`), for pdflatex.
    Latex,
}

impl Format {
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Md => "writeup.md",
            Format::Latex => "writeup.tex",
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
                // Unnumbered: the paper's sections carry their own numbers.
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
}
