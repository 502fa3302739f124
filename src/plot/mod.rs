//! Figures with plotters — training curves, effects against a reference, confusion
//! matrices, per-class accuracy — sized for a document and shown inline in notebooks.
//!
//! - **Sizes.** A figure is laid out in points for a column of a paper: [`Width::Column`]
//!   (3.5 in, 89 mm) or [`Width::Page`] (7.16 in, 182 mm). Text is 7–9 pt at that size.
//!   Files are an SVG of that physical size with text as text, and a PNG at 300 dpi (its
//!   pHYs chunk says so); notebooks get a screen-size PNG ([`Figure::png`]) in their bundle.
//! - **Styles.** Every series carries its [`Style`] (an Okabe–Ito colour × a dash), so a
//!   caller can keep one style per thing across figures (the study's `style_of`).
//! - **Layout.** Legends and labels sit outside the plotting areas; the drawing code
//!   returns where it put everything ([`Layout`]) for the layout tests.
//!
//! Text uses the embedded DejaVu Sans (see `DejaVuSans-LICENSE.txt`), so PNGs render
//! the same on every machine, with no system fonts needed.
mod draw;
mod layout;

pub use layout::{Layout, Rect, svg_font_sizes, svg_texts};

use crate::train::EpochRecord;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ =
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    });
}

/// Okabe & Ito's colour-blind-safe palette (2008), as sRGB.
pub mod okabe_ito {
    pub const BLACK: (u8, u8, u8) = (0, 0, 0);
    pub const ORANGE: (u8, u8, u8) = (230, 159, 0);
    pub const SKY_BLUE: (u8, u8, u8) = (86, 180, 233);
    pub const BLUISH_GREEN: (u8, u8, u8) = (0, 158, 115);
    /// Too light for lines on white (contrast 1.3:1): not used for series.
    pub const YELLOW: (u8, u8, u8) = (240, 228, 66);
    pub const BLUE: (u8, u8, u8) = (0, 114, 178);
    pub const VERMILLION: (u8, u8, u8) = (213, 94, 0);
    pub const REDDISH_PURPLE: (u8, u8, u8) = (204, 121, 167);
}

/// How a line is broken, in points along it (on, off, on, off, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
    DashDot,
}

impl Dash {
    pub const ALL: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::DashDot];

    /// The pattern in points: (on, off) pairs; empty for a solid line.
    pub fn pattern(self) -> &'static [f64] {
        match self {
            Dash::Solid => &[],
            Dash::Dashed => &[4.0, 2.0],
            Dash::Dotted => &[1.0, 1.6],
            Dash::DashDot => &[5.0, 1.6, 1.2, 1.6],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dash::Solid => "solid",
            Dash::Dashed => "dashed",
            Dash::Dotted => "dotted",
            Dash::DashDot => "dash-dot",
        }
    }
}

/// A series' look: colour and dash. Markers use the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Style {
    pub color: (u8, u8, u8),
    pub dash: Dash,
}

impl Style {
    pub const fn new(color: (u8, u8, u8), dash: Dash) -> Self {
        Self { color, dash }
    }

    /// The `i`-th of [`Style::DISTINCT`] distinct styles (then again from the first): the seven
    /// Okabe–Ito colours dark enough for lines, solid first, then dashed, dotted, dash-dot.
    /// For series that are not named things (a run's seeds, `convlab plot`'s directories),
    /// and the variants a plan gives no style (a study's `Plan`).
    pub fn nth(i: usize) -> Self {
        use okabe_ito::*;
        const SERIES: [(u8, u8, u8); 7] =
            [BLUE, VERMILLION, BLUISH_GREEN, ORANGE, REDDISH_PURPLE, SKY_BLUE, BLACK];
        Self {
            color: SERIES[i % SERIES.len()],
            dash: Dash::ALL[(i / SERIES.len()) % Dash::ALL.len()],
        }
    }

    /// How many styles [`Style::nth`] tells apart.
    pub const DISTINCT: usize = 28;
}

/// The colours a style names in text (`sky-blue dashed`), Okabe & Ito's.
const COLOR_NAMES: [(&str, (u8, u8, u8)); 7] = [
    ("black", okabe_ito::BLACK),
    ("orange", okabe_ito::ORANGE),
    ("sky-blue", okabe_ito::SKY_BLUE),
    ("bluish-green", okabe_ito::BLUISH_GREEN),
    ("blue", okabe_ito::BLUE),
    ("vermillion", okabe_ito::VERMILLION),
    ("reddish-purple", okabe_ito::REDDISH_PURPLE),
];

