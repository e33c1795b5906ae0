//! Rows as both backends write them: a [`FlowRecord`] becomes one `flows` row (indexed
//! columns plus the record's JSON), its evidence rows and its equipment hops.

use super::{Error, Filter, Result, RunEnd, RunRow};
use crate::policy::verdict::{Attribution, HopKind};
use crate::report::{FlowRecord, Summary};
use crate::sink::RunInfo;
use std::collections::BTreeMap;

/// One `flows` row, ready to bind.
#[derive(Debug, Clone)]
pub(crate) struct FlowRow {
    pub(crate) flow_id: i64,
    pub(crate) verdict: String,
    pub(crate) file: String,
    pub(crate) iface: i64,
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
    pub(crate) proto: Option<i32>,
    pub(crate) src: Option<String>,
    pub(crate) dst: Option<String>,
    pub(crate) src_port: Option<i32>,
    pub(crate) dst_port: Option<i32>,
    pub(crate) teid: Option<i64>,
    pub(crate) packets_fwd: i64,
    pub(crate) packets_rev: i64,
    pub(crate) bytes_fwd: i64,
    pub(crate) bytes_rev: i64,
    pub(crate) record: String,
    pub(crate) evidence: Vec<EvidenceRow>,
    pub(crate) equipment: Vec<EquipmentHop>,
}

/// One `evidence` row: a rule match on a hop of a flow.
#[derive(Debug, Clone)]
pub(crate) struct EvidenceRow {
    /// Position among the flow's matches (0-based), part of the key.
    pub(crate) seq: i32,
    pub(crate) hop_kind: String,
    pub(crate) hop_value: String,
    pub(crate) entity: String,
    pub(crate) category: String,
    pub(crate) confidence: String,
    pub(crate) counts: bool,
    pub(crate) rule_kind: String,
    pub(crate) rule_value: String,
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) rule_at: String,
}

/// A hop of a flow that is equipment (not an inner endpoint, not a group address).
#[derive(Debug, Clone)]
pub(crate) struct EquipmentHop {
    pub(crate) hop_kind: String,
    pub(crate) hop_value: String,
    pub(crate) attribution: String,
    pub(crate) org: Option<String>,
    pub(crate) asn: Option<i64>,
    pub(crate) entity: Option<String>,
}

/// The equipment upsert of one batch: hops of the newly inserted flows, merged.
#[derive(Debug, Clone)]
pub(crate) struct EquipmentAgg {
    pub(crate) hop: EquipmentHop,
    pub(crate) first_ns: i64,
    pub(crate) last_ns: i64,
    pub(crate) flows: i64,
}

