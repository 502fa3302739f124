//! The built-in plan: the paper's study ("Exp2: Convolution Neural Network") as data,
//! `studies/paper.toml`, read once and checked like any plan ([`paper_plan`]) — its sections,
//! each a list of variants, each variant the paper's baseline recipe (torchvision resnet18 and
//! [`crate::train::recipe`]) plus overrides.
//! It is what a study runs when given no plan, and the catalogue every other plan's `base` finds
//! variants in.
use super::{Plan, Section, Variant};
use std::sync::OnceLock;

/// Seeds of a probe: the profile's first five (all it has when fewer) — enough for the quick
/// profile's InstanceNorm collapse to be decided on its interval ([`crate::paper::Collapse`]).
pub const PROBE_SEEDS: usize = 5;

/// A section of the paper's plan by key, or an error listing the keys.
pub fn paper_section(key: &str) -> anyhow::Result<&'static Section> {
    paper_plan().find_section(key)
}

/// A variant or probe of the paper's plan by key, or an error listing the keys.
pub fn paper_variant(key: &str) -> anyhow::Result<&'static Variant> {
    paper_plan().find_variant(key)
}

/// The paper's plan file, built into the library.
pub const PAPER_TOML: &str = include_str!("../../studies/paper.toml");

/// The paper's plan as the file says it, not yet checked: the catalogue other plans'
/// bases resolve against.
pub(crate) fn paper_plan_unchecked() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| match Plan::parse_toml(PAPER_TOML, "paper") {
        Ok((plan, _)) => plan,
        Err((line, e)) => {
            panic!("studies/paper.toml:{line}: {e} (built into the library; a test reads it)")
        }
    })
}

/// The paper's plan, validated, every variant with its style.
pub fn paper_plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let raw = paper_plan_unchecked();
        raw.clone().validate_against(raw).map(|p| p.with_styles()).unwrap_or_else(|e| {
            panic!("studies/paper.toml: {e} (built into the library; a test checks it)")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::Style;

    /// One variant, one style, in every figure: every variant and probe of the paper has
    /// its own, none yellow.
    #[test]
    fn every_variant_has_a_distinct_style() {
        let plan = paper_plan();
        let all: Vec<&Variant> = plan.variants().into_iter().chain(plan.probes()).collect();
        let mut seen = std::collections::HashMap::new();
        for v in &all {
            let s: Style = v.style.unwrap_or_else(|| panic!("{} has no style", v.key));
            assert!(
                paper_plan_unchecked().get_variant(&v.key).unwrap().style.is_some(),
                "{}: the paper's file names its style",
                v.key
            );
            assert_ne!(
                s.color,
                crate::plot::okabe_ito::YELLOW,
                "{}: yellow is too light for lines",
                v.key
            );
            if let Some(other) = seen.insert(s, v.key.clone()) {
                panic!("{} and {other} share {s}", v.key);
            }
        }
    }

    #[test]
    fn notebook_variants_belong_to_their_section() {
        for s in &paper_plan().sections {
            let has = |k: &str| s.variants.iter().any(|v| v.key == k);
            for k in [&s.alone, &s.final_model, &s.reference].into_iter().flatten() {
                assert!(has(k), "{}: {k} is not one of its variants", s.key);
            }
        }
    }

    #[test]
    fn probe_keys_are_distinct_from_variants() {
        let plan = paper_plan();
        let keys: Vec<&str> =
            plan.variants().into_iter().chain(plan.probes()).map(|v| v.key.as_str()).collect();
        for k in &keys {
            assert_eq!(keys.iter().filter(|x| *x == k).count(), 1, "{k} is listed twice");
        }
        assert_eq!(paper_variant("probe-in-lr1e-3").unwrap().key, "probe-in-lr1e-3");
        assert!(paper_variant("nope").unwrap_err().to_string().contains("probe-in-max-lr1e-3"));
        assert!(plan.is_probe("probe-in-lr1e-3") && !plan.is_probe("instance"));
    }
}
