//! Studies of your own: a plan file, a one-line sweep and a notebook cell's section, each
//! through the paper's whole machinery under the smoke profile — the grid and its units,
//! verdicts, figures, the write-up, TensorBoard events — sharing the paper's runs; and bad
//! plans refused through the real binary before anything trains.
use convlab::analysis::Verdict;
use convlab::plan::{Plan, Section, Variant};
use convlab::study::Study;
use convlab::writeup::Format;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

mod common;
use common::{convlab_cmd, smoke_study, text};

fn shipped(plan: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("studies").join(plan)
}

/// The modification time of every file of a run directory (what training rewrites).
fn stamps(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out: Vec<(PathBuf, SystemTime)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
        .collect();
    out.sort();
    out
}

fn lines(dir: &Path, file: &str) -> usize {
    std::fs::read_to_string(dir.join(file)).map_or(0, |t| t.lines().count())
}

/// `studies/regularization.toml` through `convlab study --plan`, `--status`, `--units` and
/// `convlab report --plan`: units in the grid, verdicts over the plan's own family, figures,
/// its section in the write-up, TensorBoard events — and the paper's xknet18 runs, trained
/// first by the paper's study, reused untouched.
#[test]
fn a_plan_file_runs_end_to_end_sharing_the_reports_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let smoke = |args: &[&str]| {
        let mut c = convlab_cmd(root, &runs);
        c.args(args).args(["--profile", "smoke", "--seeds", "1,2"]);
        let o = c.output().unwrap();
        assert!(o.status.success(), "convlab {args:?}:\n{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    smoke(&["study", "--sections", "xknet18"]);
    let xk = runs.join("smoke/xknet18");
    let before: Vec<_> = (1..=2).map(|s| stamps(&xk.join(format!("seed-{s}")))).collect();

    let plan = shipped("regularization.toml");
    let plan = plan.to_str().unwrap();
    let out = smoke(&["study", "--plan", plan]);
    // The plan's family is its own: every comparison judged, over its size, not the paper's.
    let parsed = Plan::load(Path::new(plan)).unwrap();
    let n = parsed.family_members().len();
    assert!(out.contains(&format!("The study's {n} comparisons")), "{out}");
    assert_eq!(
        out.matches(&format!("({n} comparisons)")).count(),
        2 * n,
        "each verdict, in its section and in the family's list:\n{out}"
    );
    for s in &parsed.sections {
        assert!(out.contains(&s.title), "{}", s.title);
        for f in ["curves", "train-val", "effects"] {
            assert!(
                root.join(format!("figures/smoke/regularization/{}-{f}.png", s.key)).is_file(),
                "{} {f}",
                s.key
            );
        }
    }
    // xknet18 is the paper's: not trained again.
    for (s, b) in (1..=2).zip(&before) {
        assert_eq!(&stamps(&xk.join(format!("seed-{s}"))), b, "xknet18 seed {s} was touched");
        assert_eq!(
            lines(&xk.join(format!("seed-{s}")), "attempts.jsonl"),
            1,
            "one attempt, the paper's"
        );
    }
    // The grid's units: each distinct run once, every one done, each with TensorBoard events.
    let units: Vec<serde_json::Value> = smoke(&["study", "--plan", plan, "--units"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let variants: Vec<&str> = parsed.variants().iter().map(|v| v.key.as_str()).collect();
    assert_eq!(units.len(), 2 * variants.len());
    for u in &units {
        assert_eq!(u["state"], "done", "{u}");
        let dir = Path::new(u["run_dir"].as_str().unwrap());
        assert_eq!(
            dir.parent().unwrap().file_name().unwrap().to_str().unwrap(),
            u["variant"].as_str().unwrap(),
            "a new config takes its key"
        );
        assert!(
            std::fs::read_dir(dir)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("events.out.tfevents")),
            "{}: TensorBoard events",
            dir.display()
        );
    }
    let status = smoke(&["study", "--plan", plan, "--status"]);
    assert!(
        status.contains(&format!(
            "{} units: {} done, 0 running, 0 failed, 0 pending",
            units.len(),
            units.len()
        )),
        "{status}"
    );
    // The write-up: the plan's title, its sections, its variants' overrides, its own family; no
    // report-only parts.
    smoke(&["report", "--plan", plan]);
    let md = std::fs::read_to_string(root.join("figures/smoke/regularization/writeup.md")).unwrap();
    assert!(md.starts_with(&format!("# {} (smoke profile)", parsed.title)), "{}", &md[..200]);
    for s in &parsed.sections {
        assert!(
            md.contains(&format!("## {}", s.title))
                && md.contains(&format!("]({}-effects.png)", s.key)),
            "{}",
            s.key
        );
    }
    assert!(
        md.contains("`train.optimizer=adamw`")
            && md.contains(&format!("over the study's {n} comparisons"))
    );
    assert!(
        !md.contains("fidelity") && !md.contains("InstanceNorm collapse"),
        "the paper's questions are the paper's"
    );
    let csv =
        std::fs::read_to_string(root.join("figures/smoke/regularization/tables/comparisons.csv"))
            .unwrap();
    assert_eq!(csv.lines().count(), 1 + n);
    assert!(!csv.contains(",pending,") && !csv.contains("too few seeds"), "{csv}");
}

/// `convlab sweep --base xknet18 train.weight_decay=0,5e-4`: a one-section study whose
/// reference, weight decay 0, is xknet18's own config and so xknet18's runs.
#[test]
fn a_one_line_sweep_compares_each_value_with_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let mut c = convlab_cmd(root, &runs);
    c.args([
        "sweep",
        "--base",
        "xknet18",
        "train.weight_decay=0,5e-4",
        "--profile",
        "smoke",
        "--seeds",
        "1,2",
    ]);
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("The study's 1 comparisons"), "{out}");
    // The comparisons' table: every name whole, in cells of its own.
    assert!(
        out.lines().any(|l| l.contains("│ sweep-weight_decay")
            && l.contains("┆ xknet18+weight_decay=5e-4 ┆")
            && l.contains("┆ xknet18+weight_decay=0 ┆")),
        "{out}"
    );
    let mut dirs: Vec<String> = std::fs::read_dir(runs.join("smoke"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["grids", "logs"].contains(&n.as_str()))
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        ["xknet18", "xknet18+weight_decay=5e-4"],
        "the reference's runs are xknet18's"
    );
    assert!(root.join("figures/smoke/sweep-weight_decay/sweep-weight_decay-effects.png").is_file());
}

