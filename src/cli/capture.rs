//! `cleanpath capture -i IFACE …`: a long-running sensor on a span port (see `docs/live.md`).
//!
//! ```text
//!  main thread: open rings (root) ─► drop privileges ─► spawn workers ─► write JSON lines,
//!               status, signals, --duration                ▲ flow records, counters
//!  worker k:    rings[iface] (fanout member k) ─► Analyzer ┘ (its own flow-table shard)
//! ```
//!
//! Every worker runs the same [`Analyzer`] as `analyze`; the fanout program
//! ([`crate::capture::live::fanout`]) sends both directions of every flow to one worker, so
//! N workers give the same flows as one.

use super::args::{AnalyzeArgs, FailOn, MinConfidence};
use super::run::{Outcome, load_intel, load_rules, sensor_name};
use crate::capture::live::privdrop::{self, Credentials};
use crate::capture::live::{self, Interface, KernelStats, Ring, RingConfig, fanout};
use crate::capture::{Frame, LinkType, Timestamp};
use crate::flow::{Limits, TableStats};
use crate::intel::Intel;
use crate::pipeline::{Analyzer, AnalyzerState, Counters, FlowResult};
use crate::policy::verdict::{Judge, Verdict};
use crate::policy::{Confidence, Denylist};
use crate::report::{FlowRecord, InputSummary, InterfaceSummary, Summary};
use crate::sink::{InputFile, JsonlSink, RunInfo, Sink};
use anyhow::{Context, Result, bail};
use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Arguments of `capture`.
#[derive(Debug, clap::Args)]
pub struct CaptureArgs {
    /// Interface to capture on (Linux AF_PACKET ring). Repeatable.
    #[arg(short, long = "interface", value_name = "IFACE", required = true)]
    pub interfaces: Vec<String>,

    /// Worker threads, each with its own flow-table shard (0 = number of cores).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub workers: usize,

    /// Write JSON lines to FILE (appended) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write only VIOLATION and UNKNOWN flows (the summary still counts every flow).
    #[arg(long)]
    pub findings_only: bool,

    /// Put the interfaces in promiscuous mode.
    #[arg(long)]
    pub promisc: bool,

    /// After opening the capture sockets, switch to this user (name or uid) before reading a packet.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// Stop after this many packets (over all interfaces).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Ring size per socket in MiB (one socket per interface and worker).
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    pub ring_mb: u32,

    /// Seconds between status lines on standard error and `stats` JSON lines (0 = none).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub stats_interval: f64,

    /// Add the rules of a denylist file (TSV, see denylists/README.md). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub denylist: Vec<PathBuf>,

    /// Do not load the bundled denylists (use only --denylist files).
    #[arg(long)]
    pub no_bundled_denylist: bool,

    /// Use these IP-to-ASN CSV files instead of the bundled tables. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub asn_table: Vec<PathBuf>,

    /// Use the IEEE registry CSVs in DIR instead of the bundled ones.
    #[arg(long, value_name = "DIR")]
    pub ieee_dir: Option<PathBuf>,

    /// Minimum rule confidence that makes a flow VIOLATION.
    #[arg(long, value_enum, default_value_t = MinConfidence::Medium)]
    pub min_confidence: MinConfidence,

    /// Most flows held in memory at once (over all workers).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_flows: usize,

    /// Finish a flow after this many seconds without a packet.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub idle_timeout: u64,

    /// Also write the run, every flow (not only findings), the evidence and the equipment
    /// learned to a store: `sqlite:PATH` or `postgres://USER@HOST[:PORT]/DATABASE`. Opened
    /// before privileges are dropped. The password comes from PGPASSWORD or
    /// --store-password-file, never the URL.
    #[arg(long, value_name = "URL", env = "CLEANPATH_STORE")]
    pub store: Option<String>,

    /// Read the PostgreSQL store password from the first line of FILE.
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_password_file: Option<PathBuf>,

    /// Sensor name recorded with the run (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub sensor: Option<String>,

    /// Site recorded with the run, for fleet reports.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
}

