//! The report, as data: each section a list of variants, each variant a list of
//! changes from the report's baseline recipe (torchvision resnet18, SGD lr 0.001
//! momentum 0.9, StepLR(7, 0.1), batch 64, 25 epochs, seed 20211108).
//! Every ablation is xknet18 plus one change, as the report did them.
use crate::plot::{Dash, Style};
use crate::model::{Norm, Pool};

/// One change from the report's baseline, in the report's own units (its 25 epochs, its lr).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// 3×3 stride-1 stem without max-pool (xknet18).
    SmallStem,
    /// Multiply the base width (0.5 = the half-width study).
    WidthFactor(f64),
    /// StepLR(step_size epochs of 25, gamma).
    StepLr { step_size: usize, gamma: f64 },
    /// Random horizontal and vertical flips, each with this probability.
    Flips(f64),
    /// Normalization layers.
    Norm(Norm),
    /// Dropout before `fc`.
    Dropout(f64),
    /// No LR decay: this lr (the report's units) for every epoch.
    ConstantLr(f64),
    /// No residual connections.
    NoResidual,
    /// Blocks per stage.
    Blocks([usize; 4]),
    /// Global pooling of the head.
    Pool(Pool),
    /// The report's own learning rate, 0.001, not multiplied by the profile's `lr_scale`
    /// (the schedule keeps the profile's step sizes).
    ReportLr,
}

/// One experiment of a section.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Run name, shared by sections (xknet18 is the reference of every ablation, trained once).
    pub key: &'static str,
    /// How the report calls it.
    pub label: &'static str,
    /// Changes from the report's baseline.
    pub changes: &'static [Change],
    /// Best validation accuracy the report gives (full profile), when it gives one.
    pub reported: Option<f64>,
}

/// One section of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// `baseline`, `xknet18`, … — also the notebook's name.
    pub key: &'static str,
    pub title: &'static str,
    /// The question the section answers.
    pub question: &'static str,
    /// What the report found (its numbers), as the notebook states it (Markdown).
    pub report: &'static str,
    /// The variant the others are compared with (Δ columns), if any.
    pub reference: Option<&'static str>,
    pub variants: &'static [Variant],
    /// The variant the notebook's "one variant alone" cell re-runs.
    pub alone: &'static str,
    /// The report's final model, when the section ends with it: its confusion
    /// matrix and test-set predictions (`test.txt`) are shown.
    pub final_model: Option<&'static str>,
    /// Whether the section shows its best model's confusion matrix and per-class accuracy
    /// ([`super::Study::best_model`]).
    pub per_class: bool,
    /// Extra experiments that answer the section's open question ([`super::questions`]):
    /// trained with the section's units on the profile's first [`PROBE_SEEDS`] seeds, and
    /// not part of the study's family of comparisons.
    pub probes: &'static [Variant],
}

/// Seeds of a probe: the profile's first two (one when it has one), the fewest that give a spread.
pub const PROBE_SEEDS: usize = 2;

const XK: Change = Change::SmallStem;

pub const RESNET18: Variant = Variant { key: "resnet18", label: "resnet18 (torchvision)", changes: &[], reported: Some(0.3916) };
pub const XKNET18: Variant = Variant { key: "xknet18", label: "xknet18 (3×3/1 stem, no max-pool)", changes: &[XK], reported: Some(0.4592) };
pub const HALF: Variant = Variant {
    key: "xknet18-half",
    label: "half width, StepLR(4, 0.3)",
    changes: &[XK, Change::WidthFactor(0.5), Change::StepLr { step_size: 4, gamma: 0.3 }],
    reported: Some(0.4096),
};
pub const FLIPS_005: Variant = Variant { key: "flips-0.05", label: "h+v flips p = 0.05", changes: &[XK, Change::Flips(0.05)], reported: Some(0.4534) };
pub const FLIPS_01: Variant = Variant { key: "flips-0.1", label: "h+v flips p = 0.1", changes: &[XK, Change::Flips(0.1)], reported: Some(0.4536) };
pub const DROPOUT_01: Variant =
    Variant { key: "dropout-0.1", label: "no BN, dropout 0.1", changes: &[XK, Change::Norm(Norm::None), Change::Dropout(0.1)], reported: None };
pub const DROPOUT_02: Variant =
    Variant { key: "dropout-0.2", label: "no BN, dropout 0.2", changes: &[XK, Change::Norm(Norm::None), Change::Dropout(0.2)], reported: None };
pub const DROPOUT_03: Variant =
    Variant { key: "dropout-0.3", label: "no BN, dropout 0.3", changes: &[XK, Change::Norm(Norm::None), Change::Dropout(0.3)], reported: None };