const DASH_NAMES: [(&str, Dash); 4] = [
    ("solid", Dash::Solid),
    ("dashed", Dash::Dashed),
    ("dotted", Dash::Dotted),
    ("dash-dot", Dash::DashDot),
];

impl std::str::FromStr for Style {
    type Err = String;
    /// `<colour> <dash>`, e.g. `black solid`, `sky-blue dash-dot`.
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let colors = || COLOR_NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let dashes = || DASH_NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let [c, d] = words.as_slice() else {
            return Err(format!("`{s}`: expected a colour and a dash, e.g. `sky-blue dashed`"));
        };
        if *c == "yellow" {
            return Err("yellow is too light for lines on white (contrast 1.3:1); colours: "
                .to_string()
                + &colors());
        }
        let color = COLOR_NAMES
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, rgb)| *rgb)
            .ok_or_else(|| format!("colour `{c}`: expected one of {}", colors()))?;
        let dash = DASH_NAMES
            .iter()
            .find(|(n, _)| n == d)
            .map(|(_, x)| *x)
            .ok_or_else(|| format!("dash `{d}`: expected one of {}", dashes()))?;
        Ok(Style { color, dash })
    }
}

impl std::fmt::Display for Style {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let color = COLOR_NAMES.iter().find(|(_, rgb)| *rgb == self.color).map_or_else(
            || format!("#{:02x}{:02x}{:02x}", self.color.0, self.color.1, self.color.2),
            |(n, _)| n.to_string(),
        );
        let dash = DASH_NAMES.iter().find(|(_, d)| *d == self.dash).map_or("solid", |(n, _)| n);
        write!(f, "{color} {dash}")
    }
}

impl serde::Serialize for Style {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Style {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A figure's width in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// One column of a two-column paper: 3.5 in (89 mm).
    Column,
    /// The full text width: 7.16 in (182 mm).
    Page,
}

impl Width {
    /// In points (1/72 in).
    pub fn points(self) -> f64 {
        match self {
            Width::Column => 252.0,
            Width::Page => 515.5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Width::Column => "column",
            Width::Page => "page",
        }
    }
}

/// Pixels per point of a rendering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution(pub f64);

impl Resolution {
    /// Print: 300 dpi.
    pub const PRINT: Resolution = Resolution(300.0 / 72.0);
    /// Screen (notebooks): 126 dpi — a page-width figure is 902 px wide.
    pub const SCREEN: Resolution = Resolution(1.75);

    pub fn dpi(self) -> f64 {
        self.0 * 72.0
    }
}

/// One run's curves over epochs (or several seeds' mean, with their [`Band`]).
#[derive(Debug, Clone)]
pub struct Curve {
    pub label: String,
    pub style: Style,
    pub epochs: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
    pub train_acc: Vec<f64>,
    pub val_acc: Vec<f64>,
    /// The lowest and highest value over seeds at each epoch, drawn as a shaded band
    /// around the mean; `None` for a single run.
    pub band: Option<Band>,
}

/// Per-epoch (min, max) over seeds of each series of a [`Curve`].
#[derive(Debug, Clone, Default)]
pub struct Band {
    pub train_loss: Vec<(f64, f64)>,
    pub val_loss: Vec<(f64, f64)>,
    pub train_acc: Vec<(f64, f64)>,
    pub val_acc: Vec<(f64, f64)>,
}

impl Curve {
    pub fn from_history(label: &str, history: &[EpochRecord]) -> Self {
        Self {
            label: label.into(),
            style: Style::nth(0),
            epochs: history.iter().map(|r| r.epoch as f64).collect(),
            train_loss: history.iter().map(|r| r.train_loss).collect(),
            val_loss: history.iter().map(|r| r.val_loss).collect(),
            train_acc: history.iter().map(|r| r.train_acc).collect(),
            val_acc: history.iter().map(|r| r.val_acc).collect(),
            band: None,
        }
    }

