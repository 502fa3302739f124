//! The drawing code of every chart. Each chart is planned in points (the same plan gives
//! the figure's height and the drawing's rectangles), then drawn at a resolution; the
//! drawing returns its [`Layout`].
use super::{Chart, Curve, Dash, EffectRow, Figure, Layout, Rect, Resolution, Style};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

// Text sizes in points at the figure's document size (legible in print: ≥ 7 pt).
const TITLE: f64 = 9.0;
const CAPTION: f64 = 8.0;
const DESC: f64 = 8.0;
const TICK: f64 = 7.0;
const KEY: f64 = 7.5;
const COUNT: f64 = 7.0;
/// Space around the figure, pt.
const MARGIN: f64 = 4.0;
/// Line widths, pt: a series (validation) and its thin twin (training).
const LINE: f64 = 1.4;
const THIN: f64 = 0.7;
/// Height of one legend line, pt.
const KEY_ROW: f64 = 10.5;
/// Length of a legend's line sample, pt.
const SAMPLE: f64 = 16.0;
/// Row height of the effects figure (one line of label at page width, two at column width)
/// and of the per-class figure, pt.
const ROW: f64 = 13.0;
const ROW2: f64 = 20.0;
const CLASS_ROW: f64 = 9.5;
/// Height under a plotting area for tick labels and the axis description, pt.
const AXIS: f64 = 24.0;
/// A curve coincides with another when they never differ by more than this share of the
/// panel's value range (about 2 pt of a 185 pt panel: one line hides the other).
const COINCIDE: f64 = 0.01;
/// Per-class figures show every class up to this many; beyond, the worst and best half of it.
const MAX_CLASSES: usize = 40;

type Area<DB> = DrawingArea<DB, Shift>;
type DResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

#[derive(Clone, Copy)]
struct Scale(f64);

impl Scale {
    fn px(self, pt: f64) -> i32 {
        (pt * self.0).round() as i32
    }
    fn upx(self, pt: f64) -> u32 {
        ((pt * self.0).round() as u32).max(1)
    }
    /// plotters' font size for text whose em is `pt` (its SVG writes font-size = size / 1.24).
    fn font(self, pt: f64) -> f64 {
        pt * 1.24 * self.0
    }
    fn text(self, pt: f64) -> TextStyle<'static> {
        ("sans-serif", self.font(pt)).into_font().color(&BLACK)
    }
}

/// Width of `text` at `pt` points, in points (measured with the embedded font).
fn text_w(text: &str, pt: f64) -> f64 {
    ("sans-serif", pt * 12.4)
        .into_font()
        .box_size(text)
        .map(|(w, _)| w as f64 / 10.0)
        .unwrap_or(0.6 * pt * text.chars().count() as f64)
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The title's lines at width `w` (at most two; the second cut to fit).
fn title_lines(title: &str, w: f64) -> Vec<String> {
    if title.is_empty() {
        return Vec::new();
    }
    let avail = w - 2.0 * MARGIN;
    let lines = wrap(title, TITLE, avail);
    match lines.len() {
        1 => lines,
        _ => vec![fit(&lines[0], TITLE, avail), fit(&lines[1..].join(" "), TITLE, avail)],
    }
}

fn title_h(title: &str, w: f64) -> f64 {
    match title_lines(title, w).len() {
        0 => MARGIN,
        n => TITLE * (0.5 + 1.3 * n as f64),
    }
}

// ---------- legends ----------

#[derive(Clone, Copy)]
enum Symbol {
    /// A line sample: style, width (pt), opacity.
    Line(Style, f64, f64),
    /// A filled or hollow circle.
    Dot {
        color: (u8, u8, u8),
        filled: bool,
    },
    Cross((u8, u8, u8)),
    /// No symbol: the entry is text only.
    None,
}

struct Entry {
    symbol: Symbol,
    text: String,
}

struct LegendPlan {
    /// Each column's width, pt; entries fill rows left to right.
    cols: Vec<f64>,
    /// Each entry's text, wrapped to its column.
    lines: Vec<Vec<String>>,
    /// Each row's top, from the legend's top, pt; and the legend's height.
    row_y: Vec<f64>,
    h: f64,
}

fn symbol_w(sym: Symbol) -> f64 {
    match sym {
        Symbol::Line(..) => SAMPLE + 3.0,
        Symbol::Dot { .. } | Symbol::Cross(_) => 9.0,
        Symbol::None => 0.0,
    }
}

/// `text` broken at spaces into lines at most `max` points wide (a longer word stays whole).
fn wrap(text: &str, pt: f64, max: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text_w(&format!("{line} {word}"), pt) <= max => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The most columns (entries row by row, each column as wide as its widest entry) that fit
/// `avail`; an entry wider than `avail` wraps.
fn legend_plan(entries: &[Entry], avail: f64) -> LegendPlan {
    let widths: Vec<f64> = entries
        .iter()
        .map(|e| (symbol_w(e.symbol) + text_w(&e.text, KEY) + 10.0).min(avail))
        .collect();
    let cols = (1..=entries.len().max(1))
        .rev()
        .map(|n| {
            (0..n)
                .map(|c| widths.iter().skip(c).step_by(n).copied().fold(0.0, f64::max))
                .collect::<Vec<f64>>()
        })
        .find(|cols| cols.iter().sum::<f64>() <= avail || cols.len() == 1)
        .unwrap_or_else(|| vec![avail]);
    let n = cols.len();
    let lines: Vec<Vec<String>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| wrap(&e.text, KEY, cols[i % n] - symbol_w(e.symbol) - 6.0))
        .collect();
    let mut row_y = Vec::new();
    let mut y = 2.0;
    for row in lines.chunks(n) {
        row_y.push(y);
        y += row.iter().map(Vec::len).max().unwrap_or(1) as f64 * KEY_ROW;
    }
    LegendPlan { cols, lines, row_y, h: if entries.is_empty() { 0.0 } else { y + 2.0 } }
}

/// Draws the legend with its top-left corner at (`x`, `y`) pt; records it in `layout`.
fn draw_legend<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    entries: &[Entry],
    x: f64,
    y: f64,
    avail: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    if entries.is_empty() {
        return Ok(());
    }
    let plan = legend_plan(entries, avail);
    let n = plan.cols.len();
    let mut right = x;
    for (i, e) in entries.iter().enumerate() {
        let (c, r) = (i % n, i / n);
        let ex = x + plan.cols[..c].iter().sum::<f64>();
        let ey = y + plan.row_y[r] + KEY_ROW / 2.0;
        match e.symbol {
            Symbol::Line(style, w, alpha) => {
                let pts = [
                    (s.px(ex) as f64, s.px(ey) as f64),
                    (s.px(ex + SAMPLE) as f64, s.px(ey) as f64),
                ];
                stroke(root, s, &pts, style, w, alpha)?;
            }
            Symbol::Dot { color, filled } => {
                dot(root, s, (s.px(ex + 3.0), s.px(ey)), 2.2, color, filled)?
            }
            Symbol::Cross(color) => cross(root, s, (s.px(ex + 3.0), s.px(ey)), color)?,
            Symbol::None => {}
        }
        let tx = ex + symbol_w(e.symbol);
        for (k, line) in plan.lines[i].iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (s.px(tx), s.px(ey + k as f64 * KEY_ROW)),
                s.text(KEY).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            right = right.max(tx + text_w(line, KEY));
        }
    }
    let rect = Rect::new(s.px(x), s.px(y), s.px(right.max(x + 1.0)), s.px(y + plan.h));
    layout.legend = Some(rect);
    Ok(())
}

