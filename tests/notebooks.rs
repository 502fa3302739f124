//! The committed notebooks: made by the generator, with figures that show untrusted
//! (a PNG beside every SVG) and outputs that carry no machine's paths.
use serde_json::Value;
use std::path::Path;

fn committed() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ipynb"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn outputs(nb: &Value) -> impl Iterator<Item = (usize, &Value)> {
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c["outputs"].as_array().into_iter().flatten().map(move |o| (i, o)))
}

#[test]
fn committed_notebooks_match_the_generator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let problems =
        convlab::writeup::notebooks::check_notebooks(&dir, &convlab::paper::paper_notebooks())
            .unwrap();
    assert!(
        problems.is_empty(),
        "the notebooks differ from src/writeup/notebooks.rs and src/paper/notebooks.rs (run `convlab notebooks`, then `make \
            notebooks`):\n{}",
        problems.join("\n")
    );
}

#[test]
fn committed_figures_carry_a_png_and_outputs_no_paths() {
    let notebooks = committed();
    assert_eq!(notebooks.len(), convlab::paper::paper_notebooks().len());
    let mut figures = 0;
    for (name, nb) in &notebooks {
        for (i, o) in outputs(nb) {
            assert_ne!(o["output_type"], "error", "{name} cell {i}: an error output is committed");
            if let Some(data) = o["data"].as_object()
                && data.contains_key("image/svg+xml")
            {
                figures += 1;
                let png = data.get("image/png").and_then(Value::as_str).unwrap_or_else(|| panic!("{name} cell {i}: an SVG figure without a PNG shows empty in an untrusted notebook"));
                assert!(
                    png.starts_with("iVBORw0KGgo"),
                    "{name} cell {i}: image/png is not a base64 PNG"
                );
            }
            // Base64 image data can spell anything (`/root/` among it), so it is left out.
            let mut shown = o.clone();
            if let Some(data) = shown["data"].as_object_mut() {
                data.remove("image/png");
            }
            let text = serde_json::to_string(&shown).unwrap();
            for machine in ["/root/", "/home/", "/work/", "/tmp/", env!("CARGO_MANIFEST_DIR")] {
                assert!(
                    !text.contains(machine),
                    "{name} cell {i}: output carries the machine path `{machine}`: {}",
                    &text[..text.len().min(400)]
                );
            }
            for debug in ["device Auto", "device Cpu", "device Cuda"] {
                assert!(
                    !text.contains(debug),
                    "{name} cell {i}: `{debug}` is Rust's debug form, not the user-facing `device \
                        auto`"
                );
            }
        }
    }
    // 9 sections × (curves, train-val, effects, one variant) + 2 × the best model (confusion, per
    // class)
    // + the final model's confusion + the summary's effects.
    assert!(
        figures >= 9 * 4 + 4 + 2,
        "only {figures} figures in the committed notebooks: are they executed?"
    );
}

/// The rows (cells as text) of the first HTML table among `nb`'s outputs whose header has a
/// column `column`: how a notebook shows a table (`.show()`).
fn html_rows(nb: &Value, column: &str) -> Vec<Vec<String>> {
    let html = outputs(nb)
        .filter_map(|(_, o)| {
            let h = &o["data"]["text/html"];
            h.as_str().map(String::from).or_else(|| {
                h.as_array().map(|l| l.iter().filter_map(Value::as_str).collect::<String>())
            })
        })
        .find(|h| h.contains(&format!("<th>{column}</th>")));
    let Some(html) = html else { return vec![] };
    let body = html.split("<tbody>").nth(1).unwrap_or("");
    body.split("<tr>")
        .skip(1)
        .map(|r| {
            r.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap_or("").into()).collect()
        })
        .collect()
}

