//! The study: sections match the paper, profiles map its recipe, a smoke study runs end to end.
mod common;
use convlab::data::Source;
use convlab::device::Device;
use convlab::model::{Norm, Stem};
use convlab::plan::{Profile, paper_plan as report, paper_section as section};
use convlab::settings::ProfileName;
use convlab::settings::Settings;
use convlab::study::Study;
use convlab::train::Schedule;
use std::path::Path;

#[test]
fn sections_and_variants_match_the_report() {
    let keys: Vec<&str> = report().sections.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "baseline",
            "xknet18",
            "width",
            "augmentation",
            "dropout",
            "normalization",
            "lr-decay",
            "residual",
            "depth"
        ]
    );
    let variants =
        |k: &str| section(k).unwrap().variants.iter().map(|v| v.key.as_str()).collect::<Vec<_>>();
    assert_eq!(variants("baseline"), ["resnet18"]);
    assert_eq!(variants("xknet18"), ["resnet18", "xknet18"]);
    assert_eq!(variants("width"), ["xknet18", "xknet18-half"]);
    assert_eq!(variants("augmentation"), ["xknet18", "flips-0.05", "flips-0.1"]);
    assert_eq!(variants("dropout"), ["xknet18", "dropout-0.1", "dropout-0.2", "dropout-0.3"]);
    assert_eq!(variants("normalization"), ["xknet18", "norm-none", "instance", "instance-affine"]);
    assert_eq!(variants("lr-decay"), ["xknet18", "constant-lr-1e-3", "constant-lr-1e-4"]);
    assert_eq!(variants("residual"), ["xknet18", "no-residual"]);
    assert_eq!(variants("depth"), ["resnet14", "xknet18", "resnet34"]);
    // The paper's numbers.
    let reported: Vec<(&str, f64)> = report()
        .variants()
        .iter()
        .filter_map(|v| v.reported.map(|r| (v.key.as_str(), r)))
        .collect();
    assert_eq!(
        reported,
        [
            ("resnet18", 0.3916),
            ("xknet18", 0.4592),
            ("xknet18-half", 0.4096),
            ("flips-0.05", 0.4534),
            ("flips-0.1", 0.4536),
            ("instance", 0.0658),
            ("no-residual", 0.4184)
        ]
    );
    assert!(
        section("pooling")
            .unwrap_err()
            .to_string()
            .contains("sections of paper: baseline, xknet18")
    );
}