/// What a notebook cell does: build a section, run it with the study's data and runs, read
/// its table, draw its figure, write its report — the paper's xknet18 runs reused.
#[test]
fn a_notebook_cells_section_runs_with_the_reports_machinery() {
    let tmp = tempfile::tempdir().unwrap();
    let study = smoke_study(tmp.path(), vec![1, 2]);
    study.run_variant("xknet18").unwrap();
    let xk = study.runs_dir.join("xknet18/seed-1");
    let before = stamps(&xk);

    let plan = Plan::new("my-ablation", "Weight decay against xknet18").with_section(
        Section::new("weight-decay", "Weight decay 5e-4")
            .with_reference("xknet18")
            .with_variant(convlab::plan::paper_variant("xknet18").cloned().unwrap())
            .with_variant(
                Variant::new("wd-5e-4")
                    .with_label("weight decay 5e-4")
                    .with_base("xknet18")
                    .with_set("train.weight_decay=5e-4"),
            ),
    );
    let mine = study.with_plan(plan).unwrap();
    let wd = mine.run_section("weight-decay").unwrap();
    assert_eq!(stamps(&xk), before, "xknet18 is the paper's, not trained again");
    let table = wd.table().unwrap();
    let col = table.column("verdict").unwrap().str().unwrap().clone();
    let verdicts: Vec<Option<&str>> = (0..table.height()).map(|i| col.get(i)).collect();
    assert_eq!(verdicts[0], Some("reference"));
    let c = wd.comparison("wd-5e-4").unwrap();
    assert_eq!((c.family_size, c.welch.is_some()), (1, true), "its own family of one");
    assert!(matches!(
        c.verdict(),
        Verdict::Better | Verdict::Worse | Verdict::Equivalent | Verdict::Undecided
    ));
    assert_eq!(wd.get("wd-5e-4").unwrap().runs[0].config.train.weight_decay, 5e-4);
    // Its figures and its write-up, under the plan's own directory.
    let written = mine.export(&wd).unwrap();
    assert!(written.contains("figures/smoke/my-ablation/weight-decay-effects.png"), "{written}");
    mine.write_up(Format::Md, None).unwrap();
    let md =
        std::fs::read_to_string(tmp.path().join("figures/smoke/my-ablation/writeup.md")).unwrap();
    assert!(md.contains("## Weight decay 5e-4") && md.contains("| wd-5e-4 |"), "{md}");
    // A new variant got a style of its own, distinct from the paper's xknet18.
    let style = |k: &str| mine.plan.get_variant(k).unwrap().style.unwrap();
    assert_ne!(style("wd-5e-4"), style("xknet18"));
    assert_eq!(style("xknet18"), convlab::plan::paper_variant("xknet18").unwrap().style.unwrap());
}

