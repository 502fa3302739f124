//! The study: one value a notebook or a command holds, over the pipeline's stages — its
//! set-up ([`crate::plan::Setup`]: a plan under a profile, with its data and directories), the
//! grid of units ([`crate::grid`]), the analysis of their runs ([`crate::analysis`]) and the
//! write-up ([`crate::writeup`]). `Study` adds no logic of its own: each method hands its work to
//! the stage that owns it, and the set-up's fields and methods are the study's
//! (`study.profile`, `study.plan`, `study.describe()`), through `Deref`.
//!
//! The plan is the paper's ([`crate::plan::Plan::paper`]) or the user's own (in code, a TOML
//! file, a one-line sweep); profiles: `full` (the paper's settings on the user's data), `quick`
//! (the CPU default), `smoke` (seconds, for CI). Chosen by the [`Settings`]: a flag,
//! `CONVLAB_*` variables, or `convlab.toml`, in that order (see [`crate::settings`]).
use crate::analysis::{self, BestModel, Family, Member, SectionResult, VariantResult};
use crate::grid::{self, Unit};
use crate::plan::{Plan, Profile, Section, Setup};
use crate::settings::Settings;
use crate::writeup::{self, Format};
use std::path::{Path, PathBuf};

/// A plan under a profile with its data loaded, ready to run sections.
#[derive(Debug, Clone)]
pub struct Study {
    setup: Setup,
}

impl std::ops::Deref for Study {
    type Target = Setup;
    fn deref(&self) -> &Setup {
        &self.setup
    }
}

impl std::ops::DerefMut for Study {
    fn deref_mut(&mut self) -> &mut Setup {
        &mut self.setup
    }
}

