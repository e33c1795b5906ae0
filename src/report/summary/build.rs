//! Builds a [`Report`] from a [`ReportInput`]: period and scope filtering, grouping,
//! the diff against a previous report, capture loss and provenance.

use super::period::{show, show_duration};
use super::*;
use crate::policy::verdict::{Attribution, Hop, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// Most buckets on the timeline.
const MAX_BUCKETS: i64 = 48;
/// Example flows listed per violation.
const EXAMPLES: usize = 3;

/// Builds the report of `input` for the period and scope of `opts`; `previous` is the
/// report to diff against.
///
/// # Errors
/// A flow's capture time is not RFC 3339.
pub fn build(
    input: &ReportInput,
    opts: &Options,
    previous: Option<&Previous>,
) -> Result<Report, Error> {
    let scope = &opts.scope;
    let run_in_scope: Vec<bool> = input
        .runs
        .iter()
        .map(|r| {
            scope.sensor.as_ref().is_none_or(|s| *s == r.info.sensor)
                && scope
                    .site
                    .as_ref()
                    .is_none_or(|s| r.site.as_ref() == Some(s))
        })
        .collect();

    // Flows of runs in scope, with parsed capture times, split by the interface filter.
    let mut scoped: Vec<(&ReportFlow, i64, i64)> = Vec::new();
    let mut outside_scope = 0u64;
    let mut runs_with_flows = vec![false; input.runs.len()];
    for f in &input.flows {
        if !run_in_scope.get(f.run).copied().unwrap_or(false) {
            continue;
        }
        if let Some(r) = runs_with_flows.get_mut(f.run) {
            *r = true;
        }
        if let Some(want) = &scope.iface {
            if !iface_matches(input, f, want) {
                outside_scope += 1;
                continue;
            }
        }
        let first = parse_flow_time(input, f, &f.record.first_ts)?;
        let last = parse_flow_time(input, f, &f.record.last_ts)?.max(first);
        scoped.push((f, first, last));
    }

    let newest = scoped.iter().map(|&(_, _, l)| l).max();
    let (from, to, rule) = match opts.period {
        PeriodSpec::All => (None, None, "all flows in the input".to_string()),
        PeriodSpec::SinceNewest(d) => match newest {
            Some(n) => {
                let to = n.saturating_add(1);
                (
                    Some(to.saturating_sub(d)),
                    Some(to),
                    format!(
                        "{}: the {} up to and including the newest capture time in the input ({})",
                        opts.period_rule,
                        show_duration(d),
                        show(n)
                    ),
                )
            }
            None => (
                None,
                None,
                format!("{}: no flows in the input", opts.period_rule),
            ),
        },
        PeriodSpec::Range { from, to } => (from, to, opts.period_rule.clone()),
    };
    let in_period =
        |first: i64, last: i64| to.is_none_or(|t| first < t) && from.is_none_or(|f| last >= f);

    let mut outside_period = 0u64;
    let mut flows: Vec<(&ReportFlow, i64, i64)> = Vec::new();
    for (f, first, last) in scoped {
        if in_period(first, last) {
            flows.push((f, first, last));
        } else {
            outside_period += 1;
        }
    }
    // Runs counted: those with flows in the period, and those in scope with no flow at all.
    let mut run_counted = vec![false; input.runs.len()];
    for &(f, _, _) in &flows {
        if let Some(c) = run_counted.get_mut(f.run) {
            *c = true;
        }
    }
    for (i, c) in run_counted.iter_mut().enumerate() {
        if run_in_scope[i] && !runs_with_flows[i] {
            *c = true;
        }
    }

    let mut totals = Totals {
        runs: run_counted.iter().filter(|&&c| c).count() as u64,
        flows: flows.len() as u64,
        clean: 0,
        unknown: 0,
        violation: 0,
        bytes: ByVerdict::default(),
        packets: ByVerdict::default(),
        outside_period,
        outside_scope,
    };
    let mut violations: BTreeMap<(String, String), Acc> = BTreeMap::new();
    let mut unknown: BTreeMap<(HopKind, String), UnknownHop> = BTreeMap::new();
    let mut talkers: BTreeMap<(String, String), Talker> = BTreeMap::new();
    for &(f, first, last) in &flows {
        let r = &f.record;
        let bytes = r.bytes.fwd.saturating_add(r.bytes.rev);
        let packets = r.packets.fwd.saturating_add(r.packets.rev);
        let (count, b, p) = match r.verdict {
            Verdict::Clean => (
                &mut totals.clean,
                &mut totals.bytes.clean,
                &mut totals.packets.clean,
            ),
            Verdict::Unknown => (
                &mut totals.unknown,
                &mut totals.bytes.unknown,
                &mut totals.packets.unknown,
            ),
            Verdict::Violation => (
                &mut totals.violation,
                &mut totals.bytes.violation,
                &mut totals.packets.violation,
            ),
        };
        *count += 1;
        *b = b.saturating_add(bytes);
        *p = p.saturating_add(packets);

        let mut seen_keys: BTreeSet<(String, String)> = BTreeSet::new();
        for h in &r.hops {
            for m in h.matches.iter().filter(|m| m.counts) {
                let key = (m.entity.clone(), h.value.clone());
                let acc = violations.entry(key.clone()).or_insert_with(|| Acc {
                    kind: h.kind,
                    attribution: attribution_label(h),
                    evidence: Vec::new(),
                    flows: 0,
                    packets: 0,
                    bytes: 0,
                    first,
                    last,
                    examples: Vec::new(),
                    flow_ids: BTreeSet::new(),
                });
                let ev = RuleEvidence {
                    rule_kind: m.rule_kind.as_str().to_string(),
                    rule_value: m.rule_value.clone(),
                    category: m.category.as_str().to_string(),
                    confidence: m.confidence.as_str().to_string(),
                    source: m.source.clone(),
                    date: m.date.clone(),
                    rule_at: m.rule_at.clone(),
                };
                if !acc.evidence.contains(&ev) {
                    acc.evidence.push(ev);
                }
                if seen_keys.insert(key) {
                    acc.flows += 1;
                    acc.packets = acc.packets.saturating_add(packets);
                    acc.bytes = acc.bytes.saturating_add(bytes);
                    acc.first = acc.first.min(first);
                    acc.last = acc.last.max(last);
                    acc.flow_ids.insert((f.run, r.id));
                    if acc.examples.len() < EXAMPLES {
                        acc.examples.push(flow_ref(input, f));
                    }
                }
            }
            if r.verdict == Verdict::Unknown && h.is_unattributed() {
                let u = unknown
                    .entry((h.kind, h.value.clone()))
                    .or_insert_with(|| UnknownHop {
                        hop_kind: h.kind,
                        hop_value: h.value.clone(),
                        reason: match &h.attribution {
                            Attribution::Unattributed { reason } => reason.clone(),
                            _ => String::new(),
                        },
                        flows: 0,
                        example: flow_ref(input, f),
                    });
                u.flows += 1;
            }
        }

        let (a, b) = endpoints(r);
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let t = talkers
            .entry((a.clone(), b.clone()))
            .or_insert_with(|| Talker {
                a,
                b,
                flows: 0,
                packets: 0,
                bytes: 0,
                verdict: Verdict::Clean.to_string(),
            });
        t.flows += 1;
        t.packets = t.packets.saturating_add(packets);
        t.bytes = t.bytes.saturating_add(bytes);
        if verdict_rank(&r.verdict.to_string()) > verdict_rank(&t.verdict) {
            t.verdict = r.verdict.to_string();
        }
    }

    // Diff.
    let prev_keys: Option<BTreeSet<String>> =
        previous.map(|p| p.report.violations.iter().map(|v| v.key.clone()).collect());
    let mut out_violations: Vec<Violation> = violations
        .iter()
        .map(|((entity, value), a)| {
            let key = format!("{entity} @ {value}");
            Violation {
                new: prev_keys.as_ref().is_none_or(|k| !k.contains(&key)),
                key,
                entity: entity.clone(),
                hop_kind: a.kind,
                hop_value: value.clone(),
                attribution: a.attribution.clone(),
                evidence: a.evidence.clone(),
                flows: a.flows,
                packets: a.packets,
                bytes: a.bytes,
                first_ts: show(a.first),
                last_ts: show(a.last),
                examples: a.examples.clone(),
            }
        })
        .collect();
    out_violations.sort_by(|x, y| y.flows.cmp(&x.flows).then_with(|| x.key.cmp(&y.key)));
    let current_keys: BTreeSet<String> = out_violations.iter().map(|v| v.key.clone()).collect();
    let diff = Diff {
        previous: previous.map(|p| PreviousRef {
            path: p.path.clone(),
            from: p.report.period.from.clone(),
            to: p.report.period.to.clone(),
            violations: p.report.violations.len() as u64,
        }),
        new: out_violations
            .iter()
            .filter(|v| v.new)
            .map(|v| v.key.clone())
            .collect(),
        gone: prev_keys
            .map(|k| k.difference(&current_keys).cloned().collect())
            .unwrap_or_default(),
    };

    let by_entity = group(&violations, |(entity, _), a| {
        (
            entity.clone(),
            a.evidence.iter().map(|e| e.category.clone()).collect(),
        )
    });
    let by_hop_kind = group(&violations, |(entity, _), a| {
        (
            serde_json::to_value(a.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            vec![entity.clone()],
        )
    });
    let byte_of: BTreeMap<(usize, u64), u64> = flows
        .iter()
        .map(|(f, _, _)| {
            (
                (f.run, f.record.id),
                f.record.bytes.fwd.saturating_add(f.record.bytes.rev),
            )
        })
        .collect();
    let by_entity = finish_groups(by_entity, &byte_of);
    let by_hop_kind = finish_groups(by_hop_kind, &byte_of);

    let mut unknown_hops: Vec<UnknownHop> = unknown.into_values().collect();
    unknown_hops.sort_by(|x, y| {
        y.flows
            .cmp(&x.flows)
            .then_with(|| (x.hop_kind, &x.hop_value).cmp(&(y.hop_kind, &y.hop_value)))
    });
    let mut top_talkers: Vec<Talker> = talkers.into_values().collect();
    top_talkers.sort_by(|x, y| {
        y.bytes
            .cmp(&x.bytes)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    top_talkers.truncate(opts.top);

    let timeline = timeline(&flows, from, to);
    let capture_loss = capture_loss(input, &run_counted);
    let provenance = ReportProvenance {
        report_inputs: input.sources.clone(),
        runs: input
            .runs
            .iter()
            .zip(&run_counted)
            .filter(|(_, c)| **c)
            .map(|(r, _)| run_provenance(r))
            .collect(),
    };

    Ok(Report {
        schema: SCHEMA.into(),
        cleanpath: env!("CARGO_PKG_VERSION").into(),
        status: if totals.violation > 0 {
            "VIOLATION"
        } else {
            "CLEAN"
        }
        .into(),
        period: PeriodOut {
            from: from.map(show),
            to: to.map(show),
            rule,
            first_capture: flows.iter().map(|&(_, f, _)| f).min().map(show),
            last_capture: flows.iter().map(|&(_, _, l)| l).max().map(show),
        },
        scope: scope.clone(),
        totals,
        violations: out_violations,
        by_entity,
        by_hop_kind,
        diff,
        unknown_hops,
        top_talkers,
        capture_loss,
        timeline,
        provenance,
    })
}

/// A violating hop while flows are added.
struct Acc {
    kind: HopKind,
    attribution: String,
    evidence: Vec<RuleEvidence>,
    flows: u64,
    packets: u64,
    bytes: u64,
    first: i64,
    last: i64,
    examples: Vec<FlowRef>,
    flow_ids: BTreeSet<(usize, u64)>,
}

type GroupAcc = BTreeMap<String, (BTreeSet<String>, BTreeSet<(usize, u64)>, Vec<String>)>;

fn group(
    violations: &BTreeMap<(String, String), Acc>,
    name_of: impl Fn(&(String, String), &Acc) -> (String, Vec<String>),
) -> GroupAcc {
    let mut groups: GroupAcc = BTreeMap::new();
    for (k, a) in violations {
        let (name, detail) = name_of(k, a);
        let g = groups.entry(name).or_default();
        g.0.extend(detail);
        g.1.extend(a.flow_ids.iter().copied());
        g.2.push(format!("{} @ {}", k.0, k.1));
    }
    groups
}

fn finish_groups(groups: GroupAcc, bytes: &BTreeMap<(usize, u64), u64>) -> Vec<Group> {
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(name, (detail, flows, violations))| Group {
            name,
            detail: detail.into_iter().collect(),
            flows: flows.len() as u64,
            bytes: flows
                .iter()
                .filter_map(|k| bytes.get(k))
                .fold(0u64, |a, b| a.saturating_add(*b)),
            violations,
        })
        .collect();
    out.sort_by(|x, y| y.flows.cmp(&x.flows).then_with(|| x.name.cmp(&y.name)));
    out
}

fn verdict_rank(v: &str) -> u8 {
    match v {
        "VIOLATION" => 2,
        "UNKNOWN" => 1,
        _ => 0,
    }
}

fn parse_flow_time(input: &ReportInput, f: &ReportFlow, ts: &str) -> Result<i64, Error> {
    parse_time(ts).map_err(|e| {
        let src = input.runs.get(f.run).map_or("?", |r| r.source.as_str());
        Error::Argument(format!("flow {} of the run at {src}: {e}", f.record.id))
    })
}

/// Whether a flow was captured on the interface `want` (its name, or its index).
fn iface_matches(input: &ReportInput, f: &ReportFlow, want: &str) -> bool {
    if f.record.iface.to_string() == want {
        return true;
    }
    input
        .runs
        .get(f.run)
        .and_then(|r| r.summary.as_ref())
        .and_then(|s| s.files.iter().find(|x| x.path == f.record.file))
        .and_then(|x| x.interfaces.get(f.record.iface as usize))
        .and_then(|i| i.name.as_deref())
        == Some(want)
}

/// Who the tables say a hop belongs to.
fn attribution_label(h: &Hop) -> String {
    match &h.attribution {
        Attribution::As { asn, org, .. } => format!("AS{asn} {org}"),
        Attribution::Vendor {
            registry,
            prefix_bits,
            org,
        } => format!("{org} ({registry} /{prefix_bits})"),
        Attribution::Group => "group address".into(),
        Attribution::Unattributed { reason } => format!("unattributed: {reason}"),
    }
}

fn proto_name(p: u8) -> String {
    crate::report::ip_proto_name(p).map_or_else(|| format!("proto {p}"), str::to_string)
}

fn flow_ref(input: &ReportInput, f: &ReportFlow) -> FlowRef {
    let r = &f.record;
    let conversation = match (&r.src, &r.dst) {
        (Some(s), Some(d)) => format!(
            "{} {} -> {}",
            r.proto.map_or_else(|| "ip".into(), proto_name),
            crate::report::with_port(s, r.src_port),
            crate::report::with_port(d, r.dst_port)
        ),
        _ => match r.ethertype {
            Some(e) => format!("ethertype 0x{e:04x} {}", r.macs.join(" <-> ")),
            None => format!("non-IP {}", r.macs.join(" <-> ")),
        },
    };
    FlowRef {
        sensor: input
            .runs
            .get(f.run)
            .map_or_else(|| "?".into(), |x| x.info.sensor.clone()),
        id: r.id,
        file: r.file.clone(),
        first_frame: r.first_frame,
        first_ts: r.first_ts.clone(),
        conversation,
    }
}

/// The endpoint pair of a flow: inner addresses, or MACs for non-IP flows.
fn endpoints(r: &FlowRecord) -> (String, String) {
    match (&r.src, &r.dst) {
        (Some(s), Some(d)) => (s.clone(), d.clone()),
        _ => (
            r.macs.first().cloned().unwrap_or_else(|| "?".into()),
            r.macs.get(1).cloned().unwrap_or_else(|| "?".into()),
        ),
    }
}

fn timeline(flows: &[(&ReportFlow, i64, i64)], from: Option<i64>, to: Option<i64>) -> Timeline {
    let lo = from.or_else(|| flows.iter().map(|&(_, f, _)| f).min());
    let hi = to.or_else(|| flows.iter().map(|&(_, _, l)| l.saturating_add(1)).max());
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Timeline {
            bucket: "-".into(),
            buckets: Vec::new(),
        };
    };
    let span = hi.saturating_sub(lo).max(1);
    let last = hi.saturating_sub(1);
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000 * MS;
    let nice = [
        MS,
        10 * MS,
        100 * MS,
        S,
        10 * S,
        60 * S,
        300 * S,
        900 * S,
        3600 * S,
        3 * 3600 * S,
        6 * 3600 * S,
        12 * 3600 * S,
        86_400 * S,
        7 * 86_400 * S,
        30 * 86_400 * S,
        365 * 86_400 * S,
    ];
    let width = nice
        .iter()
        .copied()
        .find(|w| last.div_euclid(*w) - lo.div_euclid(*w) < MAX_BUCKETS)
        .unwrap_or_else(|| span / MAX_BUCKETS + 1);
    let first_bucket = lo.div_euclid(width);
    let n = (last.div_euclid(width) - first_bucket + 1).clamp(1, MAX_BUCKETS + 1);
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: show((first_bucket + i).saturating_mul(width)),
            flows: ByVerdict::default(),
        })
        .collect();
    for &(f, first, _) in flows {
        let i = (first.max(lo).div_euclid(width) - first_bucket).clamp(0, n - 1);
        if let Some(b) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
            match f.record.verdict {
                Verdict::Clean => b.flows.clean += 1,
                Verdict::Unknown => b.flows.unknown += 1,
                Verdict::Violation => b.flows.violation += 1,
            }
        }
    }
    Timeline {
        bucket: show_duration(width),
        buckets,
    }
}