pub const NORM_NONE: Variant = Variant { key: "norm-none", label: "no normalization", changes: &[XK, Change::Norm(Norm::None)], reported: None };
pub const INSTANCE: Variant =
    Variant { key: "instance", label: "InstanceNorm (affine = false)", changes: &[XK, Change::Norm(Norm::Instance { affine: false })], reported: Some(0.0658) };
pub const INSTANCE_AFFINE: Variant =
    Variant { key: "instance-affine", label: "InstanceNorm (affine = true)", changes: &[XK, Change::Norm(Norm::Instance { affine: true })], reported: None };
pub const CONST_1E3: Variant = Variant { key: "constant-lr-1e-3", label: "no LR decay, lr 1e-3", changes: &[XK, Change::ConstantLr(1e-3)], reported: None };
pub const CONST_1E4: Variant = Variant { key: "constant-lr-1e-4", label: "no LR decay, lr 1e-4", changes: &[XK, Change::ConstantLr(1e-4)], reported: None };
pub const NO_RESIDUAL: Variant = Variant { key: "no-residual", label: "no residual connections", changes: &[XK, Change::NoResidual], reported: Some(0.4184) };
pub const RESNET14: Variant = Variant { key: "resnet14", label: "resnet14 [1,2,2,1]", changes: &[XK, Change::Blocks([1, 2, 2, 1])], reported: None };
/// The normalization section's probes ([`super::questions::instance_norm`]): xknet18 with
/// BatchNorm and with InstanceNorm, each with the average-pooling head and with a max-pooling
/// one, all at the report's own lr 0.001 (not the profile's scaled one).
pub const PROBE_BN_REPORT_LR: Variant =
    Variant { key: "probe-bn-lr1e-3", label: "BatchNorm at the report's lr 0.001", changes: &[XK, Change::ReportLr], reported: Some(0.4592) };
pub const PROBE_IN_REPORT_LR: Variant = Variant {
    key: "probe-in-lr1e-3",
    label: "InstanceNorm at the report's lr 0.001",
    changes: &[XK, Change::Norm(Norm::Instance { affine: false }), Change::ReportLr],
    reported: Some(0.0658),
};
pub const PROBE_IN_MAX_REPORT_LR: Variant = Variant {
    key: "probe-in-max-lr1e-3",
    label: "InstanceNorm, max-pool head, lr 0.001",
    changes: &[XK, Change::Norm(Norm::Instance { affine: false }), Change::Pool(Pool::Max), Change::ReportLr],
    reported: None,
};
pub const PROBE_BN_MAX_REPORT_LR: Variant = Variant {
    key: "probe-bn-max-lr1e-3",
    label: "BatchNorm, max-pool head, lr 0.001",
    changes: &[XK, Change::Pool(Pool::Max), Change::ReportLr],
    reported: None,
};
pub const RESNET34: Variant = Variant { key: "resnet34", label: "resnet34 [3,4,6,3]", changes: &[XK, Change::Blocks([3, 4, 6, 3])], reported: None };

