//! The report's sections and variants by key. The report is data: `studies/report.toml`
//! (read once and checked like any plan, [`report`]) — its sections, each a list
//! of variants, each variant the report's baseline recipe (torchvision resnet18, SGD lr 0.001
//! momentum 0.9, StepLR(7, 0.1), batch 64, 25 epochs, seed 20211108) plus overrides. Every
//! ablation is xknet18 plus one change, as the report did them.
use super::{Plan, Section, Variant};
use std::sync::OnceLock;

/// Seeds of a probe: the profile's first two (one when it has one), the fewest that give a spread.
pub const PROBE_SEEDS: usize = 2;

/// A section of the report by key, or an error listing the keys.
pub fn section(key: &str) -> anyhow::Result<&'static Section> {
    report().get(key)
}

/// A variant or probe of the report by key, or an error listing the keys.
pub fn variant(key: &str) -> anyhow::Result<&'static Variant> {
    report().find(key)
}

/// The report's plan file, built into the library.
pub const REPORT_TOML: &str = include_str!("../../studies/report.toml");

/// The report's plan as the file says it, not yet checked: the catalogue other plans'
/// bases resolve against.
pub(crate) fn report_unchecked() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| match Plan::parse_toml(REPORT_TOML, "report") {
        Ok((plan, _)) => plan,
        Err((line, e)) => {
            panic!("studies/report.toml:{line}: {e} (built into the library; a test reads it)")
        }
    })
}

/// The report's study, checked, every variant with its style.
pub fn report() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let raw = report_unchecked();
        raw.clone().check_against(raw).unwrap_or_else(|e| {
            panic!("studies/report.toml: {e} (built into the library; a test checks it)")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::Style;

    /// One variant, one style, in every figure: every variant and probe of the report has
    /// its own, none yellow.
    #[test]
    fn every_variant_has_a_distinct_style() {
        let plan = report();
        let all: Vec<&Variant> = plan.variants().into_iter().chain(plan.probes()).collect();
        let mut seen = std::collections::HashMap::new();
        for v in &all {
            let s: Style = v.style.unwrap_or_else(|| panic!("{} has no style", v.key));
            assert!(
                report_unchecked().variant(&v.key).unwrap().style.is_some(),
                "{}: the report's file names its style",
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
        for s in &report().sections {
            let has = |k: &str| s.variants.iter().any(|v| v.key == k);
            for k in [&s.alone, &s.final_model, &s.reference].into_iter().flatten() {
                assert!(has(k), "{}: {k} is not one of its variants", s.key);
            }
        }
    }

    #[test]
    fn probe_keys_are_distinct_from_variants() {
        let plan = report();
        let keys: Vec<&str> =
            plan.variants().into_iter().chain(plan.probes()).map(|v| v.key.as_str()).collect();
        for k in &keys {
            assert_eq!(keys.iter().filter(|x| *x == k).count(), 1, "{k} is listed twice");
        }
        assert_eq!(variant("probe-in-lr1e-3").unwrap().key, "probe-in-lr1e-3");
        assert!(variant("nope").unwrap_err().to_string().contains("probe-in-max-lr1e-3"));
        assert!(plan.is_probe("probe-in-lr1e-3") && !plan.is_probe("instance"));
    }
}