// ---------- primitives ----------

/// Splits a polyline (pixels) into the dashes of `pattern` (pixels: on, off, …).
fn dashes(points: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || points.len() < 2 {
        return vec![points.to_vec()];
    }
    let (mut out, mut cur) = (Vec::new(), vec![points[0]]);
    let (mut idx, mut left, mut on) = (0usize, pattern[0], true);
    for w in points.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        let mut len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        while len > left {
            let t = left / len;
            let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            if on {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            on = !on;
            idx = (idx + 1) % pattern.len();
            len -= left;
            a = p;
            left = pattern[idx];
        }
        left -= len;
        if on {
            cur.push(b);
        }
    }
    if on && cur.len() > 1 {
        out.push(cur);
    }
    out
}

/// A polyline (pixels) in `style`, `width` pt wide, at opacity `alpha`.
fn stroke<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    pts: &[(f64, f64)],
    style: Style,
    width: f64,
    alpha: f64,
) -> DResult<(), DB> {
    let pattern: Vec<f64> = style.dash.pattern().iter().map(|p| p * s.0 * width.max(1.0)).collect();
    let line = rgb(style.color).mix(alpha).stroke_width(s.upx(width));
    for seg in dashes(pts, &pattern) {
        let seg: Vec<(i32, i32)> =
            seg.iter().map(|&(x, y)| (x.round() as i32, y.round() as i32)).collect();
        if seg.len() > 1 {
            root.draw(&PathElement::new(seg, line))?;
        }
    }
    Ok(())
}

fn dot<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    at: (i32, i32),
    r: f64,
    color: (u8, u8, u8),
    filled: bool,
) -> DResult<(), DB> {
    if filled {
        root.draw(&Circle::new(at, s.upx(r), rgb(color).filled()))
    } else {
        root.draw(&Circle::new(at, s.upx(r), WHITE.filled()))?;
        root.draw(&Circle::new(at, s.upx(r), rgb(color).stroke_width(s.upx(0.6))))
    }
}

fn cross<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    (x, y): (i32, i32),
    color: (u8, u8, u8),
) -> DResult<(), DB> {
    let d = s.px(2.4);
    let st = rgb(color).stroke_width(s.upx(1.1));
    root.draw(&PathElement::new(vec![(x - d, y - d), (x + d, y + d)], st))?;
    root.draw(&PathElement::new(vec![(x - d, y + d), (x + d, y - d)], st))
}

/// A text label at (`x`, `y`) px; returns its box.
fn label<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    text: &str,
    pt: f64,
    (x, y): (i32, i32),
    h: HPos,
) -> DResult<Rect, DB> {
    root.draw(&Text::new(text.to_string(), (x, y), s.text(pt).pos(Pos::new(h, VPos::Center))))?;
    let w = s.px(text_w(text, pt));
    let half = s.px(pt * 0.6);
    let x0 = match h {
        HPos::Left => x,
        HPos::Right => x - w,
        HPos::Center => x - w / 2,
    };
    Ok(Rect::new(x0, y - half, x0 + w, y + half))
}

/// `text` cut to `max` points at `pt`, with an ellipsis.
fn fit(text: &str, pt: f64, max: f64) -> String {
    if text_w(text, pt) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() && text_w(&(chars.iter().collect::<String>() + "…"), pt) > max {
        chars.pop();
    }
    chars.into_iter().collect::<String>() + "…"
}

/// A padded range around `values` (finite ones), including `always`.
fn range_of(values: impl IntoIterator<Item = f64>, always: &[f64], pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().chain(always.iter().copied()).filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).max(1e-6);
    let d = (span * pad).max(if hi == lo { 0.5 } else { 0.0 });
    (lo - d, hi + d)
}

/// The house style of a mesh: tick labels 7 pt, axis descriptions 8 pt, faint grid, no minor lines.
fn style_mesh<
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
>(
    m: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
    s: Scale,
) {
    m.label_style(s.text(TICK))
        .axis_desc_style(s.text(DESC))
        .bold_line_style(BLACK.mix(0.08).stroke_width(s.upx(0.4)))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.mix(0.6).stroke_width(s.upx(0.6)))
        .set_all_tick_mark_size(s.px(2.0));
}

