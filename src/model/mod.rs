//! The networks of the study: one configurable ResNet (BasicBlocks, four
//! stages), with stem, width, depth, normalization, dropout and residual
//! connections as fields of [`ResNetConfig`]. Presets are one-line deltas.
//!
//! Variable names follow torchvision (`conv1`, `bn1`, `layer1.0.downsample.0`,
//! `fc`) so weights and parameter counts compare one to one.
mod norm;
mod resnet;

pub use norm::NormLayer;
pub use resnet::{BasicBlock, ResNet, parameter_count, weights_to_channels_last};

use serde::{Deserialize, Serialize};

/// The first layers, before the four stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stem {
    /// torchvision's: 7×7 conv stride 2, norm, ReLU, 3×3 max-pool stride 2 (¼ resolution).
    ImageNet,
    /// The study's xknet18: 3×3 conv stride 1, norm, ReLU, no pool (full resolution).
    Small,
}

/// The normalization layer after every convolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// BatchNorm2d (momentum 0.1, eps 1e-5), torchvision's default.
    Batch,
    /// InstanceNorm2d: per-sample, per-channel statistics, no running stats
    /// (PyTorch's default `affine: false` has no parameters).
    Instance { affine: bool },
    /// GroupNorm with `groups` groups (fewer when a layer has fewer channels).
    Group { groups: i64 },
    /// No normalization (the layer is the identity; convolutions keep bias = false, as torchvision's).
    None,
}

/// Every network of the study. `Default` is torchvision's resnet18 with 100 classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResNetConfig {
    /// Stem before the stages: `image_net` (7×7/2 + max-pool) or `small` (3×3/1).
    pub stem: Stem,
    /// BasicBlocks in each of the four stages: [2,2,2,2] is resnet18.
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
    /// Residual shortcuts; `false` gives plain stacked convolutions (no shortcut, no downsample projection).
    pub residual: bool,
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
        }
    }
}

/// A configuration that cannot make a network.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("unknown model preset `{0}`; known presets: {known}", known = PRESETS.join(", "))]
    UnknownPreset(String),
    #[error("model field `{field}` = {value}: {problem}")]
    Invalid { field: &'static str, value: String, problem: &'static str },
}

/// Names accepted by [`ResNetConfig::preset`].
pub const PRESETS: [&str; 4] = ["resnet18", "xknet18", "resnet14", "resnet34"];

impl ResNetConfig {
    /// torchvision resnet18 (He et al. 2015): ImageNet stem, [2,2,2,2], width 64 — the study's baseline.
    pub fn resnet18() -> Self {
        Self::default()
    }
    /// The study's xknet18: resnet18 with a 3×3 stride-1 stem and no max-pool, for 64×64 inputs.
    pub fn xknet18() -> Self {
        Self { stem: Stem::Small, ..Self::default() }
    }
    /// The study's depth ablation, shallower: xknet18 with [1,2,2,1] blocks (14 weighted layers).
    pub fn resnet14() -> Self {
        Self { blocks: [1, 2, 2, 1], ..Self::xknet18() }
    }
    /// The study's depth ablation, deeper: xknet18 with resnet34's [3,4,6,3] blocks.
    pub fn resnet34() -> Self {
        Self { blocks: [3, 4, 6, 3], ..Self::xknet18() }
    }