impl CaptureArgs {
    /// The table and rule options in the shape `analyze` loads them from.
    fn tables(&self) -> AnalyzeArgs {
        AnalyzeArgs {
            files: Vec::new(),
            json: true,
            output: None,
            denylist: self.denylist.clone(),
            no_bundled_denylist: self.no_bundled_denylist,
            asn_table: self.asn_table.clone(),
            ieee_dir: self.ieee_dir.clone(),
            min_confidence: self.min_confidence,
            fail_on: FailOn::Violation,
            filter: None,
            max_flows: self.max_flows,
            idle_timeout: self.idle_timeout,
            strict: false,
            quiet: true,
            ipfix: Vec::new(),
            ipfix_domain: 0,
            ipfix_pen: crate::sink::ipfix::encode::DOCUMENTATION_PEN,
            store: None,
            store_password_file: None,
            sensor: None,
            site: None,
            intel_db: None,
            threads: 1,
        }
    }
}

/// Live counters a worker publishes for the status line.
#[derive(Debug, Default)]
struct WorkerStats {
    packets: AtomicU64,
    decode_errors: AtomicU64,
    evicted: AtomicU64,
    ring_in_use: AtomicU64,
    ring_peak: AtomicU64,
    /// Per interface: received, drops, freezes.
    kernel: Vec<[AtomicU64; 3]>,
}

/// State shared by the main thread and the workers.
struct Shared {
    /// The rules and tables in force; replaced whole on SIGHUP.
    tables: Mutex<Arc<Tables>>,
    /// Bumped after `tables` is replaced.
    generation: AtomicU64,
    stop: AtomicBool,
    /// Frames taken so far (for `--count`).
    taken: AtomicU64,
    limit: u64,
    workers: Vec<WorkerStats>,
}

