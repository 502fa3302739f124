//! A table as text — a header and rows of cells, from a polars frame — written as CSV (every
//! `tables/*.csv`), for a terminal (the command line's tables) and as HTML (the notebooks').
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

    /// RFC 4180 (the csv crate): fields with a comma, quote or line break are quoted, quotes
    /// doubled; missing values (`—`) are empty fields; lines end in `\n`.
    pub fn csv(&self) -> String {
        csv_text(
            std::iter::once(&self.header).chain(&self.rows).map(|r| {
                r.iter().map(|s| if s == "—" { String::new() } else { s.clone() }).collect()
            }),
        )
    }
}

/// Records as CSV text (the csv crate: RFC 4180 quoting, `\n` line ends).
pub fn csv_text(records: impl IntoIterator<Item = Vec<String>>) -> String {
    // In memory and flexible (records of any length): writing cannot fail.
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for r in records {
        w.write_record(&r).expect("writing CSV to memory does not fail");
    }
    let bytes = w.into_inner().expect("writing CSV to memory does not fail");
    String::from_utf8(bytes).expect("CSV of Strings is UTF-8")
}

impl Table {
    /// The table for a terminal (comfy-table, UTF-8 borders): every cell whole, wrapped only
    /// at a terminal's width, never cut.
    pub fn text(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
            .set_header(&self.header);
        for r in &self.rows {
            t.add_row(r);
        }
        t.to_string()
    }

    /// The table as HTML, for a notebook: JupyterLab fits it to the page, wrapping cells.
    pub fn html(&self) -> String {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let row = |cells: &[String], tag: &str| {
            cells.iter().map(|c| format!("<{tag}>{}</{tag}>", esc(c))).collect::<String>()
        };
        let body: String = self.rows.iter().map(|r| format!("<tr>{}</tr>", row(r, "td"))).collect();
        format!(
            "<table><thead><tr>{}</tr></thead><tbody>{body}</tbody></table>",
            row(&self.header, "th")
        )
    }

    /// What evcxr shows for a table: HTML, with its text as the plain fallback.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT \
                text/plain\n{}\nEVCXR_END_CONTENT",
            self.html(),
            self.text()
        );
    }
}

/// A frame shown as a [`Table`]: `section.table()?.show()` in a notebook cell.
pub trait Show {
    fn show(&self) -> Table;
}

impl Show for DataFrame {
    fn show(&self) -> Table {
        Table::from_frame("", self).unwrap_or_else(|e| Table {
            name: String::new(),
            header: vec!["error".into()],
            rows: vec![vec![format!("{e:#}")]],
        })
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

    #[test]
    fn text_keeps_every_name_whole_and_html_escapes() {
        let long = "xknet18+weight_decay=0+label_smoothing=0.1";
        let t = Table {
            name: "t".into(),
            header: vec!["variant".into(), "mean".into()],
            rows: vec![vec![long.into(), "0.5".into()], vec![format!("{long}5"), "<b>".into()]],
        };
        let text = t.text();
        assert!(text.contains(long) && text.contains(&format!("{long}5")), "{text}");
        assert!(t.html().contains("<td>&lt;b&gt;</td>"), "{}", t.html());
    }
}