/// Every section, in the report's order.
pub const SECTIONS: [Section; 9] = [
    Section {
        key: "baseline",
        title: "1. Baseline: torchvision resnet18",
        question: "How well does an unmodified torchvision resnet18 (7×7/2 stem + 3×3 max-pool) learn the dataset with the baseline recipe: cross-entropy, SGD lr 0.001 momentum 0.9, StepLR(7, 0.1), batch 64, 25 epochs, seed 20211108?",
        report: "The report's resnet18 reached a best validation accuracy of **0.3916** on its 100-class, 64×64 ImageNet subset. On 64×64 images the ImageNet stem quarters the resolution before the first stage (64 → 16), so layer4 works on 2×2 maps.",
        reference: None,
        variants: &[RESNET18],
        alone: "resnet18",
        final_model: None,
        per_class: true,
        probes: &[],
    },
    Section {
        key: "xknet18",
        title: "2. xknet18: a stem for small images",
        question: "Does replacing the 7×7 stride-2 stem and max-pool with a 3×3 stride-1 stem (the report's *xknet18*) help on small images?",
        report: "Report: resnet18 **0.3916** → xknet18 **0.4592** (+6.8 pp). The small stem keeps full resolution into layer1 (64×64 → layer4 at 8×8), at the same parameter count but ~16× the compute.",
        reference: Some("resnet18"),
        variants: &[RESNET18, XKNET18],
        alone: "xknet18",
        final_model: None,
        per_class: true,
        probes: &[],
    },
    Section {
        key: "width",
        title: "3. Width and schedule: half-width xknet18",
        question: "How much accuracy does halving the width cost, with the schedule the report paired it with, StepLR(4, 0.3)?",
        report: "Report: xknet18 **0.4592** → half width **0.4096** (−5.0 pp), for ¼ of the parameters and compute.",
        reference: Some("xknet18"),
        variants: &[XKNET18, HALF],
        alone: "xknet18-half",
        final_model: None,
        per_class: false,
        probes: &[],
    },
    Section {
        key: "augmentation",
        title: "4. Augmentation: random flips",
        question: "Do random horizontal and vertical flips (each with p = 0.05 or p = 0.1) improve xknet18? The final model's predictions for the test split go to `test.txt`.",
        report: "Report: **0.4534** (p = 0.05) and **0.4536** (p = 0.1), against xknet18's 0.4592 — a difference the report, with one run each, could not tell from noise.",
        reference: Some("xknet18"),
        variants: &[XKNET18, FLIPS_005, FLIPS_01],
        alone: "flips-0.05",
        final_model: Some("flips-0.1"),
        per_class: false,
        probes: &[],
    },
    Section {
        key: "dropout",
        title: "5. Dropout instead of BatchNorm",
        question: "With BatchNorm removed, does dropout before the classifier (p = 0.1, 0.2, 0.3) make up for it?",
        report: "The report ran dropout 0.1 / 0.2 / 0.3 before `fc` with BatchNorm removed; it gives no single number for them.",
        reference: Some("xknet18"),
        variants: &[XKNET18, DROPOUT_01, DROPOUT_02, DROPOUT_03],
        alone: "dropout-0.2",
        final_model: None,
        per_class: false,
        probes: &[],
    },
    Section {
        key: "normalization",
        title: "6. Normalization: none, InstanceNorm",
        question: "What does BatchNorm contribute, and why did InstanceNorm collapse in the report?",
        report: "Report: InstanceNorm **0.0658** against xknet18's 0.4592 — near chance for 100 classes. Here InstanceNorm runs both as PyTorch's default (`affine = false`, no parameters, per-sample statistics in training and evaluation) and with affine parameters, next to no normalization at all.",
        reference: Some("xknet18"),
        variants: &[XKNET18, NORM_NONE, INSTANCE, INSTANCE_AFFINE],
        alone: "instance",
        final_model: None,
        per_class: false,
        probes: &[PROBE_BN_REPORT_LR, PROBE_IN_REPORT_LR, PROBE_BN_MAX_REPORT_LR, PROBE_IN_MAX_REPORT_LR],
    },
    Section {
        key: "lr-decay",
        title: "7. Learning-rate decay",
        question: "How much does StepLR(7, 0.1) matter: constant lr 0.001 and constant lr 0.0001 instead?",
        report: "The report ran both constant learning rates as ablations of xknet18. Profiles scale every learning rate by the same factor (see the profile line below), so the three runs keep the report's ratios.",
        reference: Some("xknet18"),
        variants: &[XKNET18, CONST_1E3, CONST_1E4],
        alone: "constant-lr-1e-4",
        final_model: None,
        per_class: false,
        probes: &[],
    },
    Section {
        key: "residual",
        title: "8. Residual connections",
        question: "How much do the shortcut connections matter at 18 layers?",
        report: "Report: without residual connections **0.4184**, against xknet18's 0.4592 (−4.1 pp).",
        reference: Some("xknet18"),
        variants: &[XKNET18, NO_RESIDUAL],
        alone: "no-residual",
        final_model: None,
        per_class: false,
        probes: &[],
    },
    Section {
        key: "depth",
        title: "9. Depth: resnet14, resnet18, resnet34",
        question: "Does depth help: 14 and 34 layers against xknet18's 18 (all with the small stem)?",
        report: "The report trained resnet14 ([1,2,2,1] blocks) and resnet34 ([3,4,6,3]) as ablations of xknet18.",
        reference: Some("xknet18"),
        variants: &[RESNET14, XKNET18, RESNET34],
        alone: "resnet34",
        final_model: None,
        per_class: false,
        probes: &[],
    },
];

/// A section by key, or an error listing the keys.
pub fn section(key: &str) -> anyhow::Result<&'static Section> {
    SECTIONS.iter().find(|s| s.key == key).ok_or_else(|| {
        let keys: Vec<&str> = SECTIONS.iter().map(|s| s.key).collect();
        anyhow::anyhow!("unknown section `{key}`; sections: {}", keys.join(", "))
    })
}

