//! Where a figure put things: the rectangles the drawing code computed (plotting areas,
//! legend, text labels) and the plotted points, in the rendering's pixels. The layout
//! tests check these — a legend over the data, a label over a marker — without comparing
//! images pixel by pixel.

/// A rectangle in pixels, `x0 ≤ x < x1`, `y0 ≤ y < y1` (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn new(x0: i32, y0: i32, x1: i32, y1: i32) -> Self {
        Self { x0: x0.min(x1), y0: y0.min(y1), x1: x0.max(x1), y1: y0.max(y1) }
    }

    pub fn from_ranges(r: (std::ops::Range<i32>, std::ops::Range<i32>)) -> Self {
        Self::new(r.0.start, r.1.start, r.0.end, r.1.end)
    }

    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    /// Whether the two share any pixel.
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    pub fn contains(&self, (x, y): (i32, i32)) -> bool {
        self.x0 <= x && x < self.x1 && self.y0 <= y && y < self.y1
    }

    /// Whether `self` lies inside `o` (edges may touch).
    pub fn within(&self, o: &Rect) -> bool {
        o.x0 <= self.x0 && self.x1 <= o.x1 && o.y0 <= self.y0 && self.y1 <= o.y1
    }
}

/// What a figure's drawing code placed, in the pixels of that rendering.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The whole figure.
    pub canvas: Rect,
    /// Each plotting area (inside the axes).
    pub plots: Vec<Rect>,
    /// The legend or key, drawn outside every plotting area.
    pub legend: Option<Rect>,
    /// Every plotted data point: curve vertices, markers, whisker ends, bar ends.
    pub points: Vec<(i32, i32)>,
    /// Text drawn by the figure's code outside the axes (row labels, values, verdicts,
    /// legend entries), with its box.
    pub labels: Vec<(Rect, String)>,
    /// Markers drawn inside a plot, with their extent: no label may cover them.
    pub markers: Vec<Rect>,
}

impl Layout {
    pub(crate) fn new(canvas: Rect) -> Self {
        Self {
            canvas,
            plots: Vec::new(),
            legend: None,
            points: Vec::new(),
            labels: Vec::new(),
            markers: Vec::new(),
        }
    }

    /// Everything wrong with the layout, one line each; empty when it is clean:
    /// plots, legend and labels inside the canvas; the legend clear of every plotting
    /// area and point; labels clear of the plotting areas, of every marker and of each other;
    /// plotting areas apart.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, p) in self.plots.iter().enumerate() {
            if !p.within(&self.canvas) {
                out.push(format!("plot {i} {p:?} leaves the canvas {:?}", self.canvas));
            }
            for (j, q) in self.plots.iter().enumerate().skip(i + 1) {
                if p.intersects(q) {
                    out.push(format!("plots {i} and {j} overlap: {p:?}, {q:?}"));
                }
            }
        }
        if let Some(l) = &self.legend {
            if !l.within(&self.canvas) {
                out.push(format!("the legend {l:?} leaves the canvas {:?}", self.canvas));
            }
            for (i, p) in self.plots.iter().enumerate() {
                if l.intersects(p) {
                    out.push(format!("the legend {l:?} covers plot {i} {p:?}"));
                }
            }
            if let Some(pt) = self.points.iter().find(|pt| l.contains(**pt)) {
                out.push(format!("the legend {l:?} covers the point {pt:?}"));
            }
        }
        for (i, (r, text)) in self.labels.iter().enumerate() {
            if !r.within(&self.canvas) {
                out.push(format!("label `{text}` {r:?} leaves the canvas {:?}", self.canvas));
            }
            if let Some(p) = self.plots.iter().find(|p| r.intersects(p)) {
                out.push(format!("label `{text}` {r:?} lies in the plotting area {p:?}"));
            }
            if let Some(m) = self.markers.iter().find(|m| r.intersects(m)) {
                out.push(format!("label `{text}` {r:?} covers the marker {m:?}"));
            }
            for (q, other) in self.labels.iter().skip(i + 1) {
                if r.intersects(q) {
                    out.push(format!("labels `{text}` {r:?} and `{other}` {q:?} overlap"));
                }
            }
        }
        out
    }
}

/// The text of every `<text>` element of an SVG written by plotters, in order.
pub fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</text>") else { break };
        out.push(unescape(body[..close].trim()));
        rest = &body[close..];
    }
    out
}

/// The `font-size` of every `<text>` element, in the SVG's own units.
pub fn svg_font_sizes(svg: &str) -> Vec<f64> {
    svg.match_indices("<text")
        .filter_map(|(i, _)| {
            let tag = &svg[i..i + svg[i..].find('>')?];
            let v = tag.split("font-size=\"").nth(1)?.split('"').next()?;
            v.parse().ok()
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_and_problems() {
        let a = Rect::new(0, 0, 10, 10);
        assert!(
            a.intersects(&Rect::new(9, 9, 20, 20)) && !a.intersects(&Rect::new(10, 0, 20, 10)),
            "edges touching do not overlap"
        );
        assert!(a.contains((0, 0)) && !a.contains((10, 5)));
        let mut l = Layout::new(Rect::new(0, 0, 100, 100));
        l.plots.push(Rect::new(10, 10, 60, 60));
        assert!(l.problems().is_empty());
        l.legend = Some(Rect::new(50, 50, 90, 90));
        l.points.push((55, 55));
        l.labels.push((Rect::new(70, 0, 120, 8), "wide".into()));
        l.markers.push(Rect::new(75, 2, 78, 5));
        let p = l.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(
            p[0].contains("covers plot")
                && p[1].contains("covers the point")
                && p[2].contains("leaves the canvas")
                && p[3].contains("covers the marker")
        );
    }

    #[test]
    fn svg_text_and_sizes() {
        let svg = "<svg>\n<text x=\"1\" font-size=\"8.5\" fill=\"#000\">\na &amp; \
            b\n</text>\n<text font-size=\"7\">\nc\n</text></svg>";
        assert_eq!(svg_texts(svg), ["a & b", "c"]);
        assert_eq!(svg_font_sizes(svg), [8.5, 7.0]);
    }
}
