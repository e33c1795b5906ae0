//! The flow table: per-flow counters and the L2 neighbours each flow crossed, with a
//! memory bound.
//!
//! ```text
//!   frame ──► FlowKey ──► HashMap<FlowKey, Flow> ──(idle or cap)──► finished flows
//!                              │
//!                              └─ sweep every `SWEEP_EVERY` of capture time:
//!                                 flows idle > idle_timeout are finished
//! ```
//!
//! Why this shape: a hash map keyed by a `Copy` key costs one hash per packet and no
//! allocation once the flow exists. Time comes from the capture, never the wall clock, so
//! replays are deterministic. When the table is full and nothing is idle, the oldest
//! eighth (by last packet) is finished at once: amortised O(1) per insert, and a flood of
//! new flows cannot grow memory past the cap. Finished flows are handed back to the caller,
//! never dropped, so an evicted flow still gets its verdict.

use super::key::{Direction, FlowKey};
use crate::capture::Timestamp;
use crate::decode::{Decoded, Mac, Tunnel};
use std::collections::HashMap;
use std::net::IpAddr;

/// How many distinct MACs, VLAN ids, MPLS labels and SRv6 segments a flow keeps.
pub const MAX_ATTRS: usize = 8;

/// How often (capture time) idle flows are swept.
const SWEEP_EVERY_NS: i64 = 1_000_000_000;

/// A small set kept in insertion order; values past [`MAX_ATTRS`] are counted, not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrSet<T: PartialEq + Copy> {
    items: Vec<T>,
    dropped: u32,
}

impl<T: PartialEq + Copy> AttrSet<T> {
    /// Adds `v` unless present; counts it when the set is full.
    pub fn insert(&mut self, v: T) {
        if self.items.contains(&v) {
            return;
        }
        if self.items.len() < MAX_ATTRS {
            self.items.push(v);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
    /// Returns the stored values in the order first seen.
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
    /// Returns how many distinct values did not fit.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

/// The first packet's view of a flow, used to report it the way it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstPacket {
    /// Inner source address (None for non-IP flows).
    pub src: Option<IpAddr>,
    /// Inner destination address.
    pub dst: Option<IpAddr>,
    /// Inner source port (0 if none).
    pub src_port: u16,
    /// Inner destination port (0 if none).
    pub dst_port: u16,
    /// The outer tunnel as first seen (source = the sending gNB or UPF).
    pub tunnel: Option<Tunnel>,
    /// Direction of the first packet relative to the key.
    pub dir_a_to_b: bool,
}

/// Per-flow state.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Sequence number in order of creation (1-based), stable for a given input.
    pub id: u64,
    /// The key.
    pub key: FlowKey,
    /// How the flow started.
    pub first: FirstPacket,
    /// Time of the first packet.
    pub first_ts: Timestamp,
    /// Time of the last packet.
    pub last_ts: Timestamp,
    /// Packets in the first packet's direction and the reverse.
    pub packets: [u64; 2],
    /// Wire bytes in the first packet's direction and the reverse.
    pub bytes: [u64; 2],
    /// Link-layer addresses seen on the flow's frames (the L2 neighbours at the capture point).
    pub macs: AttrSet<Mac>,
    /// VLAN ids seen.
    pub vlans: AttrSet<u16>,
    /// MPLS labels seen.
    pub mpls: AttrSet<u32>,
    /// SRv6 segments seen (as integers).
    pub srv6: AttrSet<u128>,
    /// Index of the input file the flow was first seen in.
    pub file: u16,
    /// Interface (index into the file's interfaces) of the first packet.
    pub iface: u32,
    /// Packets of this flow whose inner layers failed to decode.
    pub decode_errors: u64,
    /// Packets that were IP fragments.
    pub fragments: u64,
    /// Frame number of the first packet within its file.
    pub first_frame: u64,
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No packet for longer than the idle timeout.
    Idle,
    /// Finished early because the table was full.
    Evicted,
    /// Still open at the end of the input.
    EndOfInput,
}

/// Limits of the table.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most flows held at once.
    pub max_flows: usize,
    /// A flow with no packet for this long (capture time) is finished.
    pub idle_timeout_ns: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_flows: 1_000_000,
            idle_timeout_ns: 300 * 1_000_000_000,
        }
    }
}

/// Counters of the table.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TableStats {
    /// Flows created.
    pub flows: u64,
    /// Flows finished by the idle timeout.
    pub idle_expired: u64,
    /// Flows finished early because the table was full.
    pub evicted: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
}

