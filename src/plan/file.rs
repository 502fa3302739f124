//! Plan files: a study in TOML (`studies/<name>.toml`), read into a [`Plan`] and checked.
//!
//! ```toml
//! title = "Regularization against xknet18"   # name: the file's stem unless given
//! margin_pp = 1.0                              # within ±1 pp a difference does not matter
//! margin_reason = "why, decided before any result"
//! sequential = "5,10,15,20"                    # looks: seeds a side, each comparison stopping once decided
//!
//! [[variant]]                                  # variants are defined once …
//! key = "wd-5e-4"
//! label = "weight decay 5e-4"
//! base = "xknet18"                             # a variant of this plan or of the paper's
//! set = ["train.weight_decay=5e-4"]            # overrides, in the paper's units
//!
//! [[section]]                                  # … and listed by the sections that compare them
//! key = "weight-decay"
//! title = "Weight decay"
//! reference = "xknet18"
//! variants = ["xknet18", "wd-5e-4"]            # the paper's variants need no definition
//!
//! [[section]]
//! key = "wd-sweep"
//! margin_pp = 0.5                              # this section's own margin
//! title = "Weight decay, swept"
//! sweep = { base = "xknet18", set = ["train.weight_decay=0,1e-4,5e-4"] }
//! ```
//!
//! Every error is one line: `<file>:<line>: <what> — what to do`.
use super::{At, Plan, PlanError, Section, Variant};
use crate::looks::Seeding;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    name: Option<String>,
    title: Option<String>,
    margin_pp: Option<Spanned<f64>>,
    margin_reason: Option<String>,
    sequential: Option<Spanned<crate::looks::LooksText>>,
    #[serde(default)]
    variant: Vec<VariantFile>,
    #[serde(default)]
    section: Vec<SectionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantFile {
    key: Spanned<String>,
    label: Option<String>,
    base: Option<Spanned<String>>,
    #[serde(default)]
    set: Vec<Spanned<String>>,
    #[serde(default)]
    absolute: Vec<Spanned<String>>,
    reported: Option<f64>,
    style: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    base: String,
    set: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionFile {
    key: Spanned<String>,
    title: Option<String>,
    question: Option<String>,
    /// What the paper found, or what the author expects (`report` in plan files of before).
    #[serde(alias = "report")]
    notes: Option<String>,
    reference: Option<Spanned<String>>,
    variants: Option<Spanned<Vec<Spanned<String>>>>,
    sweep: Option<Spanned<SweepFile>>,
    #[serde(default)]
    probes: Vec<Spanned<String>>,
    #[serde(default)]
    per_class: bool,
    final_model: Option<Spanned<String>>,
    alone: Option<Spanned<String>>,
    margin_pp: Option<Spanned<f64>>,
}

/// Byte offsets of a file's lines, to turn spans into line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Self {
        Lines(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// A key of a plan file and the line it is on.
type KeyLine = (&'static str, usize);

/// Where each thing of a plan file is, for errors.
#[derive(Default)]
pub(crate) struct Spans {
    /// Each variant: key, line, the lines of its `set` entries, its keys' lines.
    variants: Vec<(String, usize, Vec<usize>, Vec<KeyLine>)>,
    /// Each section: key, line, its keys' lines.
    sections: Vec<(String, usize, Vec<KeyLine>)>,
    /// The plan's own keys' lines.
    plan: Vec<KeyLine>,
}

impl Spans {
    pub(crate) fn line(&self, at: &At) -> Option<usize> {
        let section = |k: &str| self.sections.iter().find(|s| s.0 == k);
        let variant = |k: &str| self.variants.iter().find(|v| v.0 == k);
        match at {
            At::Plan => Some(1),
            At::PlanField(f) => Some(self.plan.iter().find(|(n, _)| n == f).map_or(1, |(_, l)| *l)),
            At::Section(k) | At::Sweep(k) => section(k).map(|s| s.1),
            At::SectionField(k, f) => {
                section(k).map(|s| s.2.iter().find(|(n, _)| n == f).map_or(s.1, |(_, l)| *l))
            }
            At::Variant(k) => variant(k).map(|v| v.1).or_else(|| self.listed(k)),
            At::Override(k, i) => {
                variant(k).map(|v| v.2.get(*i).copied().unwrap_or(v.1)).or_else(|| self.listed(k))
            }
            At::VariantField(k, f) => variant(k)
                .map(|v| v.3.iter().find(|(n, _)| n == f).map_or(v.1, |(_, l)| *l))
                .or_else(|| self.listed(k)),
        }
    }

    /// The line of the first section that lists (or sweeps into) a variant not defined in the file.
    fn listed(&self, key: &str) -> Option<usize> {
        self.sections
            .iter()
            .find(|s| {
                s.2.iter().any(|(n, _)| *n == "variants")
                    && key.contains('+') == s.2.iter().any(|(n, _)| *n == "sweep")
            })
            .map(|s| s.1)
    }
}

impl Plan {
    /// Read and check a plan file; every error is one line naming the file, the line and the key.
    pub fn load(path: &Path) -> anyhow::Result<Plan> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read plan {}: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map_or_else(|| "plan".to_string(), |s| s.to_string_lossy().into_owned());
        Plan::from_toml(&text, &stem)
            .map_err(|(line, e)| anyhow::anyhow!("{}:{line}: {e}", path.display()))
    }

    /// A plan from a file's text (`stem` names it unless it says `name = …`), checked; an error
    /// comes with its line.
    pub fn from_toml(text: &str, stem: &str) -> Result<Plan, (usize, String)> {
        let (plan, spans) = Plan::parse_toml(text, stem)?;
        plan.validate()
            .map(Plan::with_styles)
            .map_err(|e: PlanError| (spans.line(&e.at).unwrap_or(1), e.message))
    }

    /// A plan file's text read into a plan, not yet checked, and where each thing is in it.
    pub(crate) fn parse_toml(text: &str, stem: &str) -> Result<(Plan, Spans), FileError> {
        let lines = Lines::of(text);
        let file: PlanFile = toml::from_str(text).map_err(|e| {
            (e.span().map_or(1, |s| lines.line(s.start)), e.message().trim().replace('\n', " "))
        })?;
        let mut spans = Spans::default();
        let mut defined: Vec<Variant> = Vec::new();
        for v in &file.variant {
            defined.push(read_variant(v, &lines, &mut spans)?);
        }
        let sections = file
            .section
            .iter()
            .map(|s| read_section(s, &defined, &lines, &mut spans))
            .collect::<Result<Vec<_>, _>>()?;
        let name = file.name.unwrap_or_else(|| stem.to_string());
        if let Some(m) = &file.margin_pp {
            spans.plan.push(("margin_pp", lines.line(m.span().start)));
        }
        let sequential = match &file.sequential {
            None => None,
            Some(text) => match text.get_ref().0.parse::<Seeding>() {
                Ok(Seeding::Sequential(looks)) => Some(looks),
                Ok(Seeding::Fixed) => None,
                Err(e) => {
                    return Err((
                        lines.line(text.span().start),
                        format!("sequential = {:?}: {e}", text.get_ref().0),
                    ));
                }
            },
        };
        let plan = Plan {
            sequential,
            title: file.title.unwrap_or_else(|| name.clone()),
            name,
            sections,
            margin_pp: file.margin_pp.map(|m| *m.get_ref()),
            margin_reason: file.margin_reason.unwrap_or_default(),
        };
        Ok((plan, spans))
    }
}

/// A file error: the line of `span`, and the message.
type FileError = (usize, String);

/// One `[[variant]]`, its places recorded in `spans`.
fn read_variant(v: &VariantFile, lines: &Lines, spans: &mut Spans) -> Result<Variant, FileError> {
    let at_line = |s: std::ops::Range<usize>| lines.line(s.start);
    let key = v.key.get_ref().clone();
    if let Some(first) = spans.variants.iter().find(|s| s.0 == key) {
        return Err((
            at_line(v.key.span()),
            format!("variant `{key}` is defined twice (first on line {}); rename one", first.1),
        ));
    }
    let fields: Vec<(&'static str, usize)> = [
        ("base", v.base.as_ref().map(Spanned::span)),
        ("style", v.style.as_ref().map(Spanned::span)),
        ("absolute", v.absolute.first().map(Spanned::span)),
    ]
    .into_iter()
    .filter_map(|(name, span)| Some((name, at_line(span?))))
    .collect();
    spans.variants.push((
        key.clone(),
        at_line(v.key.span()),
        v.set.iter().map(|s| at_line(s.span())).collect(),
        fields,
    ));
    let style = match &v.style {
        Some(s) => Some(
            s.get_ref()
                .parse()
                .map_err(|e| (at_line(s.span()), format!("variant `{key}`: style {e}")))?,
        ),
        None => None,
    };
    Ok(Variant {
        label: v.label.clone().unwrap_or_else(|| key.clone()),
        base: v.base.as_ref().map(|b| b.get_ref().clone()),
        set: v.set.iter().map(|s| s.get_ref().clone()).collect(),
        absolute: v.absolute.iter().map(|s| s.get_ref().clone()).collect(),
        reported: v.reported,
        style,
        key,
    })
}

/// One `[[section]]`: its variants looked up among `defined` and the paper's, or swept.
fn read_section(
    s: &SectionFile,
    defined: &[Variant],
    lines: &Lines,
    spans: &mut Spans,
) -> Result<Section, FileError> {
    let at_line = |s: std::ops::Range<usize>| lines.line(s.start);
    let key = s.key.get_ref().clone();
    let lookup = |k: &Spanned<String>| -> Result<Variant, FileError> {
        let name = k.get_ref();
        defined
            .iter()
            .find(|v| &v.key == name)
            .or_else(|| super::paper_plan_unchecked().get_variant(name))
            .cloned()
            .ok_or_else(|| {
                (
                    at_line(k.span()),
                    format!(
                        "section `{key}`: variant `{name}` is defined neither \
                here (a [[variant]] with key = \"{name}\") nor in the paper's study; define it \
                or fix the name"
                    ),
                )
            })
    };
    let mut fields: Vec<(&'static str, usize)> =
        [("reference", &s.reference), ("final_model", &s.final_model), ("alone", &s.alone)]
            .into_iter()
            .filter_map(|(n, f)| Some((n, at_line(f.as_ref()?.span()))))
            .collect();
    if let Some(m) = &s.margin_pp {
        fields.push(("margin_pp", at_line(m.span())));
    }
    let mut section = match (&s.variants, &s.sweep) {
        (Some(_), Some(sw)) => {
            return Err((
                at_line(sw.span()),
                format!("section `{key}`: give `variants` or `sweep`, not both"),
            ));
        }
        (None, None) => {
            let how = "list them (variants = [\"xknet18\", …]) or sweep one (sweep = \
                { base = \"xknet18\", set = [\"train.weight_decay=0,5e-4\"] })";
            return Err((at_line(s.key.span()), format!("section `{key}` has no variants; {how}")));
        }
        (Some(vs), None) => {
            fields.push(("variants", at_line(vs.span())));
            let mut section = Section::new(&key, s.title.as_deref().unwrap_or(&key));
            section.variants = vs.get_ref().iter().map(&lookup).collect::<Result<_, _>>()?;
            section
        }
        (None, Some(sw)) => {
            fields.extend([("sweep", at_line(sw.span())), ("variants", at_line(sw.span()))]);
            let set: Vec<&str> = sw.get_ref().set.iter().map(String::as_str).collect();
            let mut section = Section::sweep(&key, &sw.get_ref().base, &set)
                .map_err(|e| (at_line(sw.span()), e.to_string()))?;
            section.title = s.title.clone().unwrap_or(section.title);
            section
        }
    };
    if let Some(r) = &s.reference {
        section.reference = Some(r.get_ref().clone());
    }
    if let Some(q) = &s.question {
        section.question = q.clone();
    }
    section.notes = s.notes.clone().unwrap_or_default();
    section.per_class = s.per_class;
    section.final_model = s.final_model.as_ref().map(|f| f.get_ref().clone());
    section.alone = s.alone.as_ref().map(|f| f.get_ref().clone());
    section.probes = s.probes.iter().map(&lookup).collect::<Result<_, _>>()?;
    section.margin_pp = s.margin_pp.as_ref().map(|m| *m.get_ref());
    spans.sections.push((key, at_line(s.key.span()), fields));
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"title = "Regularization"

[[variant]]
key = "wd-5e-4"
label = "weight decay 5e-4"
base = "xknet18"
set = ["train.weight_decay=5e-4"]

[[section]]
key = "weight-decay"
title = "Weight decay"
reference = "xknet18"
variants = ["xknet18", "wd-5e-4"]

[[section]]
key = "wd-sweep"
sweep = { base = "xknet18", set = ["train.weight_decay=0,1e-4"] }
"#;

    #[test]
    fn a_plan_file_reads_into_a_checked_plan() {
        let p = Plan::from_toml(GOOD, "regularization").unwrap();
        assert_eq!((p.name.as_str(), p.title.as_str()), ("regularization", "Regularization"));
        assert_eq!(p.sections.len(), 2);
        assert_eq!(
            p.sections[0].variants[0],
            super::super::paper_variant("xknet18").unwrap().clone(),
            "the paper's xknet18, as the paper defines it"
        );
        assert_eq!(p.sections[1].reference.as_deref(), Some("xknet18+weight_decay=0"));
        assert_eq!(p.family_members().len(), 2);
    }

    /// A plan's own looks (`sequential`), read with its spending; a bad one named with its line.
    #[test]
    fn a_plans_looks_are_read_and_checked() {
        let with = |v: &str| {
            GOOD.replace(
                "title = \"Regularization\"\n",
                &format!("title = \"Regularization\"\nsequential = \"{v}\"\n"),
            )
        };
        let p = Plan::from_toml(&with("pocock:4,8,12"), "x").unwrap();
        let looks = p.sequential.unwrap();
        assert_eq!((looks.seeds, looks.spending), (vec![4, 8, 12], crate::looks::Spending::Pocock));
        assert_eq!(Plan::from_toml(&with("fixed"), "x").unwrap().sequential, None);
        let (line, e) = Plan::from_toml(&with("5,3"), "x").unwrap_err();
        assert_eq!(
            (line, e.as_str()),
            (2, "sequential = \"5,3\": 5,3: each look needs more seeds than the one before")
        );
        // Unquoted looks: the line, and the forms that work.
        let text = GOOD.replace(
            "title = \"Regularization\"\n",
            "title = \"Regularization\"\nsequential = [4, 8]\n",
        );
        let (line, e) = Plan::from_toml(&text, "x").unwrap_err();
        assert_eq!(line, 2, "{e}");
        assert!(e.contains("expected a quoted list of looks, e.g. \"5,10,15,20\""), "{e}");
    }

    /// A margin of equivalence for the plan and one section's own; a bad one named with its line.
    #[test]
    fn margins_are_read_per_plan_and_section_and_checked() {
        let text = GOOD
            .replace(
                "title = \"Regularization\"\n",
                "title = \"Regularization\"\nmargin_pp = 1.5\nmargin_reason = \"why\"\n",
            )
            .replace("key = \"wd-sweep\"\n", "key = \"wd-sweep\"\nmargin_pp = 0.5\n");
        let p = Plan::from_toml(&text, "x").unwrap();
        assert_eq!((p.margin_pp, p.margin_reason.as_str()), (Some(1.5), "why"));
        assert_eq!(
            (p.margin_of("weight-decay"), p.margin_of("wd-sweep")),
            (Some(0.015), Some(0.005))
        );
        assert_eq!(Plan::from_toml(GOOD, "x").unwrap().margin_of("weight-decay"), None);
        let (line, e) =
            Plan::from_toml(&text.replace("margin_pp = 0.5", "margin_pp = -1.0"), "x").unwrap_err();
        assert_eq!(line, 19, "{e}");
        assert!(e.starts_with("section `wd-sweep`: margin_pp = -1: give the margin"), "{e}");
        let (line, e) = Plan::from_toml(&text.replace("margin_pp = 1.5", "margin_pp = 250.0"), "x")
            .unwrap_err();
        assert_eq!(line, 2, "{e}");
        assert!(e.starts_with("margin_pp = 250: give the margin of equivalence"), "{e}");
        assert!(crate::plan::paper_plan().margin_pp == Some(1.0), "the paper's plan states one");
    }

    /// Each bad plan of the issue: one line, the file's line, the key, what to do.
    #[test]
    fn bad_plan_files_name_the_line_and_the_key() {
        let err = |text: &str| Plan::from_toml(text, "x").unwrap_err();
        let (line, e) = err(&GOOD.replace("train.weight_decay=5e-4", "train.wieght_decay=5e-4"));
        assert_eq!(
            (line, e.as_str()),
            (
                7,
                "variant `wd-5e-4`: train.wieght_decay: unknown key; did you mean \
                    train.weight_decay?"
            )
        );
        let (line, e) = err(&GOOD.replace("train.weight_decay=5e-4", "train.weight_decay=high"));
        assert_eq!(
            (line, e.as_str()),
            (
                7,
                "variant `wd-5e-4`: train.weight_decay=high: expected a number, not string \"high\""
            )
        );
        let (line, e) = err(&GOOD.replace(
            "[[section]]\nkey = \"weight-decay\"",
            "[[variant]]\nkey = \"wd-5e-4\"\n\n[[section]]\nkey = \"weight-decay\"",
        ));
        assert_eq!(
            (line, e.as_str()),
            (10, "variant `wd-5e-4` is defined twice (first on line 4); rename one")
        );
        let (line, e) = err(&GOOD.replace("reference = \"xknet18\"", "reference = \"resnet18\""));
        assert_eq!(line, 12);
        assert!(
            e.starts_with(
                "section `weight-decay`: reference `resnet18` is not one of its \
            variants (xknet18, wd-5e-4)"
            ),
            "{e}"
        );
        let (line, e) =
            err(&GOOD.replace("variants = [\"xknet18\", \"wd-5e-4\"]", "variants = []"));
        assert_eq!(
            (line, e.as_str()),
            (
                13,
                "section `weight-decay` has no variants; list the variants it compares, its \
                    reference among them"
            )
        );
        let (line, e) = err(&GOOD.replace("train.weight_decay=0,1e-4", "train.weight_decay=1e-4"));
        assert_eq!(line, 17);
        assert!(e.contains("has one value; give two or more"), "{e}");
        let (line, e) = err(&GOOD
            .replace("key = \"wd-5e-4\"\nlabel", "key = \"xknet18\"\nlabel")
            .replace("\"xknet18\", \"wd-5e-4\"", "\"xknet18\", \"resnet18\""));
        assert_eq!(line, 4);
        assert!(
            e.starts_with(
                "variant `xknet18` is the paper's (model.stem=small); this plan's \
            is xknet18 + train.weight_decay=5e-4: name yours differently"
            ),
            "{e}"
        );
        let (line, e) = err("title = \"x\"\n[[section]]\nkey = \"s\"\nvarients = [\"xknet18\"]\n");
        assert_eq!(line, 4);
        assert!(e.starts_with("unknown field `varients`, expected one of"), "{e}");
        let (line, e) = err("title = \"x\"\n[[section]]\nkey = \"s\"\nvariants = [\"xknet81\"]\n");
        assert_eq!(line, 4);
        assert!(e.starts_with("section `s`: variant `xknet81` is defined neither here"), "{e}");
        let (line, _) = err("title = \"x\"\n[[section]\n");
        assert_eq!(line, 2);
    }
}
