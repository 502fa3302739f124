//! Figures with plotters: training curves, now; written as SVG or PNG, shown inline in notebooks.
//! Text uses the embedded DejaVu Sans (see `DejaVuSans-LICENSE.txt`), so PNGs render
//! the same on every machine, with no system fonts needed.
use crate::train::EpochRecord;
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
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

/// One run's curves over epochs.
#[derive(Debug, Clone)]
pub struct Curve {
    pub label: String,
    pub epochs: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
    pub train_acc: Vec<f64>,
    pub val_acc: Vec<f64>,
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
        }
    }
}

/// What a figure shows.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Loss (left) and accuracy (right) per epoch; train dashed, val solid; one colour per run.
    Curves { title: String, curves: Vec<Curve>, show_train: bool },
}

/// A figure: SVG for notebooks and write-ups, PNG on request.
#[derive(Debug, Clone)]
pub struct Figure {
    pub chart: Chart,
    pub width: u32,
    pub height: u32,
}

impl Figure {
    /// Loss and accuracy curves of one or more runs.
    pub fn curves(title: &str, curves: Vec<Curve>) -> Self {
        Self { chart: Chart::Curves { title: title.into(), curves, show_train: true }, width: 960, height: 400 }
    }

    /// Only validation curves (for overlays of many variants).
    pub fn val_curves(title: &str, curves: Vec<Curve>) -> Self {
        Self { chart: Chart::Curves { title: title.into(), curves, show_train: false }, width: 960, height: 400 }
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

    /// Write to `path`: `.svg` or `.png` (by extension), atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => crate::io::write_bytes(path, self.svg()?.as_bytes()),
            Some("png") => {
                register_font();
                let mut buf = vec![0u8; (self.width * self.height * 3) as usize];
                {
                    let root = BitMapBackend::with_buffer(&mut buf, (self.width, self.height)).into_drawing_area();
                    self.draw(&root)?;
                    root.present().map_err(|e| anyhow::anyhow!("png: {e}"))?;
                }
                let img = image::RgbImage::from_raw(self.width, self.height, buf).context("png buffer size")?;
                crate::io::write_atomic(path, |tmp| Ok(img.save_with_format(tmp, image::ImageFormat::Png)?))
            }
            _ => anyhow::bail!("{}: figures are written as .svg or .png", path.display()),
        }
    }

    /// Shown inline by evcxr (image/svg+xml).
    pub fn evcxr_display(&self) {
        match self.svg() {
            Ok(svg) => println!("EVCXR_BEGIN_CONTENT image/svg+xml\n{svg}\nEVCXR_END_CONTENT"),
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
                panel(&left, "loss", curves, *show_train, |c| (&c.train_loss, &c.val_loss), false).map_err(err)?;
                panel(&right, "accuracy", curves, *show_train, |c| (&c.train_acc, &c.val_acc), true).map_err(err)?;
            }
        }
        Ok(())
    }
}

type Pick = fn(&Curve) -> (&Vec<f64>, &Vec<f64>);

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    curves: &[Curve],
    show_train: bool,
    pick: Pick,
    unit_range: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let max_epoch = curves.iter().flat_map(|c| c.epochs.iter().copied()).fold(1.0, f64::max);
    let values = curves.iter().flat_map(|c| {
        let (t, v) = pick(c);
        v.iter().chain(if show_train { t.iter() } else { [].iter() }).copied().collect::<Vec<_>>()
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
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((max_epoch as usize).clamp(2, 13))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
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
        assert_eq!(png.dimensions(), (960, 400));
        // Not blank: the lines and text put non-white pixels on the canvas.
        let dark = png.pixels().filter(|p| p.0.iter().all(|&c| c < 128)).count();
        assert!(dark > 500, "{dark} dark pixels");
        let err = fig.save(&dir.path().join("c.pdf")).unwrap_err().to_string();
        assert!(err.contains("c.pdf") && err.contains(".svg or .png"));
    }
}