/// Tick labels of a fraction axis in percent, with a decimal when the span is narrow.
fn percent(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if span < 0.05 { format!("{:.1}", v * 100.0) } else { format!("{:.0}", v * 100.0) }
    }
}

/// Tick labels of a difference in pp: signed, with a true minus sign, 0 unsigned.
fn pp(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        let t = if span < 5.0 { format!("{v:+.1}") } else { format!("{v:+.0}") };
        match t.as_str() {
            "+0" | "-0" | "+0.0" | "-0.0" => "0".into(),
            _ => t.replace('-', "−"),
        }
    }
}

// ---------- plans ----------

/// The figure's height in points at width `w`.
pub(super) fn height_pt(fig: &Figure, w: f64) -> f64 {
    match &fig.chart {
        Chart::Curves { title, curves, show_train } => {
            curves_plan(title, curves, *show_train, w).total
        }
        Chart::Effects { title, rows, metric, .. } => {
            effects_plan(title, rows, metric, fig.width, w).total
        }
        Chart::Confusion { title, classes, matrix } => {
            confusion_plan(title, classes, matrix.len(), w).total
        }
        Chart::PerClass { title, classes, accuracy, .. } => {
            per_class_plan(title, classes, accuracy, w).total
        }
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    fig: &Figure,
    root: &Area<DB>,
    res: Resolution,
) -> anyhow::Result<Layout> {
    let s = Scale(res.0);
    let (w, h) = root.dim_in_pixel();
    let mut layout = Layout::new(Rect::new(0, 0, w as i32, h as i32));
    let wpt = fig.width.points();
    let result = (|| -> DResult<(), DB> {
        root.fill(&WHITE)?;
        match &fig.chart {
            Chart::Curves { title, curves, show_train } => {
                draw_curves(root, s, title, curves, *show_train, wpt, &mut layout)
            }
            Chart::Effects { title, reference, metric, rows } => draw_effects(
                root,
                s,
                title,
                reference.as_deref(),
                metric,
                rows,
                fig.width,
                wpt,
                &mut layout,
            ),
            Chart::Confusion { title, classes, matrix } => {
                draw_confusion(root, s, title, classes, matrix, wpt, &mut layout)
            }
            Chart::PerClass { title, classes, accuracy, style } => {
                draw_per_class(root, s, title, classes, accuracy, *style, wpt, &mut layout)
            }
        }
    })();
    result.map_err(|e| anyhow::anyhow!("drawing: {e:?}"))?;
    Ok(layout)
}

fn draw_title<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    title: &str,
    w: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    if !title.is_empty() {
        for (k, text) in title_lines(title, w).into_iter().enumerate() {
            let r = label(
                root,
                s,
                &text,
                TITLE,
                (s.px(w / 2.0), s.px(TITLE * (0.9 + 1.3 * k as f64))),
                HPos::Center,
            )?;
            layout.labels.push((r, text));
        }
    }
    Ok(())
}

// ---------- curves ----------

struct CurvesPlan {
    panels: [(f64, f64, f64, f64); 2],
    /// The value range of the loss and the accuracy panel.
    ranges: [(f64, f64); 2],
    /// For each curve, the earlier one it coincides with.
    same: Vec<Option<usize>>,
    legend_y: f64,
    total: f64,
}

fn curves_plan(title: &str, curves: &[Curve], show_train: bool, w: f64) -> CurvesPlan {
    let top = title_h(title, w);
    let inner = w - 2.0 * MARGIN;
    let (panels, bottom) = if w < 400.0 {
        let ph = 0.62 * w;
        ([(MARGIN, top, inner, ph), (MARGIN, top + ph, inner, ph)], top + 2.0 * ph)
    } else {
        let ph = 0.36 * w;
        ([(MARGIN, top, inner / 2.0, ph), (MARGIN + inner / 2.0, top, inner / 2.0, ph)], top + ph)
    };
    let ranges =
        [panel_range(curves, LOSS, show_train, false), panel_range(curves, ACC, show_train, true)];
    let same =
        coincidences(curves, show_train, [ranges[0].1 - ranges[0].0, ranges[1].1 - ranges[1].0]);
    let legend = legend_plan(&curve_entries(curves, show_train, &same), inner);
    CurvesPlan {
        panels,
        ranges,
        same,
        legend_y: bottom + 2.0,
        total: bottom + 2.0 + legend.h + MARGIN,
    }
}

fn curve_entries(curves: &[Curve], show_train: bool, same: &[Option<usize>]) -> Vec<Entry> {
    let mut out: Vec<Entry> = curves
        .iter()
        .zip(same)
        .map(|(c, same)| Entry {
            symbol: Symbol::Line(c.style, LINE, 1.0),
            text: match same {
                Some(i) => format!("{} — coincides with {}", c.label, curves[*i].label),
                None => c.label.clone(),
            },
        })
        .collect();
    if show_train {
        let key = Style::new((110, 110, 110), Dash::Solid);
        out.push(Entry { symbol: Symbol::Line(key, LINE, 1.0), text: "validation".into() });
        out.push(Entry { symbol: Symbol::Line(key, THIN, 0.7), text: "training".into() });
    }
    out
}

type Series = fn(&Curve) -> [&Vec<f64>; 2];
type BandSeries = fn(&super::Band) -> [&Vec<(f64, f64)>; 2];
const LOSS: (Series, BandSeries) =
    (|c| [&c.val_loss, &c.train_loss], |b| [&b.val_loss, &b.train_loss]);
const ACC: (Series, BandSeries) = (|c| [&c.val_acc, &c.train_acc], |b| [&b.val_acc, &b.train_acc]);

