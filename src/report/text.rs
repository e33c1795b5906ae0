//! The human summary: totals, the violating flows with their evidence, the hops still to
//! attribute, and what was not analysed.

use super::{FlowRecord, Summary};
use crate::policy::verdict::{Attribution, Hop, HopKind, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// How many violating flows the summary prints in full.
const MAX_LISTED: usize = 50;

#[derive(Debug, Default)]
struct HopTally {
    reason: String,
    flows: u64,
    example_flow: u64,
}

/// Collects what the summary prints while flows stream past; holds only the listed
/// violations and per-hop tallies, not every flow.
#[derive(Debug, Default)]
pub struct TextReport {
    violations: Vec<String>,
    more_violations: u64,
    unknown_hops: BTreeMap<(HopKind, String), HopTally>,
    warnings: BTreeMap<(String, String), HopTally>,
    entities: BTreeMap<String, u64>,
}

impl TextReport {
    /// Creates an empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes note of one judged flow.
    pub fn add(&mut self, r: &FlowRecord) {
        let id = r.id;
        let mut flow_entities: Vec<&str> = Vec::new();
        for h in &r.hops {
            for m in h.matches.iter().filter(|m| !m.counts) {
                let t = self
                    .warnings
                    .entry((m.entity.clone(), h.value.clone()))
                    .or_default();
                t.reason = format!(
                    "{} rule '{}' ({} confidence)",
                    m.rule_kind.as_str(),
                    m.rule_value,
                    m.confidence.as_str()
                );
                t.flows += 1;
                t.example_flow = if t.example_flow == 0 {
                    id
                } else {
                    t.example_flow
                };
            }
            for m in h.matches.iter().filter(|m| m.counts) {
                if !flow_entities.contains(&m.entity.as_str()) {
                    flow_entities.push(&m.entity);
                }
            }
            if h.is_unattributed() && r.verdict == Verdict::Unknown {
                let t = self
                    .unknown_hops
                    .entry((h.kind, h.value.clone()))
                    .or_default();
                if let Attribution::Unattributed { reason } = &h.attribution {
                    t.reason.clone_from(reason);
                }
                t.flows += 1;
                t.example_flow = if t.example_flow == 0 {
                    id
                } else {
                    t.example_flow
                };
            }
        }
        for e in flow_entities {
            *self.entities.entry(e.to_string()).or_insert(0) += 1;
        }
        if r.verdict == Verdict::Violation {
            if self.violations.len() < MAX_LISTED {
                self.violations.push(describe(r));
            } else {
                self.more_violations += 1;
            }
        }
    }

    /// Writes the summary.
    ///
    /// # Errors
    /// The writer's error.
    pub fn write(&self, w: &mut impl Write, s: &Summary) -> io::Result<()> {
        let c = &s.counters;
        writeln!(
            w,
            "cleanpath {} - Clean Path audit of {} file(s)",
            s.provenance.cleanpath,
            s.files.len()
        )?;
        for f in &s.files {
            let fmt = f
                .format
                .map(|x| format!("{x:?}").to_lowercase())
                .unwrap_or_else(|| "unreadable".into());
            let ifaces: Vec<String> = f
                .interfaces
                .iter()
                .map(|i| match &i.name {
                    Some(n) => format!("{n}: {}", i.link_type),
                    None => i.link_type.clone(),
                })
                .collect();
            writeln!(
                w,
                "  {}  {}{}  {} frames  [{}]",
                f.path,
                fmt,
                if f.gzip { "+gzip" } else { "" },
                f.read.frames,
                ifaces.join(", ")
            )?;
            if let Some(e) = &f.error {
                writeln!(w, "    INCOMPLETE: {e}")?;
            }
        }
        writeln!(w)?;
        let links: Vec<String> = c
            .link_types
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            w,
            "Frames        {} ({} wire bytes); link types: {}",
            c.frames,
            c.wire_bytes,
            if links.is_empty() {
                "none".into()
            } else {
                links.join(", ")
            }
        )?;
        let v = c.verdicts;
        writeln!(
            w,
            "Flows         {}: {} CLEAN, {} UNKNOWN, {} VIOLATION",
            v.clean + v.unknown + v.violation,
            v.clean,
            v.unknown,
            v.violation
        )?;
        if s.flow_table.evicted + s.flow_table.idle_expired > 0 {
            writeln!(
                w,
                "Flow table    peak {} open; {} ended idle, {} evicted early (cap reached)",
                s.flow_table.peak_flows, s.flow_table.idle_expired, s.flow_table.evicted
            )?;
        }
        let errs: Vec<String> = c
            .decode_errors
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            w,
            "Decode errors {}",
            if errs.is_empty() {
                "none".into()
            } else {
                errs.join(", ")
            }
        )?;
        let unsupported: Vec<String> = c
            .unsupported_link_types
            .iter()
            .map(|(k, v)| format!("unsupported link type {k}: {v}"))
            .collect();
        writeln!(
            w,
            "Not analysed  {} frame(s) not keyed to any flow{}{}",
            c.frames_without_flow,
            if unsupported.is_empty() {
                String::new()
            } else {
                format!(" ({})", unsupported.join(", "))
            },
            if c.filtered_out > 0 {
                format!("; {} filtered out", c.filtered_out)
            } else {
                String::new()
            }
        )?;
        if !self.entities.is_empty() {
            let ents: Vec<String> = self
                .entities
                .iter()
                .map(|(k, v)| format!("{k} ({v} flows)"))
                .collect();
            writeln!(w, "Untrusted     {}", ents.join(", "))?;
        }
        if !self.violations.is_empty() {
            writeln!(w, "\nVIOLATIONS ({})", v.violation)?;
            for text in &self.violations {
                w.write_all(text.as_bytes())?;
            }
            if self.more_violations > 0 {
                writeln!(
                    w,
                    "  ... and {} more (use --json for every flow)",
                    self.more_violations
                )?;
            }
        }
        if !self.unknown_hops.is_empty() {
            writeln!(w, "\nUNKNOWN: hops to attribute ({} flows)", v.unknown)?;
            for ((kind, value), t) in &self.unknown_hops {
                writeln!(
                    w,
                    "  {kind} {value}: {} - {} flow(s), e.g. #{}",
                    t.reason, t.flows, t.example_flow
                )?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(
                w,
                "\nWarnings (matches below --min-confidence {}, not counted)",
                s.provenance.min_confidence.as_str()
            )?;
            for ((entity, value), t) in &self.warnings {
                writeln!(
                    w,
                    "  {value}: {entity} via {} - {} flow(s), e.g. #{}",
                    t.reason, t.flows, t.example_flow
                )?;
            }
        }
        writeln!(
            w,
            "\nJudged with {} rules from {}; {} IPv4 + {} IPv6 AS ranges; {} IEEE assignments.",
            s.provenance.rules,
            s.provenance.denylists.join(", "),
            s.provenance.asn_v4_ranges,
            s.provenance.asn_v6_ranges,
            s.provenance.oui_assignments
        )?;
        if !s.provenance.intel_snapshot.is_empty() {
            writeln!(
                w,
                "Intel snapshot: routing data {}, IEEE registries {}; denylist SHA-256: {}",
                s.provenance.intel_snapshot,
                s.provenance.ieee_snapshot,
                s.provenance
                    .denylist_sha256
                    .iter()
                    .map(|h| format!("{} {}", h.name, &h.sha256[..h.sha256.len().min(16)]))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        writeln!(w, "{}", s.provenance.attribution)?;
        if !s.complete {
            writeln!(
                w,
                "\nINCOMPLETE: part of the input was not analysed (see above); verdicts cover only what was read."
            )?;
        }
        Ok(())
    }
}

/// Describes one violating flow with its evidence, several lines.
fn describe(r: &FlowRecord) -> String {
    let mut s = String::new();
    let ep = |a: &Option<String>, port: Option<u16>| {
        a.as_deref()
            .map_or_else(|| "?".into(), |a| super::with_port(a, port))
    };
    let what = match (r.proto, r.ethertype) {
        (Some(proto), _) => {
            let p = super::ip_proto_name(proto)
                .map_or_else(|| format!("ip proto {proto}"), str::to_string);
            format!(
                "{p} {} -> {}",
                ep(&r.src, r.src_port),
                ep(&r.dst, r.dst_port)
            )
        }
        (None, Some(et)) => format!("L2 {} ethertype 0x{et:04x}", r.macs.join(" <-> ")),
        (None, None) => "tunnel (inner packet not decoded)".into(),
    };
    let tunnel = r
        .tunnel
        .as_ref()
        .map(|t| {
            format!(
                " in GTP-U {} -> {} TEID 0x{:08x}{}",
                t.src,
                t.dst,
                t.teid,
                t.qfi.map(|q| format!(" QFI {q}")).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "  #{} {what}{tunnel}  ({} pkts, first frame {} of {}, {})",
        r.id,
        r.packets.fwd + r.packets.rev,
        r.first_frame,
        r.file,
        r.first_ts
    );
    for h in r.hops.iter().filter(|h| h.is_violation()) {
        let _ = writeln!(s, "     {} {} = {}", h.kind, h.value, attribution(h));
        for m in h.matches.iter().filter(|m| m.counts) {
            let _ = writeln!(
                s,
                "       -> {} [{}, {} confidence] by {} rule '{}' ({}); listed {}; source: {}",
                m.entity,
                m.category.as_str(),
                m.confidence.as_str(),
                m.rule_kind.as_str(),
                m.rule_value,
                m.rule_at,
                m.date,
                m.source
            );
        }
    }
    s
}

fn attribution(h: &Hop) -> String {
    match &h.attribution {
        Attribution::As { asn, org, .. } => format!("AS{asn} {org}"),
        Attribution::Vendor {
            registry,
            prefix_bits,
            org,
        } => format!("{org} ({registry} /{prefix_bits})"),
        Attribution::Group => "group address".into(),
        Attribution::Unattributed { reason } => reason.clone(),
    }
}

/// The text summary as a sink: collects while flows stream past, writes at the end.
#[derive(Debug)]
pub struct TextSink<W: Write> {
    report: TextReport,
    w: W,
}

impl<W: Write> TextSink<W> {
    /// Writes the summary to `w` when the run finishes.
    pub fn new(w: W) -> Self {
        Self {
            report: TextReport::new(),
            w,
        }
    }
}

impl<W: Write> crate::sink::Sink for TextSink<W> {
    fn flow(&mut self, rec: &FlowRecord) -> Result<(), crate::sink::Error> {
        self.report.add(rec);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> Result<(), crate::sink::Error> {
        let io = |source| crate::sink::Error::Io {
            what: "writing the summary".into(),
            source,
        };
        self.report.write(&mut self.w, summary).map_err(io)?;
        self.w.flush().map_err(io)
    }
}
