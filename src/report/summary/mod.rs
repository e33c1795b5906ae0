//! Audit summaries over one or more runs: what `cleanpath report` prints for the nightly
//! compliance check of issue 7 ("Audit store and cron summaries", part 4).
//!
//! ```text
//!  JSON lines files ──► ReportInput ──► build(Options, previous) ──► Report ──► text
//!  (or the store)       runs + flows    period, scope, grouping,      (serde:    markdown
//!                                       diff, loss, provenance        the JSON   html (SVG)
//!                                                                     format)    json
//! ```
//!
//! [`ReportInput`] is source-neutral: [`read_jsonl`] fills it from `cleanpath analyze
//! --json` output, and a store reader fills it from its tables. [`build`] filters the flows
//! to a period of *capture* time and a scope (sensor, site, interface), groups the
//! violations by entity and hop kind with their evidence, compares them with a previous
//! report, and collects capture loss and provenance. [`Report`] is the stable JSON report
//! (schema [`SCHEMA`], documented in `docs/report.md`); the text, Markdown and HTML formats
//! are renderings of it, so all four say the same thing.
//!
//! Nothing here reads the clock: the period is given as instants (the CLI anchors `--since`
//! at the newest capture time, or at the wall clock only when asked), so a replay of the
//! same inputs gives the same report, byte for byte.

mod build;
mod html;
mod input;
mod period;
mod render;

pub use build::build;
pub use html::html;
pub use input::read_jsonl;
pub use period::{parse_duration, parse_time, show as show_time, show_duration};
pub use render::{markdown, text};

use crate::policy::verdict::HopKind;
use crate::report::{FlowRecord, Summary};
use crate::sink::RunInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `schema` value of the JSON report; bumped on any incompatible change.
pub const SCHEMA: &str = "cleanpath-report/1";

/// A report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON lines record is malformed.
    #[error("{path}:{line}: {message}")]
    Record {
        /// The file.
        path: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A previous report cannot be used for the diff.
    #[error("previous report {path}: {message}")]
    Previous {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A bad period or scope argument.
    #[error("{0}")]
    Argument(String),
}

/// One analysis run: the run object and the summary object of `analyze --json`.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Sensor, wall-clock start, inputs and version.
    pub info: RunInfo,
    /// The run's final summary; `None` when the run did not finish (no summary record).
    pub summary: Option<Summary>,
    /// Site name, when the run recorded one.
    pub site: Option<String>,
    /// SHA-256 (hex) of each of `info.inputs`, in order, when the run recorded it.
    pub input_sha256: Vec<Option<String>>,
    /// Where the run was read from (`file:line` of its run object, or a store row).
    pub source: String,
}

/// One flow of a run.
#[derive(Debug, Clone)]
pub struct ReportFlow {
    /// Index of its run in [`ReportInput::runs`].
    pub run: usize,
    /// The judged flow.
    pub record: FlowRecord,
}

/// A file the report itself read, for provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// Everything a report is built from.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    /// Runs, in input order.
    pub runs: Vec<RunSummary>,
    /// Flows of all runs.
    pub flows: Vec<ReportFlow>,
    /// The files read (JSON lines); empty for a store.
    pub sources: Vec<SourceFile>,
}

/// The period of capture time a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSpec {
    /// Every flow.
    All,
    /// The given duration (ns) up to and including the newest capture time in scope.
    SinceNewest(i64),
    /// `[from, to)`, either side open, in ns since the epoch.
    Range {
        /// Start, inclusive.
        from: Option<i64>,
        /// End, exclusive.
        to: Option<i64>,
    },
}

/// Which runs and flows a report looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Only runs of this sensor.
    pub sensor: Option<String>,
    /// Only runs of this site.
    pub site: Option<String>,
    /// Only flows captured on this interface (name, or index within its file).
    pub iface: Option<String>,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// The period.
    pub period: PeriodSpec,
    /// How `period` was asked for, for the report (e.g. `--since 24h`).
    pub period_rule: String,
    /// The scope.
    pub scope: Scope,
    /// How many top talkers to list.
    pub top: usize,
}

/// A previous report, for the "new since" diff.
#[derive(Debug, Clone)]
pub struct Previous {
    /// Where it was read from.
    pub path: String,
    /// The report.
    pub report: Report,
}

