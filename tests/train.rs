//! Training end to end on a synthetic ImageFolder tree: learning, determinism,
//! resuming, divergence, predictions, cached results, several seeds.
use convlab::data::{DataConfig, Dataset, Source, SynthConfig, synthetic};
use convlab::device::Device;
use convlab::model::{ResNetConfig, Stem};
use convlab::train::{
    EpochRecord, Experiment, FitError, Run, RunConfig, RunOptions, Schedule, TrainConfig,
};
use std::path::Path;

fn dataset(dir: &Path) -> Dataset {
    let root = dir.join("tree");
    let s = SynthConfig {
        classes: 4,
        train_per_class: 48,
        val_per_class: 16,
        test: 10,
        size: 16,
        seed: 5,
        mixed_formats: true,
        ..Default::default()
    };
    synthetic::write_image_folder(&root, &s).unwrap();
    let cfg = DataConfig {
        cache_dir: Some(dir.join("cache")),
        ..DataConfig::new(Source::ImageFolder { root })
    };
    Dataset::load(&cfg).unwrap()
}

fn config(data: &Dataset, epochs: usize) -> RunConfig {
    RunConfig {
        model: ResNetConfig {
            stem: Stem::Small,
            blocks: [1, 1, 1, 1],
            width: 8,
            num_classes: 4,
            ..Default::default()
        },
        data: data.config.clone(),
        train: TrainConfig {
            epochs,
            batch_size: 32,
            lr: 0.05,
            schedule: Schedule::Step { step_size: 3, gamma: 0.5 },
            device: Device::Cpu,
            threads: Some(1),
            ..Default::default()
        },
    }
}

/// libtorch's CPU state (its generator, thread pools) is shared by the test threads of
/// this binary; bit-for-bit comparisons between runs hold for runs that do not overlap,
/// so the tests here take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn quiet() -> RunOptions {
    RunOptions { quiet: true, ..Default::default() }
}

/// Everything but the wall-clock fields.
fn numbers(h: &[EpochRecord]) -> Vec<[f64; 7]> {
    h.iter()
        .map(|r| {
            [r.epoch as f64, r.lr, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.val_top5]
        })
        .collect()
}

#[test]
fn learns_deterministically_and_records_everything() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let cfg = config(&data, 6);
    let a = Run::execute(&tmp.path().join("a"), &cfg, &data, &quiet()).unwrap();
    let s = a.summary.clone().unwrap();
    assert!(s.best_val_acc >= 0.75, "4 classes, chance 0.25; best val acc {}", s.best_val_acc);
    assert!(a.history.last().unwrap().train_loss < a.history[0].train_loss);
    assert_eq!(a.history.len(), 6);
    assert_eq!(a.history[3].lr, 0.025);
    for f in [
        "config.json",
        "history.csv",
        "best.safetensors",
        "last.safetensors",
        "summary.json",
        "test.txt",
    ] {
        assert!(a.dir.join(f).exists(), "{f} missing");
    }
    let config_json = std::fs::read_to_string(a.dir.join("config.json")).unwrap();
    assert!(
        config_json.contains("\"code_version\"") && config_json.contains("\"model\""),
        "{config_json}"
    );

    // Same seed, same history (CPU is deterministic).
    let b = Run::execute(&tmp.path().join("b"), &cfg, &data, &quiet()).unwrap();
    assert_eq!(numbers(&a.history), numbers(&b.history));
    // Another seed, another history.
    let mut other = cfg.clone();
    other.train.seed = 7;
    let c = Run::execute(&tmp.path().join("c"), &other, &data, &quiet()).unwrap();
    assert_ne!(numbers(&a.history), numbers(&c.history));

    // test.txt: one line per test image, `<file>\t<class>`, sorted.
    let text = std::fs::read_to_string(a.dir.join("test.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10);
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    for l in &lines {
        let (file, class) = l.split_once('\t').unwrap();
        assert!(file.starts_with("img") && data.classes.contains(&class.to_string()), "{l}");
    }

    // The best checkpoint reproduces the best validation accuracy.
    let (_vs, net) = a.load_best(tch::Device::Cpu).unwrap();
    let loader = convlab::data::Loader::new(&data.val, &data.stats, 64, tch::Device::Cpu);
    let ev = convlab::train::evaluate(&net, &loader, &cfg.train);
    assert!((ev.acc - s.best_val_acc).abs() < 1e-9, "{} vs {}", ev.acc, s.best_val_acc);
}

#[test]
fn interrupted_run_resumes_to_the_same_history() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let cfg = RunConfig {
        model: ResNetConfig { dropout: 0.2, ..config(&data, 5).model },
        ..config(&data, 5)
    };
    let full = Run::execute(&tmp.path().join("full"), &cfg, &data, &quiet()).unwrap();

    let dir = tmp.path().join("cut");
    let err = Run::execute(&dir, &cfg, &data, &RunOptions { stop_after: Some(2), ..quiet() })
        .unwrap_err();
    assert!(err.to_string().contains("stopped after epoch 2"), "{err}");
    // Without --resume an unfinished run is refused, with a hint.
    let err = Run::execute(&dir, &cfg, &data, &quiet()).unwrap_err().to_string();
    assert!(err.contains("unfinished (2/5 epochs)") && err.contains("--resume"), "{err}");
    // A second interruption, then the rest.
    let _ = Run::execute(
        &dir,
        &cfg,
        &data,
        &RunOptions { resume: true, stop_after: Some(1), ..quiet() },
    )
    .unwrap_err();
    let resumed = Run::execute(&dir, &cfg, &data, &RunOptions { resume: true, ..quiet() }).unwrap();
    assert_eq!(numbers(&resumed.history), numbers(&full.history));
    let (a, b) = (full.summary.unwrap(), resumed.summary.unwrap());
    assert_eq!(
        (a.best_val_acc, a.best_epoch, a.test_acc),
        (b.best_val_acc, b.best_epoch, b.test_acc)
    );
    // The record says where it resumed, not a silent restart.
    assert_eq!(a.resumed_at, Vec::<usize>::new());
    assert_eq!(b.resumed_at, [2, 3]);
    assert_eq!(
        Run::open(&dir).unwrap().summary.unwrap().resumed_at,
        [2, 3],
        "summary.json holds it"
    );
    assert!(!dir.join("resumed.json").exists(), "the interim record is folded into summary.json");
    assert_eq!(
        std::fs::read(full.dir.join("test.txt")).unwrap(),
        std::fs::read(dir.join("test.txt")).unwrap()
    );
}

