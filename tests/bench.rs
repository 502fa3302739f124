//! The benchmark harness measures what it says (speed goals themselves are checked by running it,
//! not here).
use convlab::bench::{BenchConfig, epoch_rounds, run};
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
    // Rounds of epochs: one time per config per round, each a whole epoch's.
    let deeper = BenchConfig {
        model: ResNetConfig { blocks: [2, 1, 1, 1], ..cfg.model.clone() },
        ..cfg.clone()
    };
    let rounds = epoch_rounds(&[cfg.clone(), deeper], &data, 3).unwrap();
    assert_eq!(rounds.len(), 3);
    assert!(rounds.iter().all(|r| r.len() == 2 && r.iter().all(|&s| s.is_finite() && s > 0.0)));
    for v in [r.step_img_s, r.raw_step_img_s, r.eval_img_s, r.epoch_img_s.unwrap()] {
        assert!(v.is_finite() && v > 0.0, "{r:?}");
    }
    let share = r.loader_share.unwrap();
    assert!(share > 0.0 && share < 1.0, "the loader is part of the epoch: {share}");
    // The epoch's rate is its images over its seconds: the 120 training images, whatever the
    // machine's speed (no timing is asserted).
    let images = r.epoch_img_s.unwrap() * r.epoch_seconds.unwrap();
    assert!((images - 120.0).abs() < 1e-6, "{r:?}");
    assert!(r.peak_rss_mib > 10.0);
    let row = r.row();
    assert!(
        row.starts_with("| tiny | Cpu |")
            && row.matches('|').count()
                == convlab::bench::BenchResult::HEADER.lines().next().unwrap().matches('|').count()
    );
}
