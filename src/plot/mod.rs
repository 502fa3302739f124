//! Figures with plotters — training curves, bars of best accuracies, confusion matrices —
//! written as SVG or PNG and shown inline in notebooks (SVG and PNG in one display bundle).
//! Text uses the embedded DejaVu Sans (see `DejaVuSans-LICENSE.txt`), so PNGs render
//! the same on every machine, with no system fonts needed.
use crate::train::EpochRecord;
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Colours for series, in order (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One run's curves over epochs (or several seeds' mean, with their [`Band`]).
#[derive(Debug, Clone)]
pub struct Curve {
    pub label: String,
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
            epochs: history.iter().map(|r| r.epoch as f64).collect(),
            train_loss: history.iter().map(|r| r.train_loss).collect(),
            val_loss: history.iter().map(|r| r.val_loss).collect(),
            train_acc: history.iter().map(|r| r.train_acc).collect(),
            val_acc: history.iter().map(|r| r.val_acc).collect(),
            band: None,
        }
    }

    /// The mean over runs at each epoch (epochs every run reached), with the min–max band
    /// over them when there is more than one; `None` without runs.
    pub fn mean_of(label: &str, histories: &[&[EpochRecord]]) -> Option<Self> {
        let epochs = histories.iter().map(|h| h.len()).min()?;
        let (mut curve, mut band) = (Curve::from_history(label, &histories[0][..epochs]), Band::default());
        let n = histories.len() as f64;
        for i in 0..epochs {
            let stats = |f: fn(&EpochRecord) -> f64| {
                let xs = histories.iter().map(|h| f(&h[i]));
                let (lo, hi) = xs.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
                (xs.sum::<f64>() / n, (lo, hi))
            };
            for (f, mean, range) in [
                (|r: &EpochRecord| r.train_loss, &mut curve.train_loss, &mut band.train_loss),
                (|r: &EpochRecord| r.val_loss, &mut curve.val_loss, &mut band.val_loss),
                (|r: &EpochRecord| r.train_acc, &mut curve.train_acc, &mut band.train_acc),
                (|r: &EpochRecord| r.val_acc, &mut curve.val_acc, &mut band.val_acc),
            ] as [(fn(&EpochRecord) -> f64, &mut Vec<f64>, &mut Vec<(f64, f64)>); 4]
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

/// One bar of a bar chart: the mean over seeds, its 95% confidence interval, every
/// seed's value, and the report's number.
#[derive(Debug, Clone, Default)]
pub struct Bar {
    pub label: String,
    pub mean: f64,
    /// 95% CI of the mean (Student's t over seeds), drawn as a whisker; `None` for one seed.
    pub ci95: Option<(f64, f64)>,
    /// Each seed's value, drawn as a dot.
    pub seeds: Vec<f64>,
    pub reported: Option<f64>,
    /// Appended to the bar's text, e.g. the comparison's verdict.
    pub note: Option<String>,
}

/// What a figure shows.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Loss (left) and accuracy (right) per epoch; train dashed, val solid; one colour per
    /// run; a shaded min–max band over seeds around a mean curve.
    Curves { title: String, curves: Vec<Curve>, show_train: bool },
    /// Horizontal bars of best validation accuracy (mean over seeds) with 95% CI whiskers and
    /// a dot per seed; ✕ marks the report's value.
    Bars { title: String, bars: Vec<Bar> },
    /// Confusion matrix (rows: true class, columns: predicted), shaded by row share.
    Confusion { title: String, classes: Vec<String>, matrix: Vec<Vec<i64>> },
}

/// A figure: SVG and PNG, for notebooks (both in one display bundle) and write-ups.
#[derive(Debug, Clone)]
pub struct Figure {
    pub chart: Chart,
    pub width: u32,
    pub height: u32,
}

impl Figure {
    /// Loss and accuracy curves of one or more runs.
    pub fn curves(title: &str, curves: Vec<Curve>) -> Self {
        Self { chart: Chart::Curves { title: title.into(), curves, show_train: true }, width: 900, height: 400 }
    }

    /// Only validation curves (for overlays of many variants).
    pub fn val_curves(title: &str, curves: Vec<Curve>) -> Self {
        Self { chart: Chart::Curves { title: title.into(), curves, show_train: false }, width: 900, height: 400 }
    }

    /// Best accuracy per variant with error bars.
    pub fn bars(title: &str, bars: Vec<Bar>) -> Self {
        let height = 90 + 50 * bars.len() as u32;
        Self { chart: Chart::Bars { title: title.into(), bars }, width: 900, height }
    }

    /// A confusion matrix with class names.
    pub fn confusion(title: &str, classes: Vec<String>, matrix: Vec<Vec<i64>>) -> Self {
        Self { chart: Chart::Confusion { title: title.into(), classes, matrix }, width: 720, height: 680 }
    }

    /// The figure as an SVG document.
    pub fn svg(&self) -> anyhow::Result<String> {
        register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (self.width, self.height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow::anyhow!("svg: {e}"))?;
        }
        Ok(out)
    }

    /// The figure as a PNG file's bytes, at its size in pixels (screen resolution).
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        register_font();
        let mut buf = vec![0u8; (self.width * self.height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (self.width, self.height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow::anyhow!("png: {e}"))?;
        }
        let img = image::RgbImage::from_raw(self.width, self.height, buf).context("png buffer size")?;
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).context("png encoding")?;
        Ok(out.into_inner())
    }

    /// Write to `path`: `.svg` or `.png` (by extension), atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => crate::io::write_bytes(path, self.svg()?.as_bytes()),
            Some("png") => crate::io::write_bytes(path, &self.png()?),
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
    /// PNG (base64). JupyterLab renders SVG only in trusted notebooks, and every
    /// freshly cloned notebook is untrusted: there, and on GitHub and in
    /// nbconvert's HTML, the PNG shows. evcxr keeps one value per MIME type and
    /// cell, so a cell shows one figure.
    pub fn display_bundle(&self) -> anyhow::Result<String> {
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.encode(self.png()?);
        Ok(format!("EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT image/png\n{png}\nEVCXR_END_CONTENT", self.svg()?))
    }

    /// Shown inline by evcxr: SVG and PNG in one bundle (see [`Figure::display_bundle`]).
    pub fn evcxr_display(&self) {
        match self.display_bundle() {
            Ok(bundle) => println!("{bundle}"),
            Err(e) => eprintln!("figure: {e:#}"),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("drawing: {e:?}");
        root.fill(&WHITE).map_err(err)?;
        match &self.chart {
            Chart::Curves { title, curves, show_train } => {
                let root = root.titled(title, ("sans-serif", 20)).map_err(err)?;
                let (left, right) = root.split_horizontally(self.width / 2);
                panel(&left, "loss", curves, *show_train, |c| (&c.train_loss, &c.val_loss), |b| (&b.train_loss, &b.val_loss), false).map_err(err)?;
                panel(&right, "accuracy", curves, *show_train, |c| (&c.train_acc, &c.val_acc), |b| (&b.train_acc, &b.val_acc), true).map_err(err)?;
            }
            Chart::Bars { title, bars } => draw_bars(root, title, bars).map_err(err)?,
            Chart::Confusion { title, classes, matrix } => draw_confusion(root, title, classes, matrix).map_err(err)?,
        }
        Ok(())
    }
}

