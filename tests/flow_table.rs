//! The flow table on real captures: a memory cap and an idle timeout split flows early
//! but lose no packet, and every finished flow still gets its verdict.

mod common;

use cleanpath::capture::FileReader;
use cleanpath::flow::Limits;
use common::{analyze_with, fixture};

fn packets(run: &common::Run) -> u64 {
    run.flows
        .iter()
        .map(|r| r.flow.packets[0] + r.flow.packets[1])
        .sum()
}

#[test]
fn cap_evicts_oldest_flows_without_losing_packets() {
    let path = fixture("pcapplusplus-many-protocols.pcap");
    let open = || FileReader::open(&path).expect("fixture opens");
    let full = analyze_with(open(), Limits::default());
    assert!(full.error.is_none());
    let keyed = full.counters.frames - full.counters.frames_without_flow;
    assert_eq!(packets(&full), keyed);
    assert_eq!(full.table.evicted, 0);
    assert!(full.flows.len() > 100, "{} flows", full.flows.len());

    let capped = analyze_with(
        open(),
        Limits {
            max_flows: 16,
            ..Limits::default()
        },
    );
    assert!(capped.table.peak_flows <= 16, "{:?}", capped.table);
    assert!(capped.table.evicted > 0);
    // Evicted flows are emitted (and judged), so every keyed packet is still counted.
    assert_eq!(packets(&capped), keyed);
    assert_eq!(
        capped.counters.verdicts.clean
            + capped.counters.verdicts.unknown
            + capped.counters.verdicts.violation,
        capped.flows.len() as u64
    );
    assert!(capped.flows.len() >= full.flows.len());
}

#[test]
fn idle_timeout_finishes_quiet_flows() {
    // The GTP-U phone session spans several seconds with pauses.
    let path = fixture("arkime-gtp-iphone.pcap");
    let open = || FileReader::open(&path).expect("fixture opens");
    let full = analyze_with(open(), Limits::default());
    let keyed = full.counters.frames - full.counters.frames_without_flow;
    let short = analyze_with(
        open(),
        Limits {
            idle_timeout_ns: 1,
            ..Limits::default()
        },
    );
    assert!(short.table.idle_expired > 0, "{:?}", short.table);
    assert_eq!(packets(&short), keyed);
    for r in &short.flows {
        assert!(r.flow.last_ts >= r.flow.first_ts);
    }
}