/// The fields (as `model.x` / `train.x`) in which two run configs differ.
fn changed(a: &convlab::train::RunConfig, b: &convlab::train::RunConfig) -> Vec<String> {
    let (a, b) = (serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
    let mut out = vec![];
    for part in ["model", "train"] {
        for (k, v) in a[part].as_object().unwrap() {
            if b[part][k] != *v {
                out.push(format!("{part}.{k}"));
            }
        }
    }
    out
}

#[test]
fn full_profile_is_the_reports_recipe_and_ablations_change_one_thing() {
    let tmp = tempfile::tempdir().unwrap();
    // A tiny 64×64 tree stands in for the user's data (its classes set num_classes).
    let root = tmp.path().join("exp2");
    common::tiny_tree(&root, 5, 2, 64);
    let mut p = Profile::full(Source::ImageFolder { root }, None);
    p.data.cache_dir = Some(tmp.path().join("cache"));
    let data = convlab::data::Dataset::load(&p.data).unwrap();
    let cfg = |k: &str| p.config(&report().resolve(k).unwrap(), &data).unwrap();

    let base = cfg("resnet18");
    assert_eq!(
        (base.model.stem, base.model.width, base.model.blocks, base.model.num_classes),
        (Stem::ImageNet, 64, [2, 2, 2, 2], 5)
    );
    let t = &base.train;
    assert_eq!((t.epochs, t.batch_size, t.lr, t.momentum, t.seed), (25, 64, 1e-3, 0.9, 20211108));
    assert_eq!(t.schedule, Schedule::Step { step_size: 7, gamma: 0.1 });
    // The GPU fast paths reach every run of the profile.
    assert!(t.channels_last && t.bf16, "{t:?}");
    assert_eq!(data.shape(), [3, 64, 64]);

    let xk = cfg("xknet18");
    assert_eq!(changed(&xk, &base), ["model.stem"]);
    let half = cfg("xknet18-half");
    assert_eq!(changed(&half, &xk), ["model.width", "train.schedule"]); // sorted field names
    assert_eq!(
        (half.model.width, half.train.schedule),
        (32, Schedule::Step { step_size: 4, gamma: 0.3 })
    );
    let one_change: [(&str, &[&str]); 12] = [
        ("flips-0.05", &["train.augment"]),
        ("flips-0.1", &["train.augment"]),
        ("dropout-0.1", &["model.norm", "model.dropout"]),
        ("dropout-0.2", &["model.norm", "model.dropout"]),
        ("dropout-0.3", &["model.norm", "model.dropout"]),
        ("norm-none", &["model.norm"]),
        ("instance", &["model.norm"]),
        ("instance-affine", &["model.norm"]),
        ("constant-lr-1e-3", &["train.schedule"]),
        ("constant-lr-1e-4", &["train.lr", "train.schedule"]),
        ("no-residual", &["model.residual"]),
        ("resnet34", &["model.blocks"]),
    ];
    for (k, fields) in one_change {
        let mut want: Vec<&str> = fields.to_vec();
        want.sort();
        assert_eq!(changed(&cfg(k), &xk), want, "{k}");
    }
    assert_eq!(cfg("flips-0.1").train.augment.vflip, 0.1);
    assert_eq!(cfg("dropout-0.3").model.norm, Norm::None);
    assert_eq!(cfg("instance").model.norm, Norm::Instance { affine: false });
    assert_eq!(cfg("constant-lr-1e-4").train.lr, 1e-4);
    assert_eq!(cfg("resnet14").model.blocks, [1, 2, 2, 1]);
}

#[test]
fn quick_profile_scales_the_recipe_by_its_rule() {
    let q = Profile::quick();
    assert_eq!(q.scaled_step(7), 2); // 7 · 6/25
    assert_eq!(q.scaled_step(4), 1);
    assert_eq!(q.lr_scale, 20.0);
    assert!(q.seeds.len() >= 5, "quick runs enough seeds for a verdict on effects of a few pp");
    // What keeps no-BN runs from stalling, and what the statistics score
    // (docs/decisions/quick-profile.md).
    assert_eq!((q.clip_grad_norm, q.score), (Some(3.0), convlab::plan::Score::TestAtBest));
    assert_eq!(
        Profile::full(Source::fashion_mnist(), None).clip_grad_norm,
        None,
        "the full profile keeps the paper's recipe"
    );
    assert_eq!(q.map(&q.base()).train.clip_grad_norm, Some(3.0), "every variant is clipped");
    let mut own = q.base();
    own.train.clip_grad_norm = Some(1.0);
    assert_eq!(q.map(&own).train.clip_grad_norm, Some(1.0), "a variant's own clip wins");
    let defaults = Settings::defaults(Path::new("/p"), Path::new("/c"));
    let err = Profile::resolve(&Settings { profile: ProfileName::Full, ..defaults.clone() })
        .unwrap_err()
        .to_string();
    assert!(err.contains("CONVLAB_DATA"), "{err}");
    assert!("medium".parse::<ProfileName>().unwrap_err().contains("full, quick or smoke"));
}

#[test]
fn settings_reach_the_profile() {
    let defaults = Settings::defaults(Path::new("/p"), Path::new("/c"));
    // Nothing set: the quick profile as written, caching under the settings' directory.
    let q = Profile::resolve(&defaults).unwrap();
    assert_eq!(
        q,
        Profile {
            data: convlab::data::DataConfig {
                cache_dir: Some("/c".into()),
                ..Profile::quick().data
            },
            ..Profile::quick()
        }
    );
    // Each setting replaces the profile's value, and only it.
    let s = Settings {
        seeds: Some(vec![5, 6, 7]),
        epochs: Some(3),
        device: Some(Device::Cpu),
        classes: Some(4),
        fashion_mnist: "/fm".into(),
        ..defaults.clone()
    };
    let p = Profile::resolve(&s).unwrap();
    assert_eq!(
        (p.seeds, p.epochs, p.device, p.data.classes),
        (vec![5, 6, 7], 3, Device::Cpu, Some(4))
    );
    assert_eq!(
        p.data.source,
        Source::FashionMnist { dir: "/fm".into() },
        "fashion-mnist found where the settings say"
    );
    assert_eq!((p.width, p.lr_scale, p.batch_size), (16, 20.0, 64));
    // full on the user's data; smoke's tree under the cache directory.
    let f = Profile::resolve(&Settings {
        profile: ProfileName::Full,
        data: Some(Source::ImageFolder { root: "/d".into() }),
        classes: Some(100),
        ..defaults.clone()
    })
    .unwrap();
    assert_eq!(
        (f.data.source.path(), f.data.classes, f.epochs, f.seeds),
        (Path::new("/d"), Some(100), 25, vec![20211108, 1, 2])
    );
    let smoke = Profile::resolve(&Settings { profile: ProfileName::Smoke, ..defaults }).unwrap();
    assert_eq!(smoke.data.source, Source::ImageFolder { root: "/c/smoke-tree".into() });
}

#[test]
fn smoke_study_runs_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = Settings {
        profile: ProfileName::Smoke,
        seeds: Some(vec![1, 2]),
        ..Settings::defaults(tmp.path(), &tmp.path().join("cache"))
    };
    let mut study = Study::open(&settings).unwrap();
    assert_eq!(
        (study.runs_dir.clone(), study.figures_dir.clone()),
        (tmp.path().join("runs/smoke"), tmp.path().join("figures/smoke"))
    );
    study.options.progress = false;
    study.options.quiet = true;

    let s = study.run_section("augmentation").unwrap();
    assert_eq!(s.results.len(), 3);
    let table = s.table().unwrap();
    let names: Vec<&str> = table.get_column_names().into_iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "variant",
            "best_val_by_seed",
            "best_val_mean",
            "best_val_std",
            "test_at_best_mean",
            "test_at_best_std",
            "best_val_delta_pp",
            "best_val_ci95_lo_pp",
            "best_val_ci95_hi_pp",
            "best_val_ci95_family_lo_pp",
            "best_val_ci95_family_hi_pp",
            "p_holm",
            "best_val_mde_pp",
            "margin_pp",
            "seeds_to_decide",
            "verdict",
            "paper_best_val",
            "best_epoch",
            "minutes"
        ]
    );
    // The table's numbers are the run records': each seed's, in the profile's seed order.
    let seeds = s.seed_table().unwrap();
    for (i, r) in s.results.iter().enumerate() {
        let by_seed = table.column("best_val_by_seed").unwrap().str().unwrap().get(i).unwrap();
        let want: Vec<String> =
            r.summary.runs.iter().map(|run| format!("{}", run.best_val_acc)).collect();
        assert_eq!(by_seed, want.join(" "), "{}", r.variant.key);
        for (col, run) in ["seed_1", "seed_2"].iter().zip(&r.summary.runs) {
            assert_eq!(
                seeds.column(col).unwrap().f64().unwrap().get(i),
                Some(run.best_val_acc),
                "{} {col}",
                r.variant.key
            );
        }
    }
    let verdict_col = table.column("verdict").unwrap().str().unwrap().clone();
    let verdicts: Vec<Option<&str>> = (0..table.height()).map(|i| verdict_col.get(i)).collect();
    assert_eq!(verdicts[0], Some("reference"));
    // Two seeds a side: judged over the family of 15, whose other 13 comparisons are pending and
    // still counted.
    let fam = study.family().unwrap();
    assert_eq!(fam.comparisons.len(), 15);
    let judged: Vec<&convlab::analysis::Comparison> =
        fam.comparisons.iter().filter(|c| c.welch.is_some()).collect();
    assert_eq!(
        judged.iter().map(|c| c.variant.variant.key.as_str()).collect::<Vec<_>>(),
        ["flips-0.05", "flips-0.1"]
    );
    assert_eq!(
        fam.comparisons
            .iter()
            .filter(|c| c.verdict() == convlab::analysis::Verdict::Pending)
            .count(),
        13
    );
    let smallest = judged.iter().map(|c| c.welch.unwrap().p).fold(1.0, f64::min);
    let adjusted = judged.iter().map(|c| c.p_holm.unwrap()).fold(1.0, f64::min);
    assert!(
        (adjusted - (15.0 * smallest).min(1.0)).abs() < 1e-12,
        "Holm over 15, not 2: {adjusted} vs p {smallest}"
    );
    for c in &judged {
        assert_eq!(
            s.comparison(&c.variant.variant.key),
            Some(*c),
            "the section shows the family's numbers"
        );
        assert!(verdicts.contains(&Some(c.verdict().as_str())));
    }
    let conclusion = s.conclusion();
    assert!(
        conclusion.contains("h+v flips p = 0.05:")
            && conclusion.contains("The paper: 0.4534 vs 0.4592"),
        "{conclusion}"
    );
    assert!(
        conclusion.contains("95% CI [")
            && conclusion.contains("Holm-adjusted p")
            && conclusion.contains("(15 comparisons)"),
        "{conclusion}"
    );
    // What a notebook prints: paths relative to the project, values as a user types them.
    study.options.paths = convlab::paths::PathStyle::new(Some(tmp.path().to_path_buf()), None);
    let described = study.describe();
    assert!(
        described.contains("device cpu")
            && described.ends_with("runs: runs/smoke\nfigures: figures/smoke"),
        "{described}"
    );
    assert!(
        described.contains("data (smoke profile): imagefolder at cache/smoke-tree — ImageFolder"),
        "{described}"
    );
    let written = study.export(&s).unwrap();
    assert!(
        written.starts_with(
            "wrote figures/smoke/augmentation-curves.svg\nwrote \
        figures/smoke/augmentation-curves.png"
        ),
        "{written}"
    );
    let files = s.export(&study.figures_dir).unwrap();
    assert_eq!(files.len(), 6);
    assert!(files.iter().all(|f| f.exists()));
    // The effects figure: each variant's row in its study-wide style, with the paper's own
    // difference.
    let svg = std::fs::read_to_string(study.figures_dir.join("augmentation-effects.svg")).unwrap();
    assert!(svg.contains("h+v flips p = 0.1") && svg.contains("paper&apos;s Δ"), "{svg}");
    let convlab::plot::Chart::Effects { rows, reference, .. } = &s.effects().chart else {
        panic!("an effects chart")
    };
    assert_eq!(reference.as_deref(), Some("xknet18"));
    let flips = rows.iter().find(|r| r.label == "h+v flips p = 0.1").unwrap();
    assert!((flips.paper_delta_pp.unwrap() - 100.0 * (0.4536 - 0.4592)).abs() < 1e-9);
    assert_eq!(
        flips.style,
        convlab::plan::style_of(convlab::plan::paper_variant("flips-0.1").unwrap())
    );
    let c = s.comparison("flips-0.1").unwrap();
    assert_eq!(flips.delta_pp.unwrap().0, 100.0 * c.diff().unwrap());
    assert!(rows.iter().find(|r| r.label.starts_with("xknet18")).unwrap().reference);

    // The best model: the section's best run, its confusion matrix from its best weights —
    // whose accuracy is the run's recorded best validation accuracy.
    let best = study.best_model(&s).unwrap();
    let top = s.results.iter().flat_map(|r| r.seed_accs()).fold(0.0, f64::max);
    assert_eq!(best.best_val_acc, top);
    let correct: i64 = (0..best.matrix.len()).map(|i| best.matrix[i][i]).sum();
    assert_eq!(best.matrix.iter().flatten().sum::<i64>(), study.data.val.len() as i64);
    assert!(
        (correct as f64 / study.data.val.len() as f64 - top).abs() < 1e-9,
        "{correct} correct vs best {top}"
    );
    let table = best.table().unwrap();
    assert_eq!(table.height(), study.data.classes.len());
    let col = table.column("correct").unwrap().i64().unwrap().clone();
    assert_eq!((0..col.len()).filter_map(|i| col.get(i)).sum::<i64>(), correct);

    // xknet18 is shared: the next section reuses its runs.
    let stamp = std::fs::metadata(study.runs_dir.join("xknet18/seed-1/history.csv"))
        .unwrap()
        .modified()
        .unwrap();
    let r = study.run_section("residual").unwrap();
    assert_eq!(
        std::fs::metadata(study.runs_dir.join("xknet18/seed-1/history.csv"))
            .unwrap()
            .modified()
            .unwrap(),
        stamp
    );
    assert_eq!(r.get("xknet18").unwrap().summary, s.get("xknet18").unwrap().summary);

    // The final model: confusion matrix over the validation split, predictions for test.
    let fig = study.confusion(s.get("flips-0.1").unwrap()).unwrap();
    let convlab::plot::Chart::Confusion { matrix, .. } = &fig.chart else {
        panic!("a confusion chart")
    };
    assert_eq!(matrix.iter().flatten().sum::<i64>(), study.data.val.len() as i64);
    assert!(study.runs_dir.join("flips-0.1/seed-1/test.txt").exists());

    // The runs as data: one row per finished run with its config's fields, one per epoch.
    let runs = study.runs_frame().unwrap();
    let done = study
        .units(&study.sections())
        .iter()
        .filter(|u| u.dir.join("summary.json").exists())
        .count();
    assert!(done >= 4 && runs.height() == done, "{} rows for {done} finished units", runs.height());
    let variants = runs.column("variant").unwrap().str().unwrap().clone();
    let residual = runs.column("model.residual").unwrap().bool().unwrap().clone();
    let best = runs.column("best_val_acc").unwrap().f64().unwrap().clone();
    for i in 0..runs.height() {
        let v = variants.get(i).unwrap();
        assert_eq!(residual.get(i), Some(v != "no-residual"), "{v}");
        let seed = runs.column("seed").unwrap().u64().unwrap().get(i).unwrap();
        assert_eq!(
            best.get(i),
            Some(common::best_val_acc(
                &study
                    .runs_dir
                    .join(study.run_name(convlab::plan::paper_variant(v).unwrap()))
                    .join(format!("seed-{seed}"))
            ))
        );
    }
    let history = study.history_frame().unwrap();
    assert_eq!(history.height(), done * study.profile.epochs, "every epoch of every finished run");
    let csv = std::fs::read_to_string(study.runs_dir.join("xknet18/seed-1/history.csv")).unwrap();
    let first_val_acc: f64 =
        csv.lines().nth(1).unwrap().split(',').nth(5).unwrap().parse().unwrap();
    let xk = (0..history.height())
        .find(|&i| history.column("variant").unwrap().str().unwrap().get(i) == Some("xknet18"))
        .unwrap();
    assert_eq!(history.column("val_acc").unwrap().f64().unwrap().get(xk), Some(first_val_acc));

    // The section's table is computed from its runs frame: every seed's score as stored on
    // disk, their mean and sample std.
    let frame = s.runs_frame().unwrap();
    assert_eq!(frame.height(), s.results.iter().map(|r| r.runs.len()).sum::<usize>());
    assert_eq!(s.history_frame().unwrap().height(), frame.height() * study.profile.epochs);
    let table = s.table().unwrap();
    let row = (0..table.height())
        .find(|&i| table.column("variant").unwrap().str().unwrap().get(i) == Some("flips-0.1"))
        .unwrap();
    let accs: Vec<f64> = [1, 2]
        .iter()
        .map(|seed| common::best_val_acc(&study.runs_dir.join(format!("flips-0.1/seed-{seed}"))))
        .collect();
    let cell = |c: &str| table.column(c).unwrap().f64().unwrap().get(row).unwrap();
    let by_seed = table.column("best_val_by_seed").unwrap().str().unwrap().get(row).unwrap();
    assert_eq!(by_seed, format!("{} {}", accs[0], accs[1]));
    let mean = (accs[0] + accs[1]) / 2.0;
    assert!((cell("best_val_mean") - mean).abs() <= 5e-5, "{} vs {mean}", cell("best_val_mean"));
    assert!(
        (cell("best_val_std") - (accs[0] - accs[1]).abs() / 2f64.sqrt()).abs() <= 5e-5,
        "sample std of two seeds: |a − b| / √2"
    );

    let preds = study.test_predictions(s.get("flips-0.1").unwrap(), 2).unwrap();
    assert!(preds.starts_with("runs/smoke/flips-0.1/seed-1/test.txt (8 lines)\n"), "{preds}");
    assert_eq!(preds.lines().count(), 3);

    let one = study.run_variant("no-residual").unwrap();
    assert_eq!(one.runs.len(), 2);
    let convlab::plot::Chart::Curves { curves, .. } = &one.seed_curves().chart else {
        panic!("curves")
    };
    assert_eq!(curves.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["seed 1", "seed 2"]);
    assert!(
        study.run_variant("nope").unwrap_err().to_string().contains("variants of paper: resnet18")
    );
    let all = vec![s, r];
    let summary = convlab::analysis::summary_table(&all).unwrap();
    assert_eq!(summary.height(), 4); // xknet18, flips ×2, no-residual
    let xk = all[0].get("xknet18").unwrap();
    let (lo, hi) = xk.ci95().unwrap();
    assert!(lo <= xk.summary.best_val_acc_mean && xk.summary.best_val_acc_mean <= hi);
    assert_eq!(
        summary.column("best_val_ci95_lo").unwrap().f64().unwrap().get(0),
        Some((lo * 1e4).round() / 1e4)
    );
    // The residual comparison joined the family once its section ran.
    assert_eq!(study.family().unwrap().comparisons.iter().filter(|c| c.welch.is_some()).count(), 3);
    assert_eq!(
        study.export_summary(&all).unwrap(),
        "wrote figures/smoke/summary-effects.svg\nwrote figures/smoke/summary-effects.png"
    );
    assert!(study.figures_dir.join("summary-effects.png").exists());
    // Sections that show their best model per class export it with its table.
    let x = study.run_section("xknet18").unwrap();
    let files = study.export_files(&x).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&study.figures_dir).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names[6..],
        [
            "xknet18-confusion.svg",
            "xknet18-confusion.png",
            "xknet18-per-class.svg",
            "xknet18-per-class.png",
            "tables/xknet18-per-class.csv"
        ]
    );
    let csv = std::fs::read_to_string(&files[10]).unwrap();
    assert!(
        csv.starts_with("class,images,correct,accuracy,most_confused_with,share\n")
            && csv.lines().count() == 1 + study.data.classes.len(),
        "{csv}"
    );
}