impl Shared {
    fn tables(&self) -> Arc<Tables> {
        match self.tables.lock() {
            Ok(t) => Arc::clone(&t),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn set_tables(&self, t: Tables) {
        let t = Arc::new(t);
        match self.tables.lock() {
            Ok(mut g) => *g = t,
            Err(poisoned) => *poisoned.into_inner() = t,
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Rules and tables, loaded together so that a reload swaps them atomically.
struct Tables {
    intel: Intel,
    intel_meta: crate::intel::db::Meta,
    rules: Denylist,
    denylist_names: Vec<String>,
    denylist_sha256: Vec<crate::report::SourceHash>,
    generation: u64,
}

impl Tables {
    fn load(a: &CaptureArgs, generation: u64) -> Result<Self> {
        let args = a.tables();
        let (rules, denylist_names, denylist_sha256) = load_rules(&args)?;
        let (intel, intel_meta) = load_intel(&args)?;
        Ok(Self {
            intel,
            intel_meta,
            rules,
            denylist_names,
            denylist_sha256,
            generation,
        })
    }
}

/// What a worker sends to the main thread.
enum Msg {
    Flow(Box<FlowRecord>),
    Done(Box<WorkerEnd>),
    Failed(String),
}

struct WorkerEnd {
    counters: Counters,
    table: TableStats,
    kernel: Vec<KernelStats>,
}

/// Per-interface totals in the final `capture` line.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InterfaceCounters {
    /// Interface name.
    pub name: String,
    /// Kernel counters summed over the workers' sockets.
    #[serde(flatten)]
    pub kernel: KernelStats,
}

/// The `{"type":"capture"}` line: how complete the capture was.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CaptureLine {
    /// `capture` for the final line, `stats` for the periodic ones.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds since capture started (wall clock).
    pub elapsed_s: f64,
    /// Kernel counters per interface.
    pub interfaces: Vec<InterfaceCounters>,
    /// Packets analysed per worker.
    pub worker_packets: Vec<u64>,
    /// Packets dropped by the kernel (ring full) on all interfaces.
    pub kernel_drops: u64,
    /// Ring blocks waiting in user space now, and the most seen at once (one ring per
    /// interface and worker).
    pub ring_blocks_in_use: u64,
    /// Highest ring occupancy seen, in blocks.
    pub ring_blocks_peak: u64,
    /// Blocks per ring.
    pub ring_blocks: u64,
    /// Frames the kernel delivered that were not analysed (beyond `--count`).
    pub unanalysed: u64,
    /// Frames with a decode error.
    pub decode_errors: u64,
    /// Flows finished early because a flow-table shard was full.
    pub evicted_flows: u64,
    /// Why the capture stopped (final line only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// The credentials packets were parsed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
}

/// A writer shared by the JSON lines sink and the capture's own lines.
#[derive(Clone)]
struct SharedOut(Rc<RefCell<Box<dyn Write>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

impl SharedOut {
    fn line<T: serde::Serialize>(&self, v: &T) -> Result<()> {
        let mut w = self.0.borrow_mut();
        serde_json::to_writer(&mut *w, v)?;
        w.write_all(b"\n")?;
        w.flush()?;
        Ok(())
    }
}

fn min_conf(m: MinConfidence) -> Confidence {
    match m {
        MinConfidence::Low => Confidence::Low,
        MinConfidence::Medium => Confidence::Medium,
        MinConfidence::High => Confidence::High,
    }
}

/// Runs `cleanpath capture`.
///
/// # Errors
/// Bad arguments, tables that do not load, sockets that cannot be opened, a failed
/// privilege drop, or an output that cannot be written.
pub(super) fn capture(a: &CaptureArgs) -> Result<Outcome> {
    let ifaces: Vec<Interface> = a
        .interfaces
        .iter()
        .map(|n| Interface::lookup(n))
        .collect::<io::Result<_>>()?;
    if ifaces.len() > usize::from(u16::MAX) {
        bail!("too many interfaces");
    }
    let workers = match a.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let user = match &a.user {
        None => None,
        Some(u) => {
            let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
            Some(
                privdrop::lookup_user(&passwd, u)
                    .with_context(|| format!("--user {u}: no such user in /etc/passwd"))?,
            )
        }
    };
    let block_size: u32 = 1 << 20;
    let ring_cfg = RingConfig {
        block_size,
        block_count: a.ring_mb.max(1),
        retire_ms: 20,
        promisc: a.promisc,
    };

    // Tables first (they may be readable by root only), then the sockets.
    let tables = Tables::load(a, 0)?;
    let min_confidence = min_conf(a.min_confidence);

    // rings[w][i]: worker w's socket on interface i.
    let mut rings: Vec<Vec<Ring>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, iface) in ifaces.iter().enumerate() {
        let group = fanout_group(iface.ifindex, i);
        for (w, wr) in rings.iter_mut().enumerate() {
            let fan = (workers > 1).then(|| fanout::fanout_arg(group));
            let r = Ring::open(iface.ifindex, &ring_cfg, fan).with_context(|| {
                format!(
                    "opening a capture ring on {} (worker {w}; needs root or CAP_NET_RAW)",
                    iface.name
                )
            })?;
            wr.push(r);
        }
        if workers > 1 {
            rings[0][i]
                .set_fanout_program(&fanout::symmetric_program())
                .with_context(|| format!("{}: setting the fanout program", iface.name))?;
        }
    }
    live::install_signal_handlers().context("installing signal handlers")?;

    let out: Box<dyn Write> = match &a.output {
        None => Box::new(io::LineWriter::new(io::stdout())),
        Some(p) => Box::new(io::LineWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("opening {}", p.display()))?,
        )),
    };

    // The store is opened while still privileged (its file or socket may need it).
    let mut store = match &a.store {
        Some(url) => Some(
            crate::store::StoreSink::open(
                url,
                &crate::store::Credentials {
                    password_file: a.store_password_file.clone(),
                },
            )
            .context("opening the store (--store)")?,
        ),
        None => None,
    };
    // Privileges go before the first packet is parsed.
    let credentials = match user {
        Some(u) => Some(privdrop::drop_to(u).context("dropping privileges")?),
        None => {
            if privdrop::is_root() {
                eprintln!(
                    "cleanpath: warning: parsing packets as root; use --user to drop privileges"
                );
            }
            Credentials::current().ok()
        }
    };

    let shared = Shared {
        tables: Mutex::new(Arc::new(tables)),
        generation: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        taken: AtomicU64::new(0),
        limit: a.count.unwrap_or(u64::MAX),
        workers: (0..workers)
            .map(|_| WorkerStats {
                kernel: ifaces.iter().map(|_| Default::default()).collect(),
                ..Default::default()
            })
            .collect(),
    };
    let limits = Limits {
        max_flows: (a.max_flows / workers).max(1),
        idle_timeout_ns: i64::try_from(a.idle_timeout)
            .unwrap_or(i64::MAX / 1_000_000_000)
            .saturating_mul(1_000_000_000),
    };

    let out = SharedOut(Rc::new(RefCell::new(out)));
    let mut sink = JsonlSink::new(out.clone());
    let names: Vec<String> = ifaces.iter().map(|i| i.name.clone()).collect();
    let run = RunInfo {
        sensor: a.sensor.clone().unwrap_or_else(sensor_name),
        site: a.site.clone(),
        run_id: crate::sink::new_run_id(),
        started_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        inputs: names
            .iter()
            .map(|n| InputFile {
                path: format!("live:{n}"),
                bytes: None,
                sha256: None,
            })
            .collect(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    sink.begin(&run)?;
    if let Some(st) = store.as_mut() {
        st.begin(&run)?;
    }

    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<Msg>();
    let ring_blocks = u64::from(ring_cfg.block_count);
    let outcome = std::thread::scope(|s| -> Result<_> {
        for (w, wr) in rings.into_iter().enumerate() {
            let worker = Worker {
                w,
                rings: wr,
                ifaces: &ifaces,
                names: &names,
                shared: &shared,
                tx: tx.clone(),
                frame_no: vec![0; ifaces.len()],
                vbuf: Vec::with_capacity(70_000),
                stop_seen: None,
                last_stats: Instant::now(),
            };
            let (shared, tx) = (&shared, tx.clone());
            std::thread::Builder::new()
                .name(format!("capture-{w}"))
                .spawn_scoped(s, move || {
                    if let Err(e) = worker.run(min_confidence, limits) {
                        shared.stop.store(true, Ordering::SeqCst);
                        let _ = tx.send(Msg::Failed(format!("worker {w}: {e}")));
                    }
                })
                .context("starting a worker thread")?;
        }
        drop(tx);
        eprintln!(
            "cleanpath: capturing on {} with {workers} worker(s)",
            names.join(", ")
        );
        main_loop(
            a,
            &shared,
            &rx,
            &mut sink,
            store.as_mut().map(|st| st as &mut dyn Sink),
            &out,
            &names,
            &ifaces,
            started,
            ring_blocks,
        )
    });
    let (ends, stopped_by, failures) = outcome?;

    // Totals.
    let mut counters = Counters::default();
    let mut table = TableStats::default();
    let mut kernel = vec![KernelStats::default(); ifaces.len()];
    for e in &ends {
        merge_counters(&mut counters, &e.counters);
        table.flows += e.table.flows;
        table.idle_expired += e.table.idle_expired;
        table.evicted += e.table.evicted;
        table.peak_flows += e.table.peak_flows;
        for (k, ek) in kernel.iter_mut().zip(&e.kernel) {
            k.received += ek.received;
            k.drops += ek.drops;
            k.freezes += ek.freezes;
        }
    }
    let mut line = status(&shared, &names, started, ring_blocks, "capture");
    line.interfaces = names
        .iter()
        .zip(&kernel)
        .map(|(n, k)| InterfaceCounters {
            name: n.clone(),
            kernel: *k,
        })
        .collect();
    line.kernel_drops = kernel.iter().map(|k| k.drops).sum();
    line.decode_errors = counters.decode_errors.values().sum();
    line.unanalysed = kernel
        .iter()
        .map(|k| k.received)
        .sum::<u64>()
        .saturating_sub(counters.frames);
    line.stopped_by = Some(stopped_by);
    line.credentials = credentials;
    out.line(&line)?;
    let drops = line.kernel_drops;
    let tables = shared.tables();
    let summary = Summary {
        kind: "summary".into(),
        complete: drops == 0 && failures.is_empty() && counters.frames_without_flow == 0,
        files: ifaces
            .iter()
            .zip(&kernel)
            .map(|(i, k)| InputSummary {
                path: format!("live:{}", i.name),
                format: None,
                gzip: false,
                read: crate::capture::ReadStats {
                    frames: k.received,
                    ..Default::default()
                },
                interfaces: vec![InterfaceSummary {
                    name: Some(i.name.clone()),
                    link_type: i.link.to_string(),
                }],
                complete: k.drops == 0,
                error: (k.drops > 0)
                    .then(|| format!("the kernel dropped {} packets (ring full)", k.drops)),
            })
            .collect(),
        flow_table: table,
        provenance: super::run::provenance(
            &tables.intel,
            &tables.intel_meta,
            &tables.rules,
            tables.denylist_names.clone(),
            tables.denylist_sha256.clone(),
            min_confidence,
        ),
        counters,
    };
    sink.finish(&summary)?;
    if let Some(st) = store.as_mut() {
        st.finish(&summary)?;
    }
    if drops > 0 {
        eprintln!("cleanpath: warning: the kernel dropped {drops} packets: results are INCOMPLETE");
    }
    for f in &failures {
        eprintln!("cleanpath: error: {f}");
    }
    let v = summary.counters.verdicts;
    Ok(if !failures.is_empty() {
        Outcome::InputError
    } else if v.violation > 0 {
        Outcome::Failed(v.violation)
    } else {
        Outcome::Clean
    })
}

/// A fanout group id unique to this process and interface.
fn fanout_group(ifindex: i32, i: usize) -> u16 {
    let pid = std::process::id();
    ((pid.wrapping_mul(31) ^ (ifindex as u32).wrapping_mul(7) ^ i as u32) & 0xffff) as u16
}

fn merge_counters(into: &mut Counters, c: &Counters) {
    into.frames += c.frames;
    into.wire_bytes += c.wire_bytes;
    for (k, v) in &c.link_types {
        *into.link_types.entry(k.clone()).or_insert(0) += v;
    }
    for (k, v) in &c.unsupported_link_types {
        *into.unsupported_link_types.entry(*k).or_insert(0) += v;
    }
    for (k, v) in &c.decode_errors {
        *into.decode_errors.entry(k.clone()).or_insert(0) += v;
    }
    into.frames_without_flow += c.frames_without_flow;
    into.filtered_out += c.filtered_out;
    into.verdicts.clean += c.verdicts.clean;
    into.verdicts.unknown += c.verdicts.unknown;
    into.verdicts.violation += c.verdicts.violation;
}

/// Builds a status from the workers' live counters.
fn status(
    shared: &Shared,
    names: &[String],
    started: Instant,
    ring_blocks: u64,
    kind: &str,
) -> CaptureLine {
    let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let interfaces: Vec<InterfaceCounters> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut k = KernelStats::default();
            for w in &shared.workers {
                if let Some(c) = w.kernel.get(i) {
                    k.received += ld(&c[0]);
                    k.drops += ld(&c[1]);
                    k.freezes += ld(&c[2]);
                }
            }
            InterfaceCounters {
                name: n.clone(),
                kernel: k,
            }
        })
        .collect();
    CaptureLine {
        kind: kind.into(),
        elapsed_s: started.elapsed().as_secs_f64(),
        kernel_drops: interfaces.iter().map(|i| i.kernel.drops).sum(),
        interfaces,
        worker_packets: shared.workers.iter().map(|w| ld(&w.packets)).collect(),
        ring_blocks_in_use: shared.workers.iter().map(|w| ld(&w.ring_in_use)).sum(),
        ring_blocks_peak: shared
            .workers
            .iter()
            .map(|w| ld(&w.ring_peak))
            .max()
            .unwrap_or(0),
        ring_blocks,
        unanalysed: 0,
        decode_errors: shared.workers.iter().map(|w| ld(&w.decode_errors)).sum(),
        evicted_flows: shared.workers.iter().map(|w| ld(&w.evicted)).sum(),
        stopped_by: None,
        credentials: None,
    }
}

type LoopEnd = (Vec<WorkerEnd>, String, Vec<String>);

/// Writes flows as they arrive, prints status, and handles signals and `--duration`
/// until every worker has finished.
#[allow(clippy::too_many_arguments)]
fn main_loop(
    a: &CaptureArgs,
    shared: &Shared,
    rx: &mpsc::Receiver<Msg>,
    sink: &mut JsonlSink<SharedOut>,
    mut store: Option<&mut dyn Sink>,
    out: &SharedOut,
    names: &[String],
    ifaces: &[Interface],
    started: Instant,
    ring_blocks: u64,
) -> Result<LoopEnd> {
    let mut ends = Vec::new();
    let mut failures = Vec::new();
    let mut stopped_by: Option<String> = None;
    let deadline = a
        .duration
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| started + Duration::from_secs_f64(d));
    let interval = (a.stats_interval > 0.0 && a.stats_interval.is_finite())
        .then(|| Duration::from_secs_f64(a.stats_interval));
    let mut next_status = interval.map(|i| started + i);
    let tty = io::stderr().is_terminal();
    let mut states: Vec<String> = ifaces.iter().map(Interface::operstate).collect();
    let stop = |why: &str, stopped_by: &mut Option<String>| {
        if stopped_by.is_none() {
            *stopped_by = Some(why.to_string());
        }
        shared.stop.store(true, Ordering::SeqCst);
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Msg::Flow(rec)) => {
                if let Some(st) = store.as_deref_mut() {
                    st.flow(&rec)?;
                }
                if !a.findings_only || rec.verdict != Verdict::Clean {
                    sink.flow(&rec)?;
                }
            }
            Ok(Msg::Done(e)) => ends.push(*e),
            Ok(Msg::Failed(e)) => {
                failures.push(e);
                stop("error", &mut stopped_by);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let sig = live::take_signals();
        if sig.stop {
            stop("signal", &mut stopped_by);
        }
        if sig.reload && stopped_by.is_none() {
            // Workers keep capturing with the old tables while the new ones load.
            let generation = shared.generation.load(Ordering::SeqCst) + 1;
            match Tables::load(a, generation) {
                Ok(t) => {
                    eprintln!(
                        "cleanpath: SIGHUP: reloaded {} rules ({}), {} AS ranges, {} IEEE assignments",
                        t.rules.rules().len(),
                        t.denylist_names.join(", "),
                        t.intel.asn.len().0 + t.intel.asn.len().1,
                        t.intel.oui.len()
                    );
                    shared.set_tables(t);
                }
                Err(e) => {
                    eprintln!("cleanpath: SIGHUP: reload failed, keeping the rules in force: {e:#}")
                }
            }
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            stop("duration", &mut stopped_by);
        }
        if shared.taken.load(Ordering::Relaxed) >= shared.limit {
            stop("count", &mut stopped_by);
        }
        for (i, s) in states.iter_mut().enumerate() {
            let st = ifaces[i].operstate();
            if st != *s {
                eprintln!("cleanpath: interface {} is {st} (was {s})", ifaces[i].name);
                *s = st;
            }
        }
        if let (Some(at), Some(iv)) = (next_status, interval) {
            if now >= at && stopped_by.is_none() {
                next_status = Some(at + iv);
                let st = status(shared, names, started, ring_blocks, "stats");
                let line = format!(
                    "cleanpath: {:.0}s packets {:?} kernel drops {} ring {}/{} (peak {}) decode errors {} evicted {}",
                    st.elapsed_s,
                    st.worker_packets,
                    st.kernel_drops,
                    st.ring_blocks_in_use,
                    ring_blocks,
                    st.ring_blocks_peak,
                    st.decode_errors,
                    st.evicted_flows
                );
                if tty {
                    eprint!("\r{line}\x1b[K");
                } else {
                    eprintln!("{line}");
                }
                out.line(&st)?;
            }
        }
    }
    if tty && interval.is_some() {
        eprintln!();
    }
    Ok((ends, stopped_by.unwrap_or_else(|| "error".into()), failures))
}

