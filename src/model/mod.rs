//! The networks of the study: one configurable ResNet (BasicBlocks, four
//! stages), with stem, width, depth, normalization, dropout and residual
//! connections as fields of [`ResNetConfig`]. Presets are one-line deltas.
//!
//! Variable names follow torchvision (`conv1`, `bn1`, `layer1.0.downsample.0`,
//! `fc`) so weights and parameter counts compare one to one.
mod hazard;
mod norm;
mod resnet;

pub use norm::NormLayer;
pub use resnet::{BasicBlock, ResNet, parameter_count, weights_to_channels_last};

use serde::{Deserialize, Serialize};

/// The first layers, before the four stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Stem {
    /// torchvision's: 7×7 conv stride 2, norm, ReLU, 3×3 max-pool stride 2 (¼ resolution).
    #[cfg_attr(feature = "cli", value(alias = "imagenet"))]
    #[serde(alias = "imagenet")]
    ImageNet,
    /// The study's xknet18: 3×3 conv stride 1, norm, ReLU, no pool (full resolution).
    Small,
}

/// The normalization layer after every convolution. Serialized as serde's tagged form
/// (`"batch"`, `{"group": {"groups": 8}}`); read from that or from the text a user types
/// (`group:8`, [`Norm::from_str`](std::str::FromStr)), so an override `model.norm=group:8` works.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// BatchNorm2d (momentum 0.1, eps 1e-5), torchvision's default.
    Batch,
    /// InstanceNorm2d: per-sample, per-channel statistics, no running stats
    /// (PyTorch's default `affine: false` has no parameters).
    Instance { affine: bool },
    /// GroupNorm with `groups` groups (fewer when a layer has fewer channels).
    Group { groups: i64 },
    /// No normalization (the layer is the identity; convolutions keep bias = false, as
    /// torchvision's).
    None,
}

/// How the head reads the last stage's maps before `fc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Global average pooling, torchvision's: each channel's mean over the map.
    #[default]
    Avg,
    /// Global max pooling: each channel's peak, which a per-image normalization of the
    /// map's mean and scale does not erase the way it erases the mean.
    Max,
}

/// [`Norm`]'s tagged form, as `config.json` files hold it.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum NormTagged {
    Batch,
    Instance { affine: bool },
    Group { groups: i64 },
    None,
}

impl<'de> Deserialize<'de> for Norm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::io::text_or_tagged::<D, Norm, NormTagged>(
            d,
            "batch, instance, instance-affine, group:G or none",
            |t| match t {
                NormTagged::Batch => Norm::Batch,
                NormTagged::Instance { affine } => Norm::Instance { affine },
                NormTagged::Group { groups } => Norm::Group { groups },
                NormTagged::None => Norm::None,
            },
        )
    }
}

impl std::str::FromStr for Norm {
    /// What is wrong (the caller names the value and where it came from).
    type Err = String;
    /// `batch`, `instance`, `instance-affine`, `group:G` or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "batch" => Norm::Batch,
            "instance" => Norm::Instance { affine: false },
            "instance-affine" => Norm::Instance { affine: true },
            "none" => Norm::None,
            g if g.starts_with("group:") => match g["group:".len()..].parse::<i64>() {
                Ok(groups) if groups >= 1 => Norm::Group { groups },
                _ => {
                    return Err(format!(
                        "groups `{}` must be a whole number ≥ 1",
                        &g["group:".len()..]
                    ));
                }
            },
            _ => return Err("expected batch, instance, instance-affine, group:G or none".into()),
        })
    }
}