/// Every bad plan of the issue through the real binary: exit status 1, one line naming the
/// file and line (or the argument) and the key, what to do — and nothing trained.
#[test]
fn bad_plans_are_refused_with_one_line_and_nothing_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let runs = root.join("runs");
    let good = std::fs::read_to_string(shipped("regularization.toml")).unwrap();
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let mut cases: Vec<(&str, String, Vec<String>)> = Vec::new();
    let mut plan =
        |name: &'static str, text: String, want: Vec<String>| cases.push((name, text, want));
    let t = good.replace("train.weight_decay=5e-4\"]", "train.wieght_decay=5e-4\"]");
    plan(
        "unknown-key",
        t.clone(),
        vec![format!(
            ":{}: variant `wd-5e-4`: train.wieght_decay: unknown key; did you mean \
                train.weight_decay?",
            line_of(&t, "wieght")
        )],
    );
    let t = good.replace("\"train.label_smoothing=0.1\"", "\"train.label_smoothing=lots\"");
    plan(
        "wrong-type",
        t.clone(),
        vec![format!(
            ":{}: variant `label-smoothing-0.1`: train.label_smoothing=lots: expected a number",
            line_of(&t, "=lots")
        )],
    );
    let t = good.replace("key = \"adamw\"", "key = \"wd-5e-4\"");
    let keys: Vec<usize> = t
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("key = \"wd-5e-4\""))
        .map(|(i, _)| i + 1)
        .collect();
    plan(
        "duplicate",
        t.clone(),
        vec![format!(
            ":{}: variant `wd-5e-4` is defined twice (first on line {}); rename one",
            keys[1], keys[0]
        )],
    );
    let t = good.replace(
        "variants = [\"xknet18\", \"label-smoothing-0.1\"]",
        "variants = [\"label-smoothing-0.1\"]",
    );
    plan(
        "reference",
        t.clone(),
        vec![
            "section `label-smoothing`: reference `xknet18` is not one \
        of its variants (label-smoothing-0.1); add it"
                .into(),
        ],
    );
    let t = good.replace("variants = [\"xknet18\", \"adamw\"]", "variants = []");
    plan(
        "empty",
        t.clone(),
        vec![format!(":{}: section `optimizer` has no variants", line_of(&t, "variants = []"))],
    );
    let t = good.clone()
        + "\n[[section]]\nkey = \"wd-sweep\"\nsweep = \
            { base = \"xknet18\", set = [\"train.weight_decay=5e-4\"] }\n";
    plan(
        "one-value",
        t.clone(),
        vec![format!(
            ":{}: section `wd-sweep`: sweep train.weight_decay=5e-4 has one value; give two or more",
            line_of(&t, "sweep = {")
        )],
    );
    let t = good
        .replace("key = \"bn-dropout-0.2\"", "key = \"dropout-0.2\"")
        .replace("\"xknet18\", \"bn-dropout-0.2\"", "\"xknet18\", \"dropout-0.2\"");
    plan(
        "report-name",
        t.clone(),
        vec![format!(
            ":{}: variant `dropout-0.2` is the paper's (model.stem=small model.norm=none \
                model.dropout=0.2); this plan's is xknet18 + model.dropout=0.2: name yours \
                differently",
            line_of(&t, "key = \"dropout-0.2\"")
        )],
    );
    for (name, text_of_plan, want) in &cases {
        let path = root.join(format!("{name}.toml"));
        std::fs::write(&path, text_of_plan).unwrap();
        let o = convlab_cmd(root, &runs)
            .args(["study", "--plan", path.to_str().unwrap(), "--profile", "smoke"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        let last = err.lines().last().unwrap_or("");
        assert!(
            last.starts_with(&format!("error: {}", path.display())),
            "{name}: names the file: {err}"
        );
        for w in want {
            assert!(last.contains(w.as_str()), "{name}: `{w}` in\n{err}");
        }
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{name}: one line: {err}"
        );
    }
    // The command line's sweeps.
    for (args, want) in [
        (
            vec!["train.weight_decay=5e-4"],
            "error: sweep train.weight_decay=5e-4 has one value; give two or more to compare, \
                e.g. train.weight_decay=<reference>,5e-4",
        ),
        (
            vec!["train.wd=0,5e-4"],
            "error: variant `xknet18+wd=0`: train.wd: unknown key; did you mean train.weight_decay?",
        ),
        (
            vec!["train.weight_decay=0,x"],
            "error: variant `xknet18+weight_decay=x`: train.weight_decay=x: expected a number, \
                not string \"x\"",
        ),
    ] {
        let o = convlab_cmd(root, &runs)
            .arg("sweep")
            .args(&args)
            .args(["--profile", "smoke"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim_end().lines().last(),
            Some(want),
            "{args:?}"
        );
    }
    assert!(
        !runs.join("smoke").exists() || std::fs::read_dir(runs.join("smoke")).unwrap().count() == 0,
        "nothing trained"
    );
}

/// Runs are shared by config, never by name alone: a variant whose overrides change is a
/// different run (beside the old one, which stays), and an equal config under another name
/// or in another plan is the same run.
#[test]
fn runs_are_shared_by_config_and_a_changed_variant_is_a_new_run() {
    let tmp = tempfile::tempdir().unwrap();
    let study = smoke_study(tmp.path(), vec![1]);
    let one = |key: &str, set: &str| {
        Plan::new("p", "P").with_section(
            Section::new("s", "S")
                .with_reference("xknet18")
                .with_variant(convlab::plan::paper_variant("xknet18").cloned().unwrap())
                .with_variant(Variant::new(key).with_base("xknet18").with_set(set)),
        )
    };
    let a = study.with_plan(one("foo", "train.weight_decay=5e-4")).unwrap();
    a.run_section("s").unwrap();
    let foo = a.plan.get_variant("foo").unwrap().clone();
    assert_eq!(a.run_name(&foo), "foo");
    // The same name, other overrides: its own directory, named with its config's hash.
    let b = study.with_plan(one("foo", "train.weight_decay=1e-3")).unwrap();
    let foo_b = b.plan.get_variant("foo").unwrap().clone();
    let name = b.run_name(&foo_b).to_string();
    assert!(name.starts_with("foo-") && name.len() == "foo-".len() + 8, "{name}");
    b.run_section("s").unwrap();
    assert_eq!(
        b.run_section("s").unwrap().get("foo").unwrap().runs[0].config.train.weight_decay,
        1e-3
    );
    assert_eq!(
        a.run_section("s").unwrap().get("foo").unwrap().runs[0].config.train.weight_decay,
        5e-4,
        "the first config's runs are still there"
    );
    // The first config under another name, in another plan: the same runs.
    let c = study.with_plan(one("weight-decay-5e-4", "train.weight_decay=5e-4")).unwrap();
    assert_eq!(c.run_name(c.plan.get_variant("weight-decay-5e-4").unwrap()), "foo");
    // A variant equal to one of the paper's is the paper's (a sweep's reference from 0).
    let d = study.with_plan(one("same", "train.weight_decay=0")).unwrap();
    assert_eq!(d.run_name(d.plan.get_variant("same").unwrap()), "xknet18");
    assert_eq!(d.units(&d.sections()).len(), 1, "one run, one unit");
}

/// A changed profile (here its clip, as a new release of the quick profile would change it)
/// trains the paper's variants anew beside the old runs, which stay readable by the old
/// profile: nothing is mixed, nothing is an error.
#[test]
fn a_changed_profile_trains_new_runs_beside_the_old() {
    let tmp = tempfile::tempdir().unwrap();
    let old = smoke_study(tmp.path(), vec![1]);
    let xk = old.plan.get_variant("xknet18").unwrap().clone();
    let before = old.run_variant("xknet18").unwrap().runs[0].summary.clone().unwrap();
    assert_eq!(old.run_name(&xk), "xknet18");
    let mut changed = old.profile.clone();
    changed.clip_grad_norm = Some(0.5);
    let new = Study::new(
        changed,
        &convlab::settings::Settings {
            seeds: Some(vec![1]),
            ..convlab::settings::Settings::defaults(tmp.path(), &tmp.path().join("cache"))
        },
    )
    .unwrap();
    let name = new.run_name(&xk).to_string();
    assert!(name.starts_with("xknet18-") && name.len() == "xknet18-".len() + 8, "{name}");
    assert_eq!(new.units(&new.sections()).iter().filter(|u| u.variant.key == "xknet18").count(), 1);
    assert!(
        new.units(&new.sections()).iter().all(|u| !matches!(
            convlab::grid::unit_state(&new, u).unwrap(),
            convlab::grid::UnitState::Done { .. }
        )),
        "no old run counts as done"
    );
    let after = new.run_variant("xknet18").unwrap().runs[0].config.clone();
    assert_eq!(after.train.clip_grad_norm, Some(0.5));
    assert_eq!(
        old.run_variant("xknet18").unwrap().runs[0].summary.clone().unwrap(),
        before,
        "the old runs are still there, unchanged"
    );
}
