//! The benchmark harness measures what it says (speed goals themselves are checked by running it,
//! not here).
use convlab::bench::{BenchConfig, run};
use convlab::data::{DataConfig, Dataset, Source, SynthConfig, synthetic};
use convlab::device::Device;
use convlab::model::{ResNetConfig, Stem};
use convlab::train::TrainConfig;

#[test]
fn bench_reports_consistent_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    synthetic::write_image_folder(
        &root,
        &SynthConfig {
            classes: 3,
            train_per_class: 40,
            val_per_class: 4,
            test: 0,
            size: 16,
            seed: 2,
            mixed_formats: false,
            ..Default::default()
        },
    )
    .unwrap();
    let data = Dataset::load(&DataConfig {
        cache_dir: Some(tmp.path().join("c")),
        ..DataConfig::new(Source::ImageFolder { root })
    })
    .unwrap();
    let cfg = BenchConfig {
        name: "tiny".into(),
        model: ResNetConfig {
            stem: Stem::Small,
            width: 4,
            blocks: [1, 1, 1, 1],
            num_classes: 3,
            ..Default::default()
        },
        size: 16,
        batch_size: 16,
        steps: 3,
        warmup: 1,
        epochs: 2,
        train: TrainConfig { device: Device::Cpu, ..Default::default() },
    };
    let r = run(&cfg, Some(&data)).unwrap();
    for v in [r.step_img_s, r.raw_step_img_s, r.eval_img_s, r.epoch_img_s.unwrap()] {
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }
    let share = r.loader_share.unwrap();
    assert!(share > 0.0 && share < 1.0, "the loader is part of the epoch: {share}");
    assert!(r.eval_img_s > r.step_img_s, "evaluation is cheaper than a training step: {r:?}");
    assert!(r.peak_rss_mib > 10.0);
    let row = r.row();
    assert!(
        row.starts_with("| tiny | Cpu |")
            && row.matches('|').count()
                == convlab::bench::BenchResult::HEADER.lines().next().unwrap().matches('|').count()
    );
}