/// Every network of the study. `Default` is torchvision's resnet18 with 100 classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResNetConfig {
    /// Stem before the stages: `image_net` (7×7/2 + max-pool) or `small` (3×3/1).
    pub stem: Stem,
    /// BasicBlocks in each of the four stages: `[2, 2, 2, 2]` is resnet18.
    pub blocks: [usize; 4],
    /// Channels of the stem and first stage; stage k has width·2^k.
    pub width: i64,
    /// Image channels: 3 for RGB, 1 for grayscale.
    pub in_channels: i64,
    /// Output classes of the final linear layer `fc`.
    pub num_classes: i64,
    /// Normalization after each convolution.
    pub norm: Norm,
    /// Dropout probability before `fc` (0 = none).
    pub dropout: f64,
    /// Residual shortcuts; `false` gives plain stacked convolutions (no shortcut, no downsample
    /// projection).
    pub residual: bool,
    /// Global pooling of the last stage before `fc` (runs recorded before it existed read as
    /// `avg`).
    pub pool: Pool,
}

impl Default for ResNetConfig {
    fn default() -> Self {
        Self {
            stem: Stem::ImageNet,
            blocks: [2, 2, 2, 2],
            width: 64,
            in_channels: 3,
            num_classes: 100,
            norm: Norm::Batch,
            dropout: 0.0,
            residual: true,
            pool: Pool::Avg,
        }
    }
}

/// A configuration that cannot make a network.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown model preset `{0}`; known presets: {known}", known = Preset::names().join(", "))]
    UnknownPreset(String),
    #[error("model field `{field}` = {value}: {problem}")]
    Invalid { field: &'static str, value: String, problem: &'static str },
}

/// A named network of the study: `convlab train --preset`, the models notebook's table.
/// A new preset is a variant here, an arm of [`Preset::config`] and a constructor below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// torchvision resnet18: the paper's baseline.
    Resnet18,
    /// resnet18 with a 3×3 stride-1 stem and no max-pool.
    Xknet18,
    /// xknet18 with `[1, 2, 2, 1]` blocks.
    Resnet14,
    /// xknet18 with `[3, 4, 6, 3]` blocks.
    Resnet34,
}

impl Preset {
    /// Every preset, in the order tables list them.
    pub const ALL: [Preset; 4] =
        [Preset::Resnet18, Preset::Xknet18, Preset::Resnet14, Preset::Resnet34];

    /// Its name: `xknet18`.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Resnet18 => "resnet18",
            Preset::Xknet18 => "xknet18",
            Preset::Resnet14 => "resnet14",
            Preset::Resnet34 => "resnet34",
        }
    }

    /// Every preset's name.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|p| p.as_str()).collect()
    }

    /// Its config.
    pub fn config(self) -> ResNetConfig {
        match self {
            Preset::Resnet18 => ResNetConfig::resnet18(),
            Preset::Xknet18 => ResNetConfig::xknet18(),
            Preset::Resnet14 => ResNetConfig::resnet14(),
            Preset::Resnet34 => ResNetConfig::resnet34(),
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ConfigError::UnknownPreset(s.to_string()))
    }
}

impl ResNetConfig {
    /// torchvision resnet18 (He et al. 2015): ImageNet stem, `[2, 2, 2, 2]`, width 64 — the study's
    /// baseline.
    pub fn resnet18() -> Self {
        Self::default()
    }
    /// The study's xknet18: resnet18 with a 3×3 stride-1 stem and no max-pool, for 64×64 inputs.
    pub fn xknet18() -> Self {
        Self { stem: Stem::Small, ..Self::default() }
    }
    /// The study's depth ablation, shallower: xknet18 with `[1, 2, 2, 1]` blocks (14 weighted
    /// layers).
    pub fn resnet14() -> Self {
        Self { blocks: [1, 2, 2, 1], ..Self::xknet18() }
    }
    /// The study's depth ablation, deeper: xknet18 with resnet34's `[3, 4, 6, 3]` blocks.
    pub fn resnet34() -> Self {
        Self { blocks: [3, 4, 6, 3], ..Self::xknet18() }
    }