/// Where a packet was captured.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// Input file index.
    pub file: u16,
    /// Interface index within the file.
    pub iface: u32,
    /// Frame number within the file.
    pub frame_no: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Wire length in bytes.
    pub wire_len: u32,
}

/// When idle flows are swept: every second of capture time, driven by the
/// timestamps of keyed packets. A sharded run keeps one clock in the reader and tells every
/// shard when to sweep, so shards sweep at the same packets a single table would.
#[derive(Debug, Clone, Copy)]
pub struct SweepClock {
    now: Timestamp,
    last_sweep: Timestamp,
}

impl Default for SweepClock {
    fn default() -> Self {
        Self {
            now: Timestamp(i64::MIN),
            last_sweep: Timestamp(i64::MIN),
        }
    }
}

impl SweepClock {
    /// Advances the clock to a keyed packet's time; returns `true` when a sweep is due
    /// before that packet is accounted.
    pub fn tick(&mut self, ts: Timestamp) -> bool {
        if ts > self.now {
            self.now = ts;
        }
        if self.now.0.saturating_sub(self.last_sweep.0) >= SWEEP_EVERY_NS {
            self.last_sweep = self.now;
            true
        } else {
            false
        }
    }
    /// Returns the latest capture time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }
}

/// The flow table's hasher: foldhash, randomly seeded per table (a fixed hash would let
/// crafted traffic collide keys).
type FlowHasher = foldhash::fast::RandomState;

/// The flow table.
#[derive(Debug)]
pub struct FlowTable {
    flows: HashMap<FlowKey, Flow, FlowHasher>,
    limits: Limits,
    next_id: u64,
    now: Timestamp,
    last_sweep: Timestamp,
    stats: TableStats,
}

impl FlowTable {
    /// Creates an empty table.
    pub fn new(limits: Limits) -> Self {
        Self {
            flows: HashMap::with_hasher(FlowHasher::default()),
            limits: Limits {
                max_flows: limits.max_flows.max(1),
                ..limits
            },
            next_id: 1,
            now: Timestamp(i64::MIN),
            last_sweep: Timestamp(i64::MIN),
            stats: TableStats::default(),
        }
    }

    /// Returns the number of open flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Reports whether no flow is open.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Returns the counters.
    pub fn stats(&self) -> &TableStats {
        &self.stats
    }

    /// Accounts one decoded packet. Flows that end because of it (idle sweep, eviction)
    /// are passed to `finished`. Returns `false` when the frame had nothing to key a flow on.
    pub fn update(
        &mut self,
        d: &Decoded,
        had_error: bool,
        at: Origin,
        mut finished: impl FnMut(Flow, EndReason),
    ) -> bool {
        let Some((key, dir)) = FlowKey::from_decoded(d) else {
            return false;
        };
        let mut clock = SweepClock {
            now: self.now,
            last_sweep: self.last_sweep,
        };
        if clock.tick(at.ts) {
            self.now = clock.now;
            self.last_sweep = clock.last_sweep;
            self.sweep_idle(&mut finished);
        }
        self.now = clock.now;
        self.update_keyed(key, dir, d, had_error, at, finished);
        true
    }

    /// Sets the capture time to `now` (never backwards) and finishes the flows idle
    /// longer than the timeout: what [`FlowTable::update`] does when its clock says so.
    pub fn sweep_at(&mut self, now: Timestamp, mut finished: impl FnMut(Flow, EndReason)) {
        if now > self.now {
            self.now = now;
        }
        self.last_sweep = self.now;
        self.sweep_idle(&mut finished);
    }

    /// Accounts one packet already keyed, leaving sweeps to the caller (a sharded run
    /// calls [`FlowTable::sweep_at`] when the reader's [`SweepClock`] says so). `now` is
    /// the capture time of the whole run at this packet. Returns whether a flow was
    /// created.
    #[allow(clippy::too_many_arguments)] // the parts of one packet, kept apart to avoid copies
    pub fn update_shard(
        &mut self,
        key: FlowKey,
        dir: Direction,
        d: &Decoded,
        had_error: bool,
        at: Origin,
        now: Timestamp,
        finished: impl FnMut(Flow, EndReason),
    ) -> bool {
        if now > self.now {
            self.now = now;
        }
        self.update_keyed(key, dir, d, had_error, at, finished)
    }