fn capture_loss(input: &ReportInput, counted: &[bool]) -> CaptureLoss {
    let mut loss = CaptureLoss::default();
    for (r, _) in input.runs.iter().zip(counted).filter(|(_, c)| **c) {
        let Some(s) = &r.summary else {
            loss.unfinished_runs
                .push(format!("{} (sensor {})", r.source, r.info.sensor));
            continue;
        };
        for f in s.files.iter().filter(|f| !f.complete) {
            loss.incomplete_files.push(IncompleteFile {
                sensor: r.info.sensor.clone(),
                path: f.path.clone(),
                error: f
                    .error
                    .clone()
                    .unwrap_or_else(|| "not read to its end".into()),
            });
        }
        let c = &s.counters;
        loss.frames = loss.frames.saturating_add(c.frames);
        loss.frames_not_analysed = loss
            .frames_not_analysed
            .saturating_add(c.frames_without_flow);
        for (k, v) in &c.decode_errors {
            let e = loss.decode_errors.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
        for (k, v) in &c.unsupported_link_types {
            let e = loss
                .unsupported_link_types
                .entry(format!("linktype {k}"))
                .or_default();
            *e = e.saturating_add(*v);
        }
        loss.flows_evicted = loss.flows_evicted.saturating_add(s.flow_table.evicted);
        loss.filtered_out = loss.filtered_out.saturating_add(c.filtered_out);
    }
    loss.complete = loss.unfinished_runs.is_empty()
        && loss.incomplete_files.is_empty()
        && loss.frames_not_analysed == 0
        && loss.decode_errors.is_empty()
        && loss.unsupported_link_types.is_empty()
        && loss.flows_evicted == 0;
    loss
}

fn run_provenance(r: &RunSummary) -> RunProvenance {
    RunProvenance {
        source: r.source.clone(),
        sensor: r.info.sensor.clone(),
        site: r.site.clone(),
        started: show(r.info.started_unix_ms.saturating_mul(1_000_000)),
        cleanpath: r.info.version.clone(),
        inputs: r
            .info
            .inputs
            .iter()
            .enumerate()
            .map(|(i, f)| CaptureInput {
                path: f.path.clone(),
                bytes: f.bytes,
                sha256: r.input_sha256.get(i).cloned().flatten(),
            })
            .collect(),
        judged_with: r.summary.as_ref().map(|s| s.provenance.clone()),
    }
}
