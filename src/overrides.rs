//! Overrides: any field of a configuration set by name, in Hydra's grammar — `key=value`,
//! and `key=a,b,c` for a sweep. The key is the dotted path of a field in the configuration's
//! serde form (`train.weight_decay`, `model.norm`, `train.augment.hflip`); the value is
//! written as TOML writes it (`5e-4`, `true`, `[1, 2, 2, 1]`, `"text"`) or as a bare word
//! (`small`, `group:8`, `step:4:0.3`).
//!
//! Nothing here knows a field: an override edits the configuration's serde form (a JSON
//! tree) and the type is deserialized back from it, so the types parse and validate values
//! themselves, and a new field is reachable the moment it exists. Errors name the key, the
//! value and the expected form; an unknown key names the valid keys near it.
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// One `key=value`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    pub key: String,
    /// The value as written (parsed when applied: [`parse_value`]).
    pub value: String,
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// What is wrong with an override. Each message is one line naming the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverrideError {
    /// Not `key=value`.
    #[error("`{text}`: expected key=value, e.g. train.weight_decay=5e-4")]
    Syntax { text: String },
    /// No such field.
    #[error("{key}: unknown key; {hint}")]
    UnknownKey { key: String, hint: String },
    /// A value the field's type does not take.
    #[error("{key}={value}: {problem}")]
    Value { key: String, value: String, problem: String },
    /// A field that is not set this way (it comes from elsewhere).
    #[error("{key}: {why}")]
    Fixed { key: String, why: String },
}

impl std::str::FromStr for Override {
    type Err = OverrideError;
    /// `key=value`: the key before the first `=`, the value after it (sweeps are
    /// [`parse_sweep`]'s).
    fn from_str(s: &str) -> Result<Self, OverrideError> {
        let syntax = || OverrideError::Syntax { text: s.to_string() };
        let (key, value) = s.split_once('=').ok_or_else(syntax)?;
        let key = key.trim();
        let valid = |seg: &str| {
            !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !key.split('.').all(valid) || value.trim().is_empty() {
            return Err(syntax());
        }
        Ok(Override { key: key.to_string(), value: value.trim().to_string() })
    }
}

/// `key=a,b,c`: the key and each value, split at commas outside brackets and quotes
/// (`model.blocks=[1,2,2,1],[2,2,2,2]` is two values).
pub fn parse_sweep(s: &str) -> Result<(String, Vec<String>), OverrideError> {
    let o: Override = s.parse()?;
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let mut values = Vec::new();
    for (i, c) in o.value.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(o.value[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    values.push(o.value[start..].trim().to_string());
    if values.iter().any(String::is_empty) {
        return Err(OverrideError::Syntax { text: s.to_string() });
    }
    Ok((o.key, values))
}

/// A value as written, as a serde tree: TOML's literals (numbers, booleans, arrays, quoted
/// strings), then a number Rust reads (`.5`), else the text itself as a string.
pub fn parse_value(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if let Ok(table) = toml::from_str::<toml::Table>(&format!("v = {text}"))
        && let Some(v) = table.get("v")
    {
        return toml_to_json(v);
    }
    if let Ok(x) = text.parse::<f64>() {
        return number(x);
    }
    Ok(Value::String(text.to_string()))
}

fn number(x: f64) -> Result<Value, String> {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| format!("{x} is not a finite number"))
}

fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(x) => number(*x)?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => {
            Value::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// A value as an override writes it, which [`parse_value`] reads back to `v`: text bare,
/// numbers and booleans as JSON writes them, arrays and tables as TOML inline values.
pub fn show_value(v: &Value) -> String {
    fn to_toml(v: &Value) -> Option<toml::Value> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Number(n) => n.as_i64().map_or_else(
                || toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                toml::Value::Integer,
            ),
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Array(a) => toml::Value::Array(a.iter().filter_map(to_toml).collect()),
            Value::Object(m) => toml::Value::Table(
                m.iter().filter_map(|(k, v)| Some((k.clone(), to_toml(v)?))).collect(),
            ),
        })
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => {
            to_toml(v).map_or_else(|| v.to_string(), |t| t.to_string())
        }
        other => other.to_string(),
    }
}

