//! A study as a value: a plan of sections, each a list of variants, each variant a base
//! and overrides. The paper's own study is one ([`Plan::paper`], `studies/paper.toml`);
//! a user's is written in code with the builders below (`with_…`), in a TOML file
//! ([`Plan::load`], `studies/<name>.toml`) or as a one-line sweep ([`Section::sweep`]).
//!
//! ```
//! use convlab::plan::{Plan, Section, Variant, paper_variant};
//! let wd = Variant::new("wd-5e-4")
//!     .with_label("weight decay 5e-4")
//!     .with_base("xknet18")
//!     .with_set("train.weight_decay=5e-4");
//! let plan = Plan::new("weight-decay", "Weight decay against xknet18").with_section(
//!     Section::new("weight-decay", "Weight decay")
//!         .with_reference("xknet18")
//!         .with_variant(paper_variant("xknet18").unwrap().clone())
//!         .with_variant(wd),
//! );
//! let plan = plan.validate().unwrap().with_styles();
//! assert_eq!(plan.family_members().len(), 1);
//! assert_eq!(plan.find_variant("wd-5e-4").unwrap().label, "weight decay 5e-4");
//! ```
//!
//! [`Plan::validate`] checks everything before anything trains: every override against the
//! recipe's serde form ([`recipe`]), names, references, bases, sweeps. [`Plan::with_styles`]
//! then gives every variant its style (the paper's keep theirs, new ones take the first free
//! one). Builders are `with_…`; look-ups are `find_…` (an error listing the keys) or `get_…`
//! (an option).
mod builtin;
pub mod data_use;
mod file;
pub mod profile;
pub mod recipe;
mod runs;
mod setup;

pub(crate) use builtin::paper_plan_unchecked;
pub use builtin::{PAPER_TOML, PROBE_SEEDS, paper_plan, paper_section, paper_variant};
pub use data_use::{DataUse, Intake, Sizing, check_scorable};
pub use profile::{Profile, Score};
pub use recipe::Recipe;
pub use setup::Setup;

use crate::overrides::{Override, parse_sweep};
use crate::plot::Style;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A variant's look in every figure: its own ([`Plan::with_styles`] gives every variant one), else grey.
pub fn style_of(v: &Variant) -> Style {
    v.style.unwrap_or(Style::new((128, 128, 128), crate::plot::Dash::Solid))
}

/// One experiment: the recipe of its base (another variant, or the paper's recipe when
/// it has none) with its overrides, in the paper's units ([`recipe::SCALED`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name: the run directory `runs/<profile>/<key>/` when its config is new, and how
    /// cells and commands name it.
    pub key: String,
    /// How tables and figures call it.
    pub label: String,
    /// The variant it starts from (a key of this plan or of the paper's); none: the
    /// paper's recipe (torchvision resnet18 and [`crate::train::recipe`]).
    #[serde(default)]
    pub base: Option<String>,
    /// Overrides `key=value` of the base's recipe, applied in order.
    #[serde(default)]
    pub set: Vec<String>,
    /// Keys of `set` written in the profile's own units, which the profile does not scale
    /// (e.g. the paper's lr 0.001 on every profile).
    #[serde(default)]
    pub absolute: Vec<String>,
    /// Best validation accuracy the paper gives (full profile), when it gives one.
    #[serde(default)]
    pub reported: Option<f64>,
    /// Its look in every figure; [`Plan::with_styles`] gives one to each variant without.
    #[serde(default)]
    pub style: Option<Style>,
}

impl Variant {
    /// The paper's recipe under `key`, until [`Variant::base`] and [`Variant::set`] change it.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.into(),
            label: key.into(),
            base: None,
            set: vec![],
            absolute: vec![],
            reported: None,
            style: None,
        }
    }

    pub fn with_label(mut self, label: &str) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_base(mut self, key: &str) -> Self {
        self.base = Some(key.into());
        self
    }

    /// One override, `key=value` (checked by [`Plan::validate`]).
    pub fn with_set(mut self, assignment: &str) -> Self {
        self.set.push(assignment.into());
        self
    }

    /// One override in the profile's own units: not scaled by the profile.
    pub fn with_absolute(mut self, assignment: &str) -> Self {
        if let Some((k, _)) = assignment.split_once('=') {
            self.absolute.push(k.trim().into());
        }
        self.set.push(assignment.into());
        self
    }

    pub fn with_reported(mut self, accuracy: f64) -> Self {
        self.reported = Some(accuracy);
        self
    }

    pub fn with_style(mut self, style: Style) -> Self {
        self.style = Some(style);
        self
    }

    /// Its overrides, parsed.
    fn overrides(&self) -> Result<Vec<Override>, PlanError> {
        self.set
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parse::<Override>().map_err(|e| {
                    PlanError::at(
                        At::Override(self.key.clone(), i),
                        format!("variant `{}`: {e}", self.key),
                    )
                })
            })
            .collect()
    }
}