/// Returns the serde name of a unit enum value (`VIOLATION`, `l2_neighbour`, …).
fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn sat(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl FlowRow {
    /// Prepares the rows of one flow.
    pub(crate) fn new(r: &FlowRecord) -> Result<Self> {
        let record = serde_json::to_string(r).map_err(|source| Error::Json {
            what: format!("flow {}", r.id),
            source,
        })?;
        let time = |s: &str| {
            parse_rfc3339_ns(s)
                .ok_or_else(|| Error::Corrupt(format!("flow {}: bad time '{s}'", r.id)))
        };
        let mut evidence = Vec::new();
        let mut equipment = Vec::new();
        for hop in &r.hops {
            let hop_kind = name(&hop.kind);
            for m in &hop.matches {
                evidence.push(EvidenceRow {
                    seq: i32::try_from(evidence.len()).unwrap_or(i32::MAX),
                    hop_kind: hop_kind.clone(),
                    hop_value: hop.value.clone(),
                    entity: m.entity.clone(),
                    category: name(&m.category),
                    confidence: name(&m.confidence),
                    counts: m.counts,
                    rule_kind: name(&m.rule_kind),
                    rule_value: m.rule_value.clone(),
                    source: m.source.clone(),
                    date: m.date.clone(),
                    rule_at: m.rule_at.clone(),
                });
            }
            if hop.kind == HopKind::Endpoint || hop.attribution == Attribution::Group {
                continue;
            }
            let (org, asn) = match &hop.attribution {
                Attribution::As { asn, org, .. } => (Some(org.clone()), Some(i64::from(*asn))),
                Attribution::Vendor { org, .. } => (Some(org.clone()), None),
                _ => (None, None),
            };
            let entity = hop
                .matches
                .iter()
                .find(|m| m.counts)
                .or_else(|| hop.matches.first())
                .map(|m| m.entity.clone());
            equipment.push(EquipmentHop {
                hop_kind,
                hop_value: hop.value.clone(),
                attribution: serde_json::to_string(&hop.attribution).map_err(|source| {
                    Error::Json {
                        what: format!("flow {} hop {}", r.id, hop.value),
                        source,
                    }
                })?,
                org,
                asn,
                entity,
            });
        }
        Ok(Self {
            flow_id: sat(r.id),
            verdict: name(&r.verdict),
            file: r.file.clone(),
            iface: i64::from(r.iface),
            first_ns: time(&r.first_ts)?,
            last_ns: time(&r.last_ts)?,
            proto: r.proto.map(i32::from),
            src: r.src.clone(),
            dst: r.dst.clone(),
            src_port: r.src_port.map(i32::from),
            dst_port: r.dst_port.map(i32::from),
            teid: r.tunnel.as_ref().map(|t| i64::from(t.teid)),
            packets_fwd: sat(r.packets.fwd),
            packets_rev: sat(r.packets.rev),
            bytes_fwd: sat(r.bytes.fwd),
            bytes_rev: sat(r.bytes.rev),
            record,
            evidence,
            equipment,
        })
    }
}

/// Merges the equipment hops of the given (newly inserted) flows, one entry per
/// (hop kind, value), in key order so concurrent writers lock rows in the same order.
pub(crate) fn equipment_of<'a>(rows: impl IntoIterator<Item = &'a FlowRow>) -> Vec<EquipmentAgg> {
    let mut m: BTreeMap<(String, String), EquipmentAgg> = BTreeMap::new();
    for r in rows {
        for h in &r.equipment {
            m.entry((h.hop_kind.clone(), h.hop_value.clone()))
                .and_modify(|a| {
                    a.first_ns = a.first_ns.min(r.first_ns);
                    a.last_ns = a.last_ns.max(r.last_ns);
                    a.flows += 1;
                    if a.hop.entity.is_none() {
                        a.hop.entity.clone_from(&h.entity);
                    }
                })
                .or_insert_with(|| EquipmentAgg {
                    hop: h.clone(),
                    first_ns: r.first_ns,
                    last_ns: r.last_ns,
                    flows: 1,
                });
        }
    }
    m.into_values().collect()
}

/// A `runs` row as read back, before decoding.
#[derive(Debug)]
pub(crate) struct RunCols {
    pub(crate) sensor: String,
    pub(crate) run_id: String,
    pub(crate) site: Option<String>,
    pub(crate) version: String,
    pub(crate) started_unix_ms: i64,
    pub(crate) inputs: String,
    pub(crate) finished_unix_ms: Option<i64>,
    pub(crate) finished: bool,
    pub(crate) summary: Option<String>,
}

impl RunCols {
    /// Decodes the JSON columns.
    pub(crate) fn decode(self) -> Result<RunRow> {
        let what = |part: &str| format!("run {}/{} {part}", self.sensor, self.run_id);
        let inputs = serde_json::from_str(&self.inputs).map_err(|source| Error::Json {
            what: what("inputs"),
            source,
        })?;
        let summary = self
            .summary
            .as_deref()
            .map(summary_from_json)
            .transpose()
            .map_err(|source| Error::Json {
                what: what("summary"),
                source,
            })?;
        Ok(RunRow {
            info: RunInfo {
                sensor: self.sensor,
                site: self.site,
                run_id: self.run_id,
                started_unix_ms: self.started_unix_ms,
                inputs,
                version: self.version,
            },
            finished_unix_ms: self.finished_unix_ms,
            finished: self.finished,
            summary,
        })
    }
}