    /// A preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name {
            "resnet18" => Ok(Self::resnet18()),
            "xknet18" => Ok(Self::xknet18()),
            "resnet14" => Ok(Self::resnet14()),
            "resnet34" => Ok(Self::resnet34()),
            other => Err(ConfigError::UnknownPreset(other.to_string())),
        }
    }

    /// Channels of the four stages: width·[1,2,4,8].
    pub fn stage_channels(&self) -> [i64; 4] {
        [self.width, self.width * 2, self.width * 4, self.width * 8]
    }

    /// A convolution that channels-last would crash on the CPU, for `side`×`side`
    /// images: libtorch 2.11's oneDNN segfaults (AVX-512, the backward for weights)
    /// in 1×1 stride-2 convolutions of channels-last tensors with 2–15 input
    /// channels on large maps — measured crashing with 2, 4 and 8 channels from
    /// 56 px and 12 channels at 96 px, fine at 48 px and below and from 16 channels.
    /// Those are the shortcut projections of stages 2–4 when the width is under 16;
    /// this names the first one with fewer than 16 input channels on 48 px or more.
    pub fn cpu_channels_last_hazard(&self, side: i64) -> Option<String> {
        if !self.residual {
            return None;
        }
        let half = |x: i64| (x + 1) / 2; // a stride-2 convolution or pool with "same" padding
        let mut s = match self.stem {
            Stem::ImageNet => half(half(side)), // 7×7/2 conv, 3×3/2 max-pool
            Stem::Small => side,
        };
        let c = self.stage_channels();
        for i in 1..4 {
            if c[i - 1] < 16 && s >= 48 {
                return Some(format!(
                    "layer{}.0.downsample.0 (1×1, stride 2) would get {} input channels on {s}×{s} maps",
                    i + 1,
                    c[i - 1]
                ));
            }
            s = half(s);
        }
        None
    }

    /// Refuse channels-last training on the CPU where [`Self::cpu_channels_last_hazard`]
    /// names a convolution libtorch would crash on; other devices pass.
    pub fn check_cpu_channels_last(&self, device: tch::Device, side: i64) -> anyhow::Result<()> {
        match self.cpu_channels_last_hazard(side) {
            Some(conv) if device == tch::Device::Cpu => anyhow::bail!(
                "channels-last on the CPU would crash libtorch 2.11 here: {conv}, a case its oneDNN \
                 segfaults on; use the NCHW layout (no --channels-last; `bench --nchw`) or width ≥ 16"
            ),
            _ => Ok(()),
        }
    }

    /// Check every field; the builder calls this first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, value: String, problem| Err(ConfigError::Invalid { field, value, problem });
        if self.width < 1 {
            return invalid("width", self.width.to_string(), "must be at least 1");
        }
        if self.in_channels < 1 {
            return invalid("in_channels", self.in_channels.to_string(), "must be at least 1");
        }
        if self.num_classes < 2 {
            return invalid("num_classes", self.num_classes.to_string(), "must be at least 2");
        }
        if self.blocks.iter().any(|&b| b == 0) {
            return invalid("blocks", format!("{:?}", self.blocks), "every stage needs at least one block");
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
        for name in PRESETS {
            assert!(ResNetConfig::preset(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn channels_last_hazard_names_the_crashing_shortcut_and_spares_the_profiles() {
        let xk = |width| ResNetConfig { width, ..ResNetConfig::xknet18() };
        let h = xk(8).cpu_channels_last_hazard(64).unwrap();
        assert!(h.contains("layer2.0.downsample.0") && h.contains("8 input channels on 64×64"), "{h}");
        let err = xk(8).check_cpu_channels_last(tch::Device::Cpu, 64).unwrap_err().to_string();
        assert!(err.contains(&h) && err.contains("NCHW"), "{err}");
        assert!(xk(8).check_cpu_channels_last(tch::Device::Cuda(0), 64).is_ok(), "only the CPU's oneDNN crashes");
        // 12 channels crashed at 96 px; the rule keeps a margin down to 48 px.
        assert!(xk(12).cpu_channels_last_hazard(96).unwrap().contains("layer2.0"));
        assert!(xk(12).cpu_channels_last_hazard(48).is_some());
        assert_eq!(xk(12).cpu_channels_last_hazard(40), None);
        // The ImageNet stem quarters the side first: 224 → 56.
        let r18 = ResNetConfig { width: 8, ..ResNetConfig::resnet18() };
        assert!(r18.cpu_channels_last_hazard(224).unwrap().contains("56×56"));
        assert_eq!(r18.cpu_channels_last_hazard(64), None);
        // No shortcuts, no projection; and what the profiles run.
        assert_eq!(ResNetConfig { residual: false, ..xk(8) }.cpu_channels_last_hazard(64), None);
        assert_eq!(xk(16).cpu_channels_last_hazard(64), None); // quick's width, any side
        assert_eq!(xk(8).cpu_channels_last_hazard(28), None); // quick's half width at 28 px
        assert_eq!(xk(32).cpu_channels_last_hazard(64), None); // full's half width
    }

    #[test]
    fn unknown_preset_names_the_known_ones() {
        let err = ResNetConfig::preset("resnet50").unwrap_err().to_string();
        assert_eq!(err, "unknown model preset `resnet50`; known presets: resnet18, xknet18, resnet14, resnet34");
    }

    #[test]
    fn validate_rejects_bad_fields_by_name() {
        let bad = |c: ResNetConfig| c.validate().unwrap_err().to_string();
        assert!(bad(ResNetConfig { width: 0, ..Default::default() }).starts_with("model field `width` = 0"));
        assert!(bad(ResNetConfig { dropout: 1.0, ..Default::default() }).contains("`dropout` = 1"));
        assert!(bad(ResNetConfig { blocks: [2, 0, 2, 2], ..Default::default() }).contains("`blocks`"));
        assert!(bad(ResNetConfig { num_classes: 1, ..Default::default() }).contains("`num_classes`"));
        let g = ResNetConfig { width: 24, norm: Norm::Group { groups: 16 }, ..Default::default() };
        assert!(bad(g).contains("norm.group.groups"));
        assert!(ResNetConfig { norm: Norm::Group { groups: 32 }, ..Default::default() }.validate().is_ok());
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
        let partial: ResNetConfig = serde_json::from_str(r#"{"stem":"small","norm":"none"}"#).unwrap();
        assert_eq!(partial, ResNetConfig { norm: Norm::None, ..ResNetConfig::xknet18() });
        let err = serde_json::from_str::<ResNetConfig>(r#"{"widht":32}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `widht`"), "{err}");
    }
}
