//! Multi-core analysis: one reader, N workers, each owning a shard of the flow table.
//!
//! ```text
//!              ┌─ batch ─► worker 0: FlowTable shard, Judge ─┐
//!  reader ─────┤                                              ├─ events ─► merge (reader thread)
//!  decode, key └─ batch ─► worker 1: FlowTable shard, Judge ─┘            ids, output
//!  hash(key) % N
//! ```
//!
//! The reader decodes each frame once, keys it, and hands the decoded frame to the
//! worker `hash(FlowKey) % N`. A `FlowKey` is canonical (both directions of a
//! conversation, and both directions of a tunnel between the same endpoints with the same
//! TEID, give the same key), so a flow lives on exactly one worker. Hand-off is by
//! batches over bounded channels; batch vectors are recycled, so the steady state
//! allocates nothing per packet.
//!
//! Why results equal a one-thread run:
//! - **Sweeps**: the reader runs the same [`SweepClock`] a single table runs and, when a
//!   sweep is due, tells every worker at that same packet; each packet carries the run's
//!   capture time, so idle expiry happens at the same packets.
//! - **Flow numbers**: workers number flows locally and report, per batch, where flows
//!   started (global frame position) and which finished. The merge processes these
//!   events in global position order up to the slowest worker's progress, numbering
//!   starts as a single table would (flows are numbered in order of first packet).
//! - **Caps**: `max_flows` is split evenly between workers. While no flow is evicted for
//!   the cap, results are identical; under eviction, which flows are cut early can differ.
//!
//! Output order follows global position, then flow number; it equals the one-thread
//! order except that flows finished by eviction may come out in a different order.

use super::{Counters, FlowResult, Front, VerdictCounts, judged};
use crate::capture::{Frame, Timestamp};
use crate::decode::Decoded;
use crate::flow::{Direction, FlowKey, FlowTable, Limits, Origin, SweepClock, TableStats};
use crate::intel::Intel;
use crate::policy::verdict::Judge;
use crate::policy::{Confidence, Denylist};
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

/// Frames per worker per hand-off.
const BATCH: usize = 1024;
/// Batches in flight per worker before the reader waits.
const DEPTH: usize = 4;

/// One frame for a worker, decoded and keyed by the reader.
#[derive(Debug)]
enum Msg {
    Packet {
        pos: u64,
        key: FlowKey,
        dir: Direction,
        had_error: bool,
        at: Origin,
        now: Timestamp,
        decoded: Box<Decoded>,
    },
    Sweep {
        pos: u64,
        now: Timestamp,
    },
}

struct InBatch {
    msgs: Vec<Msg>,
    upto: u64,
}

/// What a worker reports, in its processing order.
enum Event {
    /// A flow started at global position `pos` (frame `frame_no` of file `file`).
    Start { pos: u64, file: u16, frame_no: u64 },
    /// A flow finished while processing global position `pos` (`u64::MAX`: end of input).
    Done { pos: u64, result: Box<FlowResult> },
}

struct OutBatch {
    events: Vec<Event>,
    /// Every frame up to this position has been processed.
    upto: u64,
    /// The shard's table counters, with the last batch.
    stats: Option<TableStats>,
}