#[test]
fn divergence_stops_with_a_clear_recorded_error() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let mut cfg = config(&data, 3);
    cfg.train.lr = 1e9;
    cfg.model.norm = convlab::model::Norm::None;
    let dir = tmp.path().join("nan");
    let err = Run::execute(&dir, &cfg, &data, &quiet()).unwrap_err();
    let fit = err.downcast_ref::<FitError>().expect("a FitError");
    assert!(matches!(fit, FitError::NonFinite { epoch: 1, .. }), "{fit:?}");
    assert!(err.to_string().contains("diverged"), "{err}");
    let recorded = std::fs::read_to_string(dir.join("error.txt")).unwrap();
    assert!(recorded.contains("loss became") && recorded.contains("lr 1e9"), "{recorded}");
    assert!(!dir.join("summary.json").exists());
}

#[test]
fn finished_runs_are_reused_and_other_configs_refused() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let cfg = config(&data, 2);
    let dir = tmp.path().join("r");
    let first = Run::execute(&dir, &cfg, &data, &quiet()).unwrap();
    let stamp = std::fs::metadata(dir.join("history.csv")).unwrap().modified().unwrap();
    let again = Run::execute(&dir, &cfg, &data, &quiet()).unwrap();
    assert_eq!(again.summary, first.summary);
    assert_eq!(
        std::fs::metadata(dir.join("history.csv")).unwrap().modified().unwrap(),
        stamp,
        "no retraining"
    );

    let mut changed = cfg.clone();
    changed.train.lr = 0.01;
    let err = Run::execute(&dir, &changed, &data, &quiet()).unwrap_err().to_string();
    assert!(
        err.contains("different config")
            && err.contains("train.lr: 0.05 → 0.01")
            && err.contains("--force"),
        "{err}"
    );
    let forced =
        Run::execute(&dir, &changed, &data, &RunOptions { force: true, ..quiet() }).unwrap();
    assert_eq!(forced.history[0].lr, 0.01);
    assert_eq!(Run::open(&dir).unwrap().config.train.lr, 0.01);
}

#[test]
fn several_seeds_give_mean_and_std() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let exp = Experiment { name: "tiny".into(), config: config(&data, 2), seeds: vec![1, 2, 3] };
    let (summary, runs) = exp.run(&tmp.path().join("runs"), &data, &quiet()).unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(summary.seeds, [1, 2, 3]);
    let accs: Vec<f64> = runs.iter().map(|r| r.summary.as_ref().unwrap().best_val_acc).collect();
    let mean = accs.iter().sum::<f64>() / 3.0;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!(
        (summary.best_val_acc_mean - mean).abs() < 1e-12
            && (summary.best_val_acc_std - std).abs() < 1e-12
    );
    assert!(tmp.path().join("runs/tiny/seed-2/history.csv").exists());
    let listed = convlab::train::list_runs(&tmp.path().join("runs")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], summary);
}

