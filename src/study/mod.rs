//! The study: a plan's sections as experiments, at a chosen scale (profile). The plan is
//! the report's ([`Plan::report`]) or the user's own ([`plan`]: in code, a TOML file, a
//! one-line sweep); everything below — the grid, the statistics, the figures, the
//! write-up — takes any plan.
//!
//! Profiles: `full` (the report's settings on the user's data), `quick` (the
//! CPU default on Fashion-MNIST; every section in minutes), `smoke` (seconds,
//! for CI). Chosen by the [`Settings`]: a flag, `CONVLAB_PROFILE` / `CONVLAB_DATA`,
//! or `convlab.toml`, in that order (see [`crate::settings`]).
pub mod compare;
mod data_use;
mod frames;
pub mod grid;
pub mod notebooks;
pub mod plan;
mod plan_file;
mod profile;
pub mod questions;
pub mod recipe;
pub mod report;
mod results;
mod runs;
mod sections;
pub mod slurm;
pub mod stats;
mod status;

pub use crate::settings::ProfileName;
pub use compare::{Comparison, Family, Verdict};
pub use data_use::{DataUse, Intake, Sizing, check_scorable};
pub use plan::{Plan, PlanError, REPORT_TOML, Section, Variant, report};
pub use profile::{Profile, Score};
pub use recipe::Recipe;
pub use results::{BestModel, SectionResult, VariantResult, confusion_matrix};
pub use sections::{PROBE_SEEDS, section, variant};
pub use status::StatusRow;

