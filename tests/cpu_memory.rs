//! Training steps on the CPU reuse freed tensor memory instead of page-faulting
//! it back in (`device::keep_freed_memory`). One test in its own binary, so no
//! other test's allocations share the process's fault count.
use convlab::model::{ResNet, ResNetConfig, Stem};
use convlab::train::Sgd;
use tch::{Device, Kind, Tensor, nn};

fn minor_faults() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_minflt
}

#[test]
fn steady_training_steps_do_not_page_fault_their_activations_back_in() {
    let with = std::env::var_os("CONVLAB_TEST_DEFAULT_MALLOC").is_none();
    if with {
        convlab::device::keep_freed_memory();
    }
    tch::set_num_threads(2);
    tch::manual_seed(0);
    // A small-stem net at width 12, batch 64, 28×28: activations of 2.4 MB per tensor,
    // far above glibc's default 128 KiB mmap threshold.
    let cfg = ResNetConfig {
        stem: Stem::Small,
        width: 12,
        in_channels: 1,
        num_classes: 10,
        ..Default::default()
    };
    let vs = nn::VarStore::new(Device::Cpu);
    let net = ResNet::new(&vs.root(), &cfg).unwrap();
    let mut opt = Sgd::new(&vs, 0.9, 0.0, false);
    let xs = Tensor::randn([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let ys = Tensor::randint(10, [64], (Kind::Int64, Device::Cpu));
    let mut step = || {
        let loss = tch::nn::ModuleT::forward_t(&net, &xs, true).cross_entropy_for_logits(&ys);
        opt.zero_grad();
        loss.backward();
        opt.step(0.01);
    };
    for _ in 0..3 {
        step();
    }
    let f0 = minor_faults();
    for _ in 0..10 {
        step();
    }
    let per_step = (minor_faults() - f0) / 10;
    eprintln!("minor page faults per step: {per_step} (keep_freed_memory: {with})");
    // One step touches ~80 MB of activations and gradients (~20,000 pages); glibc's
    // defaults fault most of them in again every step.
    assert!(per_step < 1000, "{per_step} page faults per training step");
}
