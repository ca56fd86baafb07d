//! The overview's chart: the gaps of each run by severity, as inline SVG.

use super::layout::query;
use crate::view::Context;
use roster_model::Severity;
use roster_report::html_escape as esc;
use std::fmt::Write as _;

/// The colour of each severity in charts (the stylesheet's badge colours).
fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8b1a1a",
        Severity::High => "#d1495b",
        Severity::Medium => "#edae49",
        Severity::Low => "#00798c",
        Severity::Info => "#8d99ae",
    }
}

/// Stacked bars of the gaps of each run by severity (the last 30 runs).
pub(super) fn trend_chart(points: &[roster_store::TrendPoint], cx: &Context) -> String {
    let points = &points[points.len().saturating_sub(30)..];
    let max = points
        .iter()
        .map(|p| p.by_severity.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, top, bottom) = (720.0_f64, 200.0_f64, 10.0_f64, 24.0_f64);
    let slot = (w - 40.0) / points.len().max(1) as f64;
    let bar = (slot * 0.7).min(36.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"trend-title\"><title id=\"trend-title\">Gaps per run by severity</title>\
         <text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#5b6475\">{max}</text><line x1=\"36\" y1=\"{top}\" x2=\"{w}\" y2=\"{top}\" stroke=\"#e3e6ec\"/>\
         <line x1=\"36\" y1=\"{}\" x2=\"{w}\" y2=\"{}\" stroke=\"#c9ced8\"/>",
        top + 4.0,
        h - bottom,
        h - bottom
    );
    let scale = (h - top - bottom) / max as f64;
    for (i, p) in points.iter().enumerate() {
        let x = 40.0 + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = h - bottom;
        let total: u64 = p.by_severity.values().sum();
        let _ = write!(
            svg,
            "<a href=\"{}\"><g><title>run #{}: {total} gaps</title>",
            esc(&query("/", &[("scope", &cx.scope), ("run", &p.run.to_string())])),
            p.run
        );
        for s in Severity::ALL {
            let n = p.by_severity.get(s.as_str()).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let bh = n as f64 * scale;
            y -= bh;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>run #{}: {n} {}</title></rect>",
                colour(s),
                p.run,
                s.as_str()
            );
        }
        let _ = write!(
            svg,
            "</g></a><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{}\">#{}</text>",
            x + bar / 2.0,
            h - 8.0,
            if p.run == cx.run.id { "#1d2330" } else { "#5b6475" },
            p.run
        );
    }
    svg.push_str("</svg><p class=\"legend\">");
    for s in Severity::ALL.iter().rev() {
        let _ = write!(
            svg,
            "<span><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{}\"/></svg> {}</span> ",
            colour(*s),
            s.as_str()
        );
    }
    svg.push_str("</p>");
    svg
}