/// The reader side of a sharded run; workers run on their own threads.
pub struct Sharded {
    front: Front,
    clock: SweepClock,
    pos: u64,
    hasher: foldhash::fast::RandomState,
    pending: Vec<Vec<Msg>>,
    pending_frames: usize,
    to_workers: Vec<SyncSender<InBatch>>,
    recycled: Vec<Receiver<Vec<Msg>>>,
    /// Boxes come back from workers inside `Msg`s and go out again: keep them boxed.
    #[allow(clippy::vec_box)]
    spare: Vec<Vec<Box<Decoded>>>,
    merge: Merge,
    handles: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Sharded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharded")
            .field("workers", &self.to_workers.len())
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl Sharded {
    /// Starts `workers` worker threads, each judging with the given tables and rules and
    /// holding at most `limits.max_flows / workers` flows.
    pub fn new(
        intel: Arc<Intel>,
        rules: Arc<Denylist>,
        min_confidence: Confidence,
        limits: Limits,
        workers: usize,
    ) -> Self {
        let n = workers.max(1);
        let shard_limits = Limits {
            max_flows: limits.max_flows.div_ceil(n),
            ..limits
        };
        let mut to_workers = Vec::with_capacity(n);
        let mut recycled = Vec::with_capacity(n);
        let mut from_workers = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::sync_channel::<InBatch>(DEPTH);
            let (rtx, rrx) = mpsc::channel::<Vec<Msg>>();
            // Unbounded: a worker never waits on the merge, so the reader (which also
            // merges) can always make progress.
            let (otx, orx) = mpsc::channel::<OutBatch>();
            let intel = Arc::clone(&intel);
            let rules = Arc::clone(&rules);
            let spawned = std::thread::Builder::new()
                .name(format!("cleanpath-worker-{i}"))
                .spawn(move || {
                    let judge = Judge::new(&intel, &rules, min_confidence);
                    worker(&judge, shard_limits, &rx, &rtx, &otx);
                });
            match spawned {
                Ok(h) => handles.push(h),
                // Out of threads: run with the workers we have.
                Err(_) => break,
            }
            to_workers.push(tx);
            recycled.push(rrx);
            from_workers.push(orx);
        }
        let n = to_workers.len();
        Self {
            front: Front::default(),
            clock: SweepClock::default(),
            pos: 0,
            hasher: foldhash::fast::RandomState::default(),
            pending: (0..n).map(|_| Vec::with_capacity(BATCH)).collect(),
            pending_frames: 0,
            to_workers,
            recycled,
            spare: Vec::new(),
            merge: Merge::new(from_workers),
            handles,
        }
    }

    /// Accounts a frame that a filter rejected.
    pub fn filtered(&mut self) {
        self.front.counters.filtered_out += 1;
    }

    /// Decodes and keys one frame and hands it to its worker. Judged flows that are
    /// ready are passed to `out`.
    pub fn frame(&mut self, file: u16, frame: &Frame<'_>, out: &mut impl FnMut(FlowResult)) {
        let Some((res, at)) = self.front.decode(file, frame) else {
            return;
        };
        let Some((key, dir)) = FlowKey::from_decoded(&self.front.decoded) else {
            self.front.counters.frames_without_flow += 1;
            return;
        };
        if self.to_workers.is_empty() {
            return;
        }
        self.pos += 1;
        let pos = self.pos;
        if self.clock.tick(at.ts) {
            let now = self.clock.now();
            for b in &mut self.pending {
                b.push(Msg::Sweep { pos, now });
            }
        }
        let w = (self.hasher.hash_one(key) % self.to_workers.len() as u64) as usize;
        let mut decoded = self.spare_box();
        (*decoded).clone_from(&self.front.decoded);
        self.pending[w].push(Msg::Packet {
            pos,
            key,
            dir,
            had_error: res.is_err(),
            at,
            now: self.clock.now(),
            decoded,
        });
        self.pending_frames += 1;
        if self.pending_frames >= BATCH * self.to_workers.len() {
            self.flush();
            self.merge.pump(false, out);
        }
    }

    /// A boxed `Decoded` from a recycled batch, or a new one.
    fn spare_box(&mut self) -> Box<Decoded> {
        loop {
            if let Some(b) = self.spare.last_mut().and_then(Vec::pop) {
                return b;
            }
            if self.spare.pop().is_none() {
                break;
            }
        }
        Box::default()
    }

    fn flush(&mut self) {
        for (w, tx) in self.to_workers.iter().enumerate() {
            let fresh = match self.recycled[w].try_recv() {
                Ok(mut v) => {
                    let boxes: Vec<Box<Decoded>> = v
                        .drain(..)
                        .filter_map(|m| match m {
                            Msg::Packet { decoded, .. } => Some(decoded),
                            Msg::Sweep { .. } => None,
                        })
                        .collect();
                    if !boxes.is_empty() {
                        self.spare.push(boxes);
                    }
                    v
                }
                Err(_) => Vec::with_capacity(BATCH),
            };
            let msgs = std::mem::replace(&mut self.pending[w], fresh);
            // A worker that died is accounted when it is joined.
            let _ = tx.send(InBatch {
                msgs,
                upto: self.pos,
            });
        }
        self.pending_frames = 0;
    }