fn draw_bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, bars: &[Bar]) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = bars.len().max(1) as f64;
    let top = |b: &Bar| [b.mean, b.ci95.map_or(0.0, |c| c.1), b.reported.unwrap_or(0.0)].into_iter().chain(b.seeds.iter().copied()).fold(0.0, f64::max);
    let hi = bars.iter().map(top).fold(0.0, f64::max);
    let x_max = if hi > 0.0 { (hi * 1.6).min(1.0).max(hi * 1.05) } else { 1.0 };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..x_max, 0.0..n)?;
    chart
        .configure_mesh()
        .x_desc("best validation accuracy (bar: mean; whisker: 95% CI; dots: seeds; ✕: report)")
        .disable_y_mesh()
        .y_labels(0)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, b) in bars.iter().enumerate() {
        let y = n - i as f64 - 1.0; // first bar on top
        let color = PALETTE[i % PALETTE.len()];
        // Each row: the bar, its whisker and dots in the lower part, its text line above them.
        chart.draw_series(std::iter::once(Rectangle::new([(0.0, y + 0.08), (b.mean.max(0.0), y + 0.58)], color.mix(0.6).filled())))?;
        if let Some((lo, hi)) = b.ci95 {
            chart.draw_series(std::iter::once(ErrorBar::new_horizontal(y + 0.33, lo.max(0.0), b.mean, hi.min(1.0), BLACK.stroke_width(2), 10)))?;
        }
        // Seeds spread vertically a little, so equal values stay visible as separate dots.
        let k = b.seeds.len().max(1) as f64;
        chart.draw_series(b.seeds.iter().enumerate().map(|(j, &v)| {
            let dy = if k > 1.0 { 0.16 + 0.34 * j as f64 / (k - 1.0) } else { 0.33 };
            Circle::new((v, y + dy), 3, ShapeStyle::from(&BLACK).filled())
        }))?;
        if let Some(r) = b.reported {
            chart.draw_series(std::iter::once(Cross::new((r, y + 0.33), 7, BLACK.stroke_width(3))))?;
        }
        let mut text = format!("{}  {:.4}", b.label, b.mean);
        if let Some((lo, hi)) = b.ci95 {
            text += &format!(" [{lo:.3}, {hi:.3}]");
        }
        if let Some(r) = b.reported {
            text += &format!("  (report {r:.4})");
        }
        if let Some(note) = &b.note {
            text += &format!("  {note}");
        }
        chart.draw_series(std::iter::once(Text::new(text, (x_max * 0.005, y + 0.95), ("sans-serif", 14).into_font().color(&BLACK))))?;
    }
    Ok(())
}