impl Study {
    /// The study the environment and `convlab.toml` choose ([`Settings::from_env`]): what a
    /// notebook opens.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::open(&Settings::from_env()?)
    }

    /// The plan file `path` (relative paths from the project root) under the settings the
    /// environment and `convlab.toml` choose: what a plan's notebooks open.
    pub fn from_env_with_plan(path: &str) -> anyhow::Result<Self> {
        let settings = Settings::from_env()?;
        let plan = Plan::load(&settings.root.join(path))?;
        Self::open(&settings)?.with_plan(plan)
    }

    /// The study `settings` name: their profile, data and directories ([`Setup::open`]).
    pub fn open(settings: &Settings) -> anyhow::Result<Self> {
        Self::settled(Setup::open(settings)?)
    }

    /// `profile` with its data loaded, under `settings`' directories ([`Setup::new`]).
    pub fn new(profile: Profile, settings: &Settings) -> anyhow::Result<Self> {
        Self::settled(Setup::new(profile, settings)?)
    }

    /// The same profile, data and directories with another plan ([`Setup::with_plan`]).
    pub fn with_plan(&self, plan: Plan) -> anyhow::Result<Self> {
        Self::settled(self.setup.with_plan(plan)?)
    }

    /// `setup` as a study; a sequential one at the look its stored runs have reached.
    fn settled(setup: Setup) -> anyhow::Result<Self> {
        let mut study = Study { setup };
        study.look_progress()?;
        Ok(study)
    }

    /// A sequential study's progress through its looks, read from the stored runs; the seeds
    /// each variant needs now are set on the study (what its grid runs and its analysis reads).
    /// `None` for a study of fixed seeds.
    pub fn look_progress(&mut self) -> anyhow::Result<Option<analysis::LookProgress>> {
        let progress = analysis::look_progress(&self.setup)?;
        if let Some(p) = &progress {
            self.setup.set_look_seeds(p.seeds.clone());
        }
        Ok(progress)
    }

    /// The set-up every stage works from.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The units (variant × seed) of `sections` ([`grid::units`]).
    pub fn units(&self, sections: &[&Section]) -> Vec<Unit> {
        grid::units(&self.setup, sections)
    }

    /// Every unit of `sections` with its state, as a table ([`grid::status`]).
    pub fn status(&self, sections: &[&Section]) -> anyhow::Result<polars::prelude::DataFrame> {
        grid::status(&self.setup, sections)
    }

    /// What each variant and probe of section `key` changes from the paper's recipe
    /// ([`analysis::overrides_table`]).
    pub fn overrides(&self, key: &str) -> anyhow::Result<analysis::Table> {
        let s = self.find_section(key)?;
        let members: Vec<&crate::plan::Variant> = s.variants.iter().chain(&s.probes).collect();
        analysis::overrides_table(&self.setup, &members)
    }

    /// Run (or load the stored results of) every variant of a section, with its comparisons.
    pub fn run_section(&self, key: &str) -> anyhow::Result<SectionResult> {
        let mut result = analysis::section_runs(&self.setup, key)?;
        result.comparisons = self.family()?.of_section(key);
        Ok(result)
    }

    /// Every section, in order, with one family of comparisons read after all have run.
    pub fn run_all(&self) -> anyhow::Result<Vec<SectionResult>> {
        let mut all = self
            .plan
            .sections
            .iter()
            .map(|s| analysis::section_runs(&self.setup, &s.key))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let family = self.family()?;
        for s in &mut all {
            s.comparisons = family.of_section(&s.section.key);
        }
        Ok(all)
    }

    /// Run (or load) one variant or probe alone — a single ablation ([`analysis::variant_runs`]).
    pub fn run_variant(&self, key: &str) -> anyhow::Result<VariantResult> {
        analysis::variant_runs(&self.setup, key)
    }

    /// The plan's comparisons from the runs finished so far ([`analysis::family`]).
    pub fn family(&self) -> anyhow::Result<Family> {
        analysis::family(&self.setup)
    }

    /// Any fixed family of comparisons from the runs finished so far ([`analysis::family_over`]).
    pub fn family_over(&self, members: Vec<Member>) -> anyhow::Result<Family> {
        analysis::family_over(&self.setup, members)
    }

    /// A variant's confusion matrix on the validation split, as a figure.
    pub fn confusion(&self, result: &VariantResult) -> anyhow::Result<crate::plot::Figure> {
        analysis::confusion(&self.setup, result)
    }

    /// The section's best model ([`analysis::best_model`]).
    pub fn best_model(&self, section: &SectionResult) -> anyhow::Result<BestModel> {
        analysis::best_model(&self.setup, section)
    }

    /// Every finished run of the plan, one row each ([`analysis::runs_frame`]).
    pub fn runs_frame(&self) -> anyhow::Result<polars::prelude::DataFrame> {
        analysis::runs_frame(&self.setup)
    }

    /// Every epoch of every run of the plan, one row each ([`analysis::history_frame`]).
    pub fn history_frame(&self) -> anyhow::Result<polars::prelude::DataFrame> {
        analysis::history_frame(&self.setup)
    }

    /// Every figure of a section, exported to the figures directory ([`analysis::export_files`]).
    pub fn export_files(&self, section: &SectionResult) -> anyhow::Result<Vec<PathBuf>> {
        analysis::export_files(&self.setup, section)
    }

    /// Export a section's figures; one line per file written, paths as shown to users.
    pub fn export(&self, section: &SectionResult) -> anyhow::Result<String> {
        Ok(self.written(&self.export_files(section)?))
    }

    /// Export the study's summary figure (every variant's effect) to the figures directory.
    pub fn export_summary(&self, sections: &[SectionResult]) -> anyhow::Result<String> {
        let files = analysis::summary_effects(sections, self.profile.name)
            .export(&self.figures_dir, "summary-effects")?;
        Ok(self.written(&files))
    }

    /// Write the study's write-up ([`writeup::write`]) in `format` to `out` (default: the
    /// figures directory), from the stored runs only; one line per file written.
    pub fn write_up(&self, format: Format, out: Option<&Path>) -> anyhow::Result<String> {
        // The paper's plan: its open questions and fidelity table join the write-up.
        let addendum =
            self.plan.is_paper().then_some(crate::paper::addendum as writeup::AddendumFn);
        Ok(self.written(&writeup::write(&self.setup, format, out, addendum)?))
    }

    /// The first lines of a run's `test.txt` (its path as shown to users, line count, `n` lines).
    pub fn test_predictions(&self, result: &VariantResult, n: usize) -> anyhow::Result<String> {
        let path = result.runs[0].files().predictions();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let head: Vec<&str> = text.lines().take(n).collect();
        Ok(format!(
            "{} ({} lines)\n{}",
            self.options.paths.show(&path),
            text.lines().count(),
            head.join("\n")
        ))
    }

    fn written(&self, files: &[PathBuf]) -> String {
        files
            .iter()
            .map(|f| format!("wrote {}", self.options.paths.show(f)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
