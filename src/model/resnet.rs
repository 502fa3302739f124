//! ResNet with BasicBlocks (He et al. 2015, "Deep Residual Learning for Image
//! Recognition", <https://arxiv.org/abs/1512.03385>), as torchvision builds it,
//! with the study's variations as [`ResNetConfig`] fields.
use super::{ConfigError, NormLayer, Pool, ResNetConfig, Stem};
use tch::{Tensor, nn, nn::ModuleT};

/// A bias-free convolution with torchvision's init (Kaiming normal, fan-out, ReLU).
fn conv(p: nn::Path, c_in: i64, c_out: i64, ksize: i64, stride: i64, padding: i64) -> nn::Conv2D {
    let ws_init = nn::Init::Kaiming {
        dist: nn::init::NormalOrUniform::Normal,
        fan: nn::init::FanInOut::FanOut,
        non_linearity: nn::init::NonLinearity::ReLU,
    };
    nn::conv2d(
        p,
        c_in,
        c_out,
        ksize,
        nn::ConvConfig { stride, padding, bias: false, ws_init, ..Default::default() },
    )
}

/// PyTorch's `nn.Linear` init: weight and bias uniform in ±1/√fan_in.
fn linear(p: nn::Path, c_in: i64, c_out: i64) -> nn::Linear {
    let bound = 1.0 / (c_in as f64).sqrt();
    let init = nn::Init::Uniform { lo: -bound, up: bound };
    nn::linear(p, c_in, c_out, nn::LinearConfig { ws_init: init, bs_init: Some(init), bias: true })
}

/// Two 3×3 convolutions with norm and ReLU, plus the shortcut when residual.
#[derive(Debug)]
pub struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: NormLayer,
    conv2: nn::Conv2D,
    bn2: NormLayer,
    /// 1×1 conv + norm on the shortcut when the shape changes (residual only).
    downsample: Option<(nn::Conv2D, NormLayer)>,
    residual: bool,
}

impl BasicBlock {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, stride: i64, cfg: &ResNetConfig) -> Self {
        let downsample = (cfg.residual && (stride != 1 || c_in != c_out)).then(|| {
            let d = &p / "downsample";
            (conv(&d / "0", c_in, c_out, 1, stride, 0), NormLayer::new(&d / "1", c_out, cfg.norm))
        });
        Self {
            conv1: conv(&p / "conv1", c_in, c_out, 3, stride, 1),
            bn1: NormLayer::new(&p / "bn1", c_out, cfg.norm),
            conv2: conv(&p / "conv2", c_out, c_out, 3, 1, 1),
            bn2: NormLayer::new(&p / "bn2", c_out, cfg.norm),
            downsample,
            residual: cfg.residual,
        }
    }
}

// ReLUs and the shortcut's sum work in place, as torchvision's: a norm's or a
// convolution's backward needs its input, never its output, so overwriting that
// output saves an allocation and a pass over memory per op (autograd's version
// counters would reject an unsafe one).
impl ModuleT for BasicBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut ys = xs
            .apply(&self.conv1)
            .apply_t(&self.bn1, train)
            .relu_()
            .apply(&self.conv2)
            .apply_t(&self.bn2, train);
        if self.residual {
            match &self.downsample {
                Some((conv, norm)) => ys += xs.apply(conv).apply_t(norm, train),
                None => ys += xs,
            }
        }
        ys.relu_()
    }
}

/// The network: stem, four stages of BasicBlocks, global average pool, dropout, `fc`.
#[derive(Debug)]
pub struct ResNet {
    /// The configuration it was built from.
    pub config: ResNetConfig,
    conv1: nn::Conv2D,
    bn1: NormLayer,
    /// `layer1` … `layer4`.
    stages: Vec<Vec<BasicBlock>>,
    fc: nn::Linear,
}

impl ResNet {
    /// Build under `p` (variables `conv1`, `bn1`, `layer1.0.conv1`, …, `fc`).
    pub fn new(p: &nn::Path, cfg: &ResNetConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let w = cfg.width;
        let conv1 = match cfg.stem {
            Stem::ImageNet => conv(p / "conv1", cfg.in_channels, w, 7, 2, 3),
            Stem::Small => conv(p / "conv1", cfg.in_channels, w, 3, 1, 1),
        };
        let bn1 = NormLayer::new(p / "bn1", w, cfg.norm);
        let mut c_in = w;
        let mut stages = Vec::with_capacity(4);
        for (i, (&n, c_out)) in cfg.blocks.iter().zip(cfg.stage_channels()).enumerate() {
            let sp = p / format!("layer{}", i + 1);
            let stride = if i == 0 { 1 } else { 2 };
            let stage = (0..n)
                .map(|j| {
                    let (ci, s) = if j == 0 { (c_in, stride) } else { (c_out, 1) };
                    BasicBlock::new(&sp / j, ci, c_out, s, cfg)
                })
                .collect();
            stages.push(stage);
            c_in = c_out;
        }
        let fc = linear(p / "fc", c_in, cfg.num_classes);
        Ok(Self { config: cfg.clone(), conv1, bn1, stages, fc })
    }