    fn update_keyed(
        &mut self,
        key: FlowKey,
        dir: Direction,
        d: &Decoded,
        had_error: bool,
        at: Origin,
        mut finished: impl FnMut(Flow, EndReason),
    ) -> bool {
        let mut created = false;
        // One hash lookup for a packet of a known flow (the common case).
        let flow = if let Some(f) = self.flows.get_mut(&key) {
            f
        } else {
            if self.flows.len() >= self.limits.max_flows {
                self.sweep_idle(&mut finished);
                if self.flows.len() >= self.limits.max_flows {
                    self.evict_oldest(&mut finished);
                }
            }
            let id = self.next_id;
            self.next_id += 1;
            self.stats.flows += 1;
            created = true;
            let open = self.flows.len() as u64 + 1;
            if open > self.stats.peak_flows {
                self.stats.peak_flows = open;
            }
            self.flows
                .entry(key)
                .or_insert_with(|| new_flow(id, key, dir, d, at))
        };
        let same = (dir == Direction::AToB) == flow.first.dir_a_to_b;
        let i = usize::from(!same);
        flow.packets[i] += 1;
        flow.bytes[i] += u64::from(at.wire_len);
        if at.ts > flow.last_ts {
            flow.last_ts = at.ts;
        }
        if let Some(m) = d.l2.src {
            flow.macs.insert(m);
        }
        if let Some(m) = d.l2.dst {
            flow.macs.insert(m);
        }
        for &v in d.vlans.as_slice() {
            flow.vlans.insert(v);
        }
        for &l in d.mpls.as_slice() {
            flow.mpls.insert(l);
        }
        for &s in d.srv6_segments.as_slice() {
            flow.srv6.insert(s);
        }
        if had_error {
            flow.decode_errors += 1;
        }
        if d.ip.is_some_and(|ip| ip.fragment.is_some()) {
            flow.fragments += 1;
        }
        created
    }

    /// Finishes every open flow, in creation order.
    pub fn drain(&mut self, mut finished: impl FnMut(Flow, EndReason)) {
        let mut all: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        all.sort_unstable_by_key(|f| f.id);
        for f in all {
            finished(f, EndReason::EndOfInput);
        }
    }

    fn sweep_idle(&mut self, finished: &mut impl FnMut(Flow, EndReason)) {
        let deadline = self.now.0.saturating_sub(self.limits.idle_timeout_ns);
        let idle: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, f)| f.last_ts.0 < deadline)
            .map(|(k, _)| *k)
            .collect();
        self.finish_keys(idle, EndReason::Idle, finished);
    }

    fn evict_oldest(&mut self, finished: &mut impl FnMut(Flow, EndReason)) {
        let n = (self.flows.len() / 8).max(1);
        let mut by_age: Vec<(Timestamp, u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (f.last_ts, f.id, *k))
            .collect();
        by_age.select_nth_unstable(n - 1);
        by_age.truncate(n);
        let keys = by_age.into_iter().map(|(_, _, k)| k).collect();
        self.finish_keys(keys, EndReason::Evicted, finished);
    }

    fn finish_keys(
        &mut self,
        keys: Vec<FlowKey>,
        why: EndReason,
        finished: &mut impl FnMut(Flow, EndReason),
    ) {
        let mut out: Vec<Flow> = keys.iter().filter_map(|k| self.flows.remove(k)).collect();
        out.sort_unstable_by_key(|f| f.id);
        for f in out {
            match why {
                EndReason::Idle => self.stats.idle_expired += 1,
                EndReason::Evicted => self.stats.evicted += 1,
                EndReason::EndOfInput => {}
            }
            finished(f, why);
        }
    }
}

fn new_flow(id: u64, key: FlowKey, dir: Direction, d: &Decoded, at: Origin) -> Flow {
    let (src_port, dst_port) = d.transport.ports();
    Flow {
        id,
        key,
        first: FirstPacket {
            src: d.ip.map(|ip| ip.src),
            dst: d.ip.map(|ip| ip.dst),
            src_port,
            dst_port,
            tunnel: d.tunnel,
            dir_a_to_b: dir == Direction::AToB,
        },
        first_ts: at.ts,
        last_ts: at.ts,
        packets: [0; 2],
        bytes: [0; 2],
        macs: AttrSet::default(),
        vlans: AttrSet::default(),
        mpls: AttrSet::default(),
        srv6: AttrSet::default(),
        file: at.file,
        iface: at.iface,
        decode_errors: 0,
        fragments: 0,
        first_frame: at.frame_no,
    }
}
