//! The generated 5G mix (`cleanpath gen mix`, `src/synth/mix.rs`): its address pools and
//! MACs are what the bundled tables and denylist say they are, and `analyze` gives every
//! generated flow exactly the verdict, key and packet count the generator wrote down.

mod common;

use cleanpath::capture::FileReader;
use cleanpath::decode::Mac;
use cleanpath::flow::Limits;
use cleanpath::pipeline::FlowResult;
use cleanpath::policy::Confidence;
use cleanpath::policy::verdict::{Attribution, HopKind, Judge};
use cleanpath::report::FlowRecord;
use cleanpath::synth::mix::{self, MixConfig, TruthRecord, TruthTunnel};
use std::collections::BTreeSet;
use std::io::BufWriter;

fn judge() -> Judge<'static> {
    Judge::new(common::intel(), common::rules(), Confidence::Medium)
}

#[test]
fn every_pool_lies_in_one_as_of_the_bundled_table_and_only_bad_pools_match_rules() {
    let j = judge();
    let bad: BTreeSet<&str> = mix::BAD_SERVERS
        .iter()
        .chain(&mix::BAD_SERVERS6)
        .map(|p| p.name)
        .collect();
    for pool in mix::pools() {
        let samples = [
            0,
            1,
            pool.size / 3,
            pool.size / 2,
            pool.size - 2,
            pool.size - 1,
        ];
        for n in samples {
            let ip = pool.addr(n);
            let hop = j.ip_hop(HopKind::Endpoint, ip);
            match (&hop.attribution, pool.asn) {
                (Attribution::As { asn, .. }, want) => {
                    assert_eq!(*asn, want, "{} {ip}", pool.name)
                }
                (Attribution::Unattributed { .. }, 0) => {}
                (other, want) => panic!("{} {ip}: {other:?}, want AS{want}", pool.name),
            }
            assert_eq!(
                hop.is_violation(),
                bad.contains(pool.name),
                "{} {ip}: {:?}",
                pool.name,
                hop.matches
            );
        }
    }
}

#[test]
fn clean_ouis_are_registered_and_unlisted_bad_ouis_violate() {
    let j = judge();
    for (oui, bad) in [
        (mix::OUI_NOKIA, false),
        (mix::OUI_ERICSSON, false),
        (mix::OUI_JUNIPER, false),
        (mix::OUI_HUAWEI, true),
        (mix::OUI_ZTE, true),
    ] {
        for tail in [[0, 0, 0], [0x12, 0x34, 0x56], [0xff, 0xff, 0xfe]] {
            let m = Mac([oui[0], oui[1], oui[2], tail[0], tail[1], tail[2]]);
            let hop = j.mac_hop(m);
            assert!(
                matches!(hop.attribution, Attribution::Vendor { .. }),
                "{m}: {:?}",
                hop.attribution
            );
            assert_eq!(hop.is_violation(), bad, "{m}: {:?}", hop.matches);
        }
    }
}

/// A flow as both the truth and `analyze` can state it.
fn from_record(r: &FlowRecord) -> TruthRecord {
    TruthRecord {
        id: r.id,
        verdict: r.verdict,
        kind: String::new(),
        why: String::new(),
        proto: r.proto.unwrap_or(0),
        src: r.src.clone().unwrap_or_default(),
        dst: r.dst.clone().unwrap_or_default(),
        src_port: r.src_port.unwrap_or(0),
        dst_port: r.dst_port.unwrap_or(0),
        tunnel: r.tunnel.as_ref().map(|t| TruthTunnel {
            src: t.src.clone(),
            dst: t.dst.clone(),
            teid: t.teid,
            qfi: t.qfi,
        }),
        packets: r.packets.fwd + r.packets.rev,
    }
}

fn comparable(mut t: TruthRecord) -> String {
    t.kind.clear();
    t.why.clear();
    serde_json::to_string(&t).expect("truth serialises")
}

/// Generates `cfg` into a temporary file and returns its path and ground truth.
fn generate(cfg: &MixConfig) -> (tempfile::TempPath, Vec<TruthRecord>) {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    let mut truth = Vec::new();
    let stats = mix::generate(cfg, BufWriter::new(file.as_file()), &mut truth).expect("generates");
    let truth: Vec<TruthRecord> = truth
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("truth line parses"))
        .collect();
    assert_eq!(truth.len() as u64, stats.flows);
    (file.into_temp_path(), truth)
}