/// Every key of a serde tree: the dotted path of each field, nested fields too, in order.
pub fn keys(tree: &Value) -> Vec<String> {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Value::Object(map) = v {
            for (k, child) in map {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.push(path.clone());
                walk(child, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, "", &mut out);
    out
}

/// The value at `key` in `tree`, if there is one.
pub fn get<'a>(tree: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(tree, |v, seg| v.as_object()?.get(seg))
}

/// The keys of `known` nearest to `key`, as a hint: a typo in a field's name (one edit in
/// four letters), the field under another prefix or none (`weight_decay`), or its initials
/// (`train.wd` for `train.weight_decay`).
pub fn hint(key: &str, known: &[String]) -> String {
    fn split(k: &str) -> (&str, &str) {
        k.rsplit_once('.').unwrap_or(("", k))
    }
    let (parent, last) = split(key);
    let initials =
        |leaf: &str| leaf.split('_').filter_map(|w| w.chars().next()).collect::<String>();
    let mut scored: Vec<(usize, &String)> = known
        .iter()
        .filter_map(|k| {
            let (k_parent, k_last) = split(k);
            let leaf = strsim::damerau_levenshtein(last, k_last);
            let same_place = k_parent == parent
                || strsim::damerau_levenshtein(parent, k_parent) <= 1
                || parent.is_empty();
            let typo = leaf <= 1.max(k_last.len() / 4);
            let abbreviation = last.len() >= 2 && k_last.contains('_') && initials(k_last) == last;
            (same_place && (typo || abbreviation)).then(|| (strsim::damerau_levenshtein(key, k), k))
        })
        .collect();
    scored.sort();
    // The nearest (ties kept, at most three).
    let best = scored.first().map_or(0, |(d, _)| *d);
    let near: Vec<&str> =
        scored.iter().filter(|(d, _)| *d == best).take(3).map(|(_, k)| k.as_str()).collect();
    match near.as_slice() {
        [] => {
            // Nothing close: the keys beside it (same prefix), or the top-level ones.
            let prefix = key.rsplit_once('.').map(|(p, _)| format!("{p}."));
            let siblings: Vec<&str> = known
                .iter()
                .filter(|k| {
                    prefix
                        .as_ref()
                        .is_some_and(|p| k.starts_with(p.as_str()) && !k[p.len()..].contains('.'))
                })
                .map(String::as_str)
                .collect();
            if siblings.is_empty() {
                let top: Vec<&str> =
                    known.iter().filter(|k| !k.contains('.')).map(String::as_str).collect();
                format!("keys start with {}", top.join(", "))
            } else {
                format!("keys there: {}", siblings.join(", "))
            }
        }
        [one] => format!("did you mean {one}?"),
        many => format!("did you mean one of {}?", many.join(", ")),
    }
}

/// Set `key` in `tree` to `value` (the field must exist: an unknown key is an error with a hint).
pub fn set(tree: &mut Value, key: &str, value: Value) -> Result<(), OverrideError> {
    let unknown = |tree: &Value| OverrideError::UnknownKey {
        key: key.to_string(),
        hint: hint(key, &keys(tree)),
    };
    if get(tree, key).is_none() {
        return Err(unknown(tree));
    }
    let mut node = &mut *tree;
    for seg in key.split('.') {
        node = node.as_object_mut().and_then(|m| m.get_mut(seg)).expect("checked above");
    }
    *node = value;
    Ok(())
}

/// Keys a configuration reaches by other means, each with why: set by the data, the
/// settings, … (an override of one is an error saying so).
pub type Fixed<'a> = &'a [(&'a str, &'a str)];

/// Shorthands: one key that sets several (`train.augment.flips` sets `hflip` and `vflip`).
pub type Aliases<'a> = &'a [(&'a str, &'a [&'a str])];

/// How a configuration type takes overrides: which keys are fixed and which are shorthands.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules<'a> {
    pub fixed: Fixed<'a>,
    pub aliases: Aliases<'a>,
}

impl Rules<'_> {
    /// Every key an override may name in `tree`: its fields and the shorthands, less the fixed
    /// ones.
    pub fn keys(&self, tree: &Value) -> Vec<String> {
        let mut out: Vec<String> =
            keys(tree).into_iter().filter(|k| !self.fixed.iter().any(|(f, _)| f == k)).collect();
        out.extend(self.aliases.iter().map(|(a, _)| a.to_string()));
        out
    }
}

/// `config` with `overrides` applied in order. Each is applied to the serde form and the
/// type deserialized back at once, so an error names the override that caused it.
pub fn apply<T: Serialize + DeserializeOwned>(
    config: &T,
    overrides: &[Override],
    rules: Rules,
) -> Result<T, OverrideError> {
    let mut tree = serde_json::to_value(config).expect("a configuration serializes");
    let mut out = None;
    for o in overrides {
        apply_one(&mut tree, o, rules)?;
        out = Some(from_tree::<T>(&tree, o)?);
    }
    match out {
        Some(t) => Ok(t),
        None => Ok(from_tree(&tree, &Override { key: String::new(), value: String::new() })
            .expect("the configuration round-trips")),
    }
}

fn from_tree<T: DeserializeOwned>(tree: &Value, o: &Override) -> Result<T, OverrideError> {
    serde_json::from_value(tree.clone()).map_err(|e| OverrideError::Value {
        key: o.key.clone(),
        value: o.value.clone(),
        problem: expected(&e.to_string()),
    })
}

/// serde's message in a user's words: `invalid type: string "x", expected f64` → `expected a
/// number, not the text "x"`.
fn expected(msg: &str) -> String {
    let msg = msg.trim();
    let kind = |e: &str| match e {
        "f64" | "f32" => "a number".to_string(),
        "u64" | "usize" | "u32" | "u8" | "i64" | "i32" => "a whole number".to_string(),
        "a boolean" => "true or false".to_string(),
        e => e.to_string(),
    };
    if let Some(rest) = msg.strip_prefix("invalid type: ")
        && let Some((got, want)) = rest.split_once(", expected ")
    {
        return format!("expected {}, not {got}", kind(want));
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ")
        && let Some((got, want)) = rest.split_once(", expected ")
    {
        return format!("expected {}, not {got}", kind(want));
    }
    msg.to_string()
}

/// Apply one override to a serde tree (no type check: [`apply`] does that).
pub fn apply_one(tree: &mut Value, o: &Override, rules: Rules) -> Result<(), OverrideError> {
    if let Some((_, why)) =
        rules.fixed.iter().find(|(k, _)| *k == o.key || o.key.starts_with(&format!("{k}.")))
    {
        return Err(OverrideError::Fixed { key: o.key.clone(), why: why.to_string() });
    }
    let value = parse_value(&o.value).map_err(|problem| OverrideError::Value {
        key: o.key.clone(),
        value: o.value.clone(),
        problem,
    })?;
    if let Some((_, targets)) = rules.aliases.iter().find(|(a, _)| *a == o.key) {
        for t in *targets {
            set(tree, t, value.clone())?;
        }
        return Ok(());
    }
    set(tree, &o.key, value).map_err(|e| match e {
        OverrideError::UnknownKey { key, .. } => {
            OverrideError::UnknownKey { hint: hint(&key, &rules.keys(tree)), key }
        }
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        hflip: f64,
        vflip: f64,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        weight_decay: f64,
        nesterov: bool,
        blocks: [usize; 4],
        name: String,
        augment: Inner,
        seed: u64,
    }

    fn cfg() -> Cfg {
        Cfg {
            weight_decay: 0.0,
            nesterov: false,
            blocks: [2, 2, 2, 2],
            name: "x".into(),
            augment: Inner { hflip: 0.0, vflip: 0.0 },
            seed: 1,
        }
    }

    const RULES: Rules = Rules {
        fixed: &[("seed", "set by --seeds")],
        aliases: &[("augment.flips", &["augment.hflip", "augment.vflip"])],
    };

    fn o(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn values_parse_as_toml_then_as_words() {
        assert_eq!(parse_value("5e-4").unwrap(), serde_json::json!(5e-4));
        assert_eq!(parse_value("0").unwrap(), serde_json::json!(0));
        assert_eq!(parse_value(".5").unwrap(), serde_json::json!(0.5));
        assert_eq!(parse_value("true").unwrap(), serde_json::json!(true));
        assert_eq!(parse_value("[1, 2,2,1]").unwrap(), serde_json::json!([1, 2, 2, 1]));
        assert_eq!(parse_value("group:8").unwrap(), serde_json::json!("group:8"));
        assert_eq!(parse_value("\"a b\"").unwrap(), serde_json::json!("a b"));
        assert!(parse_value("nan").unwrap_err().contains("not a finite number"));
    }

    #[test]
    fn overrides_reach_every_field_through_serde() {
        let c = apply(
            &cfg(),
            &[
                o("weight_decay=5e-4"),
                o("nesterov=true"),
                o("blocks=[1,2,2,1]"),
                o("name=y"),
                o("augment.vflip=0.1"),
            ],
            RULES,
        )
        .unwrap();
        assert_eq!(
            c,
            Cfg {
                weight_decay: 5e-4,
                nesterov: true,
                blocks: [1, 2, 2, 1],
                name: "y".into(),
                augment: Inner { hflip: 0.0, vflip: 0.1 },
                seed: 1
            }
        );
        // A shorthand sets each of its keys.
        let c = apply(&cfg(), &[o("augment.flips=0.05")], RULES).unwrap();
        assert_eq!(c.augment, Inner { hflip: 0.05, vflip: 0.05 });
        // Every key of the serde form is reachable: set each to its own value.
        let tree = serde_json::to_value(cfg()).unwrap();
        for k in RULES.keys(&tree).iter().filter(|k| get(&tree, k).is_some_and(|v| !v.is_object()))
        {
            let v = show_value(get(&tree, k).unwrap());
            assert_eq!(
                apply(&cfg(), &[Override { key: k.clone(), value: v }], RULES).unwrap(),
                cfg(),
                "{k}"
            );
        }
    }

    #[test]
    fn errors_name_the_key_the_value_and_what_is_expected() {
        let err = |s: &str| apply(&cfg(), &[o(s)], RULES).unwrap_err().to_string();
        assert_eq!(err("wieght_decay=1"), "wieght_decay: unknown key; did you mean weight_decay?");
        assert_eq!(
            err("decay=1"),
            "decay: unknown key; keys start with augment, blocks, name, nesterov, weight_decay"
        );
        assert_eq!(err("augment.hflp=1"), "augment.hflp: unknown key; did you mean augment.hflip?");
        assert_eq!(
            err("augment.crop=1"),
            "augment.crop: unknown key; keys there: augment.hflip, augment.vflip, augment.flips"
        );
        assert_eq!(
            err("weight_decay=abc"),
            "weight_decay=abc: expected a number, not string \"abc\""
        );
        assert_eq!(err("nesterov=1"), "nesterov=1: expected true or false, not integer `1`");
        assert_eq!(
            err("blocks=[1,2]"),
            "blocks=[1,2]: invalid length 2, expected an array of length 4"
        );
        assert_eq!(err("seed=3"), "seed: set by --seeds");
        assert_eq!(
            "weight_decay".parse::<Override>().unwrap_err().to_string(),
            "`weight_decay`: expected key=value, e.g. train.weight_decay=5e-4"
        );
        assert!("a b=1".parse::<Override>().is_err());
    }

    #[test]
    fn sweeps_split_at_top_level_commas() {
        assert_eq!(
            parse_sweep("train.weight_decay=0,1e-4, 5e-4").unwrap(),
            ("train.weight_decay".into(), vec!["0".into(), "1e-4".into(), "5e-4".into()])
        );
        assert_eq!(
            parse_sweep("model.blocks=[1,2,2,1],[2,2,2,2]").unwrap().1,
            vec!["[1,2,2,1]", "[2,2,2,2]"]
        );
        assert_eq!(parse_sweep("model.norm=group:8").unwrap().1, vec!["group:8"]);
        assert!(parse_sweep("x=1,,2").is_err());
    }
}
