//! A variant's recipe in the paper's units, and the keys an override reaches.
//!
//! Every variant is the paper's recipe — torchvision resnet18 and [`crate::train::recipe`] —
//! plus overrides
//! `key=value` written in the paper's units, whose keys are the dotted paths of
//! [`Recipe`]'s serde form: `model.*` ([`ResNetConfig`]) and `train.*` ([`TrainConfig`]).
//! A profile then maps the recipe onto its scale ([`super::Profile::map`]); the keys it
//! scales are [`SCALED`].
use crate::model::ResNetConfig;
use crate::overrides::{self, Override, OverrideError, Rules};
use crate::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// The network and training recipe of a variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub model: ResNetConfig,
    pub train: TrainConfig,
}

/// Keys an override may not set, and where their values come from.
pub const FIXED: &[(&str, &str)] = &[
    ("model.in_channels", "set by the data (its channels); not an override"),
    ("model.num_classes", "set by the data (its classes); not an override"),
    ("train.seed", "set by the seeds (--seeds, CONVLAB_SEEDS or the profile); not an override"),
    ("train.device", "a setting (--device or CONVLAB_DEVICE); not an override"),
    ("train.threads", "a setting of the grid (--threads); not an override"),
];

/// Shorthands: `train.augment.flips=p` sets the horizontal and the vertical flip
/// probability, the paper's augmentation.
pub const ALIASES: &[(&str, &[&str])] =
    &[("train.augment.flips", &["train.augment.hflip", "train.augment.vflip"])];

/// How overrides of a [`Recipe`] are taken.
pub const RULES: Rules = Rules { fixed: FIXED, aliases: ALIASES };

/// The keys written in the paper's units, which a profile maps onto its own scale
/// (quick: 6 epochs, lr ×20, width 16, batch 64; full: the paper's own), and how.
/// Every other key is taken as written.
pub const SCALED: &[(&str, &str)] = &[
    ("train.epochs", "× profile epochs / 25 (rounded, at least 1)"),
    ("train.lr", "× the profile's lr scale"),
    (
        "train.schedule",
        "StepLR step sizes × profile epochs / 25 (rounded, at least 1); cosine's min_lr × the lr \
            scale",
    ),
    ("train.schedule.step_size", "× profile epochs / 25 (rounded, at least 1)"),
    ("train.schedule.min_lr", "× the profile's lr scale"),
    ("train.warmup_epochs", "× profile epochs / 25"),
    (
        "train.batch_size",
        "× profile batch / 64 (rounded, at least 1), and a linear lr_batch's base with it",
    ),
    ("model.width", "× profile width / 64 (rounded, at least 1)"),
];

impl Recipe {
    /// The paper's recipe: torchvision resnet18 with the paper's training, in the paper's units.
    pub fn paper() -> Self {
        Self { model: ResNetConfig::resnet18(), train: TrainConfig::paper() }
    }

    /// This recipe with `overrides` applied in order (through serde: [`overrides::apply`]).
    pub fn with(&self, overrides: &[Override]) -> Result<Recipe, OverrideError> {
        overrides::apply(self, overrides, RULES)
    }

    /// Every key an override may name, with its value in this recipe (shorthands show
    /// the value of their first key), in the serde form's order. Structs (`model`,
    /// `train.augment`) are left out for their fields; a tagged value (`train.schedule`) is
    /// listed whole and field by field.
    pub fn keys(&self) -> Vec<(String, String)> {
        let tree = serde_json::to_value(self).expect("a recipe serializes");
        let is_struct = |v: &serde_json::Value| {
            v.as_object().is_some_and(|m| {
                !(m.contains_key("kind") || m.len() == 1 && m.values().all(|x| x.is_object()))
            })
        };
        RULES
            .keys(&tree)
            .into_iter()
            .filter(|k| !overrides::get(&tree, k).is_some_and(is_struct))
            .filter_map(|k| {
                let at = ALIASES.iter().find(|(a, _)| *a == k).map_or(k.as_str(), |(_, t)| t[0]);
                let v = overrides::get(&tree, at)?;
                Some((
                    k.clone(),
                    if v.is_null() { "unset".to_string() } else { overrides::show_value(v) },
                ))
            })
            .collect()
    }

