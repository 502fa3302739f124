//! libtorch 2.11's oneDNN and channels-last on the CPU: a backend workaround whose rule
//! reads the model's shape.
use super::{ResNetConfig, Stem};

impl ResNetConfig {
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
                    "layer{}.0.downsample.0 (1×1, stride 2) would get {} input channels on \
                        {s}×{s} maps",
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
                 segfaults on; use NCHW (a study: --memory-format auto or nchw; train: no \
                 --channels-last; bench: --nchw) or width ≥ 16"
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_hazard_names_the_crashing_shortcut_and_spares_the_profiles() {
        let xk = |width| ResNetConfig { width, ..ResNetConfig::xknet18() };
        let h = xk(8).cpu_channels_last_hazard(64).unwrap();
        assert!(
            h.contains("layer2.0.downsample.0") && h.contains("8 input channels on 64×64"),
            "{h}"
        );
        let err = xk(8).check_cpu_channels_last(tch::Device::Cpu, 64).unwrap_err().to_string();
        assert!(err.contains(&h) && err.contains("NCHW"), "{err}");
        assert!(
            xk(8).check_cpu_channels_last(tch::Device::Cuda(0), 64).is_ok(),
            "only the CPU's oneDNN crashes"
        );
        // 12 channels crashed at 96 px; the rule keeps a margin down to 48 px.
        assert!(xk(12).cpu_channels_last_hazard(96).unwrap().contains("layer2.0"));
        assert!(xk(12).cpu_channels_last_hazard(48).is_some());
        assert_eq!(xk(12).cpu_channels_last_hazard(40), None);
        // The ImageNet stem quarters the side first: 224 → 56.
        let r18 = ResNetConfig { width: 8, ..ResNetConfig::resnet18() };
        assert!(r18.cpu_channels_last_hazard(224).unwrap().contains("56×56"));
        assert_eq!(r18.cpu_channels_last_hazard(64), None);
        // No shortcuts, no projection; and what the profiles run.
        assert_eq!((ResNetConfig { residual: false, ..xk(8) }).cpu_channels_last_hazard(64), None);
        assert_eq!(xk(16).cpu_channels_last_hazard(64), None); // quick's width, any side
        assert_eq!(xk(8).cpu_channels_last_hazard(28), None); // quick's half width at 28 px
        assert_eq!(xk(32).cpu_channels_last_hazard(64), None); // full's half width
    }
}