use crate::data::Dataset;
use crate::paths::PathStyle;
use crate::plot::Style;
use crate::settings::Settings;
use crate::train::{Experiment, Holder, LeaseOptions, LogTo, RunOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A variant's look in every figure: its own ([`Plan::check`] gives every variant one).
pub fn style_of(v: &Variant) -> Style {
    v.style.unwrap_or(Style::new((128, 128, 128), crate::plot::Dash::Solid))
}

/// A plan under a profile with its data loaded, ready to run sections.
#[derive(Debug, Clone)]
pub struct Study {
    pub profile: Profile,
    pub data: Dataset,
    /// What it runs: the report's study ([`Plan::report`]) unless [`Study::with_plan`] says
    /// otherwise.
    pub plan: Plan,
    /// Where experiments live: `<runs>/<profile>/<run>/`, shared by every plan.
    pub runs_dir: PathBuf,
    /// Where figures are exported: `<figures>/<profile>/` for the report,
    /// `<figures>/<profile>/<plan>/` for another plan.
    pub figures_dir: PathBuf,
    /// How runs are trained and logged: resumed when interrupted, one line per epoch
    /// on stdout (what a notebook cell shows while it runs), and how every path this
    /// study prints is shown (`options.paths`: relative to the project root, `~` for home).
    pub options: RunOptions,
    /// `<figures>/<profile>/`.
    figures_root: PathBuf,
    /// Each variant's run directory name under `runs_dir` ([`runs::run_names`]): variants
    /// whose configs are equal share one, across plans.
    runs: BTreeMap<String, String>,
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

    /// The study `settings` name: their profile, data and directories.
    pub fn open(settings: &Settings) -> anyhow::Result<Self> {
        Self::new(Profile::resolve(settings)?, settings)
    }

    /// `profile` with its data loaded (or decoded and cached); runs under
    /// `<settings.runs_dir>/<profile>/`, figures under `<settings.figures_dir>/<profile>/`,
    /// paths shown relative to the project root; the report's plan.
    pub fn new(profile: Profile, settings: &Settings) -> anyhow::Result<Self> {
        profile.prepare_data()?;
        let data = Dataset::load(&settings.data_config(profile.data.clone()))?;
        // Nothing trains on data the study could not score.
        check_scorable(&profile, &data)?;
        let runs_dir = settings.runs_dir.join(profile.name.as_str());
        let figures_root = settings.figures_dir.join(profile.name.as_str());
        let lease = LeaseOptions {
            holder: Holder::this_process(settings.slurm_job.clone()),
            timeout: settings.lease_timeout(),
        };
        let options = RunOptions {
            resume: true,
            progress: true,
            log: LogTo::Stdout,
            paths: settings.path_style(),
            lease,
            ..Default::default()
        };
        let mut study = Self {
            profile,
            data,
            plan: report().clone(),
            runs_dir,
            figures_dir: figures_root.clone(),
            options,
            figures_root,
            runs: BTreeMap::new(),
        };
        study.set_plan(report().clone())?;
        Ok(study)
    }

    /// The same profile, data and directories with another plan (checked first, every
    /// variant's config on this profile too: nothing trains on a plan with an error). Its
    /// figures go to `<figures>/<profile>/<plan>/`; its runs are shared with every other
    /// plan's whose configs are equal. What a notebook cell calls with a plan it builds.
    pub fn with_plan(&self, plan: Plan) -> anyhow::Result<Self> {
        let mut study = self.clone();
        study.set_plan(plan)?;
        Ok(study)
    }

    fn set_plan(&mut self, plan: Plan) -> anyhow::Result<()> {
        let plan = if plan == *report() { plan } else { plan.check()? };
        self.figures_dir = if plan.is_report() {
            self.figures_root.clone()
        } else {
            self.figures_root.join(&plan.name)
        };
        self.plan = plan;
        // Every variant's config on this profile and data, checked before anything trains
        // (whether libtorch can train its layout: by [`Study::check_units`], for what runs).
        for v in self.plan.variants().into_iter().chain(self.plan.probes()) {
            self.config(v)?.check_fit(&self.data).map_err(|e| {
                anyhow::anyhow!(
                    "variant `{}` on the {} profile: {e:#}",
                    v.key,
                    self.profile.name.as_str()
                )
            })?;
        }
        self.runs = runs::run_names(&self.profile, &self.data, &self.plan, &self.runs_dir)?;
        Ok(())
    }

    /// A section of the plan by key, or an error listing the keys.
    pub fn section(&self, key: &str) -> anyhow::Result<&Section> {
        self.plan.get(key)
    }

    /// Every section of the plan, in order.
    pub fn sections(&self) -> Vec<&Section> {
        self.plan.sections.iter().collect()
    }

    /// The run config of a variant under this profile.
    pub fn config(&self, v: &Variant) -> anyhow::Result<crate::train::RunConfig> {
        self.profile.config(&self.plan.resolve(&v.key)?, &self.data)
    }

    /// The directory name (under [`Study::runs_dir`]) of `v`'s runs.
    pub fn run_name<'a>(&'a self, v: &'a Variant) -> &'a str {
        self.runs.get(&v.key).map_or(v.key.as_str(), String::as_str)
    }

    /// A variant's experiment under this profile: its run name, config and seeds
    /// ([`Study::seeds_of`]).
    pub fn experiment(&self, v: &Variant) -> anyhow::Result<Experiment> {
        Ok(Experiment {
            name: self.run_name(v).into(),
            config: self.config(v)?,
            seeds: self.seeds_of(v),
        })
    }

    /// The seeds `v` runs with: the profile's, or for a probe ([`Section::probes`]) the first
    /// [`PROBE_SEEDS`] of them.
    pub fn seeds_of(&self, v: &Variant) -> Vec<u64> {
        let n = if self.plan.is_probe(&v.key) {
            PROBE_SEEDS.min(self.profile.seeds.len())
        } else {
            self.profile.seeds.len()
        };
        self.profile.seeds[..n].to_vec()
    }

    /// The variants and probes of `sections`, each once, in order.
    fn members<'a>(&self, sections: &[&'a Section]) -> Vec<&'a Variant> {
        let mut out: Vec<&Variant> = Vec::new();
        for v in sections.iter().flat_map(|s| s.variants.iter().chain(&s.probes)) {
            if !out.iter().any(|x| x.key == v.key) {
                out.push(v);
            }
        }
        out
    }

    /// Every variant and probe of `sections` checked as its runs will start
    /// ([`crate::train::RunConfig::check`]):
    /// what the grid runs before any unit trains, so that only what was asked for is checked.
    /// Stored runs of those units are checked to have trained on this data.
    pub fn check_units(&self, sections: &[&Section]) -> anyhow::Result<()> {
        for v in self.members(sections) {
            self.config(v)?.check(&self.data).map_err(|e| {
                anyhow::anyhow!(
                    "variant `{}` on the {} profile: {e:#}",
                    v.key,
                    self.profile.name.as_str()
                )
            })?;
        }
        for u in self.units(sections) {
            crate::train::Run::check_stored_data(&u.dir, &self.data)?;
        }
        Ok(())
    }

    /// The variants of `sections` that train NCHW because channels-last would crash here
    /// (memory format `auto`), with the convolution it would crash on.
    pub fn nchw_variants(&self, sections: &[&Section]) -> anyhow::Result<Vec<(String, String)>> {
        let side = self.data.shape()[1];
        let mut out = Vec::new();
        for v in self.members(sections) {
            let c = self.config(v)?;
            if let (false, Some(conv)) = self.profile.channels_last_for(&c.model, side) {
                out.push((v.key.clone(), conv));
            }
        }
        Ok(out)
    }

    /// What the study takes from its data and how it scores it, for `sections` ([`DataUse`]).
    pub fn data_use(&self, sections: &[&Section]) -> anyhow::Result<DataUse> {
        Ok(DataUse::of(&self.profile, &self.data, self.nchw_variants(sections)?))
    }

    /// Each section's variants with the run config of each (model and recipe as JSON), one line per
    /// variant.
    pub fn list(&self, sections: &[&Section]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        for s in sections {
            out.push(format!("{} — {}", s.key, s.title));
            for v in &s.variants {
                let c = self.config(v)?;
                let run = if self.run_name(v) == v.key {
                    String::new()
                } else {
                    format!(" (runs: {})", self.run_name(v))
                };
                out.push(format!(
                    "  {:<18} {:<36} {}{run}",
                    v.key,
                    v.label,
                    serde_json::to_string(&(&c.model, &c.train))?
                ));
            }
        }
        Ok(out.join("\n"))
    }

    /// Run (or load the stored results of) every variant of a section.
    pub fn run_section(&self, key: &str) -> anyhow::Result<SectionResult> {
        let mut result = self.section_runs(key)?;
        result.comparisons = self.family()?.of_section(key);
        Ok(result)
    }

    /// A section's variants run (or loaded), its comparisons not yet filled in.
    fn section_runs(&self, key: &str) -> anyhow::Result<SectionResult> {
        let section = self.section(key)?;
        let mut results = Vec::new();
        for v in &section.variants {
            let (summary, runs) =
                self.experiment(v)?.run(&self.runs_dir, &self.data, &self.options)?;
            results.push(VariantResult {
                variant: v.clone(),
                summary,
                runs,
                score: self.profile.score,
            });
        }
        Ok(SectionResult {
            section: section.clone(),
            profile: self.profile.name,
            results,
            comparisons: Vec::new(),
            classes: self.data.classes.clone(),
        })
    }

    /// The plan's comparisons ([`compare`]) from the runs finished so far, read from disk
    /// (nothing is trained): the adjusted p-values and verdicts every section shows.
    /// Only the profile's seeds count; a run stored under another config is an error.
    pub fn family(&self) -> anyhow::Result<Family> {
        self.family_over(compare::members_of(&self.plan))
    }

    /// Any fixed family of comparisons from the runs finished so far (nothing is trained).
    pub fn family_over(&self, members: Vec<compare::Member>) -> anyhow::Result<Family> {
        Family::over(members, |v| {
            let exp = self.experiment(v)?;
            let mut values = Vec::new();
            for &seed in &exp.seeds {
                if let Some(s) = exp.stored_seed(&self.runs_dir, seed)?.and_then(|r| r.summary) {
                    let v = self.profile.score.of(&s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "{} seed {seed} has no {}: the {} profile needs a labelled test split",
                            exp.name,
                            self.profile.score.sentence(),
                            self.profile.name.as_str()
                        )
                    })?;
                    values.push((seed, v));
                }
            }
            Ok((values, exp.seeds.len()))
        })
    }

    /// Run (or load) one variant or probe alone — a single ablation. A variant whose config
    /// equals another's loads that one's runs ([`Study::run_name`]): nothing is trained twice.
    pub fn run_variant(&self, key: &str) -> anyhow::Result<VariantResult> {
        let v = self.plan.find(key)?.clone();
        let (summary, runs) =
            self.experiment(&v)?.run(&self.runs_dir, &self.data, &self.options)?;
        Ok(VariantResult { variant: v, summary, runs, score: self.profile.score })
    }

    /// Every section, in order, with one family of comparisons read after all have run.
    pub fn run_all(&self) -> anyhow::Result<Vec<SectionResult>> {
        let mut all = self
            .plan
            .sections
            .iter()
            .map(|s| self.section_runs(&s.key))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // One family for every section, read once every section has run.
        let family = self.family()?;
        for s in &mut all {
            s.comparisons = family.of_section(&s.section.key);
        }
        Ok(all)
    }

    /// Confusion matrix of a variant's first-seed best weights on the validation split, as a
    /// figure.
    pub fn confusion(&self, result: &VariantResult) -> anyhow::Result<crate::plot::Figure> {
        let m = confusion_matrix(&result.runs[0], &self.data, &self.data.val)?;
        let title = format!(
            "{} — confusion on validation (seed {})",
            result.variant.label, result.runs[0].config.train.seed
        );
        Ok(crate::plot::Figure::confusion(&title, self.data.classes.clone(), m))
    }

    /// The section's best model: of all its runs, the one with the highest best validation
    /// accuracy (the earlier variant and seed on a tie), with its confusion matrix on the
    /// validation split from its best weights.
    pub fn best_model(&self, section: &SectionResult) -> anyhow::Result<BestModel> {
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
            .ok_or_else(|| {
                anyhow::anyhow!("section `{}` has no finished runs", section.section.key)
            })?;
        let matrix = confusion_matrix(run, &self.data, &self.data.val)?;
        Ok(BestModel {
            variant: result.variant.clone(),
            seed: run.config.train.seed,
            best_val_acc: acc,
            matrix,
            classes: self.data.classes.clone(),
        })
    }

    /// Every figure of a section, exported to [`Study::figures_dir`]: its curves and effects,
    /// and for sections that show it ([`Section::per_class`]) the best model's confusion
    /// matrix and per-class accuracy (figures, and `tables/<section>-per-class.csv`).
    pub fn export_files(&self, section: &SectionResult) -> anyhow::Result<Vec<PathBuf>> {
        let mut files = section.export(&self.figures_dir)?;
        if section.section.per_class {
            let best = self.best_model(section)?;
            let per_class = format!("{}-per-class", section.section.key);
            files.extend(
                best.confusion()
                    .export(&self.figures_dir, &format!("{}-confusion", section.section.key))?,
            );
            files.extend(best.per_class().export(&self.figures_dir, &per_class)?);
            let csv = self.figures_dir.join("tables").join(format!("{per_class}.csv"));
            crate::io::write_bytes(
                &csv,
                report::Table::from_frame(&per_class, &best.table()?)?.csv().as_bytes(),
            )?;
            files.push(csv);
        }
        Ok(files)
    }

    /// One paragraph: profile, scale, data, where results go.
    pub fn describe(&self) -> String {
        let p = &self.profile;
        let plan = if self.plan.is_report() {
            String::new()
        } else {
            format!(
                "study {}: {} — {} section(s), {} comparison(s)\n",
                self.plan.name,
                self.plan.title,
                self.plan.sections.len(),
                self.plan.family_members().len()
            )
        };
        plan + &format!(
            "profile {}: {} epochs, batch {}, width {}, lr ×{} (report's {} → {}), StepLR({}) → \
                StepLR({}), seeds {:?}, device {}{}\n{}\nruns: {}\nfigures: {}",
            p.name.as_str(),
            p.epochs,
            p.batch_size,
            p.width,
            p.lr_scale,
            crate::train::recipe::LR,
            p.scaled_lr(crate::train::recipe::LR),
            crate::train::recipe::STEP_SIZE,
            p.scaled_step(crate::train::recipe::STEP_SIZE),
            p.seeds,
            p.device,
            if p.bf16 { ", bf16 autocast on CUDA" } else { "" },
            self.data_use(&self.sections())
                .map(|d| d.lines(&self.options.paths).join("\n"))
                .unwrap_or_else(|e| format!("data: {e:#}")),
            self.options.paths.show(&self.runs_dir),
            self.options.paths.show(&self.figures_dir)
        )
    }

    /// Export a section's figures to [`Study::figures_dir`]; one line per file written, paths as
    /// shown to users.
    pub fn export(&self, section: &SectionResult) -> anyhow::Result<String> {
        Ok(written(&self.options.paths, &self.export_files(section)?))
    }

    /// Export the study's summary figure (every variant's effect) to [`Study::figures_dir`].
    pub fn export_summary(&self, sections: &[SectionResult]) -> anyhow::Result<String> {
        let files = summary_effects(sections, self.profile.name)
            .export(&self.figures_dir, "summary-effects")?;
        Ok(written(&self.options.paths, &files))
    }

    /// Write the study as a document ([`mod@report`]): `report.md` or `report.tex` and
    /// `tables/*.csv` in `out` (default: [`Study::figures_dir`]), from the stored runs only;
    /// one line per file written, paths as shown to users.
    pub fn write_report(
        &self,
        format: report::Format,
        out: Option<&std::path::Path>,
    ) -> anyhow::Result<String> {
        Ok(written(&self.options.paths, &report::write(self, format, out)?))
    }

    /// The first lines of a run's `test.txt` (its path as shown to users, line count, `n` lines).
    pub fn test_predictions(&self, result: &VariantResult, n: usize) -> anyhow::Result<String> {
        let path = result.runs[0].dir.join("test.txt");
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
}

