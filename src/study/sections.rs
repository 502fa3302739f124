//! The report, as data: each section a list of variants, each variant a list of
//! changes from the report's baseline recipe (torchvision resnet18, SGD lr 0.001
//! momentum 0.9, StepLR(7, 0.1), batch 64, 25 epochs, seed 20211108).
//! Every ablation is xknet18 plus one change, as the report did them.
use crate::model::Norm;

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
    /// The variant the others are compared with (Δ columns), if any.
    pub reference: Option<&'static str>,
    pub variants: &'static [Variant],
}

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
pub const RESNET34: Variant = Variant { key: "resnet34", label: "resnet34 [3,4,6,3]", changes: &[XK, Change::Blocks([3, 4, 6, 3])], reported: None };

/// Every section, in the report's order.
pub const SECTIONS: [Section; 9] = [
    Section {
        key: "baseline",
        title: "1. Baseline: torchvision resnet18",
        question: "How well does an unmodified torchvision resnet18 (7×7/2 stem + max-pool) learn the dataset with the baseline recipe?",
        reference: None,
        variants: &[RESNET18],
    },
    Section {
        key: "xknet18",
        title: "2. xknet18: a stem for small images",
        question: "Does replacing the 7×7 stride-2 stem and max-pool with a 3×3 stride-1 stem help on small images?",
        reference: Some("resnet18"),
        variants: &[RESNET18, XKNET18],
    },
    Section {
        key: "width",
        title: "3. Width and schedule: half-width xknet18",
        question: "How much accuracy does halving the width (with StepLR(4, 0.3)) cost?",
        reference: Some("xknet18"),
        variants: &[XKNET18, HALF],
    },
    Section {
        key: "augmentation",
        title: "4. Augmentation: random flips",
        question: "Do random horizontal and vertical flips (p = 0.05, 0.1) improve xknet18? The final model predicts the test split (test.txt).",
        reference: Some("xknet18"),
        variants: &[XKNET18, FLIPS_005, FLIPS_01],
    },
    Section {
        key: "dropout",
        title: "5. Dropout instead of BatchNorm",
        question: "With BatchNorm removed, does dropout before the classifier (0.1, 0.2, 0.3) make up for it?",
        reference: Some("xknet18"),
        variants: &[XKNET18, DROPOUT_01, DROPOUT_02, DROPOUT_03],
    },
    Section {
        key: "normalization",
        title: "6. Normalization: none, InstanceNorm",
        question: "What does BatchNorm contribute, and why did InstanceNorm collapse to 0.0658 in the report?",
        reference: Some("xknet18"),
        variants: &[XKNET18, NORM_NONE, INSTANCE, INSTANCE_AFFINE],
    },
    Section {
        key: "lr-decay",
        title: "7. Learning-rate decay",
        question: "How much does StepLR matter: constant lr 1e-3 and 1e-4 against StepLR(7, 0.1)?",
        reference: Some("xknet18"),
        variants: &[XKNET18, CONST_1E3, CONST_1E4],
    },
    Section {
        key: "residual",
        title: "8. Residual connections",
        question: "How much do the shortcut connections matter at this depth?",
        reference: Some("xknet18"),
        variants: &[XKNET18, NO_RESIDUAL],
    },
    Section {
        key: "depth",
        title: "9. Depth: resnet14, resnet18, resnet34",
        question: "Does depth help: 14 and 34 layers against xknet18's 18?",
        reference: Some("xknet18"),
        variants: &[RESNET14, XKNET18, RESNET34],
    },
];

/// A section by key, or an error listing the keys.
pub fn section(key: &str) -> anyhow::Result<&'static Section> {
    SECTIONS.iter().find(|s| s.key == key).ok_or_else(|| {
        let keys: Vec<&str> = SECTIONS.iter().map(|s| s.key).collect();
        anyhow::anyhow!("unknown section `{key}`; sections: {}", keys.join(", "))
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
