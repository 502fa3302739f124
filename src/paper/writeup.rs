//! What the paper's plan adds to its write-up ([`crate::writeup::Addendum`]): each section's
//! open question answered after its conclusion, and the profile held against the paper after
//! the summary.
use super::{Answers, answer_all};
use crate::analysis::{Family, SectionResult, Table};
use crate::plan::Setup;
use crate::writeup::{Addendum, Block, figure_blocks, paras};

/// The paper's answers for a write-up: computed once from the finished sections (`None` while
/// a section, a probe or the depth benchmark is missing).
struct PaperAddendum {
    setup: Setup,
    answers: Option<Answers>,
}

/// The paper's addendum to the write-up of its plan (a [`crate::writeup::AddendumFn`]).
pub fn addendum(setup: &Setup, complete: &[SectionResult]) -> Box<dyn Addendum> {
    Box::new(PaperAddendum { setup: setup.clone(), answers: answer_all(setup, complete).ok() })
}

impl Addendum for PaperAddendum {
    fn section(&self, key: &str) -> anyhow::Result<Vec<Block>> {
        question_blocks(&self.setup, key, self.answers.as_ref())
    }

    fn summary(&self, family: &Family) -> anyhow::Result<Vec<Block>> {
        let p = &self.setup.profile;
        let mut blocks = Vec::new();
        let answers = self.answers.as_ref();
        blocks
            .push(Block::Heading(2, format!("The {} profile against the paper", p.name.as_str())));
        match answers {
            Some(a) => {
                blocks.push(Block::Para(super::FIDELITY_KEY.into()));
                let rows = a.fidelity(family);
                blocks.push(Block::Table(Table {
                    name: "fidelity".into(),
                    header: super::FIDELITY_HEADER.map(String::from).to_vec(),
                    rows: super::fidelity_cells(&rows),
                }));
                blocks
                    .push(Block::Heading(3, "Do the findings hold at the paper's own lr?".into()));
                blocks.extend(paras(&a.paper_lr.conclusion()));
            }
            None => blocks.push(Block::Para(
                "Not available until every section, the probes and the \
            depth benchmark have run (`convlab study`)."
                    .into(),
            )),
        }
        Ok(blocks)
    }
}

/// The blocks of a section's open question, when it has one and its answer could be computed.
fn question_blocks(
    setup: &Setup,
    key: &str,
    answers: Option<&Answers>,
) -> anyhow::Result<Vec<Block>> {
    let mut out = Vec::new();
    let Some(a) = answers else {
        if ["normalization", "dropout", "lr-decay", "depth"].contains(&key) {
            out.push(Block::Para(
                "The section's open question is answered once every section, the \
                probes and the depth benchmark have run (`convlab study`)."
                    .into(),
            ));
        }
        return Ok(out);
    };
    match key {
        "normalization" => {
            out.push(Block::Heading(2, "Why did InstanceNorm collapse?".into()));
            out.push(Block::Table(Table::from_frame("instance-norm", &a.instance_norm.table()?)?));
            let files =
                a.instance_norm.curves().export(&setup.figures_dir, "normalization-probes")?;
            out.extend(figure_blocks(
                &files,
                &[(
                    "normalization-probes",
                    "BatchNorm and \
                InstanceNorm at the paper's lr 0.001, each with an average- and a max-pooling \
                head: validation per epoch."
                        .into(),
                )],
            ));
            out.extend(paras(&a.instance_norm.conclusion()));
            out.push(Block::Heading(2, "Is no normalization better than BatchNorm?".into()));
            out.extend(paras(&a.no_norm));
        }
        "dropout" => {
            out.push(Block::Heading(2, "Does accuracy fall steadily as p grows?".into()));
            out.push(Block::Table(Table::from_frame("dropout-trend", &a.dropout.table()?)?));
            out.extend(paras(&a.dropout.conclusion()));
        }
        "lr-decay" => {
            out.push(Block::Heading(2, "Constant lr 1e-3: accurate but unhealthy?".into()));
            out.push(Block::Table(Table::from_frame(
                "generalisation",
                &a.generalisation.table()?,
            )?));
            out.extend(paras(&a.generalisation.conclusion()));
        }
        "depth" => {
            out.push(Block::Heading(2, "What does depth cost?".into()));
            out.push(Block::Table(Table::from_frame("depth-cost", &a.depth.table()?)?));
            out.extend(paras(&a.depth.conclusion()));
        }
        _ => {}
    }
    Ok(out)
}
