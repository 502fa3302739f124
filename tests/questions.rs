//! The paper's open questions on a real smoke study: each answer's numbers are the run
//! records', the probes train as the section's units, and the fidelity table follows the verdicts.
use convlab::analysis::{Verdict, stats};
use convlab::paper::{self, Fidelity};
use convlab::plan::{PROBE_SEEDS, paper_section as section};
use convlab::settings::ProfileName;
use convlab::settings::Settings;
use convlab::study::Study;
use std::path::Path;

mod common;
use common::{best_val_acc, smoke_study};

/// (train_acc, val_acc, val_loss) of every epoch, read from `history.csv` itself.
fn history(dir: &Path) -> Vec<(f64, f64, f64)> {
    let text = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse::<f64>().unwrap()).collect::<Vec<_>>())
        .map(|f| (f[3], f[5], f[4]))
        .collect()
}

#[test]
fn the_five_questions_and_the_fidelity_table_come_from_the_run_records() {
    let tmp = tempfile::tempdir().unwrap();
    let study = smoke_study(tmp.path(), vec![1, 2, 3]);
    let runs = study.runs_dir.clone();

    // The probes are units of the normalization section, on the first PROBE_SEEDS seeds (all
    // three of this study's).
    let probe_seeds = PROBE_SEEDS.min(3);
    let units = study.units(&[section("normalization").unwrap()]);
    let probe_units: Vec<String> = units
        .iter()
        .filter(|u| u.variant.key.starts_with("probe-"))
        .map(|u| format!("{}:{}", u.variant.key, u.seed))
        .collect();
    assert_eq!(probe_units.len(), 11 * probe_seeds, "{probe_units:?}");

    let all = study.run_all().unwrap();
    let answers = paper::answer_all(&study, &all).unwrap();
    let family = study.family().unwrap();

    // 1. InstanceNorm: the probes ran at the paper's lr, on every seed, the max heads with max
    //    pooling.
    let inorm = &answers.instance_norm;
    assert_eq!(
        inorm.rows.iter().map(|r| r.key).collect::<Vec<_>>(),
        [
            "xknet18",
            "instance",
            "probe-bn-lr1e-3",
            "probe-in-lr1e-3",
            "probe-bn-max-lr1e-3",
            "probe-in-max-lr1e-3"
        ]
    );
    for r in &inorm.rows[2..] {
        assert_eq!(r.result.runs.len(), probe_seeds, "{}", r.key);
        assert_eq!(r.result.runs[0].config.train.lr, 0.001, "{}: the paper's lr, unscaled", r.key);
        assert_eq!(
            r.result.runs[0].config.model.pool == convlab::model::Pool::Max,
            r.key.contains("-max-"),
            "{}",
            r.key
        );
        let mean = (1..=probe_seeds)
            .map(|s| best_val_acc(&runs.join(r.key).join(format!("seed-{s}"))))
            .sum::<f64>()
            / probe_seeds as f64;
        assert!((r.result.summary.best_val_acc_mean - mean).abs() < 1e-12, "{}", r.key);
        assert!((r.times_chance - 4.0 * mean).abs() < 1e-9, "4 classes: × chance is 4 × accuracy");
        assert!(
            (0.0..=1.0).contains(&r.trained.class_share)
                && (0.0..=1.0).contains(&r.init.class_share)
        );
        assert_ne!(
            r.init, r.trained,
            "{}: the trained network's features are not the initial ones",
            r.key
        );
    }
    // Its three comparisons are adjusted among themselves.
    assert_eq!(inorm.probes.comparisons.len(), 3);
    for c in &inorm.probes.comparisons {
        let (p, adj) = (c.welch.unwrap().p, c.p_holm.unwrap());
        assert!(
            adj >= p && adj <= (3.0 * p).min(1.0) + 1e-12,
            "{}: p {p} adjusted {adj}",
            c.variant.variant.key
        );
        assert_eq!(c.family_size, 3);
    }
    let t = inorm.table().unwrap();
    assert_eq!(t.height(), 6);
    assert_eq!(
        t.column("best_val_acc").unwrap().f64().unwrap().get(3),
        Some(stats_round(inorm.rows[3].result.summary.best_val_acc_mean))
    );
    let text = inorm.conclusion();
    assert!(
        text.contains("Chance is 1/4 = 0.250")
            && text.contains("(3 comparisons)")
            && text.contains("CONVLAB_PROFILE=full"),
        "{text}"
    );
    // The collapse criterion, from the records' best validation accuracies: Fieller's interval
    // of (IN − chance) ÷ (BN − chance), chance 1/4.
    let accs = |k: &str| -> Vec<f64> {
        (1..=probe_seeds).map(|s| best_val_acc(&runs.join(k).join(format!("seed-{s}")))).collect()
    };
    let collapse = paper::Collapse::of(&accs("probe-in-lr1e-3"), &accs("probe-bn-lr1e-3"), 0.25);
    assert_eq!(inorm.collapse("probe-in-lr1e-3", "probe-bn-lr1e-3"), collapse);
    if let Some(c) = collapse {
        let gain = |k: &str| stats::mean(&accs(k)) - 0.25;
        assert!((c.share - gain("probe-in-lr1e-3") / gain("probe-bn-lr1e-3")).abs() < 1e-12);
        assert!(c.ci95.0 <= c.share && c.share <= c.ci95.1);
        assert_eq!(inorm.collapsed(), c.collapsed());
    }

    // 2. No normalization: the family's own comparison, in words.
    let none = family.comparisons.iter().find(|c| c.variant.variant.key == "norm-none").unwrap();
    assert!(answers.no_norm.contains(&none.describe()), "{}", answers.no_norm);

    // 3. The gap of every variant, from the histories' last epochs.
    let gap = &answers.generalisation;
    assert_eq!(gap.rows.len(), 16);
    let xk = gap.row("xknet18").unwrap();
    for (i, seed) in [1, 2, 3].iter().enumerate() {
        let h = history(&runs.join(format!("xknet18/seed-{seed}")));
        let (train, val, _) = *h.last().unwrap();
        assert!((xk.gaps[i] - (train - val)).abs() < 1e-12);
        let min = h.iter().map(|e| e.2).fold(f64::INFINITY, f64::min);
        assert!((xk.rises[i] - (h.last().unwrap().2 - min)).abs() < 1e-12);
    }
    let w = gap.gap_test("constant-lr-1e-3").unwrap();
    assert_eq!(w, stats::welch(&xk.gaps, &gap.row("constant-lr-1e-3").unwrap().gaps).unwrap());
    assert!(
        gap.conclusion().contains("Constant lr 1e-3 (no decay) ends with train"),
        "{}",
        gap.conclusion()
    );

    // 4. The dropout trend: 4 values of p × 3 seeds, the slope of the records' accuracies.
    let trend = &answers.dropout;
    assert_eq!(trend.points.len(), 12);
    let (mut x, mut y) = (vec![], vec![]);
    for (key, p) in
        [("norm-none", 0.0), ("dropout-0.1", 0.1), ("dropout-0.2", 0.2), ("dropout-0.3", 0.3)]
    {
        for seed in [1, 2, 3] {
            x.push(p);
            y.push(best_val_acc(&runs.join(format!("{key}/seed-{seed}"))));
        }
    }
    let want = stats::linregress(&x, &y);
    assert_eq!(trend.val, want);
    assert_eq!(trend.table().unwrap().height(), 4);

    // 5. Depth: the benchmark is stored beside the runs and reused.
    let bench = runs.join("questions/depth-bench.json");
    assert!(bench.exists());
    let stamp = std::fs::metadata(&bench).unwrap().modified().unwrap();
    let again = paper::depth_cost(
        &study,
        all.iter().find(|s| s.section.key == "depth").unwrap().clone(),
        false,
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(&bench).unwrap().modified().unwrap(),
        stamp,
        "a stored benchmark is reused"
    );
    // The time ratio: the geometric mean of the rounds' own ratios, its interval a t interval on
    // their logarithms.
    assert_eq!(again.bench.rounds.len(), paper::ROUNDS);
    let logs: Vec<f64> = again.bench.rounds.iter().map(|r| (r[2] / r[0]).ln()).collect();
    let ratio = again.ratio("resnet34", "resnet14").unwrap();
    assert!((ratio.ratio - stats::mean(&logs).exp()).abs() < 1e-12);
    let (lo, hi) = stats::mean_ci95(&logs).unwrap();
    assert!((ratio.ci95.0 - lo.exp()).abs() < 1e-12 && (ratio.ci95.1 - hi.exp()).abs() < 1e-12);
    assert_eq!(again.twice(), ratio.within(&paper::TWICE));
    assert_eq!(
        again.bench.results.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["resnet14", "xknet18", "resnet34"]
    );
    assert_eq!(again.table().unwrap().height(), 3);

    // The fidelity table follows the verdicts and the paper's directions.
    let rows = answers.fidelity(&family);
    assert_eq!(rows.len(), 16);
    for (finding, variant, sign) in [
        ("stem", "xknet18", 1.0),
        ("width", "xknet18-half", -1.0),
        ("residual", "no-residual", -1.0),
        ("no normalization", "norm-none", 1.0),
    ] {
        let c = family.comparisons.iter().find(|c| c.variant.variant.key == variant).unwrap();
        let want = match c.verdict() {
            Verdict::Better | Verdict::Worse if c.diff().unwrap().signum() == sign => {
                Fidelity::Reproduced
            }
            Verdict::Better | Verdict::Worse => Fidelity::Contradicted,
            Verdict::Pending => Fidelity::Pending,
            _ => Fidelity::NotSeparable,
        };
        assert_eq!(rows.iter().find(|r| r.finding == finding).unwrap().status, want, "{finding}");
    }
    // Each status says at which lr it holds and whether its test is the family's.
    let compared = ["stem", "width", "flips p = 0.05", "flips p = 0.1", "no normalization"];
    for r in &rows {
        let family_test =
            (compared.contains(&r.finding) || r.finding == "residual") && r.lr == rows[0].lr;
        assert_eq!(r.test == "in the family", family_test, "{}: {}", r.finding, r.test);
        let measured = r.finding == "depth: time";
        assert_eq!(r.test.starts_with("exploratory"), !family_test && !measured, "{}", r.finding);
    }
    // The findings probed at the paper's lr, each in the row after its profile's.
    let mut at_paper: Vec<&str> =
        rows.iter().filter(|r| r.lr == "0.001 (the paper's)").map(|r| r.finding).collect();
    at_paper.sort();
    assert_eq!(
        at_paper,
        [
            "InstanceNorm collapse",
            "constant lr 1e-3",
            "dropout trend",
            "no normalization",
            "residual",
            "stem"
        ]
    );
    // Their comparisons: each probe against xknet18 at lr 0.001 (the stem: xknet18 against
    // resnet18, both at lr 0.001), Holm over the four.
    let lr = &answers.paper_lr;
    assert_eq!(lr.family.comparisons.len(), 4);
    for c in &lr.family.comparisons {
        assert_eq!(c.family_size, 4);
        assert!(
            c.variant.variant.key.starts_with("probe-")
                && c.reference.variant.key.starts_with("probe-")
        );
    }
    let stem = lr.comparison("xknet18").unwrap();
    assert_eq!(
        (stem.variant.variant.key.as_str(), stem.reference.variant.key.as_str()),
        ("probe-bn-lr1e-3", "probe-resnet18-lr1e-3")
    );
    assert_eq!(lr.dropout.points.len(), 4 * probe_seeds, "p = 0, 0.1, 0.2, 0.3 at lr 0.001");
    for key in convlab::paper::DROPOUT {
        let cfg = convlab::plan::paper_variant(key).unwrap();
        assert_eq!(study.config(cfg).unwrap().train.lr, 0.001, "{key}: the paper's lr, unscaled");
    }
    let collapse_lrs: Vec<&str> = rows
        .iter()
        .filter(|r| r.finding == "InstanceNorm collapse")
        .map(|r| r.lr.as_str())
        .collect();
    assert_eq!(collapse_lrs, [rows[0].lr.as_str(), "0.001 (the paper's)"]);
    assert!(
        rows[0]
            .lr
            .starts_with(&format!("{} (the paper's 0.001 × ", study.profile.scaled_lr(0.001)))
    );
    let md = paper::fidelity_markdown(&rows);
    assert_eq!(md.lines().count(), 18, "{md}");
    assert!(answers.conclusions().contains("### Why did InstanceNorm collapse?"));
}

