//! The report as one self-contained HTML file: inline CSS (print-friendly), inline SVG
//! bar charts drawn here, no JavaScript and no external resource. Every piece of text
//! from the input is escaped.

use super::Report;
use super::render::{Block, Chart, document};
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

const CSS: &str = "\
:root{--violation:#c62828;--unknown:#b8860b;--clean:#2e7d32;--ink:#1a1a1a;--muted:#5f6368;--rule:#d0d4d9}
*{box-sizing:border-box}
body{font:14px/1.45 'DejaVu Sans',system-ui,-apple-system,'Segoe UI',Arial,sans-serif;color:var(--ink);margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid var(--rule)}
.status{padding:10px 14px;border-radius:4px;font-weight:bold;font-size:15px;margin:8px 0 14px;border-left:6px solid}
.status.failed{background:#fdecea;border-color:var(--violation);color:#8e0000}
.status.ok{background:#e8f5e9;border-color:var(--clean);color:#1b5e20}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:6px 0}
dl.fields dt{font-weight:bold;color:var(--muted)}
dl.fields dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0 10px;max-width:100%}
th,td{border:1px solid var(--rule);padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f1f3f4}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.item{border:1px solid var(--rule);border-left:5px solid var(--violation);border-radius:3px;padding:6px 10px;margin:8px 0}
.item.neutral{border-left-color:var(--muted)}
.item h3{font-size:15px;margin:0 0 4px}
.item ul{margin:0;padding-left:18px}
.item li{overflow-wrap:anywhere}
.badge{display:inline-block;background:var(--violation);color:#fff;font-size:11px;padding:1px 6px;border-radius:3px;margin-left:8px;vertical-align:middle}
figure{margin:10px 0 16px;page-break-inside:avoid;break-inside:avoid}
figcaption{font-weight:bold;margin-bottom:4px}
svg text{font-family:'DejaVu Sans',Arial,sans-serif;font-size:12px;fill:var(--ink)}
.bar.violation{fill:var(--violation)}.bar.unknown{fill:var(--unknown)}.bar.clean{fill:var(--clean)}.bar.neutral{fill:#546e7a}
.axis{stroke:#888;stroke-width:1}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
footer{margin-top:28px;color:var(--muted);font-size:12px}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid;page-break-after:avoid}
 tr,.item,figure{break-inside:avoid;page-break-inside:avoid}
 .status,.badge,.bar,.legend span{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 @page{margin:14mm}}
";

/// Renders the report as a self-contained HTML page.
pub fn html(r: &Report) -> String {
    let mut o = String::new();
    let title = format!(
        "cleanpath report {}: {} to {}",
        r.status,
        r.period.from.as_deref().unwrap_or("start"),
        r.period.to.as_deref().unwrap_or("end")
    );
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"cleanpath {}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&r.cleanpath),
        esc(&title)
    );
    for b in document(r) {
        match b {
            Block::Title(t) => {
                let _ = writeln!(o, "<h1>{}</h1>", esc(&t));
            }
            Block::Status { failed, text } => {
                let _ = writeln!(
                    o,
                    "<p class=\"status {}\">{}</p>",
                    if failed { "failed" } else { "ok" },
                    esc(&text)
                );
            }
            Block::Heading(h) => {
                let _ = writeln!(o, "<h2>{}</h2>", esc(&h));
            }
            Block::Para(p) => {
                let _ = writeln!(o, "<p>{}</p>", esc(&p));
            }
            Block::Fields(f) => {
                o.push_str("<dl class=\"fields\">\n");
                for (k, v) in f {
                    let _ = writeln!(o, "<dt>{}</dt><dd>{}</dd>", esc(&k), esc(&v));
                }
                o.push_str("</dl>\n");
            }
            Block::Table {
                head,
                numeric,
                rows,
            } => {
                o.push_str("<table>\n<thead><tr>");
                for (i, h) in head.iter().enumerate() {
                    let class = if numeric.get(i).copied().unwrap_or(false) {
                        " class=\"num\""
                    } else {
                        ""
                    };
                    let _ = write!(o, "<th{class}>{}</th>", esc(h));
                }
                o.push_str("</tr></thead>\n<tbody>\n");
                if rows.is_empty() {
                    let _ = writeln!(o, "<tr><td colspan=\"{}\">none</td></tr>", head.len());
                }
                for row in rows {
                    o.push_str("<tr>");
                    for (i, c) in row.iter().enumerate() {
                        let class = if numeric.get(i).copied().unwrap_or(false) {
                            " class=\"num\""
                        } else {
                            ""
                        };
                        let _ = write!(o, "<td{class}>{}</td>", esc(c));
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</tbody>\n</table>\n");
            }
            Block::Items(items) => {
                for it in items {
                    let neutral = if it.title.starts_with("run on sensor") {
                        " neutral"
                    } else {
                        ""
                    };
                    let badge = it
                        .badge
                        .map(|b| format!("<span class=\"badge\">{}</span>", esc(&b)))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "<div class=\"item{neutral}\"><h3>{}{badge}</h3><ul>",
                        esc(&it.title)
                    );
                    for l in it.lines {
                        let _ = writeln!(o, "<li>{}</li>", esc(&l));
                    }
                    o.push_str("</ul></div>\n");
                }
            }
            Block::Chart(c) => o.push_str(&chart(&c)),
        }
    }
    let _ = writeln!(
        o,
        "<footer>{} written by cleanpath {}. Capture times are UTC. No packet payload is stored in or behind this report.</footer>\n</body>\n</html>",
        esc(&r.schema),
        esc(&r.cleanpath)
    );
    o
}

/// Draws a chart as inline SVG inside a figure.
fn chart(c: &Chart) -> String {
    let mut o = String::new();
    match c {
        Chart::Bars { title, unit, bars } => {
            let label_w = 330.0;
            let bar_w = 560.0;
            let row_h = 24.0;
            let width = label_w + bar_w + 110.0;
            let height = row_h * bars.len().max(1) as f64 + 8.0;
            let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
            let _ = write!(
                o,
                "<figure><figcaption>{}</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<title>{}</title>\n",
                esc(title),
                esc(title)
            );
            if bars.is_empty() {
                let _ = writeln!(o, "<text x=\"0\" y=\"16\">none</text>");
            }
            for (i, (label, value, class)) in bars.iter().enumerate() {
                let unit = if *value == 1 {
                    unit.trim_end_matches('s')
                } else {
                    unit
                };
                let y = i as f64 * row_h + 4.0;
                let w = (*value as f64 / max * bar_w).max(if *value > 0 { 2.0 } else { 0.0 });
                let shown: String = if label.chars().count() > 48 {
                    label.chars().take(47).chain(std::iter::once('…')).collect()
                } else {
                    label.clone()
                };
                let _ = writeln!(
                    o,
                    "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
                     <rect class=\"bar {class}\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}: {value} {unit}</title></rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\">{value} {unit}</text>",
                    label_w - 8.0,
                    y + 13.0,
                    esc(&shown),
                    row_h - 6.0,
                    esc(label),
                    label_w + w + 6.0,
                    y + 13.0
                );
            }
            o.push_str("</svg></figure>\n");
        }
        Chart::Timeline {
            title,
            bucket,
            buckets,
        } => {
            let left = 50.0;
            let plot_w = 900.0;
            let plot_h = 160.0;
            let top = 10.0;
            let width = left + plot_w + 20.0;
            let height = top + plot_h + 40.0;
            let max = buckets
                .iter()
                .map(|(_, v)| {
                    v.clean
                        .saturating_add(v.unknown)
                        .saturating_add(v.violation)
                })
                .max()
                .unwrap_or(0)
                .max(1);
            let _ = write!(
                o,
                "<figure><figcaption>{} ({} per bar)</figcaption>\n\
                 <div class=\"legend\"><span class=\"bar violation\" style=\"background:var(--violation)\"></span>VIOLATION\
                 <span style=\"background:var(--unknown)\"></span>UNKNOWN<span style=\"background:var(--clean)\"></span>CLEAN</div>\n\
                 <svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<title>{}</title>\n",
                esc(title),
                esc(bucket),
                esc(title)
            );
            let base = top + plot_h;
            let _ = writeln!(
                o,
                "<line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\
                 <line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max}</text><text x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
                left + plot_w,
                left - 6.0,
                top + 10.0,
                left - 6.0
            );
            let n = buckets.len().max(1) as f64;
            let slot = plot_w / n;
            let bw = (slot * 0.8).max(1.0);
            for (i, (start, v)) in buckets.iter().enumerate() {
                let x = left + i as f64 * slot + (slot - bw) / 2.0;
                let mut y = base;
                for (count, class) in [
                    (v.clean, "clean"),
                    (v.unknown, "unknown"),
                    (v.violation, "violation"),
                ] {
                    if count == 0 {
                        continue;
                    }
                    let h = count as f64 / max as f64 * plot_h;
                    y -= h;
                    let _ = writeln!(
                        o,
                        "<rect class=\"bar {class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{h:.1}\"><title>{}: {count} {class}</title></rect>",
                        esc(start)
                    );
                }
            }
            if let (Some(first), Some(last)) = (buckets.first(), buckets.last()) {
                let _ = writeln!(
                    o,
                    "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                    base + 18.0,
                    esc(&first.0),
                    left + plot_w,
                    base + 18.0,
                    esc(&last.0)
                );
            } else {
                let _ = writeln!(
                    o,
                    "<text x=\"{}\" y=\"{}\">no flows</text>",
                    left + 10.0,
                    top + 20.0
                );
            }
            o.push_str("</svg></figure>\n");
        }
    }
    o
}