/// Text of every output of a notebook.
fn output_text(nb: &Value) -> String {
    outputs(nb)
        .map(|(_, o)| {
            let t = if o["text"].is_null() { &o["data"]["text/plain"] } else { &o["text"] };
            match t {
                Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect::<String>(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            }
        })
        .collect()
}

/// The committed notebooks were run with three seeds and show the family's statistics:
/// every seed's value, CIs, Holm-adjusted verdicts, nothing pending.
#[test]
fn committed_notebooks_show_confidence_intervals_and_verdicts() {
    let notebooks = committed();
    // The paper's family: its size from its plan.
    let n = convlab::plan::paper_plan().family_members().len();
    for (name, nb) in &notebooks {
        let text = output_text(nb);
        if name == "00_models.ipynb" {
            continue;
        }
        if name != "10_summary.ipynb" {
            // Every seed of the profile in the section's table: as many scores per variant.
            let seeds = convlab::plan::Profile::quick().seeds.len();
            let row = html_rows(nb, "best_val_by_seed")
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{name}: no section table (best_val_by_seed)"));
            assert_eq!(row[1].split(' ').count(), seeds, "{name}: not re-run with every seed?");
        }
        assert!(text.contains("95% CI ["), "{name}: no confidence interval in its outputs");
        assert!(
            !text.contains("pending"),
            "{name}: a comparison is pending in the committed outputs"
        );
        assert!(
            !text.contains("│ …"),
            "{name}: a table shows with rows cut (POLARS_FMT_MAX_ROWS in the kernel's env)"
        );
        if name != "01_baseline.ipynb" {
            assert!(
                text.contains("Holm-adjusted p") && text.contains(&format!("({n} comparisons)")),
                "{name}: no adjusted verdict in its outputs"
            );
        }
    }
    let summary = &notebooks
        .iter()
        .find(|(name, _)| name == "10_summary.ipynb")
        .expect("the summary notebook")
        .1;
    let text = output_text(summary);
    assert!(text.contains("p_holm") && text.contains("verdict"), "the summary's family table");
    assert_eq!(html_rows(summary, "p_holm").len(), n, "the family's table: one row a comparison");
}

/// The committed notebooks answer the paper's open questions from computed numbers, shown as
/// rendered Markdown (a `text/markdown` output) with the same text as plain text.
#[test]
fn committed_notebooks_answer_the_open_questions() {
    let notebooks = committed();
    let text = |name: &str| {
        output_text(
            &notebooks
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is committed"))
                .1,
        )
    };
    let markdown = |name: &str| {
        outputs(&notebooks.iter().find(|(n, _)| n == name).unwrap().1).any(|(_, o)| {
            o["data"]["text/markdown"].is_array() || o["data"]["text/markdown"].is_string()
        })
    };
    // The dropout trend's runs: no normalization and dropout 0.1, 0.2, 0.3, each with every seed.
    let dropout_runs = format!(
        "Best validation accuracy on p over {} runs",
        4 * convlab::plan::Profile::quick().seeds.len()
    );
    let expect = [
        ("05_dropout.ipynb", vec![dropout_runs.as_str(), "pp per 0.1 of p, 95% CI ["]),
        (
            "06_normalization.ipynb",
            vec![
                "Chance is 1/10",
                "(3 comparisons)",
                "x_chance",
                "class_share_trained",
                "no normalization slightly better than BatchNorm",
            ],
        ),
        ("07_lr_decay.ipynb", vec!["Constant lr 1e-3 (no decay) ends with train", "gap_pp"]),
        ("09_depth.ipynb", vec!["an epoch of resnet34 takes", "time_vs_resnet14"]),
        (
            "10_summary.ipynb",
            vec![
                "| finding | the paper | here | status | lr | test | why |",
                "| InstanceNorm collapse |",
                "| 0.001 (the paper's) | exploratory: probes, Holm over 4 |",
                "### Why did InstanceNorm collapse?",
                "### Do the findings hold at the paper's own lr?",
            ],
        ),
    ];
    for (name, needles) in expect {
        let t = text(name);
        for n in needles {
            assert!(t.contains(n), "{name}: its outputs lack `{n}`: re-run `make notebooks`");
        }
        assert!(markdown(name), "{name}: the answer is not shown as Markdown");
    }
    let lr_decay = &notebooks.iter().find(|(n, _)| n == "07_lr_decay.ipynb").unwrap().1;
    assert_eq!(
        html_rows(lr_decay, "gap_pp").len(),
        convlab::plan::paper_plan().variants().len(),
        "the generalisation table: one row per variant of the study"
    );
    let fidelity_rows = text("10_summary.ipynb")
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("| **"))
        .count();
    assert_eq!(
        fidelity_rows,
        10 + 6,
        "the fidelity table: a row per finding at the profile's lr, and one per finding probed \
            at the paper's (the stem, no normalization, residual, dropout, InstanceNorm, constant lr)"
    );
}
