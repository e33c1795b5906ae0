//! The report as a document (headings, fields, tables, items, charts), and its text and
//! Markdown renderings. The HTML rendering (`html.rs`) walks the same document, so every
//! format carries the same facts; only HTML draws the charts.

use super::{ByVerdict, Report};
use std::fmt::Write as _;

/// A labelled value.
pub(super) type Field = (String, String);

/// One entry of an item list: a title, a badge and indented lines.
pub(super) struct Item {
    pub(super) title: String,
    pub(super) badge: Option<String>,
    pub(super) lines: Vec<String>,
}

/// A chart (drawn by the HTML rendering only; its numbers are also in a table).
pub(super) enum Chart {
    /// Horizontal bars: label, value, CSS class.
    Bars {
        title: String,
        unit: &'static str,
        bars: Vec<(String, u64, &'static str)>,
    },
    /// Stacked vertical bars per time bucket.
    Timeline {
        title: String,
        bucket: String,
        buckets: Vec<(String, ByVerdict)>,
    },
}

/// A block of the document.
pub(super) enum Block {
    Title(String),
    Status {
        failed: bool,
        text: String,
    },
    Heading(String),
    Para(String),
    Fields(Vec<Field>),
    Table {
        head: Vec<&'static str>,
        numeric: Vec<bool>,
        rows: Vec<Vec<String>>,
    },
    Items(Vec<Item>),
    Chart(Chart),
}

fn n(v: u64) -> String {
    v.to_string()
}

fn plural(v: u64, one: &str, many: &str) -> String {
    format!("{v} {}", if v == 1 { one } else { many })
}

/// Builds the document of a report.
pub(super) fn document(r: &Report) -> Vec<Block> {
    let mut d = Vec::new();
    let t = &r.totals;
    d.push(Block::Title("cleanpath report: Clean Path audit".into()));
    d.push(Block::Status {
        failed: r.has_violations(),
        text: if r.has_violations() {
            format!(
                "VIOLATION: {} crossed untrusted equipment or carriers ({} violating {}, {} new)",
                plural(t.violation, "flow", "flows"),
                r.violations.len(),
                if r.violations.len() == 1 {
                    "hop"
                } else {
                    "hops"
                },
                r.diff.new.len()
            )
        } else {
            format!(
                "CLEAN: no flow in the period crossed untrusted equipment or carriers ({} UNKNOWN)",
                plural(t.unknown, "flow", "flows")
            )
        },
    });
    let scope = [
        r.scope.sensor.as_ref().map(|s| format!("sensor {s}")),
        r.scope.site.as_ref().map(|s| format!("site {s}")),
        r.scope.iface.as_ref().map(|s| format!("interface {s}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    d.push(Block::Fields(vec![
        (
            "Period".into(),
            format!(
                "{} to {} (capture time, UTC; from inclusive, to exclusive)",
                r.period.from.as_deref().unwrap_or("the beginning"),
                r.period.to.as_deref().unwrap_or("the end")
            ),
        ),
        ("Period rule".into(), r.period.rule.clone()),
        (
            "Captures".into(),
            match (&r.period.first_capture, &r.period.last_capture) {
                (Some(a), Some(b)) => format!("flows seen from {a} to {b}"),
                _ => "no flow in the period".into(),
            },
        ),
        (
            "Scope".into(),
            if scope.is_empty() {
                "every sensor, site and interface".into()
            } else {
                scope.join(", ")
            },
        ),
        ("Runs".into(), n(t.runs)),
        (
            "Report".into(),
            format!("{} by cleanpath {}", r.schema, r.cleanpath),
        ),
    ]));

    d.push(Block::Heading("Verdicts".into()));
    d.push(Block::Table {
        head: vec!["verdict", "flows", "packets", "bytes"],
        numeric: vec![false, true, true, true],
        rows: vec![
            vec![
                "VIOLATION".into(),
                n(t.violation),
                n(t.packets.violation),
                n(t.bytes.violation),
            ],
            vec![
                "UNKNOWN".into(),
                n(t.unknown),
                n(t.packets.unknown),
                n(t.bytes.unknown),
            ],
            vec![
                "CLEAN".into(),
                n(t.clean),
                n(t.packets.clean),
                n(t.bytes.clean),
            ],
            vec![
                "total".into(),
                n(t.flows),
                n(t.packets
                    .clean
                    .saturating_add(t.packets.unknown)
                    .saturating_add(t.packets.violation)),
                n(t.bytes
                    .clean
                    .saturating_add(t.bytes.unknown)
                    .saturating_add(t.bytes.violation)),
            ],
        ],
    });
    d.push(Block::Para(format!(
        "Left out: {} outside the period, {} outside the interface scope.",
        plural(t.outside_period, "flow", "flows"),
        plural(t.outside_scope, "flow", "flows")
    )));
    d.push(Block::Chart(Chart::Timeline {
        title: "Flows over time (by first packet)".into(),
        bucket: r.timeline.bucket.clone(),
        buckets: r
            .timeline
            .buckets
            .iter()
            .map(|b| (b.start.clone(), b.flows))
            .collect(),
    }));
    d.push(Block::Chart(Chart::Bars {
        title: "Bytes by verdict".into(),
        unit: "bytes",
        bars: vec![
            ("VIOLATION".into(), t.bytes.violation, "violation"),
            ("UNKNOWN".into(), t.bytes.unknown, "unknown"),
            ("CLEAN".into(), t.bytes.clean, "clean"),
        ],
    }));

    d.push(Block::Heading(format!(
        "Violations ({})",
        r.violations.len()
    )));
    if r.violations.is_empty() {
        d.push(Block::Para("No hop matched a denylist rule.".into()));
    } else {
        d.push(Block::Items(
            r.violations
                .iter()
                .map(|v| {
                    let mut lines = vec![
                        format!("{} {} = {}", v.hop_kind, v.hop_value, v.attribution),
                        format!(
                            "{}, {}, {} bytes, from {} to {}",
                            plural(v.flows, "flow", "flows"),
                            plural(v.packets, "packet", "packets"),
                            v.bytes,
                            v.first_ts,
                            v.last_ts
                        ),
                    ];
                    for e in &v.evidence {
                        lines.push(format!(
                            "rule {} '{}' ({}): {}, {} confidence, listed {}; source: {}",
                            e.rule_kind,
                            e.rule_value,
                            e.rule_at,
                            e.category,
                            e.confidence,
                            e.date,
                            e.source
                        ));
                    }
                    for x in &v.examples {
                        lines.push(format!(
                            "flow #{} {} (sensor {}, frame {} of {}, {})",
                            x.id, x.conversation, x.sensor, x.first_frame, x.file, x.first_ts
                        ));
                    }
                    Item {
                        title: v.key.clone(),
                        badge: v.new.then(|| "NEW".to_string()),
                        lines,
                    }
                })
                .collect(),
        ));
        d.push(Block::Heading("Violations by entity".into()));
        d.push(group_table("entity", "category", &r.by_entity));
        let mut by_attr: std::collections::BTreeMap<&str, u64> = Default::default();
        for v in &r.violations {
            *by_attr.entry(&v.attribution).or_default() += v.flows;
        }
        let mut bars: Vec<(String, u64, &'static str)> = by_attr
            .into_iter()
            .map(|(a, f)| (a.to_string(), f, "violation"))
            .collect();
        bars.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        bars.truncate(10);
        d.push(Block::Chart(Chart::Bars {
            title: "Top untrusted ASNs and vendors (violating flows)".into(),
            unit: "flows",
            bars,
        }));
        d.push(Block::Heading("Violations by hop kind".into()));
        d.push(group_table("hop kind", "entities", &r.by_hop_kind));
    }

    d.push(Block::Heading("New since the previous report".into()));
    match &r.diff.previous {
        Some(p) => d.push(Block::Para(format!(
            "Compared with {} (period {} to {}, {}).",
            p.path,
            p.from.as_deref().unwrap_or("the beginning"),
            p.to.as_deref().unwrap_or("the end"),
            plural(p.violations, "violation", "violations")
        ))),
        None => d.push(Block::Para(
            "No previous report: every violation counts as new.".into(),
        )),
    }
    d.push(Block::Fields(vec![
        (
            format!("New ({})", r.diff.new.len()),
            if r.diff.new.is_empty() {
                "none".into()
            } else {
                r.diff.new.join("; ")
            },
        ),
        (
            format!("No longer seen ({})", r.diff.gone.len()),
            if r.diff.gone.is_empty() {
                "none".into()
            } else {
                r.diff.gone.join("; ")
            },
        ),
    ]));

    d.push(Block::Heading(format!(
        "UNKNOWN hops to attribute ({})",
        r.unknown_hops.len()
    )));
    if r.unknown_hops.is_empty() {
        d.push(Block::Para(
            "None: every hop of every flow was attributed.".into(),
        ));
    } else {
        d.push(Block::Para(
            "Add these to the inventory (or a denylist) so their flows can be judged:".into(),
        ));
        d.push(Block::Table {
            head: vec!["hop kind", "value", "why unattributed", "flows", "example"],
            numeric: vec![false, false, false, true, false],
            rows: r
                .unknown_hops
                .iter()
                .map(|u| {
                    vec![
                        u.hop_kind.to_string(),
                        u.hop_value.clone(),
                        u.reason.clone(),
                        n(u.flows),
                        format!(
                            "#{} {} ({})",
                            u.example.id, u.example.conversation, u.example.sensor
                        ),
                    ]
                })
                .collect(),
        });
    }

    d.push(Block::Heading("Top talkers by bytes".into()));
    d.push(Block::Table {
        head: vec![
            "endpoint",
            "endpoint",
            "flows",
            "packets",
            "bytes",
            "worst verdict",
        ],
        numeric: vec![false, false, true, true, true, false],
        rows: r
            .top_talkers
            .iter()
            .map(|t| {
                vec![
                    t.a.clone(),
                    t.b.clone(),
                    n(t.flows),
                    n(t.packets),
                    n(t.bytes),
                    t.verdict.clone(),
                ]
            })
            .collect(),
    });

    let l = &r.capture_loss;
    d.push(Block::Heading("Capture loss".into()));
    d.push(Block::Para(if l.complete {
        "None: every input was read to its end and every frame analysed.".into()
    } else {
        "Some traffic was not analysed; a clean verdict covers only what was.".into()
    }));
    let map = |m: &std::collections::BTreeMap<String, u64>| {
        let total = m.values().fold(0u64, |a, b| a.saturating_add(*b));
        if m.is_empty() {
            "0".to_string()
        } else {
            format!(
                "{total} ({})",
                m.iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let mut fields = vec![
        (
            "Files incomplete".to_string(),
            if l.incomplete_files.is_empty() {
                "0".into()
            } else {
                l.incomplete_files
                    .iter()
                    .map(|f| format!("{} ({}): {}", f.path, f.sensor, f.error))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        ("Frames read".into(), n(l.frames)),
        ("Frames not analysed".into(), n(l.frames_not_analysed)),
        ("Decode errors".into(), map(&l.decode_errors)),
        (
            "Unsupported link types".into(),
            map(&l.unsupported_link_types),
        ),
        ("Flows evicted early".into(), n(l.flows_evicted)),
        ("Filtered out (--filter)".into(), n(l.filtered_out)),
    ];
    if !l.unfinished_runs.is_empty() {
        fields.insert(
            0,
            (
                "Runs without a summary".into(),
                l.unfinished_runs.join("; "),
            ),
        );
    }
    d.push(Block::Fields(fields));

    d.push(Block::Heading("Provenance".into()));
    d.push(Block::Para(
        "What this report was built from, so that it can be reproduced: re-run cleanpath \
         analyze on the capture files with the same version, tables and denylists, then \
         cleanpath report with the same period and scope."
            .into(),
    ));
    if !r.provenance.report_inputs.is_empty() {
        d.push(Block::Table {
            head: vec!["report input", "bytes", "SHA-256"],
            numeric: vec![false, true, false],
            rows: r
                .provenance
                .report_inputs
                .iter()
                .map(|s| vec![s.path.clone(), n(s.bytes), s.sha256.clone()])
                .collect(),
        });
    }
    d.push(Block::Items(
        r.provenance
            .runs
            .iter()
            .map(|p| {
                let mut lines = vec![format!(
                    "started {} by cleanpath {}{}; read from {}",
                    p.started,
                    p.cleanpath,
                    p.site
                        .as_ref()
                        .map(|s| format!(", site {s}"))
                        .unwrap_or_default(),
                    p.source
                )];
                for i in &p.inputs {
                    lines.push(format!(
                        "capture {} ({} bytes), SHA-256 {}",
                        i.path,
                        i.bytes.map_or_else(|| "?".into(), |b| b.to_string()),
                        i.sha256.as_deref().unwrap_or("not recorded")
                    ));
                }
                match &p.judged_with {
                    Some(j) => {
                        lines.push(format!(
                            "intel: {} IPv4 and {} IPv6 AS ranges, {} IEEE assignments",
                            j.asn_v4_ranges, j.asn_v6_ranges, j.oui_assignments
                        ));
                        lines.push(format!(
                            "denylists: {} ({} rules, minimum confidence {})",
                            j.denylists.join(", "),
                            j.rules,
                            j.min_confidence.as_str()
                        ));
                        if !j.intel_snapshot.is_empty() {
                            lines.push(format!(
                                "intel snapshot: routing data {}, IEEE registries {}",
                                j.intel_snapshot, j.ieee_snapshot
                            ));
                        }
                        for h in &j.intel_sources {
                            lines.push(format!("intel source {}, SHA-256 {}", h.name, h.sha256));
                        }
                        for h in &j.denylist_sha256 {
                            lines.push(format!("denylist {}, SHA-256 {}", h.name, h.sha256));
                        }
                        lines.push(format!("data: {}", j.attribution));
                    }
                    None => {
                        lines.push("tables and rules: not recorded (run did not finish)".into())
                    }
                }
                Item {
                    title: format!("run on sensor {}", p.sensor),
                    badge: None,
                    lines,
                }
            })
            .collect(),
    ));
    d
}

fn group_table(name: &'static str, detail: &'static str, groups: &[super::Group]) -> Block {
    Block::Table {
        head: vec![name, detail, "flows", "bytes", "violating hops"],
        numeric: vec![false, false, true, true, false],
        rows: groups
            .iter()
            .map(|g| {
                vec![
                    hop_kind_label(&g.name),
                    g.detail.join(", "),
                    n(g.flows),
                    n(g.bytes),
                    g.violations.join("; "),
                ]
            })
            .collect(),
    }
}

/// `l2_neighbour` → `L2 neighbour`; anything else unchanged.
fn hop_kind_label(s: &str) -> String {
    serde_json::from_value::<crate::policy::verdict::HopKind>(serde_json::Value::String(s.into()))
        .map_or_else(|_| s.to_string(), |k| k.to_string())
}

/// Renders the report as plain text (for terminals, mail and logs).
pub fn text(r: &Report) -> String {
    let mut o = String::new();
    for b in document(r) {
        match b {
            Block::Title(t) => {
                let _ = writeln!(o, "{t}\n{}", "=".repeat(t.chars().count()));
            }
            Block::Status { text, .. } => {
                let _ = writeln!(o, "\n{text}\n");
            }
            Block::Heading(h) => {
                let _ = writeln!(o, "\n{h}\n{}", "-".repeat(h.chars().count()));
            }
            Block::Para(p) => {
                let _ = writeln!(o, "{p}");
            }
            Block::Fields(f) => {
                let w = f.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                for (k, v) in f {
                    let _ = writeln!(o, "{k:<w$}  {v}");
                }
            }
            Block::Table {
                head,
                numeric,
                rows,
            } => {
                let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
                for row in &rows {
                    for (i, c) in row.iter().enumerate() {
                        if let Some(w) = widths.get_mut(i) {
                            *w = (*w).max(c.chars().count());
                        }
                    }
                }
                let line = |cells: Vec<String>| {
                    let mut s = String::from(" ");
                    for (i, c) in cells.iter().enumerate() {
                        let w = widths.get(i).copied().unwrap_or(0);
                        if numeric.get(i).copied().unwrap_or(false) {
                            let _ = write!(s, " {c:>w$}");
                        } else {
                            let _ = write!(s, " {c:<w$}");
                        }
                    }
                    s.trim_end().to_string()
                };
                let _ = writeln!(o, "{}", line(head.iter().map(|h| h.to_string()).collect()));
                if rows.is_empty() {
                    let _ = writeln!(o, "  (none)");
                }
                for row in rows {
                    let _ = writeln!(o, "{}", line(row));
                }
            }
            Block::Items(items) => {
                for it in items {
                    let badge = it.badge.map(|b| format!("  [{b}]")).unwrap_or_default();
                    let _ = writeln!(o, "  {}{badge}", it.title);
                    for l in it.lines {
                        let _ = writeln!(o, "      {l}");
                    }
                }
            }
            Block::Chart(_) => {}
        }
    }
    o
}

/// Escapes text for Markdown: CommonMark backslash escapes for the punctuation that
/// formats, and `<`/`>` as entity references, so no HTML gets through a Markdown viewer.
pub(super) fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '(' | ')' | '~' => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' => o.push(' '),
            _ => o.push(c),
        }
    }
    o
}

/// Renders the report as Markdown (for tickets, wikis and mail).
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    for b in document(r) {
        match b {
            Block::Title(t) => {
                let _ = writeln!(o, "# {}\n", md_escape(&t));
            }
            Block::Status { text, .. } => {
                let _ = writeln!(o, "**{}**\n", md_escape(&text));
            }
            Block::Heading(h) => {
                let _ = writeln!(o, "\n## {}\n", md_escape(&h));
            }
            Block::Para(p) => {
                let _ = writeln!(o, "{}\n", md_escape(&p));
            }
            Block::Fields(f) => {
                for (k, v) in f {
                    let _ = writeln!(o, "- **{}**: {}", md_escape(&k), md_escape(&v));
                }
                o.push('\n');
            }
            Block::Table {
                head,
                numeric,
                rows,
            } => {
                let _ = writeln!(
                    o,
                    "| {} |",
                    head.iter()
                        .map(|h| md_escape(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                let _ = writeln!(
                    o,
                    "|{}|",
                    numeric
                        .iter()
                        .map(|&n| if n { "---:" } else { "---" })
                        .collect::<Vec<_>>()
                        .join("|")
                );
                for row in rows {
                    let _ = writeln!(
                        o,
                        "| {} |",
                        row.iter()
                            .map(|c| md_escape(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                }
                o.push('\n');
            }
            Block::Items(items) => {
                for it in items {
                    let badge = it
                        .badge
                        .map(|b| format!(" **{}**", md_escape(&b)))
                        .unwrap_or_default();
                    let _ = writeln!(o, "- **{}**{badge}", md_escape(&it.title));
                    for l in it.lines {
                        let _ = writeln!(o, "  - {}", md_escape(&l));
                    }
                }
                o.push('\n');
            }
            Block::Chart(_) => {}
        }
    }
    o
}