fn draw_confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    classes: &[String],
    matrix: &[Vec<i64>],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let k = matrix.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..k as f64, 0.0..k as f64)?;
    let name = |v: f64| -> String {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-6 && i < classes.len() && k <= 30 { classes[i].clone() } else { String::new() }
    };
    let name_y = |v: f64| name(k as f64 - v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(2 * k + 1)
        .y_labels(2 * k + 1)
        .x_label_formatter(&|v| name(*v))
        .y_label_formatter(&|v| name_y(*v))
        .x_desc("predicted")
        .y_desc("true")
        .draw()?;
    for (r, row) in matrix.iter().enumerate() {
        let total: i64 = row.iter().sum::<i64>().max(1);
        for (c, &count) in row.iter().enumerate() {
            let share = count as f64 / total as f64;
            let y = (k - r - 1) as f64;
            let shade = RGBColor((255.0 - 224.0 * share) as u8, (255.0 - 136.0 * share) as u8, (255.0 - 75.0 * share) as u8);
            chart.draw_series(std::iter::once(Rectangle::new([(c as f64, y), (c as f64 + 1.0, y + 1.0)], shade.filled())))?;
            if k <= 20 && count > 0 {
                let color = if share > 0.5 { WHITE } else { BLACK };
                chart.draw_series(std::iter::once(Text::new(count.to_string(), (c as f64 + 0.3, y + 0.6), ("sans-serif", 12).into_font().color(&color))))?;
            }
        }
    }
    Ok(())
}

