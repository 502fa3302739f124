//! Q2. Is "no normalization" better than BatchNorm?
use crate::analysis::compare::{Verdict, pp};
use crate::analysis::results::SectionResult;

/// Q2. The paper found no normalization slightly better than BatchNorm: the study's
/// comparison `norm-none − xknet18`, in words.
pub fn no_norm(normalization: &SectionResult) -> String {
    let Some(c) = normalization.comparison("norm-none") else {
        return "No normalization has not been compared with BatchNorm yet (the normalization \
            section has no comparison for norm-none)."
            .into();
    };
    let answer = match (c.verdict(), c.welch) {
        (Verdict::Better, _) => "**reproduced**: no normalization is better here too".to_string(),
        (Verdict::Worse, _) => {
            "**contradicted**: here no normalization is worse than BatchNorm".to_string()
        }
        (Verdict::Equivalent, _) => format!(
            "**no difference that matters**: here no normalization equals BatchNorm within \
                ±{:.1} pp, the study's margin",
            100.0 * c.margin.unwrap_or(f64::NAN)
        ),
        (Verdict::Undecided, Some(w)) => format!(
            "**not separable**: with these seeds the difference could be anything from {} to {} \
                pp, so \"slightly better\" is neither shown nor ruled out",
            pp(w.ci95.0),
            pp(w.ci95.1)
        ),
        _ => "not judged yet".to_string(),
    };
    format!(
        "The paper: no normalization slightly better than BatchNorm (best validation accuracy, one \
            run each). Here, on the {}: no normalization {:.4} against BatchNorm {:.4} — {}. The \
            paper's finding: {answer}.",
        c.score.sentence(),
        c.variant.mean().unwrap_or(f64::NAN),
        c.reference.mean().unwrap_or(f64::NAN),
        c.describe()
    )
}
