//! A study's set-up: a plan under a profile, its data loaded, its runs and figures
//! directories and how runs are trained — resolved once from the [`Settings`], and read by
//! every later stage (the grid, the analysis, the write-up). Nothing here trains.
use super::runs;
use super::{DataUse, PROBE_SEEDS, Plan, Profile, Section, Variant, check_scorable, paper_plan};
use crate::data::Dataset;
use crate::looks::{Looks, Seeding};
use crate::settings::Settings;
use crate::table::Table;
use crate::train::{Experiment, Holder, LeaseOptions, LogTo, RunOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A plan under a profile with its data loaded and its directories: what every stage of a
/// study works from (the grid, the analysis, the write-up), and what [`crate::study::Study`]
/// wraps.
#[derive(Debug, Clone)]
pub struct Setup {
    pub profile: Profile,
    pub data: Dataset,
    /// What it runs: the paper's study ([`Plan::paper`]) unless [`Setup::with_plan`] says
    /// otherwise.
    pub plan: Plan,
    /// Where experiments live: `<runs>/<profile>/<run>/`, shared by every plan.
    pub runs_dir: PathBuf,
    /// Where figures are exported: `<figures>/<profile>/` for the paper,
    /// `<figures>/<profile>/<plan>/` for another plan.
    pub figures_dir: PathBuf,
    /// How runs are trained and logged: resumed when interrupted, one line per epoch
    /// on stdout (what a notebook cell shows while it runs), and how every path this
    /// study prints is shown (`options.paths`: relative to the project root, `~` for home).
    pub options: RunOptions,
    /// `<figures>/<profile>/`.
    figures_root: PathBuf,
    /// Each variant's run directory name under `runs_dir` ([`super::runs::run_names`]): variants
    /// whose configs are equal share one, across plans.
    runs: BTreeMap<String, String>,
    /// In a sequential study ([`Setup::looks`]): the seeds a side each variant needs at the
    /// look its comparisons have reached, as the analysis of its stored runs says
    /// ([`Setup::set_look_seeds`]); a variant not named: the first look's.
    look_seeds: BTreeMap<String, usize>,
}

impl Setup {
    /// The study `settings` name: their profile, data and directories.
    pub fn open(settings: &Settings) -> anyhow::Result<Self> {
        Self::new(Profile::resolve(settings)?, settings)
    }

    /// `profile` with its data loaded (or decoded and cached); runs under
    /// `<settings.runs_dir>/<profile>/`, figures under `<settings.figures_dir>/<profile>/`,
    /// paths shown relative to the project root; the paper's plan.
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
        let mut setup = Self {
            profile,
            data,
            plan: paper_plan().clone(),
            runs_dir,
            figures_dir: figures_root.clone(),
            options,
            figures_root,
            runs: BTreeMap::new(),
            look_seeds: BTreeMap::new(),
        };
        setup.set_plan(paper_plan().clone())?;
        Ok(setup)
    }

    /// The same profile, data and directories with another plan (checked first, every
    /// variant's config on this profile too: nothing trains on a plan with an error). Its
    /// figures go to `<figures>/<profile>/<plan>/`; its runs are shared with every other
    /// plan's whose configs are equal. What a notebook cell calls with a plan it builds.
    pub fn with_plan(&self, plan: Plan) -> anyhow::Result<Self> {
        let mut setup = self.clone();
        setup.set_plan(plan)?;
        Ok(setup)
    }

    fn set_plan(&mut self, plan: Plan) -> anyhow::Result<()> {
        let plan = if plan == *paper_plan() { plan } else { plan.validate()?.with_styles() };
        self.figures_dir = if plan.is_paper() {
            self.figures_root.clone()
        } else {
            self.figures_root.join(&plan.name)
        };
        self.plan = plan;
        // Every variant's config on this profile and data, checked before anything trains
        // (whether libtorch can train its layout: by the grid's check of the units that run).
        for v in self.plan.variants().into_iter().chain(self.plan.probes()) {
            self.config(v)?.check_fit(&self.data).map_err(|e| self.refusal(v, e))?;
        }
        self.runs = runs::run_names(&self.profile, &self.data, &self.plan, &self.runs_dir)?;
        Ok(())
    }

    /// Why `v` cannot run on this profile and data, in one line: `variant `x` on the quick
    /// profile: …`.
    pub fn refusal(&self, v: &Variant, e: anyhow::Error) -> anyhow::Error {
        anyhow::anyhow!("variant `{}` on the {} profile: {e:#}", v.key, self.profile.name.as_str())
    }

    /// A section of the plan by key, or an error listing the keys.
    pub fn find_section(&self, key: &str) -> anyhow::Result<&Section> {
        self.plan.find_section(key)
    }

    /// Every section of the plan, in order.
    pub fn sections(&self) -> Vec<&Section> {
        self.plan.sections.iter().collect()
    }

    /// The run config of a variant under this profile.
    pub fn config(&self, v: &Variant) -> anyhow::Result<crate::train::RunConfig> {
        self.profile.config(&self.plan.resolve(&v.key)?, &self.data)
    }

    /// The directory name (under [`Setup::runs_dir`]) of `v`'s runs.
    pub fn run_name<'a>(&'a self, v: &'a Variant) -> &'a str {
        self.runs.get(&v.key).map_or(v.key.as_str(), String::as_str)
    }

    /// A variant's experiment under this profile: its run name, config and seeds
    /// ([`Setup::seeds_of`]).
    pub fn experiment(&self, v: &Variant) -> anyhow::Result<Experiment> {
        Ok(Experiment {
            name: self.run_name(v).into(),
            config: self.config(v)?,
            seeds: self.seeds_of(v),
        })
    }

    /// The seeds `v` runs with: the profile's, or for a probe ([`Section::probes`]) the first
    /// [`PROBE_SEEDS`] of them; in a sequential study, as many as its look needs
    /// ([`Setup::seed_list`]).
    pub fn seeds_of(&self, v: &Variant) -> Vec<u64> {
        if self.plan.is_probe(&v.key) {
            return self.profile.seeds[..PROBE_SEEDS.min(self.profile.seeds.len())].to_vec();
        }
        match self.looks() {
            Some(looks) => {
                self.seed_list(self.look_seeds.get(&v.key).copied().unwrap_or(looks.seeds[0]))
            }
            None => self.profile.seeds.clone(),
        }
    }

    /// The first `n` seeds of a sequential study: the profile's, then on from the last of
    /// them (`20211108, 1, 2, 3, 4`, then `5, 6, …`), skipping any already listed.
    pub fn seed_list(&self, n: usize) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.profile.seeds.iter().copied().take(n).collect();
        let mut next = self.profile.seeds.last().copied().unwrap_or(0);
        while seeds.len() < n {
            next += 1;
            if !self.profile.seeds.contains(&next) {
                seeds.push(next);
            }
        }
        seeds
    }

    /// The looks of a sequential study: the settings' (`--sequential`), else the plan's own;
    /// `None` for a study of fixed seeds (the profile's).
    pub fn looks(&self) -> Option<&Looks> {
        match &self.profile.seeding {
            Some(Seeding::Fixed) => None,
            Some(Seeding::Sequential(looks)) => Some(looks),
            None => self.plan.sequential.as_ref(),
        }
    }

    /// Set the seeds each variant needs at its look (what [`crate::analysis::look_progress`] reads from
    /// the stored runs), so that the grid runs those units and the analysis reads them.
    pub fn set_look_seeds(&mut self, seeds: BTreeMap<String, usize>) {
        self.look_seeds = seeds;
    }

    /// The seeds each variant needs at its look, as last set.
    pub fn look_seeds(&self) -> &BTreeMap<String, usize> {
        &self.look_seeds
    }

    /// The variants and probes of `sections`, each once, in order.
    pub fn members<'a>(&self, sections: &[&'a Section]) -> Vec<&'a Variant> {
        let mut out: Vec<&Variant> = Vec::new();
        for v in sections.iter().flat_map(|s| s.variants.iter().chain(&s.probes)) {
            if !out.iter().any(|x| x.key == v.key) {
                out.push(v);
            }
        }
        out
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

    /// Each section's variants with the run config of each (model and recipe as JSON), a table
    /// per section.
    pub fn list(&self, sections: &[&Section]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        for s in sections {
            let mut rows = Vec::new();
            for v in &s.variants {
                let c = self.config(v)?;
                let config = serde_json::to_string(&(&c.model, &c.train))?;
                rows.push(vec![v.key.clone(), v.label.clone(), self.run_name(v).into(), config]);
            }
            let header = ["variant", "label", "runs", "model, recipe"].map(String::from).to_vec();
            let table = Table { name: s.key.clone(), header, rows };
            out.push(format!("{} — {}\n{}", s.key, s.title, table.text()));
        }
        Ok(out.join("\n"))
    }

    /// One paragraph: profile, scale, data, where results go.
    pub fn describe(&self) -> String {
        let p = &self.profile;
        let plan = if self.plan.is_paper() {
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
            "profile {}: {} epochs, batch {}, width {}, lr ×{} (the paper's {} → {}), StepLR({}) → \
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
}