/// Every variant's look in every figure of the study: a colour of Okabe & Ito's palette
/// (yellow left out: too light for lines on white) × a dash. Related variants share a colour
/// and differ in dash — the three dropout rates, the two flip rates, the three widths and
/// depths, the two InstanceNorms; xknet18, the reference of every ablation, is black, and the
/// BatchNorm probes are its dashed and dotted twins.
pub const STYLES: [(&str, Style); 20] = {
    use crate::plot::okabe_ito::*;
    use Dash::*;
    [
        ("resnet18", Style::new(VERMILLION, Solid)),
        ("xknet18", Style::new(BLACK, Solid)),
        ("xknet18-half", Style::new(BLUE, Solid)),
        ("flips-0.05", Style::new(BLUISH_GREEN, Solid)),
        ("flips-0.1", Style::new(BLUISH_GREEN, Dashed)),
        ("dropout-0.1", Style::new(ORANGE, Solid)),
        ("dropout-0.2", Style::new(ORANGE, Dashed)),
        ("dropout-0.3", Style::new(ORANGE, Dotted)),
        ("norm-none", Style::new(REDDISH_PURPLE, Solid)),
        ("instance", Style::new(SKY_BLUE, Solid)),
        ("instance-affine", Style::new(SKY_BLUE, Dashed)),
        ("constant-lr-1e-3", Style::new(REDDISH_PURPLE, Dashed)),
        ("constant-lr-1e-4", Style::new(REDDISH_PURPLE, Dotted)),
        ("no-residual", Style::new(VERMILLION, Dashed)),
        ("resnet14", Style::new(BLUE, Dashed)),
        ("resnet34", Style::new(BLUE, Dotted)),
        ("probe-bn-lr1e-3", Style::new(BLACK, Dashed)),
        ("probe-bn-max-lr1e-3", Style::new(BLACK, Dotted)),
        ("probe-in-lr1e-3", Style::new(SKY_BLUE, Dotted)),
        ("probe-in-max-lr1e-3", Style::new(SKY_BLUE, DashDot)),
    ]
};

/// Grey: the look of a variant [`STYLES`] does not list (none; a test says so).
const UNLISTED: Style = Style::new((128, 128, 128), Dash::Solid);

/// The variant's style in every figure ([`STYLES`]).
pub fn style_of(v: &Variant) -> Style {
    STYLES.iter().find(|(k, _)| *k == v.key).map_or(UNLISTED, |(_, s)| *s)
}

/// Every section, in the report's order.
pub fn all_sections() -> Vec<&'static Section> {
    SECTIONS.iter().collect()
}

/// Every probe of the study ([`Section::probes`]), in section order.
pub fn all_probes() -> Vec<&'static Variant> {
    SECTIONS.iter().flat_map(|s| s.probes.iter()).collect()
}

/// A variant or probe by key, or an error listing the keys.
pub fn variant(key: &str) -> anyhow::Result<&'static Variant> {
    let all = || all_variants().into_iter().chain(all_probes());
    all().find(|v| v.key == key).ok_or_else(|| {
        let keys: Vec<&str> = all().map(|v| v.key).collect();
        anyhow::anyhow!("unknown variant `{key}`; variants: {}", keys.join(", "))
    })
}

/// Every distinct variant of the study, in first-appearance order.
pub fn all_variants() -> Vec<&'static Variant> {
    let mut out: Vec<&'static Variant> = Vec::new();
    for s in &SECTIONS {
        for v in s.variants {
            if !out.iter().any(|o| o.key == v.key) {
                out.push(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One variant, one style, in every figure: every variant and probe has its own.
    #[test]
    fn every_variant_has_a_distinct_style() {
        let all: Vec<&Variant> = all_variants().into_iter().chain(all_probes()).collect();
        assert_eq!(all.len(), STYLES.len(), "a style per variant and probe, no stale entry");
        let mut seen = std::collections::HashMap::new();
        for v in &all {
            assert!(STYLES.iter().any(|(k, _)| *k == v.key), "{} has no style", v.key);
            let s = style_of(v);
            assert_ne!(s, UNLISTED);
            assert_ne!(s.color, crate::plot::okabe_ito::YELLOW, "{}: yellow is too light for lines", v.key);
            if let Some(other) = seen.insert(s, v.key) {
                panic!("{} and {other} share {s:?}", v.key);
            }
        }
    }

    #[test]
    fn notebook_variants_belong_to_their_section() {
        for s in &SECTIONS {
            let has = |k: &str| s.variants.iter().any(|v| v.key == k);
            assert!(has(s.alone), "{}: `alone` = {} is not one of its variants", s.key, s.alone);
            if let Some(f) = s.final_model {
                assert!(has(f), "{}: `final_model` = {f} is not one of its variants", s.key);
            }
            if let Some(r) = s.reference {
                assert!(has(r), "{}: reference {r} is not one of its variants", s.key);
            }
        }
    }

    #[test]
    fn probe_keys_are_distinct_from_variants() {
        let keys: Vec<&str> = all_variants().into_iter().chain(all_probes()).map(|v| v.key).collect();
        for k in &keys {
            assert_eq!(keys.iter().filter(|x| *x == k).count(), 1, "{k} is listed twice");
        }
        assert_eq!(variant("probe-in-lr1e-3").unwrap().key, "probe-in-lr1e-3");
        assert!(variant("nope").unwrap_err().to_string().contains("probe-in-max-lr1e-3"));
    }
}
