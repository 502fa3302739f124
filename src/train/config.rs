//! A run's config ([`RunConfig`]: model, data, training recipe) and how two are compared: what a
//! run records of it, and how a stored run's config differs from the one asked for.
use super::TrainConfig;
use crate::data::{DataConfig, Dataset};
use crate::model::ResNetConfig;
use serde::{Deserialize, Serialize};

/// Everything that determines a run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The network.
    pub model: ResNetConfig,
    /// The data it trains on.
    pub data: DataConfig,
    /// The training recipe.
    pub train: TrainConfig,
}

impl RunConfig {
    /// `model` and `train` on `data`: the model's input channels and classes are the data's.
    pub fn for_data(model: ResNetConfig, train: TrainConfig, data: &Dataset) -> RunConfig {
        let [c, _, _] = data.shape();
        let model =
            ResNetConfig { in_channels: c, num_classes: data.num_classes() as i64, ..model };
        RunConfig { model, data: data.config.clone(), train }
    }

    /// The config as compared between runs: cache location, memory budget and CPU threads
    /// do not change results.
    pub fn comparable(&self) -> RunConfig {
        let mut c = self.clone();
        c.data.cache_dir = None;
        c.data.memory_budget = None;
        c.train.threads = None;
        c
    }

    /// The config of an experiment whatever its seed: [`RunConfig::comparable`] with seed 0.
    /// Two variants whose configs are equal this way share their runs.
    pub fn experiment_key(&self) -> RunConfig {
        let mut c = self.comparable();
        c.train.seed = 0;
        c
    }

    /// The config as a run records it: without the cache's location, a detail of the machine
    /// that trained it (the settings give it wherever the run is read).
    pub(crate) fn recorded(&self) -> RunConfig {
        let mut c = self.clone();
        c.data.cache_dir = None;
        c
    }

    /// How `stored` (a recorded run's config) differs from this one, field by field of
    /// `model`, `data` and `train` (`train.lr: 0.05 → 0.01`, stored value first); empty when
    /// they are equal.
    pub(crate) fn diff(&self, stored: &RunConfig) -> String {
        let to_value = |c: &RunConfig| serde_json::to_value(c).expect("a config serializes");
        let (a, b) = (to_value(self), to_value(stored));
        let mut out = Vec::new();
        for part in ["model", "data", "train"] {
            if let (Some(x), Some(y)) = (a[part].as_object(), b[part].as_object()) {
                for (k, v) in x {
                    if y.get(k) != Some(v) {
                        out.push(format!(
                            "{part}.{k}: {} → {}",
                            y.get(k).map_or("-".into(), |v| v.to_string()),
                            v
                        ));
                    }
                }
            }
        }
        out.join(", ")
    }

    /// Every field valid, the model fitted to `data`, and a layout libtorch can train —
    /// checked once, before a run starts.
    pub fn check(&self, data: &Dataset) -> anyhow::Result<()> {
        self.check_fit(data)?;
        if self.train.channels_last {
            self.model.check_cpu_channels_last(self.train.device.resolve()?, data.shape()[1])?;
        }
        Ok(())
    }

    /// Every field valid and the model fitted to `data` (its channels and classes): what a
    /// plan's every variant is checked for when it is opened, whichever sections then run.
    pub fn check_fit(&self, data: &Dataset) -> anyhow::Result<()> {
        self.model.validate()?;
        self.train.validate()?;
        let [c, _, _] = data.shape();
        anyhow::ensure!(
            c == self.model.in_channels,
            "the data has {c} channels but model.in_channels = {}; set one to match the other",
            self.model.in_channels
        );
        anyhow::ensure!(
            data.num_classes() as i64 == self.model.num_classes,
            "the data has {} classes but model.num_classes = {}",
            data.num_classes(),
            self.model.num_classes
        );
        Ok(())
    }
}