/// Common random numbers: every variant of a seed sees the same data order and the same
/// augmentation draws, so the seed's noise in the data stream is shared by both sides of a
/// comparison. The stream is a function of the data seed and the batch size only
/// (`train::loaders`); both are the same for every variant but the ones whose change is the
/// batch size.
#[test]
fn every_variant_of_a_seed_sees_the_same_data_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    common::tiny_tree(&root, 3, 5, 16);
    let mut p = Profile::quick();
    p.data = common::image_folder(&root, &tmp.path().join("cache"));
    let data = convlab::data::Dataset::load(&p.data).unwrap();
    let plan = report();
    let stream = |v: &convlab::plan::Variant, seed: u64| {
        let c = p.config(&plan.resolve(&v.key).unwrap(), &data).unwrap();
        let mut c = c;
        c.train.seed = seed;
        let loader = convlab::data::Loader::new(
            &data.train,
            &data.stats,
            c.train.batch_size,
            tch::Device::Cpu,
        )
        .shuffle(c.train.seed_of_data());
        (
            c.train.seed_of_data(),
            c.train.batch_size,
            (0..p.epochs).map(|e| loader.order(e)).collect::<Vec<_>>(),
        )
    };
    for &seed in &p.seeds {
        let want = stream(plan.find_variant("xknet18").unwrap(), seed);
        for v in plan.variants().into_iter().chain(plan.probes()) {
            assert_eq!(stream(v, seed), want, "{} with seed {seed}", v.key);
        }
    }
    assert_ne!(
        stream(plan.find_variant("xknet18").unwrap(), 1).2,
        stream(plan.find_variant("xknet18").unwrap(), 2).2,
        "another seed, another order"
    );
}

