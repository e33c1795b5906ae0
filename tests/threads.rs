//! `analyze --threads N`: the sharded pipeline gives every flow the same number, record and
//! verdict as one thread, on every real fixture and on a generated 5G mix, with and
//! without idle-timeout sweeps.

mod common;

use cleanpath::capture::FileReader;
use cleanpath::flow::Limits;
use cleanpath::pipeline::{Counters, FlowResult, Sharded};
use cleanpath::policy::Confidence;
use cleanpath::report::FlowRecord;
use cleanpath::synth::mix::{self, MixConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn shared() -> (
    Arc<cleanpath::intel::Intel>,
    Arc<cleanpath::policy::Denylist>,
) {
    static S: OnceLock<(
        Arc<cleanpath::intel::Intel>,
        Arc<cleanpath::policy::Denylist>,
    )> = OnceLock::new();
    S.get_or_init(|| {
        (
            Arc::new(cleanpath::intel::Intel::bundled().expect("bundled intel loads")),
            Arc::new(cleanpath::policy::Denylist::bundled().expect("bundled denylist parses")),
        )
    })
    .clone()
}

struct Out {
    /// Records by flow number, as JSON.
    flows: BTreeMap<u64, String>,
    counters: Counters,
    table: cleanpath::flow::TableStats,
}

fn records(flows: &[FlowResult]) -> BTreeMap<u64, String> {
    let mut m = BTreeMap::new();
    for r in flows {
        let json = serde_json::to_string(&FlowRecord::new(r, "f")).expect("record serialises");
        assert!(
            m.insert(r.flow.id, json).is_none(),
            "flow id {} twice",
            r.flow.id
        );
    }
    m
}

fn one_thread(path: &Path, limits: Limits) -> Option<Out> {
    let reader = FileReader::open(path).ok()?;
    let run = common::analyze_with(reader, limits);
    Some(Out {
        flows: records(&run.flows),
        counters: run.counters,
        table: run.table,
    })
}

fn sharded(path: &Path, limits: Limits, workers: usize) -> Option<Out> {
    let mut reader = FileReader::open(path).ok()?;
    let (intel, rules) = shared();
    let mut s = Sharded::new(intel, rules, Confidence::Medium, limits, workers);
    let mut flows = Vec::new();
    while let Ok(Some(f)) = reader.next_frame() {
        s.frame(0, &f, &mut |r| flows.push(r));
    }
    let counters = s.finish(&mut |r| flows.push(r));
    Some(Out {
        flows: records(&flows),
        counters,
        table: s.table_stats().clone(),
    })
}

fn assert_same(path: &Path, limits: Limits, workers: usize) -> usize {
    let Some(a) = one_thread(path, limits) else {
        assert!(sharded(path, limits, workers).is_none());
        return 0;
    };
    let b = sharded(path, limits, workers).expect("opens like one thread");
    let name = path.display();
    assert_eq!(a.flows.len(), b.flows.len(), "{name}: flow count");
    for (id, rec) in &a.flows {
        assert_eq!(Some(rec), b.flows.get(id), "{name}: flow {id}");
    }
    assert_eq!(
        serde_json::to_string(&a.counters).expect("counters serialise"),
        serde_json::to_string(&b.counters).expect("counters serialise"),
        "{name}: counters"
    );
    assert_eq!(a.table.flows, b.table.flows, "{name}");
    assert_eq!(a.table.idle_expired, b.table.idle_expired, "{name}");
    assert_eq!(a.table.evicted, b.table.evicted, "{name}");
    a.flows.len()
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::fixture(""))
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.contains(".pcap") || n.contains(".cap")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_gives_the_same_flows_with_two_and_three_workers() {
    let files = fixtures();
    assert!(files.len() > 100, "{} fixtures", files.len());
    let mut flows = 0;
    for f in &files {
        flows += assert_same(f, Limits::default(), 2);
        assert_same(f, Limits::default(), 3);
    }
    assert!(flows > 500, "{flows} flows compared");
}

#[test]
fn idle_sweeps_happen_at_the_same_packets_as_one_thread() {
    // A one-second idle timeout finishes flows mid-file in the longer captures, and a
    // flow that comes back after it is a new flow: both runs must agree on all of it.
    let limits = Limits {
        idle_timeout_ns: 1_000_000_000,
        ..Limits::default()
    };
    let mut expired = 0;
    for f in fixtures() {
        assert_same(&f, limits, 2);
        if let Some(a) = one_thread(&f, limits) {
            expired += a.table.idle_expired;
        }
    }
    assert!(expired > 100, "only {expired} idle expiries exercised");
}

#[test]
fn generated_mix_gives_the_same_flows_and_the_ground_truth_totals() {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    let cfg = MixConfig {
        packets: 200_000,
        flows: 30_000,
        seed: 11,
        snaplen: 200,
        ..MixConfig::default()
    };
    let stats = mix::generate(
        &cfg,
        std::io::BufWriter::new(file.as_file()),
        std::io::sink(),
    )
    .expect("generates");
    let n = assert_same(file.path(), Limits::default(), 2);
    assert_eq!(n as u64, stats.flows);
    let b = sharded(file.path(), Limits::default(), 2).expect("opens");
    let v = b.counters.verdicts;
    assert_eq!([v.clean, v.unknown, v.violation], stats.verdicts);
}