/// The report: the documented, stable JSON object (see `docs/report.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Version of the cleanpath that wrote the report.
    pub cleanpath: String,
    /// `VIOLATION` when any flow in the period is VIOLATION, else `CLEAN`.
    pub status: String,
    /// The period covered.
    pub period: PeriodOut,
    /// The scope.
    pub scope: Scope,
    /// Verdict, flow and byte totals.
    pub totals: Totals,
    /// Violating hops (entity @ hop value), most flows first.
    pub violations: Vec<Violation>,
    /// Violations grouped by entity.
    pub by_entity: Vec<Group>,
    /// Violations grouped by hop kind.
    pub by_hop_kind: Vec<Group>,
    /// Comparison with the previous report.
    pub diff: Diff,
    /// Unattributed hops of UNKNOWN flows: what to add to the inventory.
    pub unknown_hops: Vec<UnknownHop>,
    /// Endpoint pairs by bytes.
    pub top_talkers: Vec<Talker>,
    /// What was not (fully) analysed.
    pub capture_loss: CaptureLoss,
    /// Flows per time bucket, by verdict.
    pub timeline: Timeline,
    /// What the report and its runs were built from.
    pub provenance: ReportProvenance,
}

impl Report {
    /// Reports whether any flow in the period is VIOLATION.
    pub fn has_violations(&self) -> bool {
        self.totals.violation > 0
    }
}

/// The period covered, as instants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodOut {
    /// Start (inclusive), RFC 3339; `null` when open.
    pub from: Option<String>,
    /// End (exclusive), RFC 3339; `null` when open.
    pub to: Option<String>,
    /// How it was asked for (e.g. `--since 24h before the newest capture time`).
    pub rule: String,
    /// Earliest `first_ts` of the flows in the period.
    pub first_capture: Option<String>,
    /// Latest `last_ts` of the flows in the period.
    pub last_capture: Option<String>,
}

/// Per-verdict counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByVerdict {
    /// CLEAN.
    pub clean: u64,
    /// UNKNOWN.
    pub unknown: u64,
    /// VIOLATION.
    pub violation: u64,
}

/// Totals over the flows in the period and scope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totals {
    /// Runs in scope that contributed flows (or finished without any).
    pub runs: u64,
    /// Flows in the period.
    pub flows: u64,
    /// CLEAN flows.
    pub clean: u64,
    /// UNKNOWN flows.
    pub unknown: u64,
    /// VIOLATION flows.
    pub violation: u64,
    /// Wire bytes (both directions) per verdict.
    pub bytes: ByVerdict,
    /// Packets per verdict.
    pub packets: ByVerdict,
    /// Flows of runs in scope left out because they fall outside the period.
    pub outside_period: u64,
    /// Flows left out by `--iface`.
    pub outside_scope: u64,
}

/// A rule that matched, as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEvidence {
    /// What the rule matches on (`asn`, `prefix`, `oui`, `oui_org_regex`, …).
    pub rule_kind: String,
    /// The rule's value.
    pub rule_value: String,
    /// Clean Path category of the entity.
    pub category: String,
    /// Match confidence.
    pub confidence: String,
    /// Where the fact comes from.
    pub source: String,
    /// When the listing took effect.
    pub date: String,
    /// `file:line` of the rule.
    pub rule_at: String,
}

/// A flow, briefly, as an example of where something was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRef {
    /// Sensor of its run.
    pub sensor: String,
    /// Flow number within its run.
    pub id: u64,
    /// Capture file of its first packet.
    pub file: String,
    /// Frame number of its first packet.
    pub first_frame: u64,
    /// Capture time of its first packet.
    pub first_ts: String,
    /// `proto src:port -> dst:port` (or the EtherType of a non-IP flow).
    pub conversation: String,
}

/// One violating hop: an entity matched on one hop value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Violation {
    /// `entity @ hop value`, the key of the diff.
    pub key: String,
    /// Untrusted entity the rules name.
    pub entity: String,
    /// What the hop is.
    pub hop_kind: HopKind,
    /// The hop's value (MAC, IP address).
    pub hop_value: String,
    /// Who the tables say the hop belongs to (`AS4134 Chinanet`, a MAC registrant).
    pub attribution: String,
    /// Whether the key is absent from the previous report.
    pub new: bool,
    /// Every rule that matched (and counted), deduplicated.
    pub evidence: Vec<RuleEvidence>,
    /// Flows through the hop.
    pub flows: u64,
    /// Their packets.
    pub packets: u64,
    /// Their wire bytes.
    pub bytes: u64,
    /// First capture time.
    pub first_ts: String,
    /// Last capture time.
    pub last_ts: String,
    /// Up to three example flows.
    pub examples: Vec<FlowRef>,
}