    /// The same curve in `style`.
    pub fn styled(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// The mean over runs at each epoch (epochs every run reached), with the min–max band
    /// over them when there is more than one; `None` without runs.
    pub fn mean_of(label: &str, histories: &[&[EpochRecord]]) -> Option<Self> {
        let epochs = histories.iter().map(|h| h.len()).min()?;
        let (mut curve, mut band) =
            (Curve::from_history(label, &histories[0][..epochs]), Band::default());
        let n = histories.len() as f64;
        for i in 0..epochs {
            let stats = |f: fn(&EpochRecord) -> f64| {
                let xs = histories.iter().map(|h| f(&h[i]));
                let (lo, hi) = xs
                    .clone()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
                (xs.sum::<f64>() / n, (lo, hi))
            };
            for (f, mean, range) in [
                (|r: &EpochRecord| r.train_loss, &mut curve.train_loss, &mut band.train_loss),
                (|r: &EpochRecord| r.val_loss, &mut curve.val_loss, &mut band.val_loss),
                (|r: &EpochRecord| r.train_acc, &mut curve.train_acc, &mut band.train_acc),
                (|r: &EpochRecord| r.val_acc, &mut curve.val_acc, &mut band.val_acc),
            ]
                as [(fn(&EpochRecord) -> f64, &mut Vec<f64>, &mut Vec<(f64, f64)>); 4]
            {
                let (m, r) = stats(f);
                mean[i] = m;
                range.push(r);
            }
        }
        curve.band = (histories.len() > 1).then_some(band);
        Some(curve)
    }
}

/// One row of an effects figure: a variant's accuracy over seeds, its difference to the
/// reference with the CI, and the paper's own difference.
#[derive(Debug, Clone)]
pub struct EffectRow {
    pub label: String,
    pub style: Style,
    /// Mean accuracy over seeds (a fraction), of the figure's metric.
    pub mean: f64,
    /// 95% CI of that mean (Student's t over seeds); `None` for one seed.
    pub ci95: Option<(f64, f64)>,
    /// Each seed's value, drawn as a small dot.
    pub seeds: Vec<f64>,
    /// Whether this row is the reference the others are compared with.
    pub reference: bool,
    /// Difference to the reference in percentage points, and its interval: the one its
    /// verdict reads, simultaneous over the study's family (Welch at 1 − α/m).
    pub delta_pp: Option<(f64, Option<(f64, f64)>)>,
    /// Whether the verdict is decided — better, worse or equivalent: a filled marker; hollow
    /// when undecided.
    pub detectable: bool,
    /// The comparison's margin of equivalence in pp, drawn as a band around zero.
    pub margin_pp: Option<f64>,
    /// The paper's difference between the same two variants, in pp (one run each).
    pub paper_delta_pp: Option<f64>,
    /// Text in the right-hand column, e.g. the verdict.
    pub note: Option<String>,
}

/// What a figure shows.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Loss and accuracy per epoch, one panel each; a shaded min–max band over seeds around
    /// each mean curve. With `show_train`, validation thick and training thin, in one style.
    Curves { title: String, curves: Vec<Curve>, show_train: bool },
    /// One row per variant: an accuracy (mean, CI, seeds) — `metric` names which, e.g. `best
    /// validation` — the difference to the reference with its CI, the paper's difference,
    /// and a note per row.
    Effects { title: String, reference: Option<String>, metric: String, rows: Vec<EffectRow> },
    /// Confusion matrix (rows: true class, columns: predicted), shaded by row share.
    Confusion { title: String, classes: Vec<String>, matrix: Vec<Vec<i64>> },
    /// Accuracy per class, sorted (the worst on top), with the mean over classes.
    PerClass { title: String, classes: Vec<String>, accuracy: Vec<f64>, style: Style },
}

/// A figure at a document width: SVG and PNG files, and a notebook display bundle.
#[derive(Debug, Clone)]
pub struct Figure {
    pub chart: Chart,
    pub width: Width,
}

impl Figure {
    /// Loss and accuracy curves of one or more runs, training and validation (page width).
    pub fn curves(title: &str, curves: Vec<Curve>) -> Self {
        Self {
            chart: Chart::Curves { title: title.into(), curves, show_train: true },
            width: Width::Page,
        }
    }

    /// Only validation curves (for overlays of many variants; page width).
    pub fn val_curves(title: &str, curves: Vec<Curve>) -> Self {
        Self {
            chart: Chart::Curves { title: title.into(), curves, show_train: false },
            width: Width::Page,
        }
    }

