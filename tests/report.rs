//! `convlab report` on a real smoke study: every section present, every figure link pointing
//! at a file, every number of the tables the run records', the LaTeX compiled by pdflatex
//! (installed by `make setup`: a missing pdflatex fails this test, it is not skipped), and
//! units not finished listed as missing while nothing is trained.
use convlab::writeup::Format;
use std::path::Path;
use std::process::Command;

mod common;
use common::{best_val_acc, smoke_study};

/// The `](target)` links of a Markdown text.
fn links(md: &str) -> Vec<String> {
    md.split("](").skip(1).map(|rest| rest[..rest.find(')').unwrap()].to_string()).collect()
}

#[test]
fn the_report_is_the_study_in_markdown_and_latex() {
    let tmp = tempfile::tempdir().unwrap();
    let study = smoke_study(tmp.path(), vec![1, 2]);
    let all = study.run_all().unwrap();
    convlab::paper::answer_all(&study, &all).unwrap();

    // Markdown, into the figures directory (what `make report` writes).
    let written = study.write_up(Format::Md, None).unwrap();
    assert!(
        written.ends_with("wrote figures/smoke/writeup.md"),
        "paths as shown to users: {written}"
    );
    let md = std::fs::read_to_string(study.figures_dir.join("writeup.md")).unwrap();
    let sections = &convlab::plan::paper_plan().sections;
    for s in sections {
        assert!(md.contains(&format!("## {}", s.title)), "section {} is missing", s.key);
    }
    let n = convlab::plan::paper_plan().family_members().len();
    for heading in [
        "## Set-up",
        "## Summary",
        &format!("The study's {n} comparisons"),
        "The smoke profile against the paper",
        "### Why did InstanceNorm collapse?",
    ] {
        assert!(md.contains(heading), "no `{heading}`");
    }
    assert!(
        md.contains("Every unit of the study is finished.") && !md.contains("**Missing"),
        "nothing is missing"
    );
    let targets = links(&md);
    assert!(
        targets.len() >= 2 * 3 * sections.len(),
        "a PNG and an SVG link per figure: {}",
        targets.len()
    );
    for t in &targets {
        assert!(!t.starts_with('/'), "{t}: links are relative");
        assert!(study.figures_dir.join(t).is_file(), "{t}: the link points at no file");
    }
    // Every table is a CSV beside it, and the seeds' numbers are the run records'.
    for s in sections {
        let csv = std::fs::read_to_string(study.figures_dir.join(format!("tables/{}.csv", s.key)))
            .unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), s.variants.len(), "{}", s.key);
        let col = header.iter().position(|h| *h == "best_val_by_seed").unwrap();
        for (row, v) in rows.iter().zip(&s.variants) {
            assert_eq!(row[0], v.key);
            let want: Vec<String> = [1, 2]
                .iter()
                .map(|seed| {
                    let dir = study.runs_dir.join(&v.key).join(format!("seed-{seed}"));
                    format!("{}", best_val_acc(&dir))
                })
                .collect();
            assert_eq!(row[col], want.join(" "), "{} {}", s.key, v.key);
            assert!(
                md.contains(&format!("| {} |", want.join(" "))),
                "{want:?} is in the Markdown table of {}",
                s.key
            );
        }
    }
    for t in [
        "variants",
        "summary",
        "comparisons",
        "fidelity",
        "instance-norm",
        "generalisation",
        "dropout-trend",
        "depth-cost",
    ] {
        assert!(study.figures_dir.join(format!("tables/{t}.csv")).is_file(), "tables/{t}.csv");
    }

    // LaTeX elsewhere: ASCII only, figures as PNG relative to it, compiled by pdflatex.
    let out = tmp.path().join("latex");
    study.write_up(Format::Latex, Some(&out)).unwrap();
    let tex = std::fs::read_to_string(out.join("writeup.tex")).unwrap();
    assert!(
        tex.is_ascii(),
        "pdflatex reads ASCII: {:?}",
        tex.chars().filter(|c| !c.is_ascii()).collect::<String>()
    );
    assert!(
        tex.contains("\\usepackage{booktabs}")
            && tex.contains("\\toprule")
            && tex.contains("\\includegraphics[width=\\linewidth]{../figures/smoke/")
    );
    // Column-width figures at their size: 3.5 in.
    assert!(
        tex.contains("\\includegraphics[width=3.50in]{../figures/smoke/baseline-confusion.png}"),
        "{tex}"
    );
    assert!(!tex.contains(".svg}"), "pdflatex includes the PNGs");
    let pdflatex = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "writeup.tex"])
        .current_dir(&out)
        .output();
    let o = pdflatex.expect("pdflatex runs (make setup installs texlive-latex-recommended)");
    assert!(o.status.success(), "pdflatex failed:\n{}", String::from_utf8_lossy(&o.stdout));
    assert!(
        std::fs::metadata(out.join("writeup.pdf")).unwrap().len() > 10_000,
        "a PDF with its figures"
    );
}

#[test]
fn a_report_of_an_unfinished_study_lists_what_is_missing_and_trains_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let study = smoke_study(tmp.path(), vec![1, 2]);
    study.run_section("residual").unwrap();
    let before: Vec<_> = common::files_under(&study.runs_dir);
    let md_path = tmp.path().join("out").join("writeup.md");
    study.write_up(Format::Md, Some(&tmp.path().join("out"))).unwrap();
    assert_eq!(
        common::files_under(&study.runs_dir).iter().filter(|p| p.ends_with("summary.json")).count(),
        before.iter().filter(|p| p.ends_with("summary.json")).count(),
        "nothing trained"
    );
    let md = std::fs::read_to_string(md_path).unwrap();
    assert!(md.contains("**Missing.**"), "the set-up says units are missing");
    assert!(
        md.contains(
            "**Missing:** 2 of 2 units not done: resnet18 seed 1 pending, resnet18 seed 2 pending"
        ),
        "{md}"
    );
    // The finished section is there with its numbers; the fidelity table waits for the rest.
    assert!(md.contains("| no-residual |"));
    assert!(md.contains("Not available until every section"));
}

/// The committed write-up of the quick profile, as a new user meets it: every figure
/// `writeup.md` links and `writeup.tex` includes is committed beside them, and a copy of
/// `figures/quick/` compiles with pdflatex (`pdflatex writeup.tex`).
#[test]
fn the_committed_write_up_is_whole_and_compiles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures/quick");
    let md = std::fs::read_to_string(dir.join("writeup.md")).unwrap();
    let tex = std::fs::read_to_string(dir.join("writeup.tex")).unwrap();
    let linked: Vec<String> =
        links(&md).into_iter().filter(|l| !l.contains("://") && !l.starts_with('#')).collect();
    let included: Vec<String> = tex
        .split("\\includegraphics")
        .skip(1)
        .map(|r| r[r.find('{').unwrap() + 1..r.find('}').unwrap()].to_string())
        .collect();
    assert!(
        linked.len() >= 30 && included.len() >= 30,
        "{} links, {} figures",
        linked.len(),
        included.len()
    );
    for f in linked.iter().chain(&included) {
        assert!(
            dir.join(f).is_file(),
            "figures/quick/{f} is referenced by the committed write-up but not committed; run \
                `make report`"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().is_file()) {
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let o = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "writeup.tex"])
        .current_dir(tmp.path())
        .output();
    let o = o.expect("pdflatex runs (make setup installs texlive-latex-recommended)");
    assert!(
        o.status.success(),
        "pdflatex on the committed figures/quick/writeup.tex failed:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