fn panel_range(
    curves: &[Curve],
    (series, bands): (Series, BandSeries),
    show_train: bool,
    fraction: bool,
) -> (f64, f64) {
    let n = if show_train { 2 } else { 1 };
    let mut values: Vec<f64> = Vec::new();
    for c in curves {
        for ys in &series(c)[..n] {
            values.extend(ys.iter());
        }
        if let Some(b) = &c.band {
            for r in &bands(b)[..n] {
                values.extend(r.iter().flat_map(|&(lo, hi)| [lo, hi]));
            }
        }
    }
    let (lo, hi) = range_of(values, &[], 0.06);
    if fraction { (lo.max(0.0), hi.min(1.0)) } else { (lo.max(0.0), hi) }
}

/// For each curve, the earlier curve it coincides with in every drawn series, if any.
fn coincidences(curves: &[Curve], show_train: bool, spans: [f64; 2]) -> Vec<Option<usize>> {
    let n = if show_train { 2 } else { 1 };
    (0..curves.len())
        .map(|j| {
            (0..j).find(|&i| {
                let (a, b) = (&curves[i], &curves[j]);
                if a.epochs.is_empty() || a.epochs != b.epochs {
                    return false;
                }
                [(LOSS.0, spans[0]), (ACC.0, spans[1])].iter().all(|&(series, span)| {
                    (0..n).all(|k| {
                        series(a)[k].iter().zip(series(b)[k]).all(|(x, y)| {
                            (x - y).abs() <= COINCIDE * span || (!x.is_finite() && !y.is_finite())
                        })
                    })
                })
            })
        })
        .collect()
}

fn draw_curves<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    title: &str,
    curves: &[Curve],
    show_train: bool,
    w: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    let plan = curves_plan(title, curves, show_train, w);
    draw_title(root, s, title, w, layout)?;
    let max_epoch = curves.iter().flat_map(|c| c.epochs.iter().copied()).fold(2.0, f64::max);
    let which = if show_train { "" } else { "validation " };
    for (p, ((x, y, pw, ph), &(lo, hi))) in plan.panels.iter().zip(&plan.ranges).enumerate() {
        let area = root.clone().shrink((s.px(*x), s.px(*y)), (s.px(*pw), s.px(*ph)));
        let fraction = p == 1;
        let mut chart = ChartBuilder::on(&area)
            .caption(
                if fraction { format!("{which}accuracy") } else { format!("{which}loss") },
                s.text(CAPTION),
            )
            .margin_left(s.px(2.0))
            .margin_right(s.px(8.0))
            .margin_top(s.px(2.0))
            .x_label_area_size(s.px(AXIS))
            .y_label_area_size(s.px(30.0))
            .build_cartesian_2d(1.0..max_epoch, lo..hi)?;
        let span = hi - lo;
        let acc_fmt = percent(span);
        let loss_fmt = |v: &f64| if span < 0.5 { format!("{v:.2}") } else { format!("{v:.1}") };
        let epoch_fmt = |v: &f64| format!("{v:.0}");
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh, s);
        mesh.x_desc("epoch")
            .x_labels((max_epoch as usize).clamp(2, 9))
            .x_label_formatter(&epoch_fmt)
            .y_labels(6);
        if fraction {
            mesh.y_desc("accuracy (%)").y_label_formatter(&acc_fmt);
        } else {
            mesh.y_desc("cross-entropy (nats)").y_label_formatter(&loss_fmt);
        }
        mesh.draw()?;
        layout.plots.push(Rect::from_ranges(chart.plotting_area().get_pixel_range()));
        let (series, bands) = if fraction { ACC } else { LOSS };
        // Bands first (validation only), so every line is drawn over them.
        for c in curves {
            let Some(b) = &c.band else { continue };
            let pts: Vec<(f64, (f64, f64))> = c
                .epochs
                .iter()
                .copied()
                .zip(bands(b)[0].iter().copied())
                .filter(|(_, (a, b))| a.is_finite() && b.is_finite())
                .collect();
            if pts.len() > 1 {
                let clip = |v: f64| v.clamp(lo, hi);
                let outline: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|&(x, (_, h))| (x, clip(h)))
                    .chain(pts.iter().rev().map(|&(x, (l, _))| (x, clip(l))))
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    outline,
                    rgb(c.style.color).mix(0.13).filled(),
                )))?;
            }
        }
        let n = if show_train { 2 } else { 1 };
        // Training (thin) under validation (thick).
        for k in (0..n).rev() {
            for c in curves {
                let pts: Vec<(f64, f64)> = c
                    .epochs
                    .iter()
                    .zip(series(c)[k])
                    .filter(|(_, y)| y.is_finite())
                    .map(|(&x, &y)| {
                        let (px, py) = chart.backend_coord(&(x, y.clamp(lo, hi)));
                        (px as f64, py as f64)
                    })
                    .collect();
                layout.points.extend(pts.iter().map(|&(x, y)| (x as i32, y as i32)));
                let (width, alpha) = if k == 0 { (LINE, 1.0) } else { (THIN, 0.7) };
                if pts.len() == 1 {
                    dot(root, s, (pts[0].0 as i32, pts[0].1 as i32), 1.5, c.style.color, true)?;
                }
                stroke(root, s, &pts, c.style, width, alpha)?;
            }
        }
    }
    draw_legend(
        root,
        s,
        &curve_entries(curves, show_train, &plan.same),
        MARGIN,
        plan.legend_y,
        w - 2.0 * MARGIN,
        layout,
    )
}

// ---------- effects ----------

#[derive(Clone, Copy, PartialEq)]
enum Panel {
    Accuracy,
    Delta,
    Paper,
}

struct EffectsPlan {
    row: f64,
    label_w: f64,
    note_w: f64,
    panels: Vec<(Panel, f64, f64)>,
    top: f64,
    caption_h: f64,
    legend_y: f64,
    total: f64,
}

