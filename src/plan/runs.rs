//! Which run directory each variant of a plan uses. Runs are shared by config, not by
//! name: a variant whose config (on this profile and data, whatever its seed) equals
//! another's trains nothing of its own — the paper's variants first, then an earlier
//! variant of the same plan, then any experiment already under the runs directory.
//! A new config takes the variant's key, or, when that directory holds another config
//! (the variant's overrides or the profile changed), the key with a hash of the config:
//! `<key>-<crc32 of the config>`. Nothing stored is ever overwritten or mixed.
use super::Plan;
use super::profile::Profile;
use crate::data::Dataset;
use crate::train::{Run, RunConfig, RunDir, run_dir};
use std::collections::BTreeMap;
use std::path::Path;

/// The experiment config stored in `dir` (the first seed's record), if any.
fn stored_config(dir: &Path) -> Option<RunConfig> {
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(run_dir::SEED_DIR_PREFIX))
                && RunDir::new(p).is_started()
        })
        .collect();
    seeds.sort();
    seeds.first().and_then(|d| Run::stored_config(d).ok()).map(|c| c.experiment_key())
}

/// Every experiment under `runs_dir` with its config.
fn stored_experiments(runs_dir: &Path) -> Vec<(String, RunConfig)> {
    let Ok(rd) = std::fs::read_dir(runs_dir) else { return vec![] };
    let mut out: Vec<(String, RunConfig)> = rd
        .flatten()
        .filter_map(|e| {
            Some((e.file_name().to_string_lossy().into_owned(), stored_config(&e.path())?))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The run directory name of every variant and probe of `plan` (the module's rule).
pub fn run_names(
    profile: &Profile,
    data: &Dataset,
    plan: &Plan,
    runs_dir: &Path,
) -> anyhow::Result<BTreeMap<String, String>> {
    let key_of = |p: &Plan, k: &str| -> anyhow::Result<RunConfig> {
        Ok(profile.config(&p.resolve(k)?, data)?.experiment_key())
    };
    let mut on_disk: Option<Vec<(String, RunConfig)>> = None;
    // A config no earlier variant has: an experiment on disk with it, else the key's
    // directory unless that holds another config.
    let mut new_name = |key: &str, c: &RunConfig| -> anyhow::Result<String> {
        let own = stored_config(&runs_dir.join(key));
        if own.as_ref() == Some(c) {
            return Ok(key.to_string());
        }
        Ok(
            match on_disk
                .get_or_insert_with(|| stored_experiments(runs_dir))
                .iter()
                .find(|(_, x)| x == c)
            {
                Some((n, _)) => n.clone(),
                None if own.is_none() => key.to_string(),
                None => {
                    format!("{key}-{:08x}", crc32fast::hash(serde_json::to_string(c)?.as_bytes()))
                }
            },
        )
    };
    let paper = super::paper_plan();
    let mut shared: Vec<(String, RunConfig)> = Vec::new();
    for v in paper.variants().into_iter().chain(paper.probes()) {
        let c = key_of(paper, &v.key)?;
        // A paper variant whose config equals an earlier one's is that one's (on `full`, the
        // lr-0.001 probes).
        if !shared.iter().any(|(_, x)| *x == c) {
            shared.push((new_name(&v.key, &c)?, c));
        }
    }
    let mut names = BTreeMap::new();
    for v in plan.variants().into_iter().chain(plan.probes()) {
        let c = key_of(plan, &v.key)?;
        let name = match shared.iter().find(|(_, x)| *x == c) {
            Some((n, _)) => n.clone(),
            None => new_name(&v.key, &c)?,
        };
        shared.push((name.clone(), c));
        names.insert(v.key.clone(), name);
    }
    Ok(names)
}
