//! Throughput benchmarks: the model's ceiling (train step on in-memory tensors),
//! the same step through libtorch's own SGD, evaluation, and a full epoch with
//! the real loader (and the loader's share of it). Measured, never asserted.
use crate::data::{Dataset, Loader};
use crate::model::{ResNet, ResNetConfig};
use crate::train::fit::{forward, train_step};
use crate::train::{Optimizer, TrainConfig};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Tensor, nn};

/// What to measure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchConfig {
    /// A name for the table (e.g. `xknet18 w16 28px NHWC`).
    pub name: String,
    pub model: ResNetConfig,
    /// Image side for the in-memory measurements.
    pub size: i64,
    pub batch_size: usize,
    /// Timed optimizer steps (after `warmup` untimed ones).
    pub steps: usize,
    pub warmup: usize,
    /// Epochs with the real loader; the fastest one is reported.
    pub epochs: usize,
    pub train: TrainConfig,
}

/// What was measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    pub name: String,
    pub device: String,
    pub threads: i32,
    pub size: i64,
    pub batch_size: usize,
    pub parameters: i64,
    /// convlab's training step (forward, loss, backward, convlab's SGD) on a resident batch; best
    /// of 5 blocks.
    pub step_img_s: f64,
    /// The same model's step with libtorch's own SGD (`torch::optim::SGD`): the raw ceiling.
    pub raw_step_img_s: f64,
    /// Evaluation (no grad, eval mode) on a resident batch.
    pub eval_img_s: f64,
    /// A whole training epoch with the real loader (the fastest of `epochs`), when a dataset was
    /// given.
    pub epoch_img_s: Option<f64>,
    pub epoch_seconds: Option<f64>,
    /// Seconds of the loader alone over that epoch, as a share of the epoch.
    pub loader_share: Option<f64>,
    /// Peak resident memory of the process so far, MiB.
    pub peak_rss_mib: f64,
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

/// Images per second of `steps` calls of `step` on batches of `batch` images, the device
/// synchronised before and after.
fn timed(device: Device, steps: usize, batch: i64, step: &mut dyn FnMut()) -> f64 {
    sync(device);
    let t0 = Instant::now();
    for _ in 0..steps {
        step();
    }
    sync(device);
    (steps as f64 * batch as f64) / t0.elapsed().as_secs_f64()
}

/// convlab's training step on `xs`/`ys` (as in `train::fit`) and the same model with
/// libtorch's own SGD, timed in alternating blocks (best of five each) so that drifting load
/// on the machine biases neither: (convlab, libtorch) images per second.
fn step_throughput(
    cfg: &BenchConfig,
    device: Device,
    net: &ResNet,
    opt: &mut Optimizer,
    xs: &Tensor,
    ys: &Tensor,
    loss_sum: &mut Tensor,
) -> anyhow::Result<(f64, f64)> {
    let raw_vs = nn::VarStore::new(device);
    let raw_net = ResNet::new(&raw_vs.root(), &cfg.model)?;
    if cfg.train.channels_last {
        crate::model::weights_to_channels_last(&raw_vs);
    }
    let mut raw_opt = nn::Sgd { momentum: cfg.train.momentum, ..Default::default() }
        .build(&raw_vs, cfg.train.lr)?;
    let mut convlab_step = || {
        let (loss, _) = train_step(net, opt, xs, ys, cfg.train.lr, &cfg.train);
        *loss_sum += loss.to_kind(Kind::Double);
    };
    let mut raw_step = || {
        let loss = forward(&raw_net, xs, true, &cfg.train).cross_entropy_for_logits(ys);
        raw_opt.backward_step(&loss);
    };
    for _ in 0..cfg.warmup {
        convlab_step();
        raw_step();
    }
    let b = cfg.batch_size as i64;
    let (mut step_img_s, mut raw_step_img_s) = (0.0f64, 0.0f64);
    for _ in 0..5 {
        step_img_s = step_img_s.max(timed(device, cfg.steps, b, &mut convlab_step));
        raw_step_img_s = raw_step_img_s.max(timed(device, cfg.steps, b, &mut raw_step));
    }
    Ok((step_img_s, raw_step_img_s))
}