/// The full profile's GPU switches on a machine without one: bf16 autocast is CUDA-only
/// and must leave CPU training exactly as it was; channels-last must train the same
/// model (other kernels, so equal up to rounding) and save weights that load back.
#[test]
fn full_profile_switches_fall_back_on_the_cpu() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let mut cfg = config(&data, 2);
    cfg.model.width = 16; // channels-last on the CPU wants ≥ 16 channels (see check_cpu_channels_last)
    let run = |name: &str, bf16: bool, channels_last: bool| {
        let mut c = cfg.clone();
        c.train.bf16 = bf16;
        c.train.channels_last = channels_last;
        Run::execute(&tmp.path().join(name), &c, &data, &quiet()).unwrap()
    };
    let full = run("full", true, true);
    let nhwc = run("nhwc", false, true);
    let nchw = run("nchw", false, false);
    assert_eq!(numbers(&full.history), numbers(&nhwc.history), "bf16 must be a no-op on the CPU");
    // Rounding differences grow with every step (lr 0.05): the first epoch's losses agree
    // within 2%, and every epoch's accuracies within a few images.
    let close = |x: f64, y: f64| (x - y).abs() <= 0.02 * y.abs();
    let (a, b) = (&full.history[0], &nchw.history[0]);
    assert!(
        close(a.train_loss, b.train_loss) && close(a.val_loss, b.val_loss),
        "NHWC {a:?} vs NCHW {b:?}"
    );
    for (a, b) in full.history.iter().zip(&nchw.history) {
        assert!(
            (a.train_acc - b.train_acc).abs() <= 0.05 && (a.val_acc - b.val_acc).abs() <= 0.05,
            "NHWC {a:?} vs NCHW {b:?}"
        );
    }
    assert_ne!(numbers(&nchw.history)[0][2], 0.0);
    // The checkpoint of a channels-last run holds plain tensors that a fresh model loads.
    let mut vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let _net = convlab::model::ResNet::new(&vs.root(), &cfg.model).unwrap();
    vs.load(full.dir.join("best.safetensors")).unwrap();
}

/// Each source of randomness has its own seed when asked: with the weights', the data's and
/// dropout's seeds all fixed, the run seed changes nothing; with only the init fixed, two
/// seeds start from the same weights and part ways. A replay (`train::trace`) of a recorded
/// run reproduces its training loss, step by step; and the run records where its time went.
#[test]
fn seeds_per_source_replays_and_phases() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let base = config(&data, 2);
    let with = |seed: u64, init: Option<u64>, data_seed: Option<u64>, dropout: Option<u64>| {
        let mut c = base.clone();
        c.model.dropout = 0.3;
        c.train.seed = seed;
        (c.train.init_seed, c.train.data_seed, c.train.dropout_seed) = (init, data_seed, dropout);
        c
    };
    let run = |name: &str, c: &RunConfig| {
        Run::execute(
            &tmp.path().join(name),
            c,
            &data,
            &RunOptions { score_last_epoch: true, ..quiet() },
        )
        .unwrap()
    };
    let fixed = |seed| with(seed, Some(7), Some(7), Some(7));
    let (a, b) = (run("a", &fixed(1)), run("b", &fixed(2)));
    assert_eq!(
        numbers(&a.history),
        numbers(&b.history),
        "every source fixed: the run seed changes nothing"
    );
    let c = run("c", &with(1, Some(7), None, None));
    let d = run("d", &with(2, Some(7), None, None));
    let init = |r: &Run| {
        r.initial(tch::Device::Cpu)
            .unwrap()
            .0
            .variables()
            .into_iter()
            .map(|(n, t)| (n, Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(init(&c), init(&d), "the same initial weights");
    assert_ne!(numbers(&c.history), numbers(&d.history), "another data order and dropout");
    assert_ne!(init(&c), init(&run("e", &with(1, None, None, None))), "init_seed 7 is not seed 1");

    // The replay: the same steps, so each epoch's mean training loss is the record's.
    let steps = convlab::train::trace(&c.config, &data, 2).unwrap();
    assert_eq!(steps.len(), 2 * data.train.len().div_ceil(32));
    for (e, rec) in c.history.iter().enumerate() {
        let (sum, n) = steps
            .iter()
            .filter(|s| s.epoch == e + 1)
            .fold((0.0, 0), |(l, n), s| (l + s.loss * s.images as f64, n + s.images));
        assert!(
            (sum / n as f64 - rec.train_loss).abs() < 1e-9,
            "epoch {}: {} vs {}",
            e + 1,
            sum / n as f64,
            rec.train_loss
        );
    }
    assert!(steps.iter().all(|s| s.grad_norm.is_finite() && s.grad_norm > 0.0));

    let s = c.summary.unwrap();
    let p = s.phases.expect("phases are recorded");
    assert!(
        p.setup > 0.0 && p.train > 0.0 && p.validate > 0.0 && p.write > 0.0 && p.finish > 0.0,
        "{p:?}"
    );
    assert!(
        p.setup + p.train + p.validate + p.write + p.finish
            <= s.wall_seconds + p.setup + p.finish + 0.5,
        "{p:?} vs {}",
        s.wall_seconds
    );
}
