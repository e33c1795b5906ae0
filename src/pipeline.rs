//! The analysis pipeline for one run: frames in, judged flows out.
//!
//! [`Analyzer`] owns the flow table and the counters; the caller feeds it frames from any
//! [`crate::capture`] source and receives each flow, judged, as soon as it finishes (idle
//! timeout, eviction, or end of input). The command line, the benches and the tests all
//! drive the same code.

use crate::capture::{Frame, LinkType};
use crate::decode::{self, Decoded, Layer};
use crate::flow::{EndReason, Flow, FlowTable, Limits, Origin, TableStats};
use crate::policy::verdict::{Judge, Judgement, Verdict};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

mod sharded;
pub use sharded::{Engine, Sharded};

/// A finished flow with its verdict.
#[derive(Debug, Clone)]
pub struct FlowResult {
    /// The flow's state.
    pub flow: Flow,
    /// Why it finished.
    pub end: EndReason,
    /// Its verdict and hops.
    pub judgement: Judgement,
}

/// Verdict totals.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct VerdictCounts {
    /// CLEAN flows.
    pub clean: u64,
    /// UNKNOWN flows.
    pub unknown: u64,
    /// VIOLATION flows.
    pub violation: u64,
}

impl VerdictCounts {
    /// Counts one verdict.
    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Clean => self.clean += 1,
            Verdict::Unknown => self.unknown += 1,
            Verdict::Violation => self.violation += 1,
        }
    }
}

/// Packet-level counters of a run.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Counters {
    /// Frames read.
    pub frames: u64,
    /// Wire bytes of the frames read.
    pub wire_bytes: u64,
    /// Frames per link type (by name, or `linktype N`).
    pub link_types: BTreeMap<String, u64>,
    /// Frames skipped because their link type is not decoded, by link type number.
    #[serde(deserialize_with = "link_type_map")]
    pub unsupported_link_types: BTreeMap<u32, u64>,
    /// Frames with a malformed or unsupported layer, by `layer.reason`.
    pub decode_errors: BTreeMap<String, u64>,
    /// Frames that could not be keyed to any flow (nothing decodable), so not judged.
    pub frames_without_flow: u64,
    /// Frames dropped by `--filter`.
    pub filtered_out: u64,
    /// Flow verdict totals.
    pub verdicts: VerdictCounts,
}

/// Drives decode → flow → policy for a stream of frames.
#[derive(Debug)]
pub struct Analyzer<'a> {
    judge: Judge<'a>,
    table: FlowTable,
    front: Front,
}

/// The per-frame work before the flow table: counters by link type, decoding, decode
/// error tallies. A sharded run does this once, in the reader.
#[derive(Debug, Default)]
struct Front {
    decoded: Decoded,
    counters: Counters,
    link_names: HashMap<LinkType, String>,
    errors: HashMap<(Layer, &'static str), u64>,
}

impl Front {
    /// Counts and decodes a frame into `self.decoded`; `None` when its link type is not
    /// decoded (counted as a frame without flow).
    fn decode(&mut self, file: u16, frame: &Frame<'_>) -> Option<(decode::Result<()>, Origin)> {
        self.counters.frames += 1;
        self.counters.wire_bytes += u64::from(frame.orig_len_bytes);
        let name = self
            .link_names
            .entry(frame.link)
            .or_insert_with(|| match frame.link.name() {
                Some(n) => n.to_string(),
                None => format!("linktype {}", frame.link.0),
            });
        // Avoid a String allocation per frame: look the name up, count by reference.
        if let Some(c) = self.counters.link_types.get_mut(name.as_str()) {
            *c += 1;
        } else {
            self.counters.link_types.insert(name.clone(), 1);
        }
        if frame.link.name().is_none() {
            *self
                .counters
                .unsupported_link_types
                .entry(frame.link.0)
                .or_insert(0) += 1;
            self.counters.frames_without_flow += 1;
            return None;
        }
        let res = decode::decode(frame.link, frame.data, &mut self.decoded);
        if let Err(e) = res {
            *self.errors.entry((e.layer(), e.what())).or_insert(0) += 1;
        }
        let at = Origin {
            file,
            iface: frame.iface,
            frame_no: frame.frame_no,
            ts: frame.ts,
            wire_len: frame.orig_len_bytes.max(frame.data.len() as u32),
        };
        Some((res, at))
    }