/// The closing columns of a run, from its summary.
#[derive(Debug)]
pub(crate) struct EndCols {
    pub(crate) finished_unix_ms: i64,
    pub(crate) inputs_complete: bool,
    pub(crate) frames: i64,
    pub(crate) flows: i64,
    pub(crate) clean: i64,
    pub(crate) unknown: i64,
    pub(crate) violation: i64,
    pub(crate) frames_without_flow: i64,
    pub(crate) decode_errors: i64,
    pub(crate) rules: i64,
    pub(crate) denylists: String,
    pub(crate) min_confidence: String,
    pub(crate) asn_v4_ranges: i64,
    pub(crate) asn_v6_ranges: i64,
    pub(crate) oui_assignments: i64,
    pub(crate) summary: String,
}

impl EndCols {
    /// Extracts the columns.
    pub(crate) fn new(end: &RunEnd<'_>) -> Self {
        let s = end.summary;
        let v = s.counters.verdicts;
        let usat = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Self {
            finished_unix_ms: end.finished_unix_ms,
            inputs_complete: s.complete,
            frames: sat(s.counters.frames),
            flows: sat(v
                .clean
                .saturating_add(v.unknown)
                .saturating_add(v.violation)),
            clean: sat(v.clean),
            unknown: sat(v.unknown),
            violation: sat(v.violation),
            frames_without_flow: sat(s.counters.frames_without_flow),
            decode_errors: sat(s.counters.decode_errors.values().sum()),
            rules: usat(s.provenance.rules),
            denylists: serde_json::to_string(&s.provenance.denylists).unwrap_or_default(),
            min_confidence: name(&s.provenance.min_confidence),
            asn_v4_ranges: usat(s.provenance.asn_v4_ranges),
            asn_v6_ranges: usat(s.provenance.asn_v6_ranges),
            oui_assignments: usat(s.provenance.oui_assignments),
            summary: end.summary_json.clone(),
        }
    }
}