/// One section: the variants it compares, each with the reference it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// `baseline`, `weight-decay`, … — also its notebook's and its figures' name.
    pub key: String,
    pub title: String,
    /// The question it answers (Markdown; may be empty).
    #[serde(default)]
    pub question: String,
    /// What the paper found, or what the plan's author expects (Markdown; may be empty).
    #[serde(default, alias = "report")]
    pub notes: String,
    /// The variant the others are compared with (Δ columns), if any.
    #[serde(default)]
    pub reference: Option<String>,
    pub variants: Vec<Variant>,
    /// The variant the notebook's "one variant alone" cell re-runs (default: the last).
    #[serde(default)]
    pub alone: Option<String>,
    /// The final model, when the section ends with one: its confusion matrix and test-set
    /// predictions (`test.txt`) are shown.
    #[serde(default)]
    pub final_model: Option<String>,
    /// Whether the section shows its best model's confusion matrix and per-class accuracy.
    #[serde(default)]
    pub per_class: bool,
    /// Extra experiments for the paper's questions (the section's own, or findings probed at the
    /// paper's lr beside a reference this section trains): trained with the section's units on
    /// the profile's first [`PROBE_SEEDS`] seeds, and not part of the study's family of
    /// comparisons.
    #[serde(default)]
    pub probes: Vec<Variant>,
    /// Its comparisons' margin of equivalence in pp, over the plan's ([`Plan::margin_pp`]).
    #[serde(default)]
    pub margin_pp: Option<f64>,
}

impl Section {
    pub fn new(key: &str, title: &str) -> Self {
        Self {
            key: key.into(),
            title: title.into(),
            question: String::new(),
            notes: String::new(),
            reference: None,
            variants: vec![],
            alone: None,
            final_model: None,
            per_class: false,
            probes: vec![],
            margin_pp: None,
        }
    }

    pub fn with_question(mut self, text: &str) -> Self {
        self.question = text.into();
        self
    }

    /// What the paper found, or what you expect (shown under the question).
    pub fn with_notes(mut self, text: &str) -> Self {
        self.notes = text.into();
        self
    }

    pub fn with_reference(mut self, key: &str) -> Self {
        self.reference = Some(key.into());
        self
    }

    pub fn with_variant(mut self, v: Variant) -> Self {
        self.variants.push(v);
        self
    }

    pub fn with_probe(mut self, v: Variant) -> Self {
        self.probes.push(v);
        self
    }

    pub fn with_per_class(mut self, yes: bool) -> Self {
        self.per_class = yes;
        self
    }