/// Every number of a study's tables is its own metric's, under that metric's name: on a study
/// scored on the test split, the best-validation columns hold the runs' best validation
/// accuracies and the `test_at_best_…` ones their test accuracies at the best epoch, and the
/// comparisons (Δ, CI, MDE) are on the test accuracies, reproducible from the table's own
/// `test_at_best_std`.
#[test]
fn every_number_is_its_metrics_on_a_test_scored_study() {
    use convlab::analysis::stats;
    use convlab::plan::Score;
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let synth = convlab::data::SynthConfig {
        train_per_class: 24,
        labelled_test: true,
        ..Default::default()
    };
    convlab::data::synthetic::write(&tree, &synth).unwrap();
    // The quick profile (it scores the test split) on a small labelled tree, two epochs.
    let mut settings = Settings {
        profile: ProfileName::Quick,
        data: Some(Source::ImageFolder { root: tree }),
        seeds: Some(vec![1, 2, 3]),
        epochs: Some(2),
        ..Settings::defaults(tmp.path(), &tmp.path().join("cache"))
    };
    settings.data_settings.score = Some(Score::TestAtBest);
    let mut study = Study::open(&settings).unwrap();
    study.options.progress = false;
    study.options.quiet = true;
    let s = study.run_section("augmentation").unwrap();
    let table = s.table().unwrap();
    let names: Vec<&str> = table.get_column_names().into_iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "variant",
            "best_val_by_seed",
            "best_val_mean",
            "best_val_std",
            "test_at_best_mean",
            "test_at_best_std",
            "test_at_best_delta_pp",
            "test_at_best_ci95_lo_pp",
            "test_at_best_ci95_hi_pp",
            "test_at_best_ci95_family_lo_pp",
            "test_at_best_ci95_family_hi_pp",
            "p_holm",
            "test_at_best_mde_pp",
            "margin_pp",
            "seeds_to_decide",
            "verdict",
            "paper_best_val",
            "best_epoch",
            "minutes"
        ]
    );
    let runs = |key: &str| -> Vec<(f64, f64)> {
        (1..=3)
            .map(|seed| {
                let dir = study.runs_dir.join(format!("{key}/seed-{seed}"));
                let s: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap())
                        .unwrap();
                (s["best_val_acc"].as_f64().unwrap(), s["test_acc"].as_f64().unwrap())
            })
            .collect()
    };
    let sd = |x: &[f64]| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
    };
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let reference: Vec<f64> = runs("xknet18").iter().map(|r| r.1).collect();
    let mut distinct = false;
    for (i, key) in ["xknet18", "flips-0.05", "flips-0.1"].iter().enumerate() {
        let cell = |c: &str| table.column(c).unwrap().f64().unwrap().get(i);
        let rs = runs(key);
        let (val, test): (Vec<f64>, Vec<f64>) = rs.iter().cloned().unzip();
        distinct |= val != test;
        let close = |got: Option<f64>, want: f64, what: &str| {
            assert!((got.unwrap() - want).abs() <= 5.01e-5, "{key} {what}: {got:?} vs {want}")
        };
        close(cell("best_val_mean"), mean(&val), "best_val_mean");
        close(cell("best_val_std"), sd(&val), "best_val_std");
        close(cell("test_at_best_mean"), mean(&test), "test_at_best_mean");
        close(cell("test_at_best_std"), sd(&test), "test_at_best_std");
        if i == 0 {
            assert_eq!(cell("test_at_best_delta_pp"), None, "the reference");
            continue;
        }
        let pp = |got: Option<f64>, want: f64, what: &str| {
            assert!((got.unwrap() - want).abs() <= 0.00501, "{key} {what}: {got:?} vs {want}")
        };
        pp(cell("test_at_best_delta_pp"), 100.0 * (mean(&test) - mean(&reference)), "Δ");
        let w = stats::welch(&reference, &test).unwrap();
        pp(cell("test_at_best_ci95_lo_pp"), 100.0 * w.ci95.0, "CI");
        pp(cell("test_at_best_ci95_hi_pp"), 100.0 * w.ci95.1, "CI");
        // The MDE from the table's own spreads: its test_at_best_std of the two sides.
        let sds = (sd(&reference), sd(&test));
        let mde = stats::welch_detectable_effect(sds, (3, 3), 0.05 / 15.0, 0.8).unwrap();
        pp(cell("test_at_best_mde_pp"), 100.0 * mde, "MDE");
    }
    assert!(distinct, "the two metrics differ somewhere, or this test could not tell them apart");
    // The summary's CI is the score's, around the score's mean.
    let summary = convlab::analysis::summary_table(&[s]).unwrap();
    for i in 0..summary.height() {
        let cell = |c: &str| summary.column(c).unwrap().f64().unwrap().get(i).unwrap();
        let m = cell("test_at_best_mean");
        assert!(cell("test_at_best_ci95_lo") <= m && m <= cell("test_at_best_ci95_hi"), "row {i}");
    }
    let fam = study.family().unwrap();
    let t = fam.table().unwrap();
    assert!(t.column("test_at_best_delta_pp").is_ok() && t.column("delta_pp").is_err());
    assert!(
        fam.comparisons[0].labelled().starts_with("test accuracy of the best epoch — "),
        "{}",
        fam.comparisons[0].labelled()
    );
}