    /// Both halves valid (the checks the training loop would make before a run).
    pub fn validate(&self) -> Result<(), String> {
        self.model.validate().map_err(|e| e.to_string())?;
        self.train.validate().map_err(|e| e.to_string())
    }
}

/// How a key is scaled, if it is ([`SCALED`]).
pub fn scaling(key: &str) -> Option<&'static str> {
    SCALED.iter().find(|(k, _)| key == *k).map(|(_, how)| *how)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Norm, Stem};
    use crate::train::{LrBatch, OptimizerKind, Schedule};

    fn o(s: &str) -> Override {
        s.parse().unwrap()
    }

    /// Every key of the recipe's serde form takes an override without new code: each is set
    /// to a value of its own type that differs from the paper's, and exactly that key changes.
    #[test]
    fn every_field_is_reachable_by_name() {
        let base = Recipe::paper();
        let tree = serde_json::to_value(&base).unwrap();
        let mut checked = 0;
        for (key, value) in base.keys() {
            let Some(current) = overrides::get(&tree, &key) else { continue }; // a shorthand
            let other = match current {
                serde_json::Value::Bool(b) => (!b).to_string(),
                serde_json::Value::Null => "7".to_string(),
                serde_json::Value::Number(n) if n.is_u64() => (n.as_u64().unwrap() + 1).to_string(),
                serde_json::Value::Number(n) if n.is_i64() => (n.as_i64().unwrap() + 1).to_string(),
                serde_json::Value::Number(n) => (n.as_f64().unwrap() / 2.0 + 0.001).to_string(),
                serde_json::Value::Array(a) if a.iter().all(|x| x.is_u64()) => format!(
                    "[{}]",
                    a.iter()
                        .map(|x| (x.as_u64().unwrap() + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                serde_json::Value::Array(a) => format!(
                    "[{}]",
                    a.iter()
                        .map(|x| (x.as_f64().unwrap() / 2.0).to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                // Enums and objects: each is set to its own value (round trip) below.
                _ => value.clone(),
            };
            let changed = base
                .with(&[Override { key: key.clone(), value: other.clone() }])
                .unwrap_or_else(|e| panic!("{key}={other}: {e}"));
            let after = serde_json::to_value(&changed).unwrap();
            let differing: Vec<String> = overrides::keys(&tree)
                .into_iter()
                .filter(|k| {
                    !k.starts_with(&format!("{key}."))
                        && overrides::get(&tree, k) != overrides::get(&after, k)
                        && !key.starts_with(&format!("{k}."))
                })
                .collect();
            if other == value {
                assert!(differing.is_empty(), "{key}: a round trip changed {differing:?}");
            } else {
                assert_eq!(differing, std::slice::from_ref(&key), "{key}={other}");
            }
            checked += 1;
        }
        // The serde form's every field, not a hand-kept list: a new field joins this loop by
        // itself.
        let leaves = overrides::keys(&tree)
            .into_iter()
            .filter(|k| {
                !FIXED.iter().any(|(f, _)| f == k)
                    && !["model", "train", "train.augment"].contains(&k.as_str())
            })
            .count();
        assert_eq!(checked, leaves);
    }

    #[test]
    fn the_papers_changes_as_overrides() {
        let r = Recipe::paper();
        let xk = r.with(&[o("model.stem=small")]).unwrap();
        assert_eq!(xk.model.stem, Stem::Small);
        let v = xk
            .with(&[
                o("model.norm=group:8"),
                o("model.blocks=[1,2,2,1]"),
                o("train.schedule=step:4:0.3"),
                o("train.augment.flips=0.1"),
                o("train.optimizer=adamw"),
                o("train.lr_batch=linear"),
                o("train.label_smoothing=0.1"),
                o("train.decay_norm_and_bias=false"),
            ])
            .unwrap();
        assert_eq!(v.model.norm, Norm::Group { groups: 8 });
        assert_eq!(v.model.blocks, [1, 2, 2, 1]);
        assert_eq!(v.train.schedule, Schedule::Step { step_size: 4, gamma: 0.3 });
        assert_eq!((v.train.augment.hflip, v.train.augment.vflip), (0.1, 0.1));
        assert_eq!(v.train.optimizer, OptimizerKind::AdamW);
        assert_eq!(v.train.lr_batch, LrBatch::Linear { base: 64 });
        assert_eq!((v.train.label_smoothing, v.train.decay_norm_and_bias), (0.1, false));
        // Nested fields of a tagged value, and the tagged form itself, are keys too.
        assert_eq!(
            xk.with(&[o("train.schedule.gamma=0.5")]).unwrap().train.schedule,
            Schedule::Step { step_size: 7, gamma: 0.5 }
        );
        assert_eq!(
            xk.with(&[o("model.norm=instance-affine")]).unwrap().model.norm,
            Norm::Instance { affine: true }
        );
    }

    #[test]
    fn bad_overrides_name_the_key_and_the_expected_form() {
        let err = |s: &str| Recipe::paper().with(&[o(s)]).unwrap_err().to_string();
        assert_eq!(
            err("train.wieght_decay=5e-4"),
            "train.wieght_decay: unknown key; did you mean train.weight_decay?"
        );
        assert_eq!(
            err("weight_decay=5e-4"),
            "weight_decay: unknown key; did you mean train.weight_decay?"
        );
        assert_eq!(err("train.wd=5e-4"), "train.wd: unknown key; did you mean train.weight_decay?");
        assert_eq!(
            err("train.label_smothing=0.1"),
            "train.label_smothing: unknown key; did you mean train.label_smoothing?"
        );
        assert!(
            err("train.bogus=1").starts_with(
                "train.bogus: unknown key; keys there: train.augment, train.batch_size, "
            ),
            "{}",
            err("train.bogus=1")
        );
        assert_eq!(
            err("train.weight_decay=lots"),
            "train.weight_decay=lots: expected a number, not string \"lots\""
        );
        assert_eq!(
            err("model.norm=layer"),
            "model.norm=layer: expected batch, instance, instance-affine, group:G or none"
        );
        assert_eq!(
            err("model.stem=big"),
            "model.stem=big: unknown variant `big`, expected one of `image_net`, `imagenet`, \
                `small`"
        );
        assert_eq!(
            err("train.schedule=linear"),
            "train.schedule=linear: schedule `linear`: expected constant, step:<epochs>:<gamma> \
                or cosine[:<min_lr>]"
        );
        assert_eq!(
            err("train.optimizer=adam"),
            "train.optimizer=adam: unknown variant `adam`, expected `sgd` or `adamw`"
        );
        assert_eq!(
            err("train.nesterov=yes"),
            "train.nesterov=yes: expected true or false, not string \"yes\""
        );
        assert_eq!(
            err("model.num_classes=10"),
            "model.num_classes: set by the data (its classes); not an override"
        );
        assert_eq!(
            err("train.seed=3"),
            "train.seed: set by the seeds (--seeds, CONVLAB_SEEDS or the profile); not an override"
        );
    }

    #[test]
    fn scaled_keys_are_keys() {
        // Cosine's min_lr is a key once the schedule is cosine.
        let cosine = Recipe::paper().with(&["train.schedule=cosine".parse().unwrap()]).unwrap();
        let keys: Vec<String> =
            Recipe::paper().keys().into_iter().chain(cosine.keys()).map(|(k, _)| k).collect();
        for (k, _) in SCALED {
            assert!(keys.iter().any(|x| x == k), "{k}");
        }
        assert!(
            scaling("train.schedule.step_size").is_some() && scaling("train.schedule").is_some()
        );
        assert_eq!((scaling("train.schedule.gamma"), scaling("train.weight_decay")), (None, None));
    }
}