    /// Finishes every open flow (end of input), passes the rest of the judged flows to
    /// `out`, stops the workers and returns the run's counters.
    pub fn finish(&mut self, out: &mut impl FnMut(FlowResult)) -> Counters {
        self.flush();
        self.to_workers.clear();
        self.merge.pump(true, out);
        for h in self.handles.drain(..) {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let mut c = self.front.counters();
        c.verdicts = self.merge.verdicts;
        c
    }

    /// Returns the flow table counters summed over the shards (`peak_flows` is the sum of
    /// the shards' peaks, an upper bound of the true peak); complete after `finish`.
    pub fn table_stats(&self) -> &TableStats {
        &self.merge.stats
    }
}

fn worker(
    judge: &Judge<'_>,
    limits: Limits,
    rx: &Receiver<InBatch>,
    recycle: &Sender<Vec<Msg>>,
    out: &Sender<OutBatch>,
) {
    let mut table = FlowTable::new(limits);
    for mut batch in rx {
        let mut events = Vec::new();
        for m in &batch.msgs {
            match *m {
                Msg::Sweep { pos, now } => table.sweep_at(now, |f, end| {
                    events.push(Event::Done {
                        pos,
                        result: Box::new(judged(judge, f, end)),
                    });
                }),
                Msg::Packet {
                    pos,
                    key,
                    dir,
                    had_error,
                    at,
                    now,
                    ref decoded,
                } => {
                    let created =
                        table.update_shard(key, dir, decoded, had_error, at, now, |f, end| {
                            events.push(Event::Done {
                                pos,
                                result: Box::new(judged(judge, f, end)),
                            });
                        });
                    if created {
                        events.push(Event::Start {
                            pos,
                            file: at.file,
                            frame_no: at.frame_no,
                        });
                    }
                }
            }
        }
        let upto = batch.upto;
        let _ = recycle.send(std::mem::take(&mut batch.msgs));
        if out
            .send(OutBatch {
                events,
                upto,
                stats: None,
            })
            .is_err()
        {
            return;
        }
    }
    let mut events = Vec::new();
    table.drain(|f, end| {
        events.push(Event::Done {
            pos: u64::MAX,
            result: Box::new(judged(judge, f, end)),
        });
    });
    let _ = out.send(OutBatch {
        events,
        upto: u64::MAX,
        stats: Some(table.stats().clone()),
    });
}

/// Orders the workers' events by global position and numbers flows as one table would.
struct Merge {
    from: Vec<Receiver<OutBatch>>,
    queues: Vec<VecDeque<Event>>,
    upto: Vec<u64>,
    /// Flow number of each open flow, by (file, first frame).
    ids: HashMap<(u16, u64), u64, foldhash::fast::RandomState>,
    next_id: u64,
    verdicts: VerdictCounts,
    stats: TableStats,
}

impl Merge {
    fn new(from: Vec<Receiver<OutBatch>>) -> Self {
        let n = from.len();
        Self {
            from,
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            upto: vec![0; n],
            ids: HashMap::default(),
            next_id: 1,
            verdicts: VerdictCounts::default(),
            stats: TableStats::default(),
        }
    }

    fn take(&mut self, w: usize, b: OutBatch) {
        self.queues[w].extend(b.events);
        self.upto[w] = b.upto;
        if let Some(s) = b.stats {
            self.stats.flows += s.flows;
            self.stats.idle_expired += s.idle_expired;
            self.stats.evicted += s.evicted;
            self.stats.peak_flows += s.peak_flows;
        }
    }

