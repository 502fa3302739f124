//! Data benchmark: decode+cache throughput and the loader's share of an epoch.
//!
//!     cargo bench --bench data            (make bench-data)
//!
//! Measures, on this machine:
//! 1. decode + cache of a synthetic ImageFolder tree (64×64 PNG/JPEG) — images/s, cold and warm;
//! 2. decode + cache of Fashion-MNIST (IDX) — images/s, cold and warm;
//! 3. one epoch of the loader alone (shuffle, flips, normalise) vs the same epoch
//!    with a training step of the small CPU profile (small stem, width 16, 28×28×1).
use convlab::data::{Augment, DataConfig, Dataset, Loader, Source, SynthConfig, synthetic};
use convlab::model::{Norm, ResNet, ResNetConfig, Stem};
use std::time::Instant;
use tch::nn::{self, ModuleT, OptimizerConfig};

fn main() -> anyhow::Result<()> {
    let threads = tch::get_num_threads();
    let tmp = tempfile::tempdir()?;
    println!(
        "convlab data benchmark — {threads} libtorch threads, {} rayon threads",
        rayon::current_num_threads()
    );

    // 1. Synthetic ImageFolder tree.
    let root = tmp.path().join("synthetic");
    let sc = SynthConfig {
        classes: 10,
        train_per_class: 400,
        val_per_class: 50,
        test: 0,
        size: 64,
        seed: 0,
        mixed_formats: true,
        ..Default::default()
    };
    synthetic::write_image_folder(&root, &sc)?;
    let cfg = DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        ..DataConfig::new(Source::ImageFolder { root })
    };
    let cold = Dataset::load(&cfg)?;
    let warm = Dataset::load(&cfg)?;
    let n = (cold.train.len() + cold.val.len()) as f64;
    println!(
        "| synthetic 64×64 PNG/JPEG | {n} images | cold {:.2} s = {:.0} img/s | warm {:.3} s |",
        cold.seconds,
        n / cold.seconds,
        warm.seconds
    );
    let mut results = vec![(
        format!("decode + cache, synthetic 64×64 PNG/JPEG tree, {n} images: cold / from the cache"),
        format!("{:.2} s ({:.0} img/s) / {:.3} s", cold.seconds, n / cold.seconds, warm.seconds),
    )];

    // 2. Fashion-MNIST.
    let cfg = DataConfig {
        cache_dir: Some(tmp.path().join("cache")),
        ..DataConfig::new(Source::fashion_mnist())
    };
    let cold = Dataset::load(&cfg)?;
    let warm = Dataset::load(&cfg)?;
    let n = (cold.train.len() + cold.val.len() + cold.test.as_ref().map_or(0, |t| t.len())) as f64;
    println!(
        "| Fashion-MNIST IDX 28×28 | {n} images | cold {:.2} s = {:.0} img/s | warm {:.3} s |",
        cold.seconds,
        n / cold.seconds,
        warm.seconds
    );
    results.push((
        format!("decode + cache, Fashion-MNIST IDX, {n} images: cold / from the cache"),
        format!("{:.2} s ({:.0} img/s) / {:.3} s", cold.seconds, n / cold.seconds, warm.seconds),
    ));

    // 3. Loader share of an epoch, small CPU profile.
    let ds = DataConfig { train_per_class: Some(200), ..cfg };
    let ds = Dataset::load(&ds)?;
    let device = tch::Device::Cpu;
    let loader =
        Loader::new(&ds.train, &ds.stats, 64, device).shuffle(1).augment(Augment::flips(0.1));
    let t = Instant::now();
    let mut sink = 0.0;
    for b in loader.epoch(0) {
        sink += b.images.double_value(&[0, 0, 0, 0]);
    }
    let loader_s = t.elapsed().as_secs_f64();
    let vs = nn::VarStore::new(device);
    let mcfg = ResNetConfig {
        stem: Stem::Small,
        width: 16,
        in_channels: 1,
        num_classes: 10,
        norm: Norm::Batch,
        ..Default::default()
    };
    let net = ResNet::new(&vs.root(), &mcfg)?;
    let mut opt = nn::Sgd { momentum: 0.9, ..Default::default() }.build(&vs, 1e-3)?;
    let t = Instant::now();
    for b in loader.epoch(1) {
        let loss = net.forward_t(&b.images, true).cross_entropy_for_logits(&b.labels);
        opt.backward_step(&loss);
    }
    let epoch_s = t.elapsed().as_secs_f64();
    println!(
        "| loader, {} images, batch 64, flips | loader alone {:.3} s | epoch with training {:.2} \
            s ({:.0} img/s) | loader share {:.2}% |",
        loader.len(),
        loader_s,
        epoch_s,
        loader.len() as f64 / epoch_s,
        100.0 * loader_s / epoch_s
    );
    results.push((
        format!(
            "the loader's share of an epoch ({} images, batch 64, flips; width-16 model)",
            loader.len()
        ),
        format!("{:.3} s of {:.2} s = {:.2}%", loader_s, epoch_s, 100.0 * loader_s / epoch_s),
    ));
    std::hint::black_box(sink);
    // Into bench/results.jsonl with the machine, date and commit (bench/record.py).
    let args: Vec<String> = results.iter().map(|(m, v)| format!("{m}={v}")).collect();
    let status = std::process::Command::new("python3")
        .arg("bench/record.py")
        .arg("make bench-data")
        .args(&args)
        .status()?;
    anyhow::ensure!(status.success(), "bench/record.py failed");
    Ok(())
}