/// The real loader over `data`'s training split with `cfg`'s batch, augmentation and memory
/// format, shuffled with a fixed seed: what both epoch timings train on.
fn train_loader(cfg: &BenchConfig, data: &Dataset, device: Device) -> Loader {
    Loader::new(&data.train, &data.stats, cfg.batch_size, device)
        .shuffle(1)
        .augment(cfg.train.augment.clone())
        .channels_last(cfg.train.channels_last)
}

/// The loader alone over `data`'s training split, then epochs of training with it as `fit`
/// runs them: (images per second and seconds of the fastest epoch, the loader's share of it).
fn epoch_throughput(
    cfg: &BenchConfig,
    device: Device,
    data: &Dataset,
    net: &ResNet,
    opt: &mut Optimizer,
    loss_sum: &mut Tensor,
) -> (f64, f64, f64) {
    let loader = train_loader(cfg, data, device);
    sync(device);
    let t0 = Instant::now();
    for batch in loader.epoch(0) {
        std::hint::black_box(&batch);
    }
    sync(device);
    let loader_s = t0.elapsed().as_secs_f64();
    let mut s = f64::INFINITY;
    for epoch in 1..=cfg.epochs.max(1) {
        let t0 = Instant::now();
        for batch in loader.epoch(epoch) {
            let (loss, logits) =
                train_step(net, opt, &batch.images, &batch.labels, cfg.train.lr, &cfg.train);
            *loss_sum += loss.to_kind(Kind::Double);
            let _ = logits.argmax(-1, false).eq_tensor(&batch.labels).sum(Kind::Int64);
        }
        sync(device);
        s = s.min(t0.elapsed().as_secs_f64());
    }
    (loader.len() as f64 / s, s, loader_s / s)
}

/// Seconds of whole training epochs (the real loader, as `fit` runs them) of each of `cfgs`,
/// in `rounds` interleaved rounds after one untimed epoch each: `seconds[round][config]`.
/// One epoch of every config per round, in reverse order every other round: drift slower than
/// a round slows the configs of a round alike and cancels in their ratios, and drift within a
/// round does not favour one config. All configs share `cfgs[0]`'s threads and device.
pub fn epoch_rounds(
    cfgs: &[BenchConfig],
    data: &Dataset,
    rounds: usize,
) -> anyhow::Result<Vec<Vec<f64>>> {
    let Some(first) = cfgs.first() else { return Ok(vec![]) };
    if let Some(t) = first.train.threads {
        tch::set_num_threads(t as i32);
    }
    let device = first.train.device.resolve()?;
    crate::device::prepare_training(device, first.train.bf16)?;
    tch::manual_seed(0);
    let mut models = Vec::new();
    for cfg in cfgs {
        let vs = nn::VarStore::new(device);
        let net = ResNet::new(&vs.root(), &cfg.model)?;
        if cfg.train.channels_last {
            crate::model::weights_to_channels_last(&vs);
        }
        let opt = Optimizer::new(&vs, &cfg.train);
        models.push((cfg, vs, net, opt, train_loader(cfg, data, device)));
    }
    let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
    let mut epoch = |m: &mut (&BenchConfig, nn::VarStore, ResNet, Optimizer, Loader), e: usize| {
        let (cfg, _, net, opt, loader) = m;
        let t0 = Instant::now();
        for batch in loader.epoch(e) {
            let (loss, _) =
                train_step(net, opt, &batch.images, &batch.labels, cfg.train.lr, &cfg.train);
            loss_sum += loss.to_kind(Kind::Double);
        }
        sync(device);
        t0.elapsed().as_secs_f64()
    };
    for m in models.iter_mut() {
        epoch(m, 0);
    }
    let mut seconds = Vec::new();
    for r in 1..=rounds {
        let mut times = vec![0.0; models.len()];
        let mut order: Vec<usize> = (0..models.len()).collect();
        if r % 2 == 0 {
            order.reverse();
        }
        for i in order {
            times[i] = epoch(&mut models[i], r);
        }
        seconds.push(times);
    }
    anyhow::ensure!(loss_sum.double_value(&[]).is_finite(), "benchmark loss diverged");
    Ok(seconds)
}

