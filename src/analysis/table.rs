//! A table as text — a header and rows of cells, from a polars frame — and as CSV: what the
//! write-up renders and every `tables/*.csv` holds.
use polars::prelude::{AnyValue, DataFrame};

/// A table as text: a header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its CSV file's name, without `.csv`.
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A cell as the tables show it: numbers in Rust's shortest form (the run records' own
/// values), missing values as `—`.
fn cell(v: AnyValue) -> String {
    match v {
        AnyValue::Null => "—".into(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(x) => format!("{x}"),
        AnyValue::Float32(x) => format!("{x}"),
        other => other.to_string(),
    }
}

impl Table {
    pub fn from_frame(name: &str, df: &DataFrame) -> anyhow::Result<Table> {
        let header: Vec<String> =
            df.get_column_names().into_iter().map(|n| n.to_string()).collect();
        let mut rows = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            rows.push(
                df.columns().iter().map(|c| c.get(i).map(cell)).collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(Table { name: name.into(), header, rows })
    }

    /// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled;
    /// missing values are empty fields.
    pub fn csv(&self) -> String {
        let field = |s: &str| {
            if s == "—" {
                String::new()
            } else if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let line = |cells: &[String]| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
        let mut out = vec![line(&self.header)];
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table {
            name: "t".into(),
            header: vec!["a".into(), "b".into()],
            rows: vec![vec!["1.5".into(), "x, \"y\"".into()], vec!["—".into(), "z".into()]],
        };
        assert_eq!(t.csv(), "a,b\n1.5,\"x, \"\"y\"\"\"\n,z\n");
    }
}