    /// Takes what the workers have reported and emits every event that is ready. With
    /// `to_end`, waits for the workers to finish and emits everything.
    fn pump(&mut self, to_end: bool, out: &mut impl FnMut(FlowResult)) {
        loop {
            for w in 0..self.from.len() {
                while let Ok(b) = self.from[w].try_recv() {
                    self.take(w, b);
                }
            }
            self.emit_ready(out);
            if !to_end {
                return;
            }
            // Wait for the slowest worker.
            let Some((w, _)) = self
                .upto
                .iter()
                .enumerate()
                .filter(|&(_, &u)| u != u64::MAX)
                .min_by_key(|&(_, &u)| u)
            else {
                self.emit_ready(out);
                return;
            };
            match self.from[w].recv() {
                Ok(b) => self.take(w, b),
                // The worker died (it panicked): nothing more will come from it.
                Err(_) => self.upto[w] = u64::MAX,
            }
        }
    }

    fn emit_ready(&mut self, out: &mut impl FnMut(FlowResult)) {
        let Some(&limit) = self.upto.iter().min() else {
            return;
        };
        loop {
            let mut best: Option<((u64, u8, u64), usize)> = None;
            for (w, q) in self.queues.iter().enumerate() {
                let Some(e) = q.front() else { continue };
                let k = match e {
                    Event::Start { pos, .. } => (*pos, 1, 0),
                    Event::Done { pos, result } => {
                        let f = &result.flow;
                        let id = self.ids.get(&(f.file, f.first_frame)).copied();
                        (*pos, 0, id.unwrap_or(u64::MAX))
                    }
                };
                if k.0 <= limit && best.is_none_or(|(b, _)| k < b) {
                    best = Some((k, w));
                }
            }
            let Some((_, w)) = best else { return };
            match self.queues[w].pop_front() {
                Some(Event::Start { file, frame_no, .. }) => {
                    self.ids.insert((file, frame_no), self.next_id);
                    self.next_id += 1;
                }
                Some(Event::Done { result, .. }) => {
                    let mut r = *result;
                    let f = &r.flow;
                    if let Some(id) = self.ids.remove(&(f.file, f.first_frame)) {
                        r.flow.id = id;
                    }
                    self.verdicts.add(r.judgement.verdict);
                    out(r);
                }
                None => return,
            }
        }
    }
}

/// One run's analysis engine: everything on the calling thread, or sharded across workers.
#[derive(Debug)]
pub enum Engine<'a> {
    /// One thread.
    One(super::Analyzer<'a>),
    /// A reader on the calling thread and worker threads.
    Many(Sharded),
}

impl<'a> Engine<'a> {
    /// Creates the engine: `threads` 1 runs on the calling thread, more start that many
    /// workers.
    pub fn new(
        intel: &'a Arc<Intel>,
        rules: &'a Arc<Denylist>,
        min_confidence: Confidence,
        limits: Limits,
        threads: usize,
    ) -> Self {
        if threads <= 1 {
            Engine::One(super::Analyzer::new(
                Judge::new(intel, rules, min_confidence),
                limits,
            ))
        } else {
            Engine::Many(Sharded::new(
                Arc::clone(intel),
                Arc::clone(rules),
                min_confidence,
                limits,
                threads,
            ))
        }
    }

    /// Accounts a frame that a filter rejected.
    pub fn filtered(&mut self) {
        match self {
            Engine::One(a) => a.filtered(),
            Engine::Many(s) => s.filtered(),
        }
    }

    /// Analyses one frame of input file `file`; judged flows go to `out`.
    pub fn frame(&mut self, file: u16, frame: &Frame<'_>, out: &mut impl FnMut(FlowResult)) {
        match self {
            Engine::One(a) => a.frame(file, frame, out),
            Engine::Many(s) => s.frame(file, frame, out),
        }
    }

    /// Finishes every open flow and returns the run's counters.
    pub fn finish(&mut self, out: &mut impl FnMut(FlowResult)) -> Counters {
        match self {
            Engine::One(a) => a.finish(out),
            Engine::Many(s) => s.finish(out),
        }
    }

    /// Returns the flow table counters.
    pub fn table_stats(&self) -> &TableStats {
        match self {
            Engine::One(a) => a.table_stats(),
            Engine::Many(s) => s.table_stats(),
        }
    }
}