/// Violations grouped by entity or hop kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// The entity, or the hop kind (`l2_neighbour`, …).
    pub name: String,
    /// Categories of the rules (by entity) or entities (by hop kind).
    pub detail: Vec<String>,
    /// Distinct violating flows.
    pub flows: u64,
    /// Their wire bytes.
    pub bytes: u64,
    /// Keys of the violations in the group.
    pub violations: Vec<String>,
}

/// Comparison with the previous report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diff {
    /// The previous report, when there was one.
    pub previous: Option<PreviousRef>,
    /// Keys present now and not in the previous report (all keys when there is none).
    pub new: Vec<String>,
    /// Keys of the previous report no longer seen.
    pub gone: Vec<String>,
}

/// Which report the diff compares with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviousRef {
    /// Path it was read from.
    pub path: String,
    /// Its period.
    pub from: Option<String>,
    /// Its period end.
    pub to: Option<String>,
    /// Its violation count.
    pub violations: u64,
}

/// An unattributed hop of UNKNOWN flows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnknownHop {
    /// What the hop is.
    pub hop_kind: HopKind,
    /// Its value.
    pub hop_value: String,
    /// Why nothing attributes it.
    pub reason: String,
    /// UNKNOWN flows through it.
    pub flows: u64,
    /// An example flow.
    pub example: FlowRef,
}

/// An endpoint pair and its traffic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Talker {
    /// One endpoint (the lesser, as text).
    pub a: String,
    /// The other.
    pub b: String,
    /// Flows between them.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Wire bytes, both directions.
    pub bytes: u64,
    /// Worst verdict among the flows.
    pub verdict: String,
}

/// What was not analysed, over the runs in scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaptureLoss {
    /// Whether nothing was lost.
    pub complete: bool,
    /// Runs without a summary record (interrupted), by source.
    pub unfinished_runs: Vec<String>,
    /// Input files not read to the end.
    pub incomplete_files: Vec<IncompleteFile>,
    /// Frames read.
    pub frames: u64,
    /// Frames not keyed to any flow, so not judged.
    pub frames_not_analysed: u64,
    /// Frames with a malformed or unsupported layer, by `layer.reason`.
    pub decode_errors: BTreeMap<String, u64>,
    /// Frames of link types cleanpath does not decode, by link type number.
    pub unsupported_link_types: BTreeMap<String, u64>,
    /// Flows finished early because the flow table was full.
    pub flows_evicted: u64,
    /// Frames dropped by `--filter` (deliberate, not loss).
    pub filtered_out: u64,
}

/// An input that was not read to its end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncompleteFile {
    /// Sensor of the run.
    pub sensor: String,
    /// The file.
    pub path: String,
    /// The error, naming the byte offset.
    pub error: String,
}

/// Flows per time bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timeline {
    /// Bucket width, e.g. `1h`.
    pub bucket: String,
    /// Buckets in time order (by flow `first_ts`).
    pub buckets: Vec<Bucket>,
}

/// One time bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    /// Bucket start.
    pub start: String,
    /// Flows starting in the bucket, by verdict.
    pub flows: ByVerdict,
}

/// What the report was built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportProvenance {
    /// Files the report read, with their SHA-256.
    pub report_inputs: Vec<SourceFile>,
    /// Every run in scope.
    pub runs: Vec<RunProvenance>,
}

/// One run's provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunProvenance {
    /// Where the run was read from.
    pub source: String,
    /// Sensor.
    pub sensor: String,
    /// Site, when recorded.
    pub site: Option<String>,
    /// Wall-clock start of the run.
    pub started: String,
    /// cleanpath version of the run.
    pub cleanpath: String,
    /// Capture files with size and SHA-256 (`null`: not recorded).
    pub inputs: Vec<CaptureInput>,
    /// Intel tables and rules, `null` when the run did not finish.
    pub judged_with: Option<crate::report::Provenance>,
}

/// A capture file of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaptureInput {
    /// Path as given to analyze.
    pub path: String,
    /// Size in bytes, when known.
    pub bytes: Option<u64>,
    /// SHA-256, hex, when the run recorded it.
    pub sha256: Option<String>,
}
