//! A tiny network memorises one batch of random images with random labels:
//! the whole forward/backward path (stem, stages, shortcuts, norm, fc) learns.
use convlab::prelude::*;
use tch::{Device, nn::OptimizerConfig};

fn overfit(cfg: ResNetConfig) -> (f64, f64) {
    tch::manual_seed(20211108);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ResNet::new(&vs.root(), &cfg).unwrap();
    let mut opt = nn::Adam::default().build(&vs, 1e-2).unwrap();
    let xs = Tensor::randn([16, cfg.in_channels, 16, 16], (Kind::Float, Device::Cpu));
    let ys = Tensor::randint(cfg.num_classes, [16], (Kind::Int64, Device::Cpu));
    let loss = |train| net.forward_t(&xs, train).cross_entropy_for_logits(&ys);
    let first = loss(true).double_value(&[]);
    for _ in 0..60 {
        opt.backward_step(&loss(true));
    }
    (first, loss(true).double_value(&[]))
}

#[test]
fn tiny_resnet_overfits_one_batch() {
    for (norm, residual) in
        [(Norm::Batch, true), (Norm::Group { groups: 4 }, true), (Norm::Batch, false)]
    {
        let cfg = ResNetConfig {
            stem: Stem::Small,
            blocks: [1, 1, 1, 1],
            width: 8,
            num_classes: 10,
            norm,
            residual,
            ..Default::default()
        };
        let (first, last) = overfit(cfg);
        assert!(first > 1.5, "{norm:?}: a fresh net is near chance (ln 10 ≈ 2.3), got {first}");
        assert!(
            last < first / 10.0,
            "{norm:?} residual={residual}: loss {first:.3} → {last:.3}, expected a 10× fall"
        );
    }
}