fn written(paths: &PathStyle, files: &[PathBuf]) -> String {
    files.iter().map(|f| format!("wrote {}", paths.show(f))).collect::<Vec<_>>().join("\n")
}

/// Every variant of the study once: its seeds, mean best validation accuracy with the 95%
/// CI of the mean, std, the report's number, minutes of training. The comparisons between
/// variants, with their verdicts, are [`Study::family`]'s table.
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
    let r4 = |x: f64| stats::round(x, 4);
    df!(
        "variant" => seen.iter().map(|r| r.variant.key.to_string()).collect::<Vec<_>>(),
        "seeds" => runs.iter().map(|r| r.seeds as u32).collect::<Vec<_>>(),
        "mean" => runs.iter().map(|r| r.mean.map(r4)).collect::<Vec<_>>(),
        "ci95_lo" => seen.iter().map(|r| r.ci95().map(|c| r4(c.0))).collect::<Vec<_>>(),
        "ci95_hi" => seen.iter().map(|r| r.ci95().map(|c| r4(c.1))).collect::<Vec<_>>(),
        "std" => runs.iter().map(|r| r.std.map(r4)).collect::<Vec<_>>(),
        "test_at_best" => runs.iter().map(|r| r.test_at_best.map(r4)).collect::<Vec<_>>(),
        "report" => seen.iter().map(|r| r.variant.reported).collect::<Vec<_>>(),
        "minutes" => runs.iter().map(|r| stats::round(r.minutes, 2)).collect::<Vec<_>>(),
    )
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
    use crate::model::{PRESETS, ResNet, ResNetConfig, parameter_count};
    use tch::nn::ModuleT;
    let (mut layers, mut params, mut logits) = (Vec::new(), Vec::new(), Vec::new());
    for name in PRESETS {
        let cfg = ResNetConfig { num_classes: classes, ..ResNetConfig::preset(name)? };
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
        "preset" => PRESETS.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "layers" => layers,
        "params" => params,
        "logits" => logits,
    )?)
}

/// Every variant of the study once: its accuracy (mean, 95% CI, seeds), its difference to
/// its section's reference with the CI and verdict, and the report's difference.
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
                c.map(|c| {
                    format!(
                        "{} vs {}",
                        results::short_verdict(c.verdict()),
                        c.reference.variant.key
                    )
                })
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