    /// A section sweeping `base` over every combination of `sweeps` — each `key=a,b,c`
    /// (Hydra's grammar; a key with one value applies to every variant) — with the first
    /// combination as the reference. At least one key needs two values or more.
    pub fn sweep(key: &str, base: &str, sweeps: &[&str]) -> Result<Section, PlanError> {
        let at = || At::Sweep(key.to_string());
        let err = |m: String| PlanError::at(at(), format!("section `{key}`: {m}"));
        if sweeps.is_empty() {
            return Err(err(
                "a sweep needs an override with two or more values, e.g. train.weight_decay=0,5e-4"
                    .into(),
            ));
        }
        let axes: Vec<(String, Vec<String>)> = sweeps
            .iter()
            .map(|s| parse_sweep(s).map_err(|e| err(format!("sweep {e}"))))
            .collect::<Result<_, _>>()?;
        if axes.iter().all(|(_, v)| v.len() < 2) {
            let s = sweeps.join(" ");
            let (k, v) = &axes[0];
            return Err(err(format!(
                "sweep {s} has one value; give two or more to compare, e.g. {k}=<reference>,{}",
                v[0]
            )));
        }
        for (k, values) in &axes {
            if let Some(dup) =
                values.iter().enumerate().find_map(|(i, v)| values[..i].contains(v).then_some(v))
            {
                return Err(err(format!("sweep {k}: the value {dup} is listed twice")));
            }
        }
        let swept: Vec<&(String, Vec<String>)> = axes.iter().filter(|(_, v)| v.len() > 1).collect();
        let leaf = |k: &str| {
            let l = k.rsplit('.').next().unwrap_or(k);
            if swept.iter().filter(|(o, _)| o.rsplit('.').next() == Some(l)).count() > 1 {
                k.to_string()
            } else {
                l.to_string()
            }
        };
        // Every combination, the first key outermost (as Hydra's basic sweeper lists them).
        let mut combos: Vec<Vec<(String, String)>> = vec![vec![]];
        for (k, values) in &axes {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| [c.clone(), vec![(k.clone(), v.clone())]].concat())
                })
                .collect();
        }
        let mut section = Section::new(
            key,
            &format!(
                "{base}: {}",
                swept
                    .iter()
                    .map(|(k, v)| format!("{k} ∈ {{{}}}", v.join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        for combo in combos {
            let named: Vec<&(String, String)> =
                combo.iter().filter(|(k, _)| swept.iter().any(|(s, _)| s == k)).collect();
            let vkey = format!(
                "{base}+{}",
                named
                    .iter()
                    .map(|(k, v)| format!("{}={}", leaf(k), v.replace(['"', '\'', ' '], "")))
                    .collect::<Vec<_>>()
                    .join("+")
            );
            let label = named
                .iter()
                .map(|(k, v)| format!("{} = {v}", leaf(k)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut v = Variant::new(&vkey).with_label(&label).with_base(base);
            for (k, value) in &combo {
                v = v.with_set(&format!("{k}={value}"));
            }
            section = section.with_variant(v);
        }
        section.reference = Some(section.variants[0].key.clone());
        section.question = format!(
            "How does {} change {base}'s accuracy? Each value is compared with the first, {}.",
            swept.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(" and "),
            section.variants[0].label
        );
        Ok(section)
    }
}

/// Where in a plan an error is (a plan file turns it into a line number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Plan,
    Section(String),
    /// A section's field (`reference`, `alone`, `final_model`, `variants`, `margin_pp`).
    SectionField(String, &'static str),
    /// A plan's own field (`margin_pp`).
    PlanField(&'static str),
    Sweep(String),
    Variant(String),
    /// A variant's `i`-th override.
    Override(String, usize),
    /// A variant's field (`base`, `absolute`, `style`).
    VariantField(String, &'static str),
}

/// A plan that cannot run: where, and a one-line message naming the key and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub at: At,
    pub message: String,
}

impl PlanError {
    pub fn at(at: At, message: String) -> Self {
        Self { at, message }
    }
}

/// A study: its name (its figures go to `figures/<profile>/<name>/`, its notebooks to
/// `notebooks/<name>/`), its title, its sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    pub title: String,
    pub sections: Vec<Section>,
    /// The margin of practical equivalence of its comparisons, in percentage points of the
    /// score, stated before any result (`margin_pp`): within ±margin a difference does not
    /// matter, and a comparison whose simultaneous interval lies inside it is *equivalent*.
    /// `None`: no comparison can be called equivalent.
    pub margin_pp: Option<f64>,
    /// Why that margin (`margin_reason`), for the write-up.
    pub margin_reason: String,
    /// Its comparisons run in looks (`sequential = "5,10,15,20"`), unless the settings say
    /// otherwise; `None`: the profile's seeds, fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<crate::looks::Looks>,
}

/// A variant's overrides from the paper's recipe, its bases' first: what a profile maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Every override of the chain, the root's first.
    pub overrides: Vec<Override>,
    /// The overrides a profile does not scale (the last of each absolute key).
    pub absolute: Vec<Override>,
}

/// The name of the paper's own plan; no other plan may take it.
pub const PAPER: &str = "paper";

impl Plan {
    pub fn new(name: &str, title: &str) -> Self {
        Self {
            name: name.into(),
            title: title.into(),
            sections: vec![],
            margin_pp: None,
            margin_reason: String::new(),
            sequential: None,
        }
    }

    pub fn with_section(mut self, s: Section) -> Self {
        self.sections.push(s);
        self
    }

    /// The plan with a margin of equivalence of `pp` percentage points, and why.
    pub fn with_margin(mut self, pp: f64, reason: &str) -> Self {
        self.margin_pp = Some(pp);
        self.margin_reason = reason.into();
        self
    }

    /// The margin of equivalence of `section`'s comparisons, in accuracy (not pp): the
    /// section's own `margin_pp`, else the plan's.
    pub fn margin_of(&self, section: &str) -> Option<f64> {
        let own = self.sections.iter().find(|s| s.key == section).and_then(|s| s.margin_pp);
        own.or(self.margin_pp).map(|pp| pp / 100.0)
    }

    /// The paper's study as a plan (`studies/paper.toml`).
    pub fn paper() -> Plan {
        paper_plan().clone()
    }

    /// Whether this is the paper's own plan (its open questions and fidelity table apply).
    pub fn is_paper(&self) -> bool {
        self.name == PAPER
    }

    /// A section by key, or an error listing the keys.
    pub fn find_section(&self, key: &str) -> anyhow::Result<&Section> {
        self.sections.iter().find(|s| s.key == key).ok_or_else(|| {
            let keys: Vec<&str> = self.sections.iter().map(|s| s.key.as_str()).collect();
            anyhow::anyhow!(
                "unknown section `{key}`; sections of {}: {}",
                self.name,
                keys.join(", ")
            )
        })
    }

    /// Every distinct variant of the sections (not the probes), in first-appearance order.
    pub fn variants(&self) -> Vec<&Variant> {
        let mut out: Vec<&Variant> = Vec::new();
        for v in self.sections.iter().flat_map(|s| &s.variants) {
            if !out.iter().any(|o| o.key == v.key) {
                out.push(v);
            }
        }
        out
    }

    /// Every probe ([`Section::probes`]), in section order.
    pub fn probes(&self) -> Vec<&Variant> {
        self.sections.iter().flat_map(|s| &s.probes).collect()
    }

    /// A variant or probe of this plan by key, if it has one.
    pub fn get_variant(&self, key: &str) -> Option<&Variant> {
        self.sections.iter().flat_map(|s| s.variants.iter().chain(&s.probes)).find(|v| v.key == key)
    }

    /// A variant or probe by key, or an error listing the keys.
    pub fn find_variant(&self, key: &str) -> anyhow::Result<&Variant> {
        self.get_variant(key).ok_or_else(|| {
            let keys: Vec<&str> =
                self.variants().into_iter().chain(self.probes()).map(|v| v.key.as_str()).collect();
            anyhow::anyhow!(
                "unknown variant `{key}`; variants of {}: {}",
                self.name,
                keys.join(", ")
            )
        })
    }

    pub fn is_probe(&self, key: &str) -> bool {
        self.probes().iter().any(|p| p.key == key) && !self.variants().iter().any(|v| v.key == key)
    }

    /// The family of comparisons, fixed before any run: every variant of a section with a
    /// reference against that reference, in the plan's order.
    pub fn family_members(&self) -> Vec<(&Section, &Variant, &Variant)> {
        let mut out = Vec::new();
        for s in &self.sections {
            let Some(r) = &s.reference else { continue };
            let Some(reference) = s.variants.iter().find(|v| &v.key == r) else { continue };
            out.extend(s.variants.iter().filter(|v| &v.key != r).map(|v| (s, reference, v)));
        }
        out
    }

    /// A variant of this plan or, failing that, of the paper's (a base may be either).
    fn lookup<'a>(&'a self, key: &str, paper: &'a Plan) -> Option<&'a Variant> {
        self.get_variant(key).or_else(|| paper.get_variant(key))
    }

    /// Where bases not in this plan are looked up: the paper's study (itself for the paper).
    fn catalogue(&self) -> &Plan {
        if self.is_paper() { self } else { paper_plan_unchecked() }
    }

    /// The overrides that make `key`, from the paper's recipe through its bases.
    pub fn resolve(&self, key: &str) -> Result<Resolved, PlanError> {
        self.resolve_in(key, self.catalogue())
    }

    fn resolve_in(&self, key: &str, paper: &Plan) -> Result<Resolved, PlanError> {
        let mut chain: Vec<&Variant> = Vec::new();
        let mut at = self.lookup(key, paper).ok_or_else(|| {
            PlanError::at(At::Variant(key.into()), format!("unknown variant `{key}`"))
        })?;
        loop {
            if chain.iter().any(|v| v.key == at.key) {
                let path: Vec<&str> =
                    chain.iter().map(|v| v.key.as_str()).chain([at.key.as_str()]).collect();
                return Err(PlanError::at(
                    At::VariantField(key.into(), "base"),
                    format!(
                        "variant `{key}`: its bases go round in a circle ({}); one must start \
                            from another variant or from none",
                        path.join(" → ")
                    ),
                ));
            }
            chain.push(at);
            let Some(b) = &at.base else { break };
            let child = at.key.clone();
            at = self.lookup(b, paper).ok_or_else(|| {
                PlanError::at(
                    At::VariantField(child.clone(), "base"),
                    format!(
                        "variant \
                    `{child}`: base `{b}` is neither a variant of this plan nor of the paper's; \
                    define it, or start from one of the paper's (e.g. xknet18)"
                    ),
                )
            })?;
        }
        let mut overrides = Vec::new();
        let mut absolute: BTreeMap<String, Option<Override>> = BTreeMap::new();
        for v in chain.iter().rev() {
            for o in v.overrides()? {
                absolute.insert(o.key.clone(), v.absolute.contains(&o.key).then(|| o.clone()));
                overrides.push(o);
            }
        }
        let absolute = overrides
            .iter()
            .filter_map(|o| absolute.get(&o.key).cloned().flatten().filter(|a| a == o))
            .fold(Vec::new(), |mut acc: Vec<Override>, o| {
                acc.retain(|x| x.key != o.key);
                acc.push(o);
                acc
            });
        Ok(Resolved { overrides, absolute })
    }

    /// The recipe of `key` in the paper's units, every override checked against it.
    pub fn recipe(&self, key: &str) -> Result<Recipe, PlanError> {
        let r = self.resolve(key)?;
        Recipe::paper().with(&r.overrides).map_err(|e| {
            // Name the variant whose override failed.
            let owner = self.owner_of(key, &e.to_string());
            PlanError::at(owner.clone(), format!("variant `{}`: {e}", at_key(&owner)))
        })
    }

    /// Which variant of `key`'s chain holds the override an error names.
    fn owner_of(&self, key: &str, message: &str) -> At {
        let cat = self.catalogue();
        let mut at = self.lookup(key, cat);
        while let Some(v) = at {
            let names = |s: &String| {
                s.split_once('=').is_some_and(|(k, _)| {
                    message.strip_prefix(k.trim()).is_some_and(|rest| rest.starts_with([':', '=']))
                })
            };
            if let Some(i) = v.set.iter().position(names) {
                return At::Override(v.key.clone(), i);
            }
            at = v.base.as_deref().and_then(|b| self.lookup(b, cat));
        }
        At::Variant(key.into())
    }

    /// The plan validated — the checks of the module's header — and returned unchanged.
    pub fn validate(self) -> Result<Plan, PlanError> {
        self.validate_against(paper_plan_unchecked())
    }

    /// Every variant and probe given its style: what a validated plan
    /// needs before its figures are drawn.
    pub fn with_styles(mut self) -> Plan {
        self.fill_styles(paper_plan_unchecked());
        self
    }

    /// [`Plan::validate`] with `paper` as the catalogue bases are found in (the paper's plan
    /// validates against itself).
    pub(crate) fn validate_against(self, paper: &Plan) -> Result<Plan, PlanError> {
        let is_paper = self == *paper;
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            && !self.name.starts_with('.');
        if !name_ok {
            return Err(PlanError::at(
                At::Plan,
                format!(
                    "plan name `{}`: use letters, digits, '-', '_' or '.' (it names a directory)",
                    self.name
                ),
            ));
        }
        if self.name == PAPER && !is_paper {
            return Err(PlanError::at(
                At::Plan,
                format!("plan name `{PAPER}` is the paper's own plan; name yours differently"),
            ));
        }
        if self.sections.is_empty() {
            return Err(PlanError::at(
                At::Plan,
                format!("plan `{}` has no sections; add at least one", self.name),
            ));
        }
        self.check_margins()?;
        self.check_sections()?;
        let cat: &Plan = if is_paper { &self } else { paper };
        let mut definitions: BTreeMap<&str, &Variant> = BTreeMap::new();
        for v in self.sections.iter().flat_map(|s| s.variants.iter().chain(&s.probes)) {
            match definitions.get(v.key.as_str()) {
                Some(d) if !same_definition(d, v) => {
                    return Err(PlanError::at(
                        At::Variant(v.key.clone()),
                        format!(
                            "two variants are named `{}` with different definitions; rename one",
                            v.key
                        ),
                    ));
                }
                _ => drop(definitions.insert(&v.key, v)),
            }
        }
        if !is_paper {
            self.check_paper_names(paper)?;
        }
        for v in definitions.values() {
            self.check_variant(v, cat)?;
        }
        Ok(self)
    }

    /// Every margin a positive number of percentage points below 100.
    fn check_margins(&self) -> Result<(), PlanError> {
        let bad = |m: Option<f64>| m.is_some_and(|m| !(m > 0.0 && m < 100.0));
        if bad(self.margin_pp) {
            return Err(PlanError::at(
                At::PlanField("margin_pp"),
                format!(
                    "margin_pp = {}: give the margin of equivalence in percentage points, \
                        above 0 and below 100 (e.g. margin_pp = 1.0)",
                    self.margin_pp.unwrap_or_default()
                ),
            ));
        }
        if let Some(s) = self.sections.iter().find(|s| bad(s.margin_pp)) {
            return Err(PlanError::at(
                At::SectionField(s.key.clone(), "margin_pp"),
                format!(
                    "section `{}`: margin_pp = {}: give the margin of equivalence in percentage \
                        points, above 0 and below 100 (e.g. margin_pp = 1.0)",
                    s.key,
                    s.margin_pp.unwrap_or_default()
                ),
            ));
        }
        Ok(())
    }

    fn check_sections(&self) -> Result<(), PlanError> {
        for (i, s) in self.sections.iter().enumerate() {
            let key_ok = !s.key.is_empty()
                && s.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !key_ok {
                return Err(PlanError::at(
                    At::Section(s.key.clone()),
                    format!(
                        "section key `{}`: use letters, digits, '-' or '_' (it names files)",
                        s.key
                    ),
                ));
            }
            if self.sections[..i].iter().any(|o| o.key == s.key) {
                return Err(PlanError::at(
                    At::Section(s.key.clone()),
                    format!("two sections are named `{}`; rename one", s.key),
                ));
            }
            if s.variants.is_empty() {
                return Err(PlanError::at(
                    At::SectionField(s.key.clone(), "variants"),
                    format!(
                        "section `{}` has no variants; list the variants it compares, its \
                            reference among them",
                        s.key
                    ),
                ));
            }
            let keys: Vec<&str> = s.variants.iter().map(|v| v.key.as_str()).collect();
            if let Some(dup) =
                keys.iter().enumerate().find_map(|(j, k)| keys[..j].contains(k).then_some(k))
            {
                return Err(PlanError::at(
                    At::SectionField(s.key.clone(), "variants"),
                    format!("section `{}` lists `{dup}` twice", s.key),
                ));
            }
            for (field, value) in
                [("reference", &s.reference), ("alone", &s.alone), ("final_model", &s.final_model)]
            {
                if let Some(k) = value.as_ref().filter(|k| !keys.contains(&k.as_str())) {
                    return Err(PlanError::at(
                        At::SectionField(s.key.clone(), field),
                        format!(
                            "section `{}`: {field} `{k}` is not one of its variants ({}); add it \
                                to the section's variants or name one of them",
                            s.key,
                            keys.join(", ")
                        ),
                    ));
                }
            }
            if s.reference.is_some() && s.variants.len() < 2 {
                return Err(PlanError::at(
                    At::SectionField(s.key.clone(), "variants"),
                    format!(
                        "section `{}` has a reference and nothing to compare with it; add a variant",
                        s.key
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_variant(&self, v: &Variant, cat: &Plan) -> Result<(), PlanError> {
        let key_ok = !v.key.is_empty()
            && v.key != "."
            && v.key != ".."
            && !v
                .key
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "/\\\"'`$".contains(c));
        if !key_ok {
            return Err(PlanError::at(
                At::Variant(v.key.clone()),
                format!(
                    "variant key `{}`: no spaces, quotes, `$` or path separators (it names a \
                        directory and a shell word)",
                    v.key
                ),
            ));
        }
        let own = v.overrides()?;
        for a in &v.absolute {
            if !own.iter().any(|o| &o.key == a) {
                return Err(PlanError::at(
                    At::VariantField(v.key.clone(), "absolute"),
                    format!(
                        "variant `{}`: absolute key `{a}` is not one of its overrides; set it \
                            here, or drop it from `absolute`",
                        v.key
                    ),
                ));
            }
        }
        let resolved = self.resolve_in(&v.key, cat)?;
        let recipe = Recipe::paper().with(&resolved.overrides).map_err(|e| {
            let owner = self.owner_of(&v.key, &e.to_string());
            PlanError::at(owner.clone(), format!("variant `{}`: {e}", at_key(&owner)))
        })?;
        recipe.validate().map_err(|e| {
            PlanError::at(At::Variant(v.key.clone()), format!("variant `{}`: {e}", v.key))
        })?;
        let sets = |k: &str| resolved.overrides.iter().any(|o| o.key == k);
        if sets("train.batch_size") && !sets("train.lr_batch") {
            return Err(PlanError::at(
                At::Variant(v.key.clone()),
                format!(
                    "variant `{}`: train.batch_size is changed; say how the learning rate follows \
                        it: add train.lr_batch=linear (lr × batch / 64, Goyal et al. 2017) or \
                        train.lr_batch=none (lr unchanged)",
                    v.key
                ),
            ));
        }
        Ok(())
    }

    /// A variant named as one of the paper's must be the paper's (the same recipe, however
    /// written).
    fn check_paper_names(&self, paper: &Plan) -> Result<(), PlanError> {
        for v in self.variants().into_iter().chain(self.probes()) {
            let Some(theirs) = paper.get_variant(&v.key) else { continue };
            if same_definition(v, theirs) {
                continue;
            }
            let want = paper.resolve_in(&v.key, paper)?;
            let recipe = |r: &Resolved| Recipe::paper().with(&r.overrides).ok();
            // Its own bases may not resolve (`base = "xknet18"` on a variant named xknet18 is
            // itself): then it is not the paper's either.
            let same = self
                .resolve(&v.key)
                .is_ok_and(|mine| recipe(&mine) == recipe(&want) && mine.absolute == want.absolute);
            if !same {
                let show = |r: &Resolved| {
                    if r.overrides.is_empty() {
                        "the paper's recipe".to_string()
                    } else {
                        r.overrides.iter().map(Override::to_string).collect::<Vec<_>>().join(" ")
                    }
                };
                let mine = v
                    .base
                    .iter()
                    .cloned()
                    .chain(v.set.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" + ");
                return Err(PlanError::at(
                    At::Variant(v.key.clone()),
                    format!(
                        "variant `{}` is the paper's ({}); this plan's is {}: name yours \
                            differently (e.g. `{}-2`), or use the paper's as it is",
                        v.key,
                        show(&want),
                        if mine.is_empty() { "the paper's recipe".into() } else { mine },
                        theirs.key
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every variant and probe its style: its own, the paper's for the paper's variants,
    /// else the first of [`Style::nth`] no other variant of the plan uses.
    fn fill_styles(&mut self, paper: &Plan) {
        let mut given: BTreeMap<String, Style> = BTreeMap::new();
        let all: Vec<Variant> = self
            .sections
            .iter()
            .flat_map(|s| s.variants.iter().chain(&s.probes))
            .cloned()
            .collect();
        for v in &all {
            if let Some(s) = v.style.or_else(|| paper.get_variant(&v.key).and_then(|r| r.style)) {
                given.entry(v.key.clone()).or_insert(s);
            }
        }
        let mut next = 0;
        for v in &all {
            if given.contains_key(&v.key) {
                continue;
            }
            let taken: Vec<Style> = given.values().copied().collect();
            while next < Style::DISTINCT && taken.contains(&Style::nth(next)) {
                next += 1;
            }
            given.insert(v.key.clone(), Style::nth(next));
            next += 1;
        }
        for s in &mut self.sections {
            for v in s.variants.iter_mut().chain(s.probes.iter_mut()) {
                v.style = given.get(&v.key).copied();
            }
        }
    }
}

fn at_key(at: &At) -> &str {
    match at {
        At::Override(k, _) | At::Variant(k) | At::VariantField(k, _) => k,
        At::Section(k) | At::SectionField(k, _) | At::Sweep(k) => k,
        At::Plan | At::PlanField(_) => "",
    }
}

/// Two entries of one variant key define the same thing (a style given once counts as given).
fn same_definition(a: &Variant, b: &Variant) -> bool {
    (&a.label, &a.base, &a.set, &a.absolute, a.reported)
        == (&b.label, &b.base, &b.set, &b.absolute, b.reported)
        && (a.style.is_none() || b.style.is_none() || a.style == b.style)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wd_plan() -> Plan {
        Plan::new("wd", "Weight decay").with_section(
            Section::new("weight-decay", "Weight decay")
                .with_reference("xknet18")
                .with_variant(crate::plan::paper_variant("xknet18").cloned().unwrap())
                .with_variant(
                    Variant::new("wd-5e-4")
                        .with_base("xknet18")
                        .with_set("train.weight_decay=5e-4"),
                ),
        )
    }

    #[test]
    fn a_plan_resolves_through_its_bases_to_the_papers_recipe() {
        let p = wd_plan().validate().map(Plan::with_styles).unwrap();
        let r = p.resolve("wd-5e-4").unwrap();
        assert_eq!(
            r.overrides.iter().map(Override::to_string).collect::<Vec<_>>(),
            ["model.stem=small", "train.weight_decay=5e-4"]
        );
        let recipe = p.recipe("wd-5e-4").unwrap();
        assert_eq!(
            (recipe.model.stem, recipe.train.weight_decay),
            (crate::model::Stem::Small, 5e-4)
        );
        assert_eq!(p.family_members().len(), 1);
        // Styles: the paper's xknet18 keeps black; the new one takes the first free one.
        let style = |k: &str| p.get_variant(k).unwrap().style.unwrap();
        assert_eq!(
            style("xknet18"),
            crate::plan::paper_variant("xknet18").cloned().unwrap().style.unwrap()
        );
        assert_eq!(style("wd-5e-4"), Style::nth(0));
    }

    #[test]
    fn bad_plans_are_refused_with_the_key_and_what_to_do() {
        let err = |p: Plan| p.validate().map(Plan::with_styles).unwrap_err().to_string();
        let one = |v: Variant| {
            Plan::new("p", "P").with_section(
                Section::new("s", "S")
                    .with_reference("xknet18")
                    .with_variant(crate::plan::paper_variant("xknet18").cloned().unwrap())
                    .with_variant(v),
            )
        };
        assert_eq!(
            err(one(Variant::new("a").with_base("xknet18").with_set("train.wieght_decay=1e-4"))),
            "variant `a`: train.wieght_decay: unknown key; did you mean train.weight_decay?"
        );
        assert_eq!(
            err(one(Variant::new("a").with_set("train.weight_decay=lots"))),
            "variant `a`: train.weight_decay=lots: expected a number, not string \"lots\""
        );
        assert_eq!(
            err(one(Variant::new("a").with_set("model.dropout=1.5"))),
            "variant `a`: model field `dropout` = 1.5: must be in [0, 1)"
        );
        assert!(err(one(Variant::new("a").with_base("nope"))).starts_with(
            "variant `a`: base `nope` is neither a variant of this plan nor of the paper's"
        ));
        assert!(
            err(one(Variant::new("a").with_set("train.batch_size=128")))
                .contains("add train.lr_batch=linear")
        );
        assert!(
            one(Variant::new("a")
                .with_set("train.batch_size=128")
                .with_set("train.lr_batch=linear"))
            .validate()
            .map(Plan::with_styles)
            .is_ok()
        );
        // The paper's name with other overrides.
        let e = err(one(Variant::new("dropout-0.1")
            .with_base("xknet18")
            .with_set("model.dropout=0.1")));
        assert_eq!(
            e,
            "variant `dropout-0.1` is the paper's (model.stem=small model.norm=none \
                model.dropout=0.1); this plan's is xknet18 + model.dropout=0.1: name yours \
                differently (e.g. `dropout-0.1-2`), or use the paper's as it is"
        );
        // The paper's name with the same recipe, written another way: accepted.
        assert!(
            one(Variant::new("dropout-0.1")
                .with_base("norm-none")
                .with_set("model.dropout=0.1")
                .with_label("no BN, dropout 0.1"))
            .validate()
            .map(Plan::with_styles)
            .is_ok()
        );
        // Sections.
        let e = err(Plan::new("p", "P").with_section(
            Section::new("s", "S").with_reference("xknet18").with_variant(Variant::new("a")),
        ));
        assert_eq!(
            e,
            "section `s`: reference `xknet18` is not one of its variants (a); add it to the \
                section's variants or name one of them"
        );
        assert_eq!(
            err(Plan::new("p", "P").with_section(Section::new("s", "S"))),
            "section `s` has no variants; list the variants it compares, its reference among them"
        );
        let twice = Plan::new("p", "P")
            .with_section(
                Section::new("s", "S").with_variant(Variant::new("a").with_set("model.width=32")),
            )
            .with_section(
                Section::new("t", "T").with_variant(Variant::new("a").with_set("model.width=16")),
            );
        assert_eq!(err(twice), "two variants are named `a` with different definitions; rename one");
        assert_eq!(
            err(Plan::new("paper", "mine")
                .with_section(Section::new("s", "S").with_variant(Variant::new("a")))),
            "plan name `paper` is the paper's own plan; name yours differently"
        );
        let circle = Plan::new("p", "P").with_section(
            Section::new("s", "S")
                .with_variant(Variant::new("a").with_base("b"))
                .with_variant(Variant::new("b").with_base("a")),
        );
        assert!(err(circle).contains("go round in a circle (a → b → a)"));
    }

    #[test]
    fn sweeps_expand_to_every_combination_with_the_first_as_reference() {
        let s = Section::sweep("wd", "xknet18", &["train.weight_decay=0,1e-4,5e-4"]).unwrap();
        let keys: Vec<&str> = s.variants.iter().map(|v| v.key.as_str()).collect();
        assert_eq!(
            keys,
            ["xknet18+weight_decay=0", "xknet18+weight_decay=1e-4", "xknet18+weight_decay=5e-4"]
        );
        assert_eq!(s.reference.as_deref(), Some("xknet18+weight_decay=0"));
        assert_eq!(s.variants[1].set, ["train.weight_decay=1e-4"]);
        let two = Section::sweep(
            "g",
            "xknet18",
            &["train.weight_decay=0,5e-4", "train.nesterov=true", "train.label_smoothing=0,0.1"],
        )
        .unwrap();
        assert_eq!(two.variants.len(), 4);
        assert_eq!(two.variants[1].key, "xknet18+weight_decay=0+label_smoothing=0.1");
        assert_eq!(
            two.variants[1].set,
            ["train.weight_decay=0", "train.nesterov=true", "train.label_smoothing=0.1"]
        );
        let e =
            Section::sweep("wd", "xknet18", &["train.weight_decay=5e-4"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "section `wd`: sweep train.weight_decay=5e-4 has one value; give two or more to \
                compare, e.g. train.weight_decay=<reference>,5e-4"
        );
        assert!(
            Section::sweep("wd", "xknet18", &["train.weight_decay=1,1"])
                .unwrap_err()
                .to_string()
                .contains("listed twice")
        );
        // The reference of a sweep from 0 is xknet18's own recipe.
        let p = Plan::new("sw", "Sweep").with_section(s).validate().map(Plan::with_styles).unwrap();
        let x = Plan::paper();
        assert_eq!(p.recipe("xknet18+weight_decay=0").unwrap(), x.recipe("xknet18").unwrap());
    }
}
