//! The paper's Figure 2 as an SVG: dev score against FLOPs ratio, the searched frontier
//! beside constant-ratio curves, every evaluated gene as a faint dot.

use std::fmt::Write;

/// One curve or scatter of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (FLOPs ratio, score) pairs.
    pub points: Vec<(f64, f64)>,
    /// CSS colour.
    pub colour: String,
    /// Draw a line through the points (sorted by x), otherwise dots only.
    pub line: bool,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;
const MARGIN: f64 = 60.0;

/// Renders the series on shared axes.
pub fn svg(title: &str, y_label: &str, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let (x0, x1) = ((x0 - 0.02).max(0.0), x1.max(1.0));
    let (y0, y1) = (y0 - 0.5, y1 + 0.5);
    let px = |x: f64| MARGIN + (x - x0) / (x1 - x0) * (WIDTH - 2.0 * MARGIN);
    let py = |y: f64| HEIGHT - MARGIN - (y - y0) / (y1 - y0) * (HEIGHT - 2.0 * MARGIN);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    let (left, right, top, bottom) = (MARGIN, WIDTH - MARGIN, MARGIN, HEIGHT - MARGIN);
    let _ = writeln!(
        s,
        r#"<path d="M{left},{top} V{bottom} H{right}" stroke="black" fill="none"/>"#
    );
    for k in 0..=5 {
        let x = x0 + (x1 - x0) * k as f64 / 5.0;
        let y = y0 + (y1 - y0) * k as f64 / 5.0;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{x:.2}</text>"#,
            px(x),
            bottom + 18.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{y:.1}</text>"#,
            left - 6.0,
            py(y) + 4.0
        );
        let _ = writeln!(
            s,
            r##"<path d="M{left},{:.1} H{right}" stroke="#eee"/>"##,
            py(y)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">FLOPs ratio to the full model (true lengths)</text>"#,
        WIDTH / 2.0,
        HEIGHT - 20.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">{}</text>"#,
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        escape(y_label)
    );
    for (k, series) in series.iter().enumerate() {
        let mut points = series.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if series.line && points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" stroke="{}" stroke-width="2" fill="none"/>"#,
                path.join(" "),
                series.colour
            );
        }
        let radius = if series.line { 3.5 } else { 2.0 };
        for &(x, y) in &points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="{radius}" fill="{}" fill-opacity="{}"/>"#,
                px(x),
                py(y),
                series.colour,
                if series.line { 1.0 } else { 0.35 }
            );
        }
        let ly = top + 8.0 + 18.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<circle cx="{}" cy="{ly}" r="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            right - 210.0,
            series.colour,
            right - 200.0,
            ly + 4.0,
            escape(&series.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_point_and_legend() {
        let series = [
            Series {
                name: "frontier".into(),
                points: vec![(0.5, 80.0), (1.0, 85.0)],
                colour: "red".into(),
                line: true,
            },
            Series {
                name: "genes <all>".into(),
                points: vec![(0.7, 70.0)],
                colour: "grey".into(),
                line: false,
            },
        ];
        let out = svg("SST-2", "accuracy", &series);
        assert!(out.starts_with("<svg") && out.ends_with("</svg>\n"));
        // Two frontier dots + one gene dot + two legend dots.
        assert_eq!(out.matches("<circle").count(), 5);
        assert_eq!(out.matches("<polyline").count(), 1);
        assert!(out.contains("genes &lt;all&gt;"));
    }
}