    /// Returns the counters with the decode error tallies filled in.
    fn counters(&self) -> Counters {
        let mut c = self.counters.clone();
        for (&(layer, what), &n) in &self.errors {
            c.decode_errors
                .insert(format!("{}.{}", layer.name(), what), n);
        }
        c
    }
}

impl<'a> Analyzer<'a> {
    /// Creates an analyzer.
    pub fn new(judge: Judge<'a>, limits: Limits) -> Self {
        Self {
            judge,
            table: FlowTable::new(limits),
            front: Front::default(),
        }
    }

    /// Accounts a frame that a filter rejected.
    pub fn filtered(&mut self) {
        self.front.counters.filtered_out += 1;
    }

    /// Decodes one frame of input file `file` and updates its flow. Flows that finish
    /// meanwhile are judged and passed to `out`.
    pub fn frame(&mut self, file: u16, frame: &Frame<'_>, out: &mut impl FnMut(FlowResult)) {
        let Some((res, at)) = self.front.decode(file, frame) else {
            return;
        };
        let judge = &self.judge;
        let counters = &mut self.front.counters;
        let keyed = self
            .table
            .update(&self.front.decoded, res.is_err(), at, |f, end| {
                let r = judged(judge, f, end);
                counters.verdicts.add(r.judgement.verdict);
                out(r);
            });
        if !keyed {
            self.front.counters.frames_without_flow += 1;
        }
    }

    /// Finishes every open flow (end of input) and returns the run's counters.
    pub fn finish(&mut self, out: &mut impl FnMut(FlowResult)) -> Counters {
        let judge = &self.judge;
        let counters = &mut self.front.counters;
        self.table.drain(|f, end| {
            let r = judged(judge, f, end);
            counters.verdicts.add(r.judgement.verdict);
            out(r);
        });
        self.front.counters()
    }

    /// Returns how many frames so far had a malformed or unsupported layer (for live status;
    /// [`Analyzer::finish`] breaks them down by layer).
    pub fn decode_error_frames(&self) -> u64 {
        self.front.errors.values().sum()
    }

    /// Returns the flow table's counters.
    pub fn table_stats(&self) -> &TableStats {
        self.table.stats()
    }
}

/// An [`Analyzer`] without its judge: the flow table and the counters. A long-running capture
/// takes it out of one analyzer and puts it into a new one with new rules and tables
/// (SIGHUP), so that no open flow is lost and the old tables can be freed.
#[derive(Debug)]
pub struct AnalyzerState {
    table: FlowTable,
    front: Front,
}

impl AnalyzerState {
    /// Returns the state of a fresh analyzer.
    pub fn new(limits: Limits) -> Self {
        Self {
            table: FlowTable::new(limits),
            front: Front::default(),
        }
    }
}

impl<'a> Analyzer<'a> {
    /// Creates an analyzer that carries on from `state` with a new judge.
    pub fn with_state(judge: Judge<'a>, state: AnalyzerState) -> Self {
        Self {
            judge,
            table: state.table,
            front: state.front,
        }
    }

    /// Takes the flow table and counters out, releasing the judge (and the tables it borrows).
    pub fn into_state(self) -> AnalyzerState {
        AnalyzerState {
            table: self.table,
            front: self.front,
        }
    }
}

fn judged(judge: &Judge<'_>, flow: Flow, end: EndReason) -> FlowResult {
    let judgement = judge.judge(&flow);
    FlowResult {
        flow,
        end,
        judgement,
    }
}

/// Reads a map keyed by link type number. JSON object keys are strings, and inside the
/// flattened [`Counters`] of a summary serde no longer turns them back into numbers.
fn link_type_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, u64>, D::Error> {
    use serde::Deserialize;
    BTreeMap::<String, u64>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| {
            k.parse::<u32>()
                .map(|k| (k, v))
                .map_err(|_| serde::de::Error::custom(format!("bad link type number {k:?}")))
        })
        .collect()
}