/// A query parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// Builds the WHERE clause of a filter. `ph(n)` spells the n-th (1-based) placeholder;
/// `flows` says whether the flow-level fields apply.
fn filter_sql(f: &Filter, ph: &dyn Fn(usize) -> String, flows: bool) -> (String, Vec<Param>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    let mut add = |col: &str, op: &str, p: Param| {
        params.push(p);
        clauses.push(format!("{col} {op} {}", ph(params.len())));
    };
    if flows {
        if let Some(t) = f.from_ns {
            add("f.last_ns", ">=", Param::Int(t));
        }
        if let Some(t) = f.to_ns {
            add("f.first_ns", "<", Param::Int(t));
        }
        if let Some(i) = f.iface {
            add("f.iface", "=", Param::Int(i64::from(i)));
        }
        if let Some(v) = f.verdict {
            add("f.verdict", "=", Param::Text(name(&v)));
        }
    }
    if let Some(s) = &f.sensor {
        add("r.sensor", "=", Param::Text(s.clone()));
    }
    if let Some(s) = &f.site {
        add("r.site", "=", Param::Text(s.clone()));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// The flows query; `collate` is appended to text sort keys (`COLLATE "C"` on
/// PostgreSQL, so both backends sort bytewise).
pub(crate) fn flows_query(
    f: &Filter,
    ph: &dyn Fn(usize) -> String,
    collate: &str,
) -> (String, Vec<Param>) {
    let (w, p) = filter_sql(f, ph, true);
    (
        format!(
            "SELECT f.record, f.sensor, f.run_id FROM flows f JOIN runs r ON r.sensor = f.sensor AND r.run_id = f.run_id{w} \
             ORDER BY f.first_ns, f.sensor{collate}, f.run_id{collate}, f.flow_id"
        ),
        p,
    )
}

/// The runs query.
pub(crate) fn runs_query(
    f: &Filter,
    ph: &dyn Fn(usize) -> String,
    collate: &str,
) -> (String, Vec<Param>) {
    let (w, p) = filter_sql(f, ph, false);
    (
        format!(
            "SELECT r.sensor, r.run_id, r.site, r.version, r.started_unix_ms, r.inputs, \
             r.finished_unix_ms, r.finished, r.summary FROM runs r{w} \
             ORDER BY r.started_unix_ms, r.sensor{collate}, r.run_id{collate}"
        ),
        p,
    )
}

/// The equipment query (`$1`/`?1` is an optional sensor).
pub(crate) fn equipment_query(ph: &str, collate: &str, by_sensor: bool) -> String {
    let w = if by_sensor {
        format!(" WHERE sensor = {ph}")
    } else {
        String::new()
    };
    format!(
        "SELECT sensor, hop_kind, hop_value, attribution, org, asn, entity, first_seen_ns, \
         last_seen_ns, flows FROM equipment{w} \
         ORDER BY sensor{collate}, hop_kind{collate}, hop_value{collate}"
    )
}

/// Decodes a [`Summary`] from its JSON (as stored, or the last JSON line of a run).
///
/// `Summary` flattens its counters, and serde cannot read the integer map keys of
/// `unsupported_link_types` through a flattened struct (JSON keys are strings); that
/// map is taken out and decoded on its own.
///
/// # Errors
/// The text is not a summary.
pub fn summary_from_json(json: &str) -> Result<Summary, serde_json::Error> {
    let mut v: serde_json::Value = serde_json::from_str(json)?;
    let links = v
        .as_object_mut()
        .and_then(|o| o.insert("unsupported_link_types".into(), serde_json::json!({})));
    let mut s: Summary = serde_json::from_value(v)?;
    if let Some(l) = links {
        s.counters.unsupported_link_types = serde_json::from_value(l)?;
    }
    Ok(s)
}

/// Decodes a stored flow record.
pub(crate) fn decode_record(json: &str) -> Result<FlowRecord> {
    serde_json::from_str(json).map_err(|source| Error::Json {
        what: "stored flow record".into(),
        source,
    })
}

/// Parses the RFC 3339 UTC timestamps cleanpath writes (`YYYY-MM-DDTHH:MM:SS[.fff…]Z`)
/// into nanoseconds since the Unix epoch. Returns `None` for anything else.
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.rsplitn(3, '-');
    let day: u32 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let year: i64 = d.next()?.parse().ok()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let mi: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t.next()?.parse().ok()?;
    if t.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || h > 23
        || mi > 59
        || sec > 60
        || frac.len() > 9
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut nanos: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        nanos *= 10;
    }
    let days = days_from_civil(year, month, day);
    days.checked_mul(86_400)?
        .checked_add(h * 3600 + mi * 60 + sec)?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, the
/// inverse of the one `report::time` formats with).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::report::rfc3339;

    #[test]
    fn rfc3339_round_trips() {
        for ns in [
            0,
            -1,
            951_827_696_789_000_000,
            4_294_967_296_000_000_000,
            1_700_000_000_123_456_789,
            -86_400_000_000_001,
            i64::MAX / 4,
        ] {
            let s = rfc3339(Timestamp(ns));
            assert_eq!(parse_rfc3339_ns(&s), Some(ns), "{s}");
        }
        assert_eq!(
            parse_rfc3339_ns("1970-01-01T00:00:01Z"),
            Some(1_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_ns("1970-01-01T00:00:00.5Z"),
            Some(500_000_000)
        );
        for bad in [
            "",
            "1970-01-01 00:00:00Z",
            "1970-13-01T00:00:00Z",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00:00.1234567891Z",
            "1970-01-01T00:00:00.-1Z",
        ] {
            assert_eq!(parse_rfc3339_ns(bad), None, "{bad}");
        }
    }
}