    /// Images to pooled features. Shapes for xknet18 (width 64) on 64×64 RGB;
    /// the ImageNet stem quarters the resolution (64 → 16) before `layer1`.
    pub fn forward_features(&self, xs: &Tensor, train: bool) -> Tensor {
        let stem = xs.apply(&self.conv1).apply_t(&self.bn1, train).relu_(); // [B,64,64,64]
        let mut ys = match self.config.stem {
            Stem::ImageNet => stem.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false),
            Stem::Small => stem,
        };
        for stage in &self.stages {
            for block in stage {
                ys = ys.apply_t(block, train);
            }
        } // layer1 [B,64,64,64] → layer2 [B,128,32,32] → layer3 [B,256,16,16] → layer4 [B,512,8,8]
        match self.config.pool {
            Pool::Avg => ys.adaptive_avg_pool2d([1, 1]),
            Pool::Max => ys.adaptive_max_pool2d([1, 1]).0,
        }
        .flatten(1, -1) // [B,512]
    }

    /// Pooled features to class logits: dropout (training only), then `fc`.
    pub fn forward_head(&self, features: &Tensor, train: bool) -> Tensor {
        features.dropout(self.config.dropout, train).apply(&self.fc) // [B,num_classes]
    }
}

impl ModuleT for ResNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_head(&self.forward_features(xs, train), train)
    }
}

/// Number of trainable parameters in a var store.
pub fn parameter_count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}

