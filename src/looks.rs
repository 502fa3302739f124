//! How many seeds a study's comparisons get: a fixed number (the profile's seeds), or
//! *looks* — 5, then 10, 15 and 20 seeds a side, each comparison stopping once decided
//! ([`crate::analysis::sequential`]). Data for the settings (`--sequential 5,10,15,20`,
//! `CONVLAB_SEQUENTIAL`, `convlab.toml`'s `sequential`) and for a plan file's `sequential` key.
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The looks a sequential study takes when `--sequential` names none.
pub const DEFAULT_LOOKS: [usize; 4] = [5, 10, 15, 20];

/// Lan–DeMets alpha-spending functions: how much of α each look may spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spending {
    /// O'Brien–Fleming type: almost nothing at the early looks, nearly α at the last.
    #[default]
    ObrienFleming,
    /// Pocock type: about evenly over the looks.
    Pocock,
}

impl Spending {
    pub fn as_str(self) -> &'static str {
        match self {
            Spending::ObrienFleming => "obrien-fleming",
            Spending::Pocock => "pocock",
        }
    }
}

/// A sequential design's looks: seeds a side at each, and how α is spent over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Looks {
    /// Seeds a side at each look: at least 2 at the first, more at each next.
    pub seeds: Vec<usize>,
    #[serde(default)]
    pub spending: Spending,
}

impl Looks {
    /// At least two seeds at the first look, more at each next one, at most 1000.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.seeds;
        if s.is_empty() || s[0] < 2 {
            return Err(format!("{}: the first look needs at least 2 seeds a side", self));
        }
        if s.windows(2).any(|w| w[1] <= w[0]) {
            return Err(format!("{}: each look needs more seeds than the one before", self));
        }
        if s[s.len() - 1] > 1000 {
            return Err(format!("{}: at most 1000 seeds a side", self));
        }
        Ok(())
    }

    /// Seeds a side at the last look: the most a comparison gets.
    pub fn most(&self) -> usize {
        *self.seeds.last().expect("validated: at least one look")
    }
}

/// Seeds a side at each look as a sentence lists them: `5, 10, 15, 20`.
pub fn listed(seeds: &[usize]) -> String {
    seeds.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

impl std::fmt::Display for Looks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seeds: Vec<String> = self.seeds.iter().map(usize::to_string).collect();
        match self.spending {
            Spending::ObrienFleming => write!(f, "{}", seeds.join(",")),
            s => write!(f, "{}:{}", s.as_str(), seeds.join(",")),
        }
    }
}

/// A study's seeds, as the settings choose: `fixed` (the profile's seeds), or looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeding {
    Fixed,
    Sequential(Looks),
}

impl FromStr for Seeding {
    type Err = String;
    /// `fixed`, `5,10,15,20`, or `pocock:5,10,15,20` (the spending before a colon; default
    /// O'Brien–Fleming type).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "fixed" {
            return Ok(Seeding::Fixed);
        }
        let (spending, seeds) = match s.split_once(':') {
            Some(("obrien-fleming", rest)) => (Spending::ObrienFleming, rest),
            Some(("pocock", rest)) => (Spending::Pocock, rest),
            Some((other, _)) => {
                return Err(format!(
                    "`{other}` is not a spending function: obrien-fleming or pocock"
                ));
            }
            None => (Spending::ObrienFleming, s),
        };
        let seeds = seeds
            .split(',')
            .map(|n| {
                n.trim().parse::<usize>().map_err(|_| {
                    format!(
                        "`{}` is not a number of seeds: give looks as 5,10,15,20 (or fixed)",
                        n.trim()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let looks = Looks { seeds, spending };
        looks.validate()?;
        Ok(Seeding::Sequential(looks))
    }
}

impl std::fmt::Display for Seeding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seeding::Fixed => write!(f, "fixed"),
            Seeding::Sequential(l) => write!(f, "{l}"),
        }
    }
}

/// As its text (`fixed`, `5,10,15,20`): how settings files and grid files hold it.
impl Serialize for Seeding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Seeding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LooksText::deserialize(d)?.0.parse().map_err(serde::de::Error::custom)
    }
}

/// Looks as a file writes them, not yet checked: a string, or an error that shows the forms a
/// number or a list could have been written in.
#[derive(Debug, Clone, PartialEq)]
pub struct LooksText(pub String);

impl<'de> Deserialize<'de> for LooksText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = LooksText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a quoted list of looks, e.g. \"5,10,15,20\", \"pocock:5,10,15,20\" or \"fixed\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LooksText, E> {
                Ok(LooksText(v.to_string()))
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_and_refuse_with_the_fix() {
        let s: Seeding = "5,10,15,20".parse().unwrap();
        assert_eq!(
            s,
            Seeding::Sequential(Looks {
                seeds: DEFAULT_LOOKS.to_vec(),
                spending: Spending::ObrienFleming
            })
        );
        assert_eq!("pocock:3,6".parse::<Seeding>().unwrap().to_string(), "pocock:3,6");
        assert_eq!("fixed".parse::<Seeding>().unwrap(), Seeding::Fixed);
        let e = |t: &str| t.parse::<Seeding>().unwrap_err();
        assert_eq!(
            e("5,five"),
            "`five` is not a number of seeds: give looks as 5,10,15,20 (or fixed)"
        );
        assert_eq!(e("1,5"), "1,5: the first look needs at least 2 seeds a side");
        assert_eq!(e("5,5"), "5,5: each look needs more seeds than the one before");
        assert_eq!(e("bonf:5"), "`bonf` is not a spending function: obrien-fleming or pocock");
    }
}