    /// Each variant's accuracy and its difference to `reference` (page width).
    pub fn effects(title: &str, reference: Option<&str>, rows: Vec<EffectRow>) -> Self {
        Self::effects_of("best validation", title, reference, rows)
    }

    /// [`Figure::effects`] of the accuracy `metric` names (`best validation`, `test, best epoch`).
    pub fn effects_of(
        metric: &str,
        title: &str,
        reference: Option<&str>,
        rows: Vec<EffectRow>,
    ) -> Self {
        Self {
            chart: Chart::Effects {
                title: title.into(),
                reference: reference.map(Into::into),
                metric: metric.into(),
                rows,
            },
            width: Width::Page,
        }
    }

    /// A confusion matrix with class names (column width).
    pub fn confusion(title: &str, classes: Vec<String>, matrix: Vec<Vec<i64>>) -> Self {
        Self {
            chart: Chart::Confusion { title: title.into(), classes, matrix },
            width: Width::Column,
        }
    }

    /// Accuracy per class from a confusion matrix (rows: true class), sorted (column width).
    pub fn per_class(title: &str, classes: Vec<String>, matrix: &[Vec<i64>], style: Style) -> Self {
        let accuracy = per_class_accuracy(matrix);
        Self {
            chart: Chart::PerClass { title: title.into(), classes, accuracy, style },
            width: Width::Column,
        }
    }

    /// The same figure at another width.
    pub fn at(mut self, width: Width) -> Self {
        self.width = width;
        self
    }

    /// Width and height in points.
    pub fn size_pt(&self) -> (f64, f64) {
        register_font();
        let w = self.width.points();
        (w, draw::height_pt(self, w))
    }

    /// Width and height in pixels at `res`.
    pub fn pixels(&self, res: Resolution) -> (u32, u32) {
        let (w, h) = self.size_pt();
        ((w * res.0).round() as u32, (h * res.0).round() as u32)
    }

    /// The figure as an SVG document of its physical size (`width="…pt"`), text as text.
    pub fn svg(&self) -> anyhow::Result<String> {
        Ok(self.svg_with_layout()?.0)
    }

    /// Where the drawing code put the plots, legend, labels and points (at 300 dpi).
    pub fn layout(&self) -> anyhow::Result<Layout> {
        Ok(self.svg_with_layout()?.1)
    }

    fn svg_with_layout(&self) -> anyhow::Result<(String, Layout)> {
        use plotters::prelude::*;
        register_font();
        let (w_pt, h_pt) = self.size_pt();
        let (w, h) = self.pixels(Resolution::PRINT);
        let mut out = String::new();
        let layout;
        {
            let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
            layout = draw::draw(self, &root, Resolution::PRINT)?;
            root.present().map_err(|e| anyhow::anyhow!("svg: {e}"))?;
        }
        // The physical size, keeping the pixel grid as the viewBox.
        let head = format!("<svg width=\"{w}\" height=\"{h}\" ");
        anyhow::ensure!(
            out.starts_with(&head),
            "svg: unexpected header {:?}",
            &out[..out.len().min(80)]
        );
        let out =
            out.replacen(&head, &format!("<svg width=\"{w_pt:.1}pt\" height=\"{h_pt:.1}pt\" "), 1);
        Ok((out, layout))
    }

    /// RGB pixels at `res`.
    pub fn raster(&self, res: Resolution) -> anyhow::Result<image::RgbImage> {
        use plotters::prelude::*;
        register_font();
        let (w, h) = self.pixels(res);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            draw::draw(self, &root, res)?;
            root.present().map_err(|e| anyhow::anyhow!("png: {e}"))?;
        }
        image::RgbImage::from_raw(w, h, buf).context("png buffer size")
    }