fn effects_plan(
    title: &str,
    rows: &[EffectRow],
    metric: &str,
    width: super::Width,
    w: f64,
) -> EffectsPlan {
    let top = title_h(title, w);
    let page = width == super::Width::Page;
    // At column width a label may take two lines.
    let (row, label_max) = if page { (ROW, 0.3 * w) } else { (ROW2, 0.42 * w) };
    let label_w =
        rows.iter().map(|r| text_w(&row_label(r), KEY) + 5.0).fold(20.0, f64::max).min(label_max);
    let note_w = if page {
        rows.iter()
            .filter_map(row_note)
            .map(|n| text_w(&n, KEY) + 6.0)
            .fold(0.0, f64::max)
            .min(0.27 * w)
    } else {
        0.0
    };
    let has_paper = rows.iter().any(|r| r.paper_delta_pp.is_some());
    let has_delta = rows.iter().any(|r| r.delta_pp.is_some());
    // Accuracy at page width (or when there is nothing to compare), the difference when there
    // is a reference, the paper's difference when it gives one; widths in shares of the rest.
    let mut shares: Vec<(Panel, f64)> = Vec::new();
    if page || !has_delta {
        shares.push((Panel::Accuracy, 0.34));
    }
    if has_delta {
        shares.push((Panel::Delta, 0.38));
    }
    if has_paper {
        shares.push((Panel::Paper, 0.28));
    }
    let total: f64 = shares.iter().map(|s| s.1).sum();
    let shares: Vec<(Panel, f64)> = shares.into_iter().map(|(p, f)| (p, f / total)).collect();
    let avail = w - 2.0 * MARGIN - label_w - note_w;
    let mut x = MARGIN + label_w;
    let panels = shares
        .into_iter()
        .map(|(p, f)| {
            let out = (p, x, avail * f);
            x += avail * f;
            out
        })
        .collect();
    let caption_h = CAPTION * 1.9;
    let legend_y = top + caption_h + rows.len().max(1) as f64 * row + AXIS + 2.0;
    let legend = legend_plan(&effect_entries(rows, metric, page || !has_delta), w - 2.0 * MARGIN);
    EffectsPlan {
        row,
        label_w,
        note_w,
        panels,
        top,
        caption_h,
        legend_y,
        total: legend_y + legend.h + MARGIN,
    }
}

fn row_label(r: &EffectRow) -> String {
    r.label.clone()
}

/// The margin band's grey, light enough for the marks on it.
const BAND: (u8, u8, u8) = (222, 222, 222);

/// The right-hand column: the row's note, or "reference".
fn row_note(r: &EffectRow) -> Option<String> {
    r.note.clone().or(r.reference.then(|| "reference".to_string()))
}

fn effect_entries(rows: &[EffectRow], metric: &str, accuracy: bool) -> Vec<Entry> {
    let grey = (90, 90, 90);
    let mut out = Vec::new();
    if accuracy {
        out.push(Entry {
            symbol: Symbol::Dot { color: grey, filled: true },
            text: format!("accuracy: mean of seeds, 95% CI ({metric})"),
        });
        out.push(Entry {
            symbol: Symbol::Dot { color: (150, 150, 150), filled: false },
            text: "each seed".into(),
        });
    }
    if rows.iter().any(|r| r.delta_pp.is_some()) {
        out.push(Entry {
            symbol: Symbol::Dot { color: grey, filled: true },
            text: "Δ, 95% CI simultaneous over the family: better, worse or equivalent".into(),
        });
        out.push(Entry {
            symbol: Symbol::Dot { color: grey, filled: false },
            text: "Δ undecided".into(),
        });
    }
    if rows.iter().any(|r| r.delta_pp.is_some() && r.margin_pp.is_some()) {
        out.push(Entry {
            symbol: Symbol::Line(Style::new(BAND, super::Dash::Solid), 6.0, 1.0),
            text: "± the margin of equivalence".into(),
        });
    }
    if rows.iter().any(|r| r.paper_delta_pp.is_some()) {
        out.push(Entry {
            symbol: Symbol::Cross(grey),
            text: "the paper's Δ (one run each)".into(),
        });
    }
    out
}

/// A panel's caption, axis description and range, from the rows it shows.
fn effects_axis(
    panel: Panel,
    rows: &[EffectRow],
    reference: Option<&str>,
) -> (String, &'static str, (f64, f64)) {
    match panel {
        Panel::Accuracy => (
            "accuracy".to_string(),
            "accuracy (%)",
            range_of(
                rows.iter().flat_map(|r| {
                    [r.mean]
                        .into_iter()
                        .chain(r.ci95.map(|c| [c.0, c.1]).into_iter().flatten())
                        .chain(r.seeds.iter().copied())
                }),
                &[],
                0.08,
            ),
        ),
        Panel::Delta => (
            match reference {
                Some(r) => format!("Δ vs {r}"),
                None => "Δ vs the reference".to_string(),
            },
            "difference (pp)",
            range_of(
                rows.iter()
                    .filter_map(|r| r.delta_pp)
                    .flat_map(|(d, ci)| {
                        [d].into_iter().chain(ci.map(|c| [c.0, c.1]).into_iter().flatten())
                    })
                    .chain(
                        rows.iter()
                            .filter(|r| r.delta_pp.is_some())
                            .filter_map(|r| r.margin_pp)
                            .flat_map(|m| [-m, m]),
                    ),
                &[0.0],
                0.08,
            ),
        ),
        Panel::Paper => (
            "paper's Δ".to_string(),
            "difference (pp)",
            range_of(rows.iter().filter_map(|r| r.paper_delta_pp), &[0.0], 0.12),
        ),
    }
}