/// Asserts that the judged flows equal the truth exactly (as sets, and id by id).
fn assert_matches_truth(flows: &[FlowResult], truth: &[TruthRecord]) {
    let got: BTreeSet<String> = flows
        .iter()
        .map(|r| comparable(from_record(&FlowRecord::new(r, "mix"))))
        .collect();
    let want: BTreeSet<String> = truth.iter().cloned().map(comparable).collect();
    let missing: Vec<_> = want.difference(&got).take(3).collect();
    let extra: Vec<_> = got.difference(&want).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} flows judged, {} in the truth; first differences:\nexpected {missing:#?}\ngot {extra:#?}",
        got.len(),
        want.len()
    );
    assert_eq!(flows.len(), truth.len());
}

#[test]
fn analyze_verdicts_equal_the_ground_truth_on_a_million_packets() {
    let cfg = MixConfig {
        packets: 1_000_000,
        flows: 100_000,
        seed: 8,
        violation_share: 0.1,
        unknown_share: 0.1,
        ipv6_outer_share: 0.3,
        // Headers are all the pipeline reads: keep the temporary file small.
        snaplen: 200,
    };
    let (path, truth) = generate(&cfg);
    let run = common::analyze_with(FileReader::open(&path).unwrap(), Limits::default());
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.frames_read, 1_000_000);
    assert!(
        run.counters.decode_errors.is_empty(),
        "{:?}",
        run.counters.decode_errors
    );
    assert_eq!(run.counters.frames_without_flow, 0);
    assert_matches_truth(&run.flows, &truth);
    // Every verdict and kind is represented, so the comparison covers them all.
    let kinds: BTreeSet<&str> = truth.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["ether", "gtpu4", "gtpu6", "mpls", "ngap", "pfcp", "vlan"].into()
    );
    let v = run.counters.verdicts;
    assert!(
        v.clean > 0 && v.unknown > 5_000 && v.violation > 5_000,
        "{v:?}"
    );
    let whys: BTreeSet<&str> = truth.iter().map(|t| t.why.as_str()).collect();
    assert!(whys.len() >= 7, "{whys:?}");
}

#[test]
fn whole_frames_decode_cleanly_and_match_the_truth() {
    let cfg = MixConfig {
        packets: 50_000,
        flows: 5_000,
        seed: 3,
        ..MixConfig::default()
    };
    let (path, truth) = generate(&cfg);
    let run = common::analyze(&path);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert!(
        run.counters.decode_errors.is_empty(),
        "{:?}",
        run.counters.decode_errors
    );
    assert_matches_truth(&run.flows, &truth);
}

#[test]
fn cli_gen_mix_then_analyze_with_two_threads_reports_the_truth() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let pcap = dir.path().join("mix.pcap");
    let truth = dir.path().join("truth.jsonl");
    let bin = env!("CARGO_BIN_EXE_cleanpath");
    let st = std::process::Command::new(bin)
        .args([
            "gen",
            "mix",
            "--packets",
            "30000",
            "--flows",
            "3000",
            "--seed",
            "5",
        ])
        .args(["--violation-share", "0.2", "-o"])
        .arg(&pcap)
        .arg("--truth")
        .arg(&truth)
        .status()
        .expect("runs");
    assert!(st.success());
    let out = std::process::Command::new(bin)
        .args(["analyze", "-q", "--json", "--threads", "2"])
        .arg(&pcap)
        .output()
        .expect("runs");
    // Violations exist, so the exit code is 1.
    assert_eq!(out.status.code(), Some(1));
    let got: BTreeSet<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter(|l| l.contains(r#""type":"flow""#))
        .map(|l| {
            let r: FlowRecord = serde_json::from_str(l).expect("flow record");
            comparable(from_record(&r))
        })
        .collect();
    let want: BTreeSet<String> = std::fs::read_to_string(&truth)
        .expect("truth written")
        .lines()
        .map(|l| comparable(serde_json::from_str(l).expect("truth line")))
        .collect();
    assert_eq!(want.len(), 3000);
    assert_eq!(got, want);
}