    /// A PNG file's bytes at `res`, with its resolution in the pHYs chunk.
    pub fn png_at(&self, res: Resolution) -> anyhow::Result<Vec<u8>> {
        let img = self.raster(res)?;
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let ppm = (res.dpi() / 0.0254).round() as u32; // pixels per metre
            enc.set_pixel_dims(Some(png::PixelDimensions {
                xppu: ppm,
                yppu: ppm,
                unit: png::Unit::Meter,
            }));
            let mut w = enc.write_header().context("png header")?;
            w.write_image_data(img.as_raw()).context("png encoding")?;
        }
        Ok(out)
    }

    /// The screen-size PNG notebooks show.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        self.png_at(Resolution::SCREEN)
    }

    /// Write to `path`: `.svg` (physical size) or `.png` (300 dpi), by extension, atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => crate::io::write_bytes(path, self.svg()?.as_bytes()),
            Some("png") => crate::io::write_bytes(path, &self.png_at(Resolution::PRINT)?),
            _ => anyhow::bail!("{}: figures are written as .svg or .png", path.display()),
        }
    }

    /// Write `<dir>/<stem>.svg` and `<dir>/<stem>.png` (atomically); returns both paths.
    pub fn export(&self, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
        let files = vec![dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.png"))];
        for f in &files {
            self.save(f)?;
        }
        Ok(files)
    }

    /// What evcxr shows for this figure: one display bundle holding the SVG and a
    /// screen-size PNG (base64). JupyterLab renders SVG only in trusted notebooks, and every
    /// freshly cloned notebook is untrusted: there, and on GitHub and in
    /// nbconvert's HTML, the PNG shows. evcxr keeps one value per MIME type and
    /// cell, so a cell shows one figure.
    pub fn display_bundle(&self) -> anyhow::Result<String> {
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.encode(self.png()?);
        Ok(format!(
            "EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT \
                image/png\n{png}\nEVCXR_END_CONTENT",
            self.svg()?
        ))
    }

    /// Shown inline by evcxr: SVG and PNG in one bundle (see [`Figure::display_bundle`]).
    pub fn evcxr_display(&self) {
        match self.display_bundle() {
            Ok(bundle) => println!("{bundle}"),
            Err(e) => eprintln!("figure: {e:#}"),
        }
    }
}

/// Each class's accuracy: the diagonal over the row's total (rows: true class); NaN for a
/// class with no examples.
pub fn per_class_accuracy(matrix: &[Vec<i64>]) -> Vec<f64> {
    matrix
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let total: i64 = row.iter().sum();
            if total == 0 {
                f64::NAN
            } else {
                row.get(i).copied().unwrap_or(0) as f64 / total as f64
            }
        })
        .collect()
}

/// Text a notebook cell shows rendered as Markdown (headings, bold, tables), with the same
/// text as plain text for anything that cannot render it (nbclient, a terminal).
#[derive(Debug, Clone, PartialEq)]
pub struct Markdown(pub String);

impl Markdown {
    /// evcxr's display bundle: `text/markdown` and `text/plain`.
    pub fn display_bundle(&self) -> String {
        format!(
            "EVCXR_BEGIN_CONTENT text/markdown\n{0}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT \
                text/plain\n{0}\nEVCXR_END_CONTENT",
            self.0
        )
    }

    pub fn evcxr_display(&self) {
        println!("{}", self.display_bundle());
    }
}