/// Run the in-memory measurements, and the epoch when `data` is given.
pub fn run(cfg: &BenchConfig, data: Option<&Dataset>) -> anyhow::Result<BenchResult> {
    if let Some(t) = cfg.train.threads {
        tch::set_num_threads(t as i32);
    }
    let device = cfg.train.device.resolve()?;
    if cfg.train.channels_last {
        cfg.model.check_cpu_channels_last(device, cfg.size)?;
    }
    crate::device::prepare_training(device, cfg.train.bf16)?;
    tch::manual_seed(0);
    let b = cfg.batch_size as i64;
    let mut xs =
        Tensor::randn([b, cfg.model.in_channels, cfg.size, cfg.size], (Kind::Float, device));
    if cfg.train.channels_last {
        xs = crate::device::to_channels_last(&xs);
    }
    let ys = Tensor::randint(cfg.model.num_classes, [b], (Kind::Int64, device));
    let vs = nn::VarStore::new(device);
    let net = ResNet::new(&vs.root(), &cfg.model)?;
    let parameters = crate::model::parameter_count(&vs);
    let mut opt = Optimizer::new(&vs, &cfg.train);
    let mut loss_sum = Tensor::zeros([], (Kind::Double, device));
    if cfg.train.channels_last {
        crate::model::weights_to_channels_last(&vs);
    }
    let (step_img_s, raw_step_img_s) =
        step_throughput(cfg, device, &net, &mut opt, &xs, &ys, &mut loss_sum)?;
    let eval_img_s = {
        let _g = tch::no_grad_guard();
        (0..3)
            .map(|_| {
                timed(device, cfg.steps, b, &mut || drop(forward(&net, &xs, false, &cfg.train)))
            })
            .fold(0.0, f64::max)
    };
    let epoch = data.map(|d| epoch_throughput(cfg, device, d, &net, &mut opt, &mut loss_sum));
    anyhow::ensure!(loss_sum.double_value(&[]).is_finite(), "benchmark loss diverged");
    Ok(BenchResult {
        name: cfg.name.clone(),
        device: format!("{device:?}"),
        threads: tch::get_num_threads(),
        size: cfg.size,
        batch_size: cfg.batch_size,
        parameters,
        step_img_s,
        raw_step_img_s,
        eval_img_s,
        epoch_img_s: epoch.map(|e| e.0),
        epoch_seconds: epoch.map(|e| e.1),
        loader_share: epoch.map(|e| e.2),
        peak_rss_mib: peak_rss_mib(),
    })
}

impl BenchResult {
    pub const HEADER: &'static str = "| benchmark | device | threads | size | batch | params | \
        step img/s | raw libtorch step img/s | step/raw | eval img/s | epoch img/s | loader share \
        | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// A markdown table row.
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0} | {:.3} | {:.0} | {} | {} | {:.0} |",
            self.name,
            self.device,
            self.threads,
            self.size,
            self.batch_size,
            self.parameters,
            self.step_img_s,
            self.raw_step_img_s,
            self.step_img_s / self.raw_step_img_s,
            self.eval_img_s,
            self.epoch_img_s.map_or("-".into(), |v| format!("{v:.0}")),
            self.loader_share.map_or("-".into(), |v| format!("{:.2}%", 100.0 * v)),
            self.peak_rss_mib
        )
    }
}
