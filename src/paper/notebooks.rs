//! What the paper's plan adds to its notebooks ([`crate::writeup::notebooks::Extras`]): the
//! models notebook first, each section's open question answered after its results, and the
//! profile against the paper in the summary.
use crate::plan::Section;
use crate::writeup::notebooks::{Cell, Extras, Layout, NotebookSpec, code, md, notebooks};

/// The paper's notebooks, as committed in `notebooks/`.
pub fn paper_notebooks() -> Vec<NotebookSpec> {
    notebooks(crate::plan::paper_plan(), &Layout::paper(), &PaperExtras)
}

/// The paper's additions to its plan's notebooks.
pub struct PaperExtras;

impl Extras for PaperExtras {
    fn first(&self, layout: &Layout) -> Vec<NotebookSpec> {
        vec![models_notebook(layout)]
    }

    fn section(&self, s: &Section) -> Vec<Cell> {
        question_cells(s)
    }

    fn summary(&self) -> Vec<Cell> {
        vec![
            md(format!(
                "## The profile against the paper\n\n{} The five open questions' answers \
                and the findings probed at the paper's own lr \
                follow; each section's notebook shows its experiment.",
                super::FIDELITY_KEY
            )),
            code(
                "let answers = convlab::paper::answer_all(&study, \
                &sections)?;\nMarkdown(convlab::paper::fidelity_markdown(&answers.fidelity(&family)))",
            ),
            code("Markdown(answers.conclusions())"),
        ]
    }
}

/// The cells that answer a section's open question ([`super::questions`]), if it has one.
fn question_cells(s: &Section) -> Vec<Cell> {
    match s.key.as_str() {
        "normalization" => vec![
            md(
                "## Why did InstanceNorm collapse?\n\nThe paper's InstanceNorm reached 0.0658 on 100 classes, near chance. Four \
                probes try to reproduce a collapse at CPU cost and test an explanation: xknet18 \
                with BatchNorm and with \
                InstanceNorm at the paper's own lr 0.001 (the profile multiplies every lr by its \
                scale), each with \
                torchvision's average-pooling head and with a max-pooling head. They train on the \
                profile's first five seeds \
                with the section's units and are not among the study's family of comparisons: \
                their three comparisons are \
                Holm-adjusted among themselves, and read as exploratory. A collapse means \
                that InstanceNorm keeps less than half of BatchNorm's best validation accuracy \
                above chance, judged on Fieller's 95% interval (the paper's own keeps 0.12).\n\nThe explanation under test: instance \
                normalisation erases each channel's \
                per-image mean and scale at every block, and global average pooling then reads \
                exactly those means. The \
                table measures it on the validation images: `cv` is how much a pooled channel \
                varies from image to image \
                relative to its mean (median over channels), `class_share` the share of the \
                pooled features' variance that \
                lies between the class means — at initialisation and trained; `x_chance` is \
                accuracy over chance, \
                `loss_learned` the share of chance-level loss (ln classes) the best validation \
                loss removed.",
            ),
            code("let inorm = convlab::paper::instance_norm(&study)?;\ninorm.table()?.show()"),
            code("inorm.curves()"),
            code("Markdown(inorm.conclusion())"),
            md(
                "## Is no normalization better than BatchNorm?\n\nThe paper found no normalization slightly better than \
                BatchNorm, from one run each. The comparison above, in words:",
            ),
            code("Markdown(convlab::paper::no_norm(&section))"),
        ],
        "lr-decay" => vec![
            md(
                "## Constant lr 1e-3: accurate but unhealthy?\n\nFor every variant of the study (this cell loads every \
                section, training what is not stored yet): the final epoch's train accuracy \
                against its validation accuracy, \
                the gap between them, and how far the validation loss ended above its lowest \
                value. Train accuracy is \
                measured on the batches as they trained (train mode, augmented, averaged over the \
                epoch), as the curves \
                show it. Constant lr 1e-3's gap is then tested against xknet18's (Welch's t over \
                seeds).",
            ),
            code(
                "let all = study.run_all()?;\nlet gap = \
                    convlab::paper::generalisation(&all);\ngap.table()?.show()",
            ),
            code("Markdown(gap.conclusion())"),
        ],
        "dropout" => vec![
            md(
                "## Does accuracy fall steadily as p grows?\n\nEvery run of no normalization (p = 0: BatchNorm removed, no \
                dropout, from the normalization section) and of dropout 0.1, 0.2 and 0.3: the \
                least-squares slope of best \
                validation accuracy on p with its 95% CI, and the same for the final train \
                accuracy (under-fitting shows as \
                a train accuracy that falls with p).",
            ),
            code(
                "let trend = convlab::paper::dropout_trend(&section, \
                    &study.run_variant(\"norm-none\")?);\ntrend.table()?.show()",
            ),
            code("Markdown(trend.conclusion())"),
        ],
        "depth" => vec![
            md(
                "## What does depth cost?\n\nThe paper: resnet34 takes about twice resnet14's time. Run records time runs \
                that shared the machine with other workers, so the three depths are timed by \
                `convlab bench`'s measurement \
                instead, alone and with every thread: whole training epochs with the loader, at \
                the profile's scale, one epoch of each depth per round over seven rounds, so the \
                ratio of times gets a 95% interval and \"about twice\" (1.5–2.5×) is judged on \
                it. The \
                result is stored in `runs/<profile>/questions/depth-bench.json` and reused; \
                `depth_cost(&study, section.clone(), true)` measures again (on an otherwise idle \
                machine).",
            ),
            code(
                "let depth = convlab::paper::depth_cost(&study, section.clone(), \
                    false)?;\ndepth.table()?.show()",
            ),
            code("Markdown(depth.conclusion())"),
        ],
        _ => vec![],
    }
}