impl std::fmt::Display for Markdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(shift: f64) -> Vec<EpochRecord> {
        (1..=5)
            .map(|e| EpochRecord {
                epoch: e,
                lr: 1e-3,
                train_loss: 2.0 / e as f64,
                train_acc: 0.1 * e as f64 + shift,
                val_loss: 2.2 / e as f64 + shift,
                val_acc: 0.09 * e as f64 + shift,
                val_top5: 0.5,
                seconds: 1.0,
                images_per_s: 100.0,
            })
            .collect()
    }

    fn effect_rows() -> Vec<EffectRow> {
        let row = |label: &str,
                   i: usize,
                   mean: f64,
                   delta: Option<(f64, Option<(f64, f64)>)>,
                   paper: Option<f64>| EffectRow {
            label: label.into(),
            style: Style::nth(i),
            mean,
            ci95: Some((mean - 0.02, mean + 0.02)),
            seeds: vec![mean - 0.01, mean, mean + 0.01],
            reference: delta.is_none(),
            delta_pp: delta,
            detectable: delta
                .is_some_and(|(_, ci)| ci.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)),
            paper_delta_pp: paper,
            margin_pp: delta.map(|_| 1.0),
            note: delta.map(|_| "undecided (Holm p = 0.41)".to_string()),
        };
        vec![
            row("xknet18 (3×3/1 stem, no max-pool)", 0, 0.80, None, None),
            row("no BN, dropout 0.1", 1, 0.61, Some((-19.0, Some((-40.0, 2.0)))), None),
            row(
                "InstanceNorm (affine = false)",
                2,
                0.72,
                Some((-8.5, Some((-12.0, -5.0)))),
                Some(-39.3),
            ),
        ]
    }

    fn confusion() -> (Vec<String>, Vec<Vec<i64>>) {
        let classes: Vec<String> =
            ["T-shirt/top", "Trouser", "Pullover", "Dress"].map(String::from).to_vec();
        (
            classes,
            vec![vec![80, 5, 10, 5], vec![1, 97, 1, 1], vec![12, 0, 70, 18], vec![4, 2, 6, 88]],
        )
    }

    /// One figure of every kind, drawn from fixed data, at both widths.
    fn every_kind() -> Vec<(&'static str, Figure)> {
        let curves = vec![
            Curve::from_history("xknet18", &history(0.0)).styled(Style::nth(0)),
            Curve::from_history("InstanceNorm (affine = false)", &history(-0.1))
                .styled(Style::nth(1)),
            Curve::from_history("InstanceNorm (affine = true)", &history(-0.1))
                .styled(Style::nth(8)),
        ];
        let (classes, m) = confusion();
        let mut out = Vec::new();
        for width in [Width::Page, Width::Column] {
            out.extend([
                (
                    "train-val",
                    Figure::curves("Normalization — train and validation", curves.clone())
                        .at(width),
                ),
                ("val", Figure::val_curves("Normalization — validation", curves.clone()).at(width)),
                (
                    "effects",
                    Figure::effects("Normalization — effects", Some("xknet18"), effect_rows())
                        .at(width),
                ),
                (
                    "effects-alone",
                    Figure::effects(
                        "Baseline — accuracy",
                        None,
                        effect_rows()[..1]
                            .iter()
                            .map(|r| EffectRow { reference: false, ..r.clone() })
                            .collect(),
                    )
                    .at(width),
                ),
                (
                    "confusion",
                    Figure::confusion("xknet18 — confusion", classes.clone(), m.clone()).at(width),
                ),
                (
                    "per-class",
                    Figure::per_class("xknet18 — per class", classes.clone(), &m, Style::nth(0))
                        .at(width),
                ),
            ]);
        }
        out
    }

    /// The layout test: every kind of figure at both widths keeps its legend and labels off
    /// the data (from the rectangles the drawing code computed) and carries its labels as SVG text.
    #[test]
    fn layouts_keep_legends_and_labels_off_the_data() {
        for (kind, fig) in every_kind() {
            let layout = fig.layout().unwrap();
            let problems = layout.problems();
            assert!(problems.is_empty(), "{kind} at {} width: {problems:#?}", fig.width.as_str());
            assert!(
                !layout.plots.is_empty() && !layout.points.is_empty(),
                "{kind}: plots and points recorded"
            );
            assert!(layout.legend.is_some(), "{kind}: a legend or key");
            let texts = svg_texts(&fig.svg().unwrap());
            let has = |t: &str| texts.iter().any(|x| x == t);
            match kind {
                "train-val" | "val" => {
                    assert!(
                        has("xknet18")
                            && has("epoch")
                            && has("accuracy (%)")
                            && has("cross-entropy (nats)"),
                        "{kind}: {texts:?}"
                    );
                    // The two InstanceNorm curves are the same numbers: the legend says so (wrapped
                    // at column width).
                    assert!(
                        texts.join(" ").contains(
                            "InstanceNorm (affine = true) — coincides \
                        with InstanceNorm (affine = false)"
                        ),
                        "{kind}: {texts:?}"
                    );
                    assert!(
                        !texts.iter().any(|t| t.starts_with("xknet18 — coincides")),
                        "xknet18 differs from both"
                    );
                    assert_eq!(
                        has("validation") && has("training"),
                        kind == "train-val",
                        "{kind}: the thick/thin key only with training curves"
                    );
                }
                "effects" => {
                    let joined = texts.join(" ");
                    assert!(
                        joined.contains("InstanceNorm (affine = false)")
                            && joined.contains("xknet18 (3×3/1 stem, no max-pool)")
                            && has("difference (pp)"),
                        "{texts:?}"
                    );
                    assert!(
                        has("Δ vs xknet18")
                            && has("paper's Δ")
                            && has("the paper's Δ (one run each)")
                            && has("−20"),
                        "{texts:?}"
                    );
                    assert_eq!(
                        has("accuracy") && has("reference") && has("undecided (Holm p = 0.41)"),
                        fig.width == Width::Page,
                        "accuracy panel and notes at page width only"
                    );
                }
                "effects-alone" => {
                    // Nothing to compare with: the accuracy panel alone, at either width.
                    assert!(
                        has("accuracy")
                            && has("accuracy (%)")
                            && texts.join(" ").contains("xknet18 (3×3/1 stem, no max-pool)"),
                        "{texts:?}"
                    );
                    assert!(
                        !texts.iter().any(|t| t.contains('Δ')),
                        "no difference panel or key: {texts:?}"
                    );
                    assert_eq!(layout.plots.len(), 1);
                }
                "confusion" => assert!(
                    has("0 T-shirt/top")
                        && has("3 Dress")
                        && has("predicted class")
                        && has("true class")
                        && has("97"),
                    "{texts:?}"
                ),
                "per-class" => {
                    assert!(
                        has("Pullover") && has("97.0") && has("mean over 4 classes: 83.7%"),
                        "{texts:?}"
                    );
                    // Sorted, worst first.
                    let pos = |t: &str| texts.iter().position(|x| x == t).unwrap();
                    assert!(
                        pos("Pullover") < pos("T-shirt/top")
                            && pos("T-shirt/top") < pos("Dress")
                            && pos("Dress") < pos("Trouser")
                    );
                }
                _ => unreachable!(),
            }
        }
    }

    /// A legend drawn over the data is caught: the same curves with the legend moved into the plot.
    #[test]
    fn a_legend_over_the_data_is_a_problem() {
        let fig = Figure::val_curves("t", vec![Curve::from_history("a", &history(0.0))]);
        let mut layout = fig.layout().unwrap();
        let plot = layout.plots[1];
        layout.legend = Some(Rect::new(plot.x0, plot.y0, plot.x1, plot.y1));
        assert!(
            layout.problems().iter().any(|p| p.contains("covers plot")),
            "{:?}",
            layout.problems()
        );
    }

    /// Document sizes: the SVG is 3.5 or 7.16 inches wide with text ≥ 7 pt; the PNG is 300 dpi
    /// at that size and says so in its pHYs chunk; notebooks get a screen-size PNG.
    #[test]
    fn document_sizes_and_legible_text() {
        for (kind, fig) in every_kind() {
            let (w_pt, h_pt) = fig.size_pt();
            let svg = fig.svg().unwrap();
            assert!(
                svg.starts_with(&format!(
                    "<svg width=\"{w_pt:.1}pt\" height=\"{h_pt:.1}pt\" viewBox=\"0 0 "
                )),
                "{kind}: {}",
                &svg[..100]
            );
            let view_w: f64 = svg
                .split("viewBox=\"0 0 ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let smallest =
                svg_font_sizes(&svg).into_iter().fold(f64::INFINITY, f64::min) * w_pt / view_w;
            assert!(
                smallest >= 6.99,
                "{kind} at {} width: {smallest:.2} pt text",
                fig.width.as_str()
            );
            let dir = tempfile::tempdir().unwrap();
            let files = fig.export(dir.path(), kind).unwrap();
            let png = std::fs::read(&files[1]).unwrap();
            let decoder = png::Decoder::new(std::io::Cursor::new(png));
            let reader = decoder.read_info().unwrap();
            let info = reader.info();
            assert_eq!((info.width, info.height), fig.pixels(Resolution::PRINT));
            assert!((info.width as f64 / (w_pt / 72.0) - 300.0).abs() < 1.0, "{kind}: 300 dpi");
            let dims = info.pixel_dims.unwrap();
            assert_eq!((dims.xppu, dims.unit), (11811, png::Unit::Meter), "300 dpi = 11811 px/m");
            let img = fig.raster(Resolution::SCREEN).unwrap();
            assert_eq!(img.width(), (w_pt * 1.75).round() as u32);
            assert!(
                img.pixels().filter(|p| p.0.iter().all(|&c| c < 128)).count() > 500,
                "{kind}: not blank"
            );
        }
        assert_eq!(Width::Column.points() / 72.0, 3.5);
        let err = every_kind()[0].1.save(Path::new("/tmp/c.pdf")).unwrap_err().to_string();
        assert!(err.contains("c.pdf") && err.contains(".svg or .png"));
    }

    #[test]
    fn nth_styles_are_distinct() {
        let styles: std::collections::HashSet<Style> =
            (0..Style::DISTINCT).map(Style::nth).collect();
        assert_eq!(styles.len(), Style::DISTINCT);
        assert!(!styles.iter().any(|s| s.color == okabe_ito::YELLOW));
        // Each has a name that reads back to it.
        for s in &styles {
            assert_eq!(s.to_string().parse::<Style>().unwrap(), *s, "{s}");
        }
        assert_eq!(
            "sky-blue dash-dot".parse::<Style>().unwrap(),
            Style::new(okabe_ito::SKY_BLUE, Dash::DashDot)
        );
        assert!("yellow solid".parse::<Style>().unwrap_err().starts_with("yellow is too light"));
        assert_eq!(
            "blue wavy".parse::<Style>().unwrap_err(),
            "dash `wavy`: expected one of solid, dashed, dotted, dash-dot"
        );
    }

    /// A mean curve over seeds: the mean, and a band from the lowest to the highest seed.
    #[test]
    fn mean_curve_has_a_min_max_band() {
        let a = history(0.0);
        let b: Vec<EpochRecord> = history(0.0)
            .into_iter()
            .map(|r| EpochRecord { val_acc: r.val_acc + 0.1, ..r })
            .collect();
        let c = Curve::mean_of("two seeds", &[&a, &b[..4]]).unwrap();
        assert_eq!(c.epochs.len(), 4, "epochs every seed reached");
        assert!((c.val_acc[1] - (a[1].val_acc + b[1].val_acc) / 2.0).abs() < 1e-12);
        let band = c.band.as_ref().unwrap();
        assert_eq!(band.val_acc[1], (a[1].val_acc, b[1].val_acc));
        assert_eq!(band.train_acc[0], (0.1, 0.1));
        let svg = Figure::val_curves("t", vec![c.clone()]).svg().unwrap();
        assert_eq!(svg.matches("<polygon").count(), 2, "a band in each panel");
        assert!(Curve::mean_of("one", &[&a]).unwrap().band.is_none());
        assert!(Curve::mean_of("none", &[]).is_none());
    }

    #[test]
    fn per_class_accuracy_is_the_diagonal_over_the_row() {
        let acc = per_class_accuracy(&[vec![3, 1], vec![0, 0]]);
        assert_eq!(acc[0], 0.75);
        assert!(acc[1].is_nan(), "a class without images has no accuracy");
    }

    /// The bundle evcxr turns into one display_data: an SVG and a PNG of the same figure.
    #[test]
    fn display_bundle_holds_svg_and_png() {
        use base64::Engine;
        let fig = Figure::curves("bundle", vec![Curve::from_history("seed 1", &history(0.0))]);
        let bundle = fig.display_bundle().unwrap();
        // evcxr's protocol: `EVCXR_BEGIN_CONTENT <mime>` line, content lines, `EVCXR_END_CONTENT`
        // line.
        let mut blocks: Vec<(String, String)> = Vec::new();
        let mut lines = bundle.lines();
        while let Some(line) = lines.next() {
            let mime = line
                .strip_prefix("EVCXR_BEGIN_CONTENT ")
                .unwrap_or_else(|| panic!("unexpected line `{line}`"));
            let body: Vec<&str> =
                lines.by_ref().take_while(|l| *l != "EVCXR_END_CONTENT").collect();
            blocks.push((mime.to_string(), body.join("\n")));
        }
        let mimes: Vec<&str> = blocks.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(mimes, ["image/svg+xml", "image/png"]);
        assert!(blocks[0].1.starts_with("<svg") && blocks[0].1.contains("bundle"));
        assert_eq!(blocks[0].1, fig.svg().unwrap());
        let png = base64::engine::general_purpose::STANDARD
            .decode(&blocks[1].1)
            .expect("PNG block is base64");
        let img =
            image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), fig.pixels(Resolution::SCREEN));
        assert!(
            img.pixels().filter(|p| p.0.iter().all(|&c| c < 128)).count() > 500,
            "PNG is not blank"
        );
    }
}