    /// A preset by name ([`Preset`]).
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        Ok(name.parse::<Preset>()?.config())
    }

    /// Channels of the four stages: width·`[1, 2, 4, 8]`.
    pub fn stage_channels(&self) -> [i64; 4] {
        [self.width, self.width * 2, self.width * 4, self.width * 8]
    }

    /// Check every field; the builder calls this first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid =
            |field, value: String, problem| Err(ConfigError::Invalid { field, value, problem });
        if self.width < 1 {
            return invalid("width", self.width.to_string(), "must be at least 1");
        }
        if self.in_channels < 1 {
            return invalid("in_channels", self.in_channels.to_string(), "must be at least 1");
        }
        if self.num_classes < 2 {
            return invalid("num_classes", self.num_classes.to_string(), "must be at least 2");
        }
        if self.blocks.contains(&0) {
            return invalid(
                "blocks",
                format!("{:?}", self.blocks),
                "every stage needs at least one block",
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid("dropout", self.dropout.to_string(), "must be in [0, 1)");
        }
        if let Norm::Group { groups } = self.norm {
            if groups < 1 {
                return invalid("norm.group.groups", groups.to_string(), "must be at least 1");
            }
            for c in self.stage_channels() {
                if c % norm::effective_groups(groups, c) != 0 {
                    return invalid(
                        "norm.group.groups",
                        groups.to_string(),
                        "must divide every stage's channel count (width·1,2,4,8)",
                    );
                }
            }
        }
        Ok(())
    }

    /// Weighted layers (convolutions on the main path, plus `fc`): 18 for resnet18.
    pub fn depth(&self) -> usize {
        1 + 2 * self.blocks.iter().sum::<usize>() + 1
    }

    /// Multiply-accumulates of one forward pass of a `side`×`side` image: every
    /// convolution (shortcut projections included) and `fc`; normalization, ReLU,
    /// pooling and additions are left out, as torchvision's `_ops` counts them.
    /// A training step costs about three times this per image (forward and backward).
    pub fn macs(&self, side: i64) -> i64 {
        let out = |h: i64, k: i64, stride: i64, pad: i64| (h + 2 * pad - k) / stride + 1;
        let mut h = side;
        let mut total = 0;
        let mut c_in = self.in_channels;
        match self.stem {
            Stem::ImageNet => {
                h = out(h, 7, 2, 3);
                total += 49 * c_in * self.width * h * h;
                h = out(h, 3, 2, 1); // max-pool
            }
            Stem::Small => total += 9 * c_in * self.width * h * h,
        }
        c_in = self.width;
        for (stage, (&blocks, c_out)) in self.blocks.iter().zip(self.stage_channels()).enumerate() {
            for block in 0..blocks {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                let h_out = out(h, 3, stride, 1);
                total += 9 * c_in * c_out * h_out * h_out + 9 * c_out * c_out * h_out * h_out;
                if self.residual && (stride != 1 || c_in != c_out) {
                    total += c_in * c_out * h_out * h_out;
                }
                (h, c_in) = (h_out, c_out);
            }
        }
        total + c_in * self.num_classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_deltas_of_resnet18() {
        let x = ResNetConfig::xknet18();
        assert_eq!(x, ResNetConfig { stem: Stem::Small, ..ResNetConfig::resnet18() });
        assert_eq!(ResNetConfig::resnet14().depth(), 14);
        assert_eq!(ResNetConfig::resnet18().depth(), 18);
        assert_eq!(ResNetConfig::resnet34().depth(), 34);
        for p in Preset::ALL {
            assert_eq!(ResNetConfig::preset(p.as_str()), Ok(p.config()), "{p:?}");
        }
        assert_eq!(
            ResNetConfig::preset("resnet50").unwrap_err().to_string(),
            "unknown model preset `resnet50`; known presets: resnet18, xknet18, resnet14, resnet34"
        );
    }

    /// torchvision's model table gives resnet18 (224×224, 1000 classes) 1.814 GFLOPS
    /// (`ResNet18_Weights.IMAGENET1K_V1.meta["_ops"]`, multiply-accumulates) and resnet34 3.664.
    #[test]
    fn macs_match_torchvision() {
        let at = |c: ResNetConfig| c.macs(224) as f64 / 1e9;
        assert_eq!(
            format!("{:.3}", at(ResNetConfig { num_classes: 1000, ..ResNetConfig::resnet18() })),
            "1.814"
        );
        assert_eq!(
            format!(
                "{:.3}",
                at(ResNetConfig {
                    num_classes: 1000,
                    stem: Stem::ImageNet,
                    ..ResNetConfig::resnet34()
                })
            ),
            "3.664"
        );
        // The small stem keeps full resolution: 16× the stages' work at the same parameters.
        let (x, r) = (ResNetConfig::xknet18().macs(64), ResNetConfig::resnet18().macs(64));
        assert!(x > 12 * r, "xknet18 {x} vs resnet18 {r}");
        assert!(
            ResNetConfig { residual: false, ..ResNetConfig::xknet18() }.macs(64) < x,
            "no projections"
        );
    }

    #[test]
    fn norms_parse_as_users_type_them() {
        assert_eq!("batch".parse::<Norm>(), Ok(Norm::Batch));
        assert_eq!("instance".parse::<Norm>(), Ok(Norm::Instance { affine: false }));
        assert_eq!("instance-affine".parse::<Norm>(), Ok(Norm::Instance { affine: true }));
        assert_eq!("group:8".parse::<Norm>(), Ok(Norm::Group { groups: 8 }));
        assert_eq!("none".parse::<Norm>(), Ok(Norm::None));
        assert_eq!("group:x".parse::<Norm>(), Err("groups `x` must be a whole number ≥ 1".into()));
        assert_eq!("group:0".parse::<Norm>(), Err("groups `0` must be a whole number ≥ 1".into()));
        assert!("layer".parse::<Norm>().unwrap_err().starts_with("expected batch"));
    }

    #[test]
    fn unknown_preset_names_the_known_ones() {
        let err = ResNetConfig::preset("resnet50").unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown model preset `resnet50`; known presets: resnet18, xknet18, resnet14, resnet34"
        );
    }

    #[test]
    fn validate_rejects_bad_fields_by_name() {
        let bad = |c: ResNetConfig| c.validate().unwrap_err().to_string();
        assert!(
            bad(ResNetConfig { width: 0, ..Default::default() })
                .starts_with("model field `width` = 0")
        );
        assert!(bad(ResNetConfig { dropout: 1.0, ..Default::default() }).contains("`dropout` = 1"));
        assert!(
            bad(ResNetConfig { blocks: [2, 0, 2, 2], ..Default::default() }).contains("`blocks`")
        );
        assert!(
            bad(ResNetConfig { num_classes: 1, ..Default::default() }).contains("`num_classes`")
        );
        let g = ResNetConfig { width: 24, norm: Norm::Group { groups: 16 }, ..Default::default() };
        assert!(bad(g).contains("norm.group.groups"));
        assert!(
            ResNetConfig { norm: Norm::Group { groups: 32 }, ..Default::default() }
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn config_json_round_trip_and_unknown_fields() {
        let cfg = ResNetConfig {
            norm: Norm::Instance { affine: true },
            dropout: 0.2,
            residual: false,
            width: 32,
            ..ResNetConfig::resnet34()
        };
        let json = serde_json::to_string_pretty(&cfg).unwrap();
        assert!(json.contains("\"instance\"") && json.contains("\"small\""), "{json}");
        let back: ResNetConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        // Omitted fields take the defaults; misspelt ones are refused by name.
        let partial: ResNetConfig =
            serde_json::from_str(r#"{"stem":"small","norm":"none"}"#).unwrap();
        assert_eq!(partial, ResNetConfig { norm: Norm::None, ..ResNetConfig::xknet18() });
        let err = serde_json::from_str::<ResNetConfig>(r#"{"widht":32}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `widht`"), "{err}");
    }
}