/// Store every 4-D weight channels-last (NHWC), in place: with channels-last
/// images, convolutions then run without layout conversions.
pub fn weights_to_channels_last(vs: &nn::VarStore) {
    tch::no_grad(|| {
        for (_, mut v) in vs.variables() {
            if v.dim() == 4 {
                v.set_data(&crate::device::to_channels_last(&v));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Norm;
    use tch::{Device, Kind};

    fn build(cfg: &ResNetConfig) -> (nn::VarStore, ResNet) {
        let vs = nn::VarStore::new(Device::Cpu);
        let net = ResNet::new(&vs.root(), cfg).unwrap();
        (vs, net)
    }

    #[test]
    fn channels_last_computes_what_nchw_computes_and_trains_where_allowed() {
        // Width 8 on 40 px: the largest maps the CPU hazard rule lets through with 8 channels.
        let cfg = ResNetConfig { width: 8, num_classes: 5, ..ResNetConfig::xknet18() };
        assert_eq!(cfg.cpu_channels_last_hazard(40), None);
        let (vs, net) = build(&cfg);
        let xs = Tensor::randn([4, 3, 40, 40], (Kind::Float, Device::Cpu));
        let want = net.forward_t(&xs, false);
        weights_to_channels_last(&vs);
        let conv1 = vs.variables()["conv1.weight"].shallow_clone();
        assert_eq!(conv1.stride(), [27, 1, 9, 3], "[8,3,3,3] weights stored NHWC");
        let got = net.forward_t(&crate::device::to_channels_last(&xs), false);
        assert!(got.allclose(&want, 1e-4, 1e-4, false), "NHWC and NCHW logits differ");
        // A training step, backward through every 1×1 shortcut included.
        let loss = net
            .forward_t(&crate::device::to_channels_last(&xs), true)
            .cross_entropy_for_logits(&Tensor::from_slice(&[0i64, 1, 2, 3]));
        loss.backward();
        let g = vs.variables()["layer2.0.downsample.0.weight"].grad();
        assert!(
            g.isfinite().all().int64_value(&[]) == 1
                && g.abs().sum(Kind::Float).double_value(&[]) > 0.0
        );
    }

    fn params(cfg: ResNetConfig) -> i64 {
        parameter_count(&build(&cfg).0)
    }

    #[test]
    fn parameter_counts_match_torchvision() {
        // torchvision.models.resnet18() / resnet34(): 1000 ImageNet classes.
        let imagenet =
            |blocks| ResNetConfig { num_classes: 1000, blocks, ..ResNetConfig::resnet18() };
        assert_eq!(params(imagenet([2, 2, 2, 2])), 11_689_512);
        assert_eq!(params(imagenet([3, 4, 6, 3])), 21_797_672);
        // fc → 100 classes: 11,689,512 − 513·1000 + 513·100.
        assert_eq!(params(ResNetConfig::resnet18()), 11_227_812);
        // 3×3 stem instead of 7×7: − 64·3·(49 − 9).
        assert_eq!(params(ResNetConfig::xknet18()), 11_220_132);
        // Half width: convs ¼ the weights (the 3-channel stem ½), norms and fc inputs ½:
        // (11,159,232 − 1,728)/4 + 864 + 9,600/2 + 256·100 + 100.
        assert_eq!(params(ResNetConfig { width: 32, ..ResNetConfig::xknet18() }), 2_820_740);
        // resnet34 body with the small stem, 100 classes: 21,797,672 − 7680 − 461,700.
        assert_eq!(params(ResNetConfig::resnet34()), 21_328_292);
        // No BatchNorm: drop 2·(channels) per norm layer (9,600 in resnet18).
        assert_eq!(
            params(ResNetConfig { norm: Norm::None, ..ResNetConfig::xknet18() }),
            11_210_532
        );
        // No residual: the three 1×1 downsample convs and their norms go.
        assert_eq!(
            params(ResNetConfig { residual: false, ..ResNetConfig::xknet18() }),
            11_220_132 - (64 * 128 + 256 + 128 * 256 + 512 + 256 * 512 + 1024)
        );
    }

    #[test]
    fn variable_names_follow_torchvision() {
        let (vs, _) = build(&ResNetConfig::resnet18());
        let names: Vec<String> = vs.variables().into_keys().collect();
        for want in [
            "conv1.weight",
            "bn1.weight",
            "bn1.running_mean",
            "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.running_var",
            "layer4.1.bn2.bias",
            "fc.weight",
            "fc.bias",
        ] {
            assert!(names.iter().any(|n| n == want), "missing {want}");
        }
        assert!(
            !names.iter().any(|n| n.starts_with("layer1.0.downsample")),
            "layer1 keeps its shape"
        );
    }

    #[test]
    fn output_shapes_for_every_preset_norm_and_size() {
        tch::manual_seed(1);
        let norms = [
            Norm::Batch,
            Norm::Instance { affine: false },
            Norm::Instance { affine: true },
            Norm::Group { groups: 32 },
            Norm::None,
        ];
        let _guard = tch::no_grad_guard();
        for name in crate::model::Preset::names() {
            for norm in norms {
                for (c, hw) in [(3, 64), (3, 32), (1, 28)] {
                    // Width 16 keeps this quick; stem and stages are the preset's.
                    let cfg = ResNetConfig {
                        norm,
                        in_channels: c,
                        width: 16,
                        ..ResNetConfig::preset(name).unwrap()
                    };
                    let (_vs, net) = build(&cfg);
                    let xs = Tensor::randn([2, c, hw, hw], (Kind::Float, Device::Cpu));
                    for train in [true, false] {
                        let ys = net.forward_t(&xs, train);
                        assert_eq!(ys.size(), [2, 100], "{name} {norm:?} {c}×{hw}×{hw}");
                        assert!(
                            bool::try_from(ys.isfinite().all()).unwrap(),
                            "{name} {norm:?} {hw}"
                        );
                    }
                    assert_eq!(net.forward_features(&xs, false).size(), [2, 128]);
                }
            }
        }
    }

    #[test]
    fn no_residual_block_has_no_shortcut_path() {
        let _guard = tch::no_grad_guard();
        let xs = Tensor::randn([2, 8, 6, 6], (Kind::Float, Device::Cpu));
        for residual in [true, false] {
            let cfg = ResNetConfig { residual, norm: Norm::None, ..Default::default() };
            let vs = nn::VarStore::new(Device::Cpu);
            // Same shape: a residual block has an identity shortcut.
            let block = BasicBlock::new(vs.root() / "b", 8, 8, 1, &cfg);
            // Strided: a residual block has a 1×1 projection.
            let down = BasicBlock::new(vs.root() / "d", 8, 16, 2, &cfg);
            assert_eq!(down.downsample.is_some(), residual);
            // With the main path's convolutions zeroed, all that remains is the shortcut.
            for (_, mut v) in vs.variables() {
                if !v.size().ends_with(&[1, 1]) {
                    let _ = v.zero_();
                }
            }
            let out = block.forward_t(&xs, false);
            if residual {
                assert!(out.allclose(&xs.relu(), 1e-6, 1e-6, false), "identity shortcut");
            } else {
                assert_eq!(out.abs().sum(Kind::Float).double_value(&[]), 0.0, "no shortcut");
            }
            let out = down.forward_t(&xs, false);
            assert_eq!(out.size(), [2, 16, 3, 3]);
            assert_eq!(out.abs().sum(Kind::Float).double_value(&[]) > 0.0, residual);
        }
        let (vs, _) = build(&ResNetConfig { residual: false, ..ResNetConfig::xknet18() });
        assert!(vs.variables().keys().all(|n| !n.contains("downsample")));
    }

    #[test]
    fn dropout_only_in_training() {
        let cfg = ResNetConfig { dropout: 0.5, width: 8, ..ResNetConfig::xknet18() };
        let (_vs, net) = build(&cfg);
        let feats = Tensor::ones([4, 64], (Kind::Float, Device::Cpu));
        let eval_a = net.forward_head(&feats, false);
        assert!(eval_a.equal(&net.forward_head(&feats, false)));
        tch::manual_seed(3);
        assert!(!net.forward_head(&feats, true).allclose(&eval_a, 1e-6, 1e-6, false));
    }

    #[test]
    fn invalid_config_is_an_error_not_a_panic() {
        let vs = nn::VarStore::new(Device::Cpu);
        let err =
            ResNet::new(&vs.root(), &ResNetConfig { width: -4, ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("`width` = -4"));
    }
}