/// One row's marks in one panel at height `y`, through `at` (data to pixels): the seeds, the
/// mean and its CI (accuracy); the difference and its CI, filled when detectable (Δ); the
/// paper's difference as a cross.
fn draw_effect_marks<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    panel: Panel,
    r: &EffectRow,
    y: f64,
    at: &dyn Fn(f64, f64) -> (i32, i32),
    layout: &mut Layout,
) -> DResult<(), DB> {
    let whisker = |root: &Area<DB>, lo: f64, hi: f64, layout: &mut Layout| -> DResult<(), DB> {
        let (a, b) = (at(lo, y), at(hi, y));
        let cap = s.px(2.2);
        let st = rgb(r.style.color).stroke_width(s.upx(0.9));
        // The whisker in the variant's dash, so variants sharing a colour stay apart.
        stroke(root, s, &[(a.0 as f64, a.1 as f64), (b.0 as f64, b.1 as f64)], r.style, 0.9, 1.0)?;
        root.draw(&PathElement::new(vec![(a.0, a.1 - cap), (a.0, a.1 + cap)], st))?;
        root.draw(&PathElement::new(vec![(b.0, b.1 - cap), (b.0, b.1 + cap)], st))?;
        layout.points.extend([a, b]);
        Ok(())
    };
    match panel {
        Panel::Accuracy => {
            for (j, &v) in r.seeds.iter().enumerate() {
                // Seeds above and below the whisker in turn, further out as they come,
                // so equal values stay visible and none sits on the whisker.
                let dy = (if j % 2 == 0 { -1.0 } else { 1.0 }) * (0.2 + 0.12 * (j / 2) as f64);
                let p = at(v, y + dy);
                dot(root, s, p, 1.4, r.style.color, false)?;
                layout.points.push(p);
            }
            if let Some((a, b)) = r.ci95 {
                whisker(root, a, b, layout)?;
            }
            let p = at(r.mean, y);
            dot(root, s, p, 2.3, r.style.color, true)?;
            layout.points.push(p);
        }
        Panel::Delta => {
            if let Some((d, ci)) = r.delta_pp {
                if let Some((a, b)) = ci {
                    whisker(root, a, b, layout)?;
                }
                let p = at(d, y);
                dot(root, s, p, 2.4, r.style.color, r.detectable)?;
                layout.points.push(p);
            }
        }
        Panel::Paper => {
            if let Some(d) = r.paper_delta_pp {
                let p = at(d, y);
                cross(root, s, p, r.style.color)?;
                layout.points.push(p);
            }
        }
    }
    Ok(())
}

