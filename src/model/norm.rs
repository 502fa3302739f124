//! The normalization layer a [`Norm`] names, as one module.
use super::Norm;
use tch::{Tensor, nn, nn::ModuleT};

/// Groups a GroupNorm over `channels` uses: `groups`, or `channels` when fewer.
pub(crate) fn effective_groups(groups: i64, channels: i64) -> i64 {
    groups.min(channels)
}

/// BatchNorm, InstanceNorm, GroupNorm or the identity, over `channels` channels.
#[derive(Debug)]
pub enum NormLayer {
    Batch(nn::BatchNorm),
    /// Per-sample statistics; `weight`/`bias` are present when affine.
    Instance {
        weight: Option<Tensor>,
        bias: Option<Tensor>,
    },
    Group(nn::GroupNorm),
    Identity,
}

impl NormLayer {
    /// Build under `p` with torchvision's names (`weight`, `bias`, `running_mean`, `running_var`)
    /// and initialisation (weight 1, bias 0).
    pub fn new(p: nn::Path, channels: i64, norm: Norm) -> Self {
        match norm {
            Norm::Batch => {
                let cfg =
                    nn::BatchNormConfig { ws_init: nn::Init::Const(1.0), ..Default::default() };
                NormLayer::Batch(nn::batch_norm2d(p, channels, cfg))
            }
            Norm::Instance { affine: false } => NormLayer::Instance { weight: None, bias: None },
            Norm::Instance { affine: true } => NormLayer::Instance {
                weight: Some(p.var("weight", &[channels], nn::Init::Const(1.0))),
                bias: Some(p.var("bias", &[channels], nn::Init::Const(0.0))),
            },
            Norm::Group { groups } => NormLayer::Group(nn::group_norm(
                p,
                effective_groups(groups, channels),
                channels,
                Default::default(),
            )),
            Norm::None => NormLayer::Identity,
        }
    }
}

impl ModuleT for NormLayer {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        match self {
            NormLayer::Batch(bn) => xs.apply_t(bn, train),
            // InstanceNorm2d(track_running_stats=False) normalises with the
            // sample's own statistics in training and evaluation alike.
            NormLayer::Instance { weight, bias } => xs.instance_norm(
                weight.as_ref(),
                bias.as_ref(),
                None::<&Tensor>,
                None::<&Tensor>,
                true,
                0.1,
                1e-5,
                tch::Cuda::cudnn_is_available(),
            ),
            NormLayer::Group(gn) => xs.apply(gn),
            NormLayer::Identity => xs.shallow_clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn instance_norm_zero_mean_unit_var_per_sample_and_channel() {
        tch::manual_seed(0);
        for affine in [false, true] {
            let vs = nn::VarStore::new(Device::Cpu);
            let layer = NormLayer::new(vs.root() / "n", 4, Norm::Instance { affine });
            // Each sample and channel with its own offset and scale.
            let xs = Tensor::randn([3, 4, 8, 8], (Kind::Float, Device::Cpu)) * 5.0
                + Tensor::arange(12, (Kind::Float, Device::Cpu)).view([3, 4, 1, 1]) * 10.0;
            for train in [true, false] {
                let ys = layer.forward_t(&xs, train);
                let mean = ys.mean_dim([2, 3].as_slice(), false, Kind::Float);
                let var = ys.var_dim([2, 3].as_slice(), false, false);
                assert!(mean.abs().max().double_value(&[]) < 1e-4, "affine={affine} train={train}");
                assert!((var - 1.0).abs().max().double_value(&[]) < 1e-3);
            }
            assert_eq!(vs.trainable_variables().len(), if affine { 2 } else { 0 });
        }
    }

    #[test]
    fn batch_norm_uses_running_stats_in_eval() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = NormLayer::new(vs.root(), 2, Norm::Batch);
        let xs = Tensor::randn([8, 2, 4, 4], (Kind::Float, Device::Cpu)) + 3.0;
        // Fresh running stats are mean 0, var 1: eval leaves the input as is.
        let ys = layer.forward_t(&xs, false);
        assert!((&ys - &xs).abs().max().double_value(&[]) < 1e-4);
        let ys = layer.forward_t(&xs, true);
        assert!(ys.mean(Kind::Float).double_value(&[]).abs() < 1e-4);
    }

    #[test]
    fn group_norm_caps_groups_at_channels() {
        assert_eq!(effective_groups(32, 16), 16);
        assert_eq!(effective_groups(32, 64), 32);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = NormLayer::new(vs.root(), 8, Norm::Group { groups: 32 });
        let ys = layer.forward_t(&Tensor::randn([2, 8, 4, 4], (Kind::Float, Device::Cpu)), true);
        assert_eq!(ys.size(), [2, 8, 4, 4]);
    }
}