fn models_notebook(layout: &Layout) -> NotebookSpec {
    NotebookSpec {
        file: "00_models.ipynb".into(),
        cells: vec![
            md(
                "# The networks of the study\n\nEvery network in the paper is one `ResNetConfig`: torchvision's resnet18 (the \
                baseline), the study's xknet18 (3×3 stride-1 stem, no max-pool), and the depth \
                ablations resnet14 / resnet34. \
                This notebook builds each preset, counts its parameters and runs a 64×64 batch \
                through it.",
            ),
            code(layout.dep()),
            code("use convlab::prelude::*;\nprintln!(\"{}\", libtorch_info());"),
            md("Parameters and output shape of every preset (100 classes, RGB 64×64):"),
            code("convlab::analysis::presets_table(100, 64)?.show()"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notebook_per_section_in_order() {
        let nbs = paper_notebooks();
        let files: Vec<&str> = nbs.iter().map(|n| n.file.as_str()).collect();
        assert_eq!(files.first(), Some(&"00_models.ipynb"));
        assert_eq!(files[7], "07_lr_decay.ipynb");
        assert_eq!(files.last(), Some(&"10_summary.ipynb"));
        assert_eq!(files.len(), crate::plan::paper_plan().sections.len() + 2);
        let aug = &nbs[4];
        assert!(
            aug.cells.iter().any(|c| c.source.contains("study.confusion(&last)")),
            "the final model's cells"
        );
        assert!(nbs[6].cells.iter().any(|c| c.source.contains("run_variant(\"instance\")")));
        for nb in &nbs {
            assert_eq!(
                nb.cells[1].source, ":dep convlab = { path = \"..\", default-features = false }",
                "{}: every :dep first",
                nb.file
            );
            assert!(
                nb.cells
                    .iter()
                    .filter(|c| c.kind == crate::writeup::notebooks::CellKind::Code)
                    .all(|c| !c.source.is_empty())
            );
        }
        // The method is said once, in the summary, and each section notebook links to it; the
        // family's size comes from the plan, never from the prose.
        let n = crate::plan::paper_plan().family_members().len();
        let summary = nbs.last().unwrap();
        assert!(
            summary.cells.iter().any(|c| c.source.contains(&format!("study's {n} comparisons")))
        );
        for nb in &nbs[1..nbs.len() - 1] {
            assert!(nb.cells[0].source.contains("[method](10_summary.ipynb)"), "{}", nb.file);
            assert!(
                nb.cells.iter().any(|c| c.source.starts_with("study.overrides(")),
                "{}",
                nb.file
            );
            assert!(
                !nb.cells.iter().any(|c| c.source.contains("Holm's method")),
                "{}: the method again",
                nb.file
            );
        }
    }
}