type Pick = fn(&Curve) -> (&Vec<f64>, &Vec<f64>);
type PickBand = fn(&Band) -> (&Vec<(f64, f64)>, &Vec<(f64, f64)>);

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    curves: &[Curve],
    show_train: bool,
    pick: Pick,
    pick_band: PickBand,
    unit_range: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let max_epoch = curves.iter().flat_map(|c| c.epochs.iter().copied()).fold(1.0, f64::max);
    // The axis holds the bands' highest values too.
    let values = curves.iter().flat_map(|c| {
        let (t, v) = pick(c);
        let mut out: Vec<f64> = v.iter().chain(if show_train { t.iter() } else { [].iter() }).copied().collect();
        if let Some(b) = &c.band {
            let (bt, bv) = pick_band(b);
            out.extend(bv.iter().chain(if show_train { bt.iter() } else { [].iter() }).map(|r| r.1));
        }
        out
    });
    let (lo, hi) = if unit_range {
        (0.0, 1.0)
    } else {
        let finite: Vec<f64> = values.filter(|v| v.is_finite()).collect();
        let hi = finite.iter().copied().fold(0.0, f64::max);
        (0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 })
    };
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(1.0..max_epoch.max(2.0), lo..hi)?;
    let y_top = hi;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((max_epoch as usize).clamp(2, 13))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    // Bands first, so every line is drawn over them.
    for (i, c) in curves.iter().enumerate() {
        let Some(band) = &c.band else { continue };
        let color = PALETTE[i % PALETTE.len()];
        let (t, v) = pick_band(band);
        for (ranges, show) in [(v, true), (t, show_train)] {
            let pts: Vec<(f64, (f64, f64))> = c.epochs.iter().copied().zip(ranges.iter().copied()).filter(|(_, (a, b))| a.is_finite() && b.is_finite()).collect();
            if show && pts.len() > 1 {
                let outline: Vec<(f64, f64)> = pts.iter().map(|&(x, (_, hi))| (x, hi.min(y_top))).chain(pts.iter().rev().map(|&(x, (lo, _))| (x, lo.min(y_top)))).collect();
                chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.15).filled())))?;
            }
        }
    }
    for (i, c) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let (t, v) = pick(c);
        let pts = |ys: &Vec<f64>| c.epochs.iter().copied().zip(ys.iter().copied()).filter(|(_, y)| y.is_finite()).collect::<Vec<_>>();
        let val_label = if show_train { format!("{} val", c.label) } else { c.label.clone() };
        chart
            .draw_series(LineSeries::new(pts(v), color.stroke_width(2)))?
            .label(val_label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        if show_train {
            chart
                .draw_series(DashedLineSeries::new(pts(t), 6, 4, color.stroke_width(1)))?
                .label(format!("{} train", c.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(1)));
        }
    }
    chart
        .configure_series_labels()
        .position(if unit_range { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight })
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// Text a notebook cell shows rendered as Markdown (headings, bold, tables), with the same
/// text as plain text for anything that cannot render it (nbclient, a terminal).
#[derive(Debug, Clone, PartialEq)]
pub struct Markdown(pub String);