/// Each row's label left of the panels (wrapped to two lines when the plan gives rows the
/// height), and its verdict right of them.
fn draw_effect_labels<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    plan: &EffectsPlan,
    rows: &[EffectRow],
    row_px: &[i32],
    layout: &mut Layout,
) -> DResult<(), DB> {
    let panels_end = plan.panels.last().map_or(MARGIN + plan.label_w, |(_, x, pw)| x + pw);
    for (i, r) in rows.iter().enumerate() {
        let Some(&y) = row_px.get(i) else { continue };
        let lines = if plan.row > ROW {
            wrap(&row_label(r), KEY, plan.label_w - 4.0)
        } else {
            vec![row_label(r)]
        };
        let (first, rest) = (&lines[0], lines[1..].join(" "));
        let lines: Vec<String> = if rest.is_empty() {
            vec![fit(first, KEY, plan.label_w - 4.0)]
        } else {
            vec![fit(first, KEY, plan.label_w - 4.0), fit(&rest, KEY, plan.label_w - 4.0)]
        };
        for (k, text) in lines.iter().enumerate() {
            let dy = (k as f64 - (lines.len() - 1) as f64 / 2.0) * KEY * 1.25;
            let rect = label(
                root,
                s,
                text,
                KEY,
                (s.px(MARGIN + plan.label_w - 3.0), y + s.px(dy)),
                HPos::Right,
            )?;
            layout.labels.push((rect, text.clone()));
        }
        if let (Some(note), true) = (row_note(r), plan.note_w > 0.0) {
            let text = fit(&note, KEY, plan.note_w - 4.0);
            let rect = label(root, s, &text, KEY, (s.px(panels_end + 4.0), y), HPos::Left)?;
            layout.labels.push((rect, text));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn draw_effects<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    title: &str,
    reference: Option<&str>,
    metric: &str,
    rows: &[EffectRow],
    width: super::Width,
    w: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    let plan = effects_plan(title, rows, metric, width, w);
    draw_title(root, s, title, w, layout)?;
    let n = rows.len().max(1) as f64;
    let yc = |i: usize| n - i as f64 - 0.5;
    let mut row_px: Vec<i32> = Vec::new();
    let reference_mean = rows.iter().find(|r| r.reference).map(|r| r.mean);
    for &(panel, x, pw) in &plan.panels {
        let area = root.clone().shrink(
            (s.px(x), s.px(plan.top)),
            (s.px(pw), s.px(plan.caption_h + n * plan.row + AXIS)),
        );
        let (caption, desc, (lo, hi)) = effects_axis(panel, rows, reference);
        let caption = fit(&caption, CAPTION, pw - 4.0);
        let mut chart = ChartBuilder::on(&area)
            .caption(&caption, s.text(CAPTION))
            .margin_left(s.px(5.0))
            .margin_right(s.px(7.0))
            .x_label_area_size(s.px(AXIS))
            .y_label_area_size(0)
            .build_cartesian_2d(lo..hi, 0.0..n)?;
        let span = hi - lo;
        let acc_fmt = percent(span);
        let pp_fmt = pp(span);
        let mut mesh = chart.configure_mesh();
        style_mesh(&mut mesh, s);
        mesh.disable_y_mesh().y_labels(0).x_labels(if pw < 110.0 { 4 } else { 6 }).x_desc(desc);
        if panel == Panel::Accuracy {
            mesh.x_label_formatter(&acc_fmt);
        } else {
            mesh.x_label_formatter(&pp_fmt);
        }
        mesh.draw()?;
        let plot = Rect::from_ranges(chart.plotting_area().get_pixel_range());
        layout.plots.push(plot);
        if row_px.is_empty() {
            row_px = (0..rows.len()).map(|i| chart.backend_coord(&(lo, yc(i))).1).collect();
        }
        let at = |x: f64, y: f64| chart.backend_coord(&(x, y));
        // The zero line (differences) or the reference's mean (accuracy), behind the rows.
        let guide = match panel {
            Panel::Accuracy => reference_mean,
            _ => Some(0.0),
        };
        // Each comparison's band of ± its margin, under the zero line and the marks.
        for (i, r) in rows.iter().enumerate().filter(|_| panel == Panel::Delta) {
            if let (Some(_), Some(m)) = (r.delta_pp, r.margin_pp) {
                let (a, b) = (at(-m, yc(i) - 0.36), at(m, yc(i) + 0.36));
                root.draw(&Rectangle::new([a, b], rgb(BAND).filled()))?;
            }
        }
        if let Some(g) = guide {
            let (gx, _) = at(g, 0.0);
            let pts = [(gx as f64, plot.y0 as f64), (gx as f64, plot.y1 as f64)];
            stroke(root, s, &pts, Style::new((120, 120, 120), Dash::Dashed), 0.6, 1.0)?;
        }
        for (i, r) in rows.iter().enumerate() {
            draw_effect_marks(root, s, panel, r, yc(i), &at, layout)?;
        }
    }
    draw_effect_labels(root, s, &plan, rows, &row_px, layout)?;
    let accuracy = plan.panels.iter().any(|p| p.0 == Panel::Accuracy);
    draw_legend(
        root,
        s,
        &effect_entries(rows, metric, accuracy),
        MARGIN,
        plan.legend_y,
        w - 2.0 * MARGIN,
        layout,
    )
}

// ---------- confusion ----------

struct ConfusionPlan {
    top: f64,
    ylab: f64,
    side: f64,
    legend_y: f64,
    total: f64,
}

fn class_tick(classes: &[String], i: usize, k: usize) -> String {
    if k <= 30 {
        format!("{i} {}", classes.get(i).map_or("", |s| s.as_str()))
    } else {
        format!("{i}")
    }
}

fn confusion_plan(title: &str, classes: &[String], k: usize, w: f64) -> ConfusionPlan {
    let top = title_h(title, w);
    let ylab =
        (0..k).map(|i| text_w(&class_tick(classes, i, k), TICK)).fold(12.0, f64::max).min(0.38 * w)
            + DESC * 1.6
            + 6.0;
    let side = w - 2.0 * MARGIN - ylab - 6.0;
    let legend_y = top + side + AXIS + 2.0;
    ConfusionPlan { top, ylab, side, legend_y, total: legend_y + KEY_ROW + 4.0 + MARGIN }
}

#[allow(clippy::too_many_arguments)]
fn draw_confusion<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    title: &str,
    classes: &[String],
    matrix: &[Vec<i64>],
    w: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    let k = matrix.len().max(1);
    let plan = confusion_plan(title, classes, k, w);
    draw_title(root, s, title, w, layout)?;
    let area = root.clone().shrink(
        (s.px(MARGIN), s.px(plan.top)),
        (s.px(plan.ylab + plan.side), s.px(plan.side + AXIS)),
    );
    let mut chart = ChartBuilder::on(&area)
        .margin_right(s.px(2.0))
        .x_label_area_size(s.px(AXIS))
        .y_label_area_size(s.px(plan.ylab))
        .build_cartesian_2d(0.0..k as f64, 0.0..k as f64)?;
    let every = if k <= 30 { 1 } else { 10 };
    let name = |v: f64, flip: bool| -> String {
        let c = v - 0.5;
        let i = c.round();
        if (c - i).abs() > 1e-6 || i < 0.0 || i as usize >= k {
            return String::new();
        }
        let i = if flip { k - 1 - i as usize } else { i as usize };
        if i % every != 0 {
            return String::new();
        }
        if flip { class_tick(classes, i, k) } else { format!("{i}") }
    };
    let xf = |v: &f64| name(*v, false);
    let yf = |v: &f64| name(*v, true);
    let mut mesh = chart.configure_mesh();
    style_mesh(&mut mesh, s);
    mesh.disable_mesh()
        .x_labels(2 * k + 1)
        .y_labels(2 * k + 1)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .x_desc("predicted class")
        .y_desc("true class")
        .draw()?;
    layout.plots.push(Rect::from_ranges(chart.plotting_area().get_pixel_range()));
    let cell_pt = plan.side / k as f64;
    for (r, row) in matrix.iter().enumerate() {
        let total: i64 = row.iter().sum::<i64>().max(1);
        for (c, &count) in row.iter().enumerate() {
            let share = count as f64 / total as f64;
            let y = (k - r - 1) as f64;
            let shade = RGBColor(
                (255.0 - 255.0 * share) as u8,
                (255.0 - 141.0 * share) as u8,
                (255.0 - 77.0 * share) as u8,
            );
            chart.draw_series(std::iter::once(Rectangle::new(
                [(c as f64, y), (c as f64 + 1.0, y + 1.0)],
                shade.filled(),
            )))?;
            layout.points.push(chart.backend_coord(&(c as f64 + 0.5, y + 0.5)));
            let text = count.to_string();
            if count > 0 && text_w(&text, COUNT) + 2.0 < cell_pt && COUNT * 1.3 < cell_pt {
                let color = if share > 0.5 { WHITE } else { BLACK };
                let p = chart.backend_coord(&(c as f64 + 0.5, y + 0.5));
                root.draw(&Text::new(
                    text,
                    p,
                    ("sans-serif", s.font(COUNT))
                        .into_font()
                        .color(&color)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
    }
    let key = [Entry {
        symbol: Symbol::None,
        text: "shade: share of the true class's images; numbers: images".into(),
    }];
    draw_legend(root, s, &key, MARGIN, plan.legend_y, w - 2.0 * MARGIN, layout)
}

// ---------- per class ----------

struct PerClassPlan {
    top: f64,
    label_w: f64,
    value_w: f64,
    /// Class indices shown, top to bottom (`None`: the gap between worst and best).
    order: Vec<Option<usize>>,
    legend_y: f64,
    total: f64,
}

fn per_class_plan(title: &str, classes: &[String], accuracy: &[f64], w: f64) -> PerClassPlan {
    let top = title_h(title, w);
    let mut idx: Vec<usize> = (0..accuracy.len()).filter(|&i| accuracy[i].is_finite()).collect();
    idx.sort_by(|&a, &b| accuracy[a].total_cmp(&accuracy[b]).then(a.cmp(&b)));
    let order: Vec<Option<usize>> = if idx.len() > MAX_CLASSES {
        let half = MAX_CLASSES / 2;
        idx[..half]
            .iter()
            .map(|&i| Some(i))
            .chain(std::iter::once(None))
            .chain(idx[idx.len() - half..].iter().map(|&i| Some(i)))
            .collect()
    } else {
        idx.iter().map(|&i| Some(i)).collect()
    };
    let name = |i: usize| classes.get(i).cloned().unwrap_or_else(|| format!("class {i}"));
    let label_w = order
        .iter()
        .map(|o| o.map_or(text_w(&gap_text(accuracy.len()), KEY), |i| text_w(&name(i), KEY)))
        .fold(20.0, f64::max)
        .min(0.4 * w)
        + 5.0;
    let value_w = text_w("100.0", KEY) + 6.0;
    let legend_y = top + order.len().max(1) as f64 * CLASS_ROW + AXIS + 2.0;
    PerClassPlan {
        top,
        label_w,
        value_w,
        order,
        legend_y,
        total: legend_y + KEY_ROW + 4.0 + MARGIN,
    }
}

fn gap_text(k: usize) -> String {
    format!("… {} classes …", k.saturating_sub(MAX_CLASSES))
}

#[allow(clippy::too_many_arguments)]
fn draw_per_class<DB: DrawingBackend>(
    root: &Area<DB>,
    s: Scale,
    title: &str,
    classes: &[String],
    accuracy: &[f64],
    style: Style,
    w: f64,
    layout: &mut Layout,
) -> DResult<(), DB> {
    let plan = per_class_plan(title, classes, accuracy, w);
    draw_title(root, s, title, w, layout)?;
    let n = plan.order.len().max(1) as f64;
    let x = MARGIN + plan.label_w;
    let pw = w - 2.0 * MARGIN - plan.label_w - plan.value_w;
    let area =
        root.clone().shrink((s.px(x), s.px(plan.top)), (s.px(pw), s.px(n * CLASS_ROW + AXIS)));
    let mut chart = ChartBuilder::on(&area)
        .margin_right(s.px(4.0))
        .x_label_area_size(s.px(AXIS))
        .y_label_area_size(0)
        .build_cartesian_2d(0.0..1.0, 0.0..n)?;
    let fmt = percent(1.0);
    let mut mesh = chart.configure_mesh();
    style_mesh(&mut mesh, s);
    mesh.disable_y_mesh()
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&fmt)
        .x_desc("accuracy (%)")
        .draw()?;
    let plot = Rect::from_ranges(chart.plotting_area().get_pixel_range());
    layout.plots.push(plot);
    let finite: Vec<f64> = accuracy.iter().copied().filter(|a| a.is_finite()).collect();
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    for (row, o) in plan.order.iter().enumerate() {
        let y = n - row as f64 - 0.5;
        let py = chart.backend_coord(&(0.0, y)).1;
        let (text, value) = match o {
            Some(i) => {
                let a = accuracy[*i];
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.32), (a, y + 0.32)],
                    rgb(style.color).mix(0.75).filled(),
                )))?;
                layout.points.push(chart.backend_coord(&(a, y)));
                (
                    classes.get(*i).cloned().unwrap_or_else(|| format!("class {i}")),
                    Some(format!("{:.1}", 100.0 * a)),
                )
            }
            None => (gap_text(accuracy.len()), None),
        };
        let text = fit(&text, KEY, plan.label_w - 4.0);
        let r = label(root, s, &text, KEY, (s.px(x - 3.0), py), HPos::Right)?;
        layout.labels.push((r, text));
        if let Some(v) = value {
            let r = label(root, s, &v, KEY, (plot.x1 + s.px(8.0), py), HPos::Left)?;
            layout.labels.push((r, v));
        }
    }
    let (mx, _) = chart.backend_coord(&(mean, 0.0));
    stroke(
        root,
        s,
        &[(mx as f64, plot.y0 as f64), (mx as f64, plot.y1 as f64)],
        Style::new(super::okabe_ito::BLACK, Dash::Dashed),
        0.8,
        1.0,
    )?;
    let key = [Entry {
        symbol: Symbol::Line(Style::new(super::okabe_ito::BLACK, Dash::Dashed), 0.8, 1.0),
        text: format!("mean over {} classes: {:.1}%", finite.len(), 100.0 * mean),
    }];
    draw_legend(root, s, &key, MARGIN, plan.legend_y, w - 2.0 * MARGIN, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_follow_the_pattern() {
        let segs = dashes(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], &[4.0, 2.0]);
        // A 20-long L: on 0–4 and 6–10 along x, then 2–6 and 8–10 down the side.
        assert_eq!(segs[0], vec![(0.0, 0.0), (4.0, 0.0)]);
        assert_eq!(segs[1], vec![(6.0, 0.0), (10.0, 0.0), (10.0, 0.0)]);
        let on: f64 = segs
            .iter()
            .map(|s| {
                s.windows(2)
                    .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
                    .sum::<f64>()
            })
            .sum();
        assert!((on - 14.0).abs() < 1e-9, "two thirds of 20, rounded to whole dashes: {on}");
        assert_eq!(dashes(&[(0.0, 0.0), (5.0, 5.0)], &[]).len(), 1, "solid: one polyline");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        super::super::register_font();
        let long = "a label far too long to fit in a small column of text";
        let cut = fit(long, 8.0, 60.0);
        assert!(cut.ends_with('…') && text_w(&cut, 8.0) <= 60.0 && cut.len() < long.len());
        assert_eq!(fit("short", 8.0, 60.0), "short");
    }
}