/// What a worker holds across table generations.
struct Worker<'s> {
    w: usize,
    rings: Vec<Ring>,
    ifaces: &'s [Interface],
    names: &'s [String],
    shared: &'s Shared,
    tx: mpsc::Sender<Msg>,
    frame_no: Vec<u64>,
    vbuf: Vec<u8>,
    stop_seen: Option<Instant>,
    last_stats: Instant,
}

impl Worker<'_> {
    /// Reads the rings, runs the pipeline, sends flows and finally its counters. Between
    /// blocks it picks up reloaded tables (SIGHUP) and carries its flows over to them.
    fn run(mut self, min_confidence: Confidence, limits: Limits) -> io::Result<()> {
        for r in &mut self.rings {
            r.start(None)?;
        }
        let mut state = AnalyzerState::new(limits);
        loop {
            let tables = self.shared.tables();
            let judge = Judge::new(&tables.intel, &tables.rules, min_confidence);
            let mut analyzer = Analyzer::with_state(judge, state);
            if self.read_until_stop_or_reload(&mut analyzer, tables.generation)? {
                return self.finish(analyzer);
            }
            state = analyzer.into_state();
        }
    }

    fn emit(&self) -> impl FnMut(FlowResult) + '_ {
        |r: FlowResult| {
            let file = self
                .names
                .get(usize::from(r.flow.file))
                .map_or("?", String::as_str);
            let _ = self.tx.send(Msg::Flow(Box::new(FlowRecord::new(&r, file))));
        }
    }

    /// Returns `Ok(true)` when stopped (rings drained), `Ok(false)` when new tables are in.
    fn read_until_stop_or_reload(
        &mut self,
        analyzer: &mut Analyzer<'_>,
        generation: u64,
    ) -> io::Result<bool> {
        let shared = self.shared;
        let stats = &shared.workers[self.w];
        let timeout_ms = i32::try_from(50 / self.rings.len().max(1))
            .unwrap_or(1)
            .max(1);
        loop {
            let mut got = 0;
            {
                let Self {
                    rings,
                    ifaces,
                    names,
                    tx,
                    frame_no,
                    vbuf,
                    ..
                } = self;
                let mut emit = |r: FlowResult| {
                    let file = names
                        .get(usize::from(r.flow.file))
                        .map_or("?", String::as_str);
                    let _ = tx.send(Msg::Flow(Box::new(FlowRecord::new(&r, file))));
                };
                for (i, ring) in rings.iter_mut().enumerate() {
                    let link = ifaces[i].link;
                    let fno = &mut frame_no[i];
                    got += ring.read_block(|raw| {
                        if shared.taken.fetch_add(1, Ordering::Relaxed) >= shared.limit {
                            return;
                        }
                        *fno += 1;
                        let (data, wire) = match raw.vlan {
                            Some((tpid, tci)) if link == LinkType::ETHERNET => (
                                live::reinsert_vlan(vbuf, raw.data, tpid, tci),
                                raw.wire_len + 4,
                            ),
                            _ => (raw.data, raw.wire_len),
                        };
                        let frame = Frame {
                            frame_no: *fno,
                            ts: Timestamp(raw.ts_ns),
                            link,
                            iface: 0,
                            orig_len_bytes: wire,
                            data,
                        };
                        analyzer.frame(i as u16, &frame, &mut emit);
                        stats.packets.fetch_add(1, Ordering::Relaxed);
                    });
                }
            }
            let stopping = shared.stop.load(Ordering::SeqCst);
            if stopping && self.stop_seen.is_none() {
                self.stop_seen = Some(Instant::now());
                // No new packets from here on; what is in the ring is still read.
                for r in &mut self.rings {
                    r.pause()?;
                }
            }
            if self.last_stats.elapsed() >= Duration::from_millis(250) || stopping {
                self.last_stats = Instant::now();
                publish(stats, &mut self.rings, analyzer)?;
            }
            if got > 0 {
                continue;
            }
            // After a stop, wait for the kernel to retire partly filled blocks (20 ms).
            if self
                .stop_seen
                .is_some_and(|t| t.elapsed() >= Duration::from_millis(100))
            {
                return Ok(true);
            }
            if shared.generation.load(Ordering::SeqCst) != generation {
                return Ok(false);
            }
            for (i, ring) in self.rings.iter().enumerate() {
                if let Err(e) = ring.wait(timeout_ms) {
                    eprintln!("cleanpath: {}: {e}; still listening", self.ifaces[i].name);
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Flushes every open flow and sends the worker's counters.
    fn finish(mut self, mut analyzer: Analyzer<'_>) -> io::Result<()> {
        let stats = &self.shared.workers[self.w];
        publish(stats, &mut self.rings, &analyzer)?;
        let counters = analyzer.finish(&mut self.emit());
        let kernel = self
            .rings
            .iter_mut()
            .map(Ring::kernel_stats)
            .collect::<io::Result<Vec<_>>>()?;
        let table = analyzer.table_stats().clone();
        let _ = self.tx.send(Msg::Done(Box::new(WorkerEnd {
            counters,
            table,
            kernel,
        })));
        Ok(())
    }
}

fn publish(stats: &WorkerStats, rings: &mut [Ring], analyzer: &Analyzer<'_>) -> io::Result<()> {
    let mut in_use = 0;
    for (i, r) in rings.iter_mut().enumerate() {
        in_use += r.blocks_in_use() as u64;
        let k = r.kernel_stats()?;
        if let Some(c) = stats.kernel.get(i) {
            c[0].store(k.received, Ordering::Relaxed);
            c[1].store(k.drops, Ordering::Relaxed);
            c[2].store(k.freezes, Ordering::Relaxed);
        }
    }
    stats.ring_in_use.store(in_use, Ordering::Relaxed);
    stats.ring_peak.fetch_max(in_use, Ordering::Relaxed);
    stats
        .evicted
        .store(analyzer.table_stats().evicted, Ordering::Relaxed);
    stats
        .decode_errors
        .store(analyzer.decode_error_frames(), Ordering::Relaxed);
    Ok(())
}