impl Markdown {
    /// evcxr's display bundle: `text/markdown` and `text/plain`.
    pub fn display_bundle(&self) -> String {
        format!("EVCXR_BEGIN_CONTENT text/markdown\n{0}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT text/plain\n{0}\nEVCXR_END_CONTENT", self.0)
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

    fn history() -> Vec<EpochRecord> {
        (1..=5)
            .map(|e| EpochRecord {
                epoch: e,
                lr: 1e-3,
                train_loss: 2.0 / e as f64,
                train_acc: 0.1 * e as f64,
                val_loss: 2.2 / e as f64,
                val_acc: 0.09 * e as f64,
                val_top5: 0.5,
                seconds: 1.0,
                images_per_s: 100.0,
            })
            .collect()
    }

    #[test]
    fn curves_render_to_svg_and_png() {
        let fig = Figure::curves("xknet18", vec![Curve::from_history("seed 1", &history()), Curve::from_history("seed 2", &history())]);
        let svg = fig.svg().unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("xknet18") && svg.contains("seed 2 val") && svg.contains("accuracy"));
        let dir = tempfile::tempdir().unwrap();
        fig.save(&dir.path().join("c.svg")).unwrap();
        fig.save(&dir.path().join("c.png")).unwrap();
        let png = image::open(dir.path().join("c.png")).unwrap().to_rgb8();
        assert_eq!(png.dimensions(), (900, 400));
        // Not blank: the lines and text put non-white pixels on the canvas.
        let dark = png.pixels().filter(|p| p.0.iter().all(|&c| c < 128)).count();
        assert!(dark > 500, "{dark} dark pixels");
        let bars = Figure::bars(
            "section",
            vec![
                Bar { label: "a".into(), mean: 0.5, ci95: Some((0.48, 0.52)), seeds: vec![0.49, 0.5, 0.51], reported: Some(0.45), note: Some("worse".into()) },
                Bar { label: "b".into(), mean: 0.4, seeds: vec![0.4], ..Default::default() },
            ],
        );
        let svg = bars.svg().unwrap();
        assert!(svg.contains("\na  0.5000 [0.480, 0.520]  (report 0.4500)  worse\n") && svg.contains("\nb  0.4000\n"), "bar labels: {svg}");
        assert_eq!(svg.lines().filter(|l| l.starts_with("<circle") && l.contains("r=\"3\"")).count(), 4, "a dot per seed");
        bars.save(&dir.path().join("b.png")).unwrap();
        let cm = Figure::confusion("cm", vec!["cat".into(), "dog".into()], vec![vec![8, 2], vec![1, 9]]);
        let svg = cm.svg().unwrap();
        assert!(svg.contains("\ncat\n") && svg.contains("\n9\n") && svg.contains("\npredicted\n"), "confusion labels: {svg}");
        let err = fig.save(&dir.path().join("c.pdf")).unwrap_err().to_string();
        assert!(err.contains("c.pdf") && err.contains(".svg or .png"));
    }

    /// A mean curve over seeds: the mean, and a band from the lowest to the highest seed.
    #[test]
    fn mean_curve_has_a_min_max_band() {
        let a = history();
        let b: Vec<EpochRecord> = history().into_iter().map(|r| EpochRecord { val_acc: r.val_acc + 0.1, ..r }).collect();
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

    /// The bundle evcxr turns into one display_data: an SVG and a PNG of the same figure.
    #[test]
    fn display_bundle_holds_svg_and_png() {
        use base64::Engine;
        let fig = Figure::curves("bundle", vec![Curve::from_history("seed 1", &history())]);
        let bundle = fig.display_bundle().unwrap();
        // evcxr's protocol: `EVCXR_BEGIN_CONTENT <mime>` line, content lines, `EVCXR_END_CONTENT` line.
        let mut blocks: Vec<(String, String)> = Vec::new();
        let mut lines = bundle.lines();
        while let Some(line) = lines.next() {
            let mime = line.strip_prefix("EVCXR_BEGIN_CONTENT ").unwrap_or_else(|| panic!("unexpected line `{line}`"));
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "EVCXR_END_CONTENT").collect();
            blocks.push((mime.to_string(), body.join("\n")));
        }
        let mimes: Vec<&str> = blocks.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(mimes, ["image/svg+xml", "image/png"]);
        assert!(blocks[0].1.starts_with("<svg") && blocks[0].1.contains("bundle"));
        assert_eq!(blocks[0].1, fig.svg().unwrap());
        let png = base64::engine::general_purpose::STANDARD.decode(&blocks[1].1).expect("PNG block is base64");
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (fig.width, fig.height));
        assert!(img.pixels().filter(|p| p.0.iter().all(|&c| c < 128)).count() > 500, "PNG is not blank");
    }
}