fn stats_round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// On the full profile the paper's lr is the profile's: the lr-0.001 probes are xknet18 and
/// InstanceNorm themselves, and are not trained twice.
#[test]
fn probes_that_duplicate_a_variant_are_that_variant() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("exp2");
    common::tiny_tree(&root, 3, 2, 64);
    let settings = Settings {
        profile: ProfileName::Full,
        data: Some(convlab::data::Source::ImageFolder { root }),
        ..Settings::defaults(tmp.path(), &tmp.path().join("cache"))
    };
    let study = Study::open(&settings).unwrap();
    let twin = |k: &str| study.run_name(convlab::plan::paper_variant(k).unwrap()).to_string();
    assert_eq!(
        (twin("probe-bn-lr1e-3").as_str(), twin("probe-in-lr1e-3").as_str()),
        ("xknet18", "instance")
    );
    assert_eq!(
        (twin("probe-in-max-lr1e-3").as_str(), twin("xknet18").as_str()),
        ("probe-in-max-lr1e-3", "xknet18")
    );
    let units: Vec<String> = study
        .units(&[section("normalization").unwrap()])
        .iter()
        .map(|u| u.variant.key.clone())
        .collect();
    assert!(!units.iter().any(|u| u == "probe-bn-lr1e-3" || u == "probe-in-lr1e-3"), "{units:?}");
    assert_eq!(
        units.iter().filter(|u| u.ends_with("max-lr1e-3")).count(),
        2 * PROBE_SEEDS.min(study.profile.seeds.len()),
        "{units:?}"
    );
}
