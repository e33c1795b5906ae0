//! The `cleanpath` binary end to end: exit codes, text and JSON output, errors that name
//! the file and offset, and every fixture read without a panic.

mod common;

use common::fixture;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn cleanpath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .output()
        .expect("cleanpath runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn demo() -> String {
    fixture("cleanpath-demo.pcapng").display().to_string()
}

#[test]
fn demo_text_summary_exits_1_with_evidence() {
    let o = cleanpath(&["analyze", "-q", &demo()]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains("Flows         9: 4 CLEAN, 1 UNKNOWN, 4 VIOLATION"),
        "{out}"
    );
    assert!(out.contains("VIOLATIONS (4)"), "{out}");
    assert!(
        out.contains("L2 neighbour 00:e0:fc:11:22:33 = HUAWEI TECHNOLOGIES CO.,LTD"),
        "{out}"
    );
    assert!(
        out.contains("endpoint 202.97.33.1 = AS4134 Chinanet"),
        "{out}"
    );
    assert!(out.contains("SRv6 segment 2408:8000::1 = AS4837"), "{out}");
    assert!(
        out.contains("L2 neighbour 02:00:00:aa:bb:cc: locally administered MAC"),
        "{out}"
    );
    assert!(
        out.contains("ip-location-db"),
        "attribution is printed: {out}"
    );
    assert!(!out.contains("INCOMPLETE"), "{out}");
}

#[test]
fn demo_json_lines_one_object_per_flow_then_summary() {
    let o = cleanpath(&["analyze", "--json", &demo()]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0]["type"], "run");
    assert_eq!(lines[0]["inputs"][0]["path"], demo());
    assert_eq!(lines[0]["version"], env!("CARGO_PKG_VERSION"));
    let lines = &lines[1..];
    let verdicts: Vec<&str> = lines[..9]
        .iter()
        .map(|v| {
            assert_eq!(v["type"], "flow");
            v["verdict"].as_str().expect("verdict")
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "CLEAN",
            "CLEAN",
            "VIOLATION",
            "VIOLATION",
            "CLEAN",
            "UNKNOWN",
            "VIOLATION",
            "VIOLATION",
            "CLEAN"
        ]
    );
    let first = &lines[0];
    assert_eq!(first["tunnel"]["teid"], 0x101);
    assert_eq!(first["tunnel"]["qfi"], 9);
    assert_eq!(first["tunnel"]["pdu_type"], "UL");
    assert_eq!(first["src"], "166.137.10.10");
    assert_eq!(first["dst_port"], 443);
    assert_eq!(first["first_ts"], "2026-11-01T00:00:00.001000000Z");
    let huawei = &lines[2]["hops"][1];
    assert_eq!(huawei["value"], "00:e0:fc:11:22:33");
    assert_eq!(huawei["attribution"]["type"], "vendor");
    assert_eq!(huawei["matches"][0]["entity"], "Huawei");
    assert_eq!(huawei["matches"][0]["category"], "untrusted_vendor");
    let s = &lines[9];
    assert_eq!(s["type"], "summary");
    assert_eq!(s["frames"], 18);
    assert_eq!(s["verdicts"]["violation"], 4);
    assert_eq!(s["verdicts"]["unknown"], 1);
    assert_eq!(s["verdicts"]["clean"], 4);
    assert_eq!(s["complete"], true);
    assert_eq!(s["files"][0]["interfaces"][0]["name"], "n3-span");
    assert_eq!(s["files"][0]["format"], "pcapng");
}

#[test]
fn output_file_and_gzip_input_give_the_same_flows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("demo.cap"); // no telling extension: format by magic
    let bytes = std::fs::read(fixture("cleanpath-demo.pcapng")).expect("read");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &bytes).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    let out = dir.path().join("flows.jsonl");
    let o = cleanpath(&[
        "analyze",
        "--json",
        "-o",
        &out.display().to_string(),
        &gz.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let written = std::fs::read_to_string(&out).expect("output written");
    let plain = cleanpath(&["analyze", "--json", &demo()]);
    let strip = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json"))
            .filter(|v| v["type"] == "flow")
            .map(|mut v| {
                v["file"] = Value::Null;
                v
            })
            .collect()
    };
    assert_eq!(strip(&written), strip(&text(&plain.stdout)));
    assert!(written.contains("\"gzip\":true"));
}

#[test]
fn fail_on_unknown_and_custom_denylist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("ours.tsv");
    std::fs::write(
        &rules,
        "kind\tvalue\tentity\tcategory\tconfidence\tsource\tdate\tnote\n\
         prefix\t63.118.7.0/24\tExample peer\tuntrusted_carrier\thigh\tour audit 2026\t2026-01-01\ttest rule\n",
    )
    .expect("write rules");
    let r = rules.display().to_string();
    // With only our rule, flows 3 and 8 (both to 63.118.7.1) are the violations.
    let o = cleanpath(&[
        "analyze",
        "--json",
        "--no-bundled-denylist",
        "--denylist",
        &r,
        &demo(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o);
    let bad: Vec<u64> = lines
        .iter()
        .filter(|v| v["verdict"] == "VIOLATION")
        .map(|v| v["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(bad, [3, 8]);
    // With a rule that matches nothing in the demo, only the UNKNOWN flow is left...
    std::fs::write(
        &rules,
        "kind\tvalue\tentity\tcategory\tconfidence\tsource\tdate\tnote\n\
         asn\tAS64496\tDocumentation AS\tuntrusted_carrier\thigh\tRFC 5398\t2008-12-01\tnever routed\n",
    )
    .expect("write rules");
    let o = cleanpath(&[
        "analyze",
        "-q",
        "--no-bundled-denylist",
        "--denylist",
        &r,
        &demo(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // ...which a strict auditor fails on.
    let o = cleanpath(&[
        "analyze",
        "-q",
        "--fail-on",
        "unknown",
        "--no-bundled-denylist",
        "--denylist",
        &r,
        &demo(),
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn malformed_denylist_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("bad.tsv");
    std::fs::write(
        &rules,
        "kind\tvalue\tentity\tcategory\tconfidence\tsource\tdate\tnote\n\
         asn\tAS4134\tChina Telecom\tuntrusted_carrier\thigh\tsrc\t2020-08-05\tok\n\
         prefix\t300.1.2.0/24\tBroken\tuntrusted_carrier\thigh\tsrc\t2020-08-05\tbad cidr\n",
    )
    .expect("write");
    let o = cleanpath(&[
        "analyze",
        "--denylist",
        &rules.display().to_string(),
        &demo(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains(&format!("{}:3:", rules.display())), "{err}");
}

/// Offsets of every pcapng block (little-endian files): (offset, length).
fn pcapng_blocks(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 8 <= b.len() {
        let len = u32::from_le_bytes(b[off + 4..off + 8].try_into().expect("4 bytes")) as usize;
        out.push((off, len));
        off += len;
    }
    out
}

#[test]
fn truncated_capture_names_file_and_offset_and_keeps_earlier_packets() {
    let bytes = std::fs::read(fixture("cleanpath-demo.pcapng")).expect("read");
    let blocks = pcapng_blocks(&bytes);
    // Cut the file in the middle of the 10th packet (SHB and 2 IDBs come first).
    let (cut_block, len) = blocks[3 + 9];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.pcapng");
    std::fs::write(&path, &bytes[..cut_block + len / 2]).expect("write");
    let p = path.display().to_string();
    let o = cleanpath(&["analyze", "--json", &p]);
    let err = text(&o.stderr);
    assert!(
        err.contains(&p) && err.contains(&format!("offset {cut_block}")),
        "{err}"
    );
    // The Huawei flow (frames 7-10) starts before the cut: still found, so exit 1.
    assert_eq!(o.status.code(), Some(1), "{err}");
    let lines = json_lines(&o);
    let s = lines.last().expect("summary");
    assert_eq!(s["frames"], 9);
    assert_eq!(s["complete"], false);
    assert_eq!(s["files"][0]["complete"], false);
    assert!(
        s["files"][0]["error"]
            .as_str()
            .expect("error")
            .contains(&format!("offset {cut_block}"))
    );
    // --strict makes a partly readable input an error.
    let o = cleanpath(&["analyze", "-q", "--strict", &p]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unreadable_inputs_exit_2_naming_the_file() {
    let o = cleanpath(&["analyze", "/nonexistent/capture.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/nonexistent/capture.pcap"));
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let o = cleanpath(&["analyze", "-q", &readme.display().to_string(), &demo()]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad file among good ones still fails the run"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("Cargo.toml") && err.contains("not a pcap or pcapng file"),
        "{err}"
    );
    // The good file was still analysed.
    assert!(text(&o.stdout).contains("4 VIOLATION"));
}

#[cfg(not(feature = "libpcap"))]
#[test]
fn filter_without_libpcap_explains_how_to_get_it() {
    let o = cleanpath(&["analyze", "--filter", "udp port 2152", &demo()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--features libpcap"));
}

#[cfg(feature = "libpcap")]
#[test]
fn filter_keeps_only_matching_frames() {
    let o = cleanpath(&["analyze", "--json", "--filter", "udp port 2152", &demo()]);
    let lines = json_lines(&o);
    let s = lines.last().expect("summary");
    // 6 frames of the clean session + 2 of the China Telecom flow are GTP-U: those are
    // analysed, the other 10 of the 18 read are counted as filtered out.
    assert_eq!(s["files"][0]["read"]["frames"], 18);
    assert_eq!(s["frames"], 8);
    assert_eq!(s["filtered_out"], 10);
    assert_eq!(s["verdicts"]["violation"], 1);
    assert_eq!(o.status.code(), Some(1));
}

/// Every capture in fixtures/ in one run: never a panic, never exit 2 (all are readable).
#[test]
fn every_fixture_is_analysed_without_error() {
    let mut files: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() > 150, "fixtures copied: {}", files.len());
    let mut args = vec!["analyze", "--json", "-q"];
    args.extend(files.iter().map(String::as_str));
    let o = cleanpath(&args);
    let err = text(&o.stderr);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}: {err}",
        o.status.code()
    );
    assert!(!err.contains("panicked"), "{err}");
    let lines = json_lines(&o);
    let s = lines.last().expect("summary");
    assert_eq!(s["files"].as_array().expect("files").len(), files.len());
    let total: u64 = s["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["read"]["frames"].as_u64().expect("frames"))
        .sum();
    assert_eq!(s["frames"].as_u64(), Some(total));
    // The summary reads back into the library's type, unsupported link types and all.
    assert!(
        !s["unsupported_link_types"]
            .as_object()
            .expect("map")
            .is_empty()
    );
    let back: cleanpath::report::Summary =
        serde_json::from_value(s.clone()).expect("summary reads back");
    assert_eq!(back.counters.unsupported_link_types.get(&147), None);
    assert!(
        back.counters
            .unsupported_link_types
            .get(&104)
            .is_some_and(|&n| n > 0)
    );
}

/// JSON lines read back into the library's own types: what `report` and the stores consume.
#[test]
fn json_lines_round_trip_into_records() {
    use cleanpath::report::{FlowRecord, Summary};
    let o = cleanpath(&["analyze", "--json", &demo()]);
    let out = text(&o.stdout);
    let mut lines = out.lines();
    let run: cleanpath::sink::RunInfo =
        serde_json::from_str(lines.next().expect("run line")).expect("run info");
    assert_eq!(run.inputs.len(), 1);
    let flows: Vec<FlowRecord> = lines
        .by_ref()
        .take(9)
        .map(|l| serde_json::from_str(l).expect("flow record"))
        .collect();
    let summary: Summary = serde_json::from_str(lines.next().expect("summary")).expect("summary");
    assert_eq!(flows[2].hops[1].matches[0].entity, "Huawei");
    assert_eq!(flows[0].tunnel.as_ref().map(|t| t.teid), Some(0x101));
    assert_eq!(summary.counters.verdicts.violation, 4);
    assert_eq!(summary.files[0].read.frames, 18);
    // Serialising the parsed record again gives the same line.
    let first = out.lines().nth(1).expect("line");
    assert_eq!(serde_json::to_string(&flows[0]).expect("json"), first);
}

/// `-o` naming something that is not a regular file (a FIFO here; `/dev/null` in use) is
/// written to directly, never replaced by a renamed temporary file.
#[test]
fn output_to_a_fifo_writes_through_and_keeps_the_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("out.fifo");
    let st = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(st.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
    };
    let o = cleanpath(&["analyze", "-q", "-o", &fifo.display().to_string(), &demo()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let got = reader.join().expect("reader");
    assert!(got.contains("4 VIOLATION"), "{got}");
    let meta = std::fs::symlink_metadata(&fifo).expect("still there");
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
}

fn sha256_file(rel: &str) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("read");
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The summary names what the verdicts were judged with: table snapshot dates and the
/// SHA-256 of every intel source and denylist file, so a result can be reproduced.
#[test]
fn summary_provenance_hashes_the_tables_and_rules() {
    let o = cleanpath(&["analyze", "--json", &demo()]);
    let lines = json_lines(&o);
    let p = &lines.last().expect("summary")["provenance"];
    assert_eq!(p["intel_snapshot"], "2026-06-17");
    assert_eq!(p["ieee_snapshot"], "2022-08-27");
    assert_eq!(p["denylist_sha256"][0]["name"], "denylists/clean-path.tsv");
    assert_eq!(
        p["denylist_sha256"][0]["sha256"],
        sha256_file("denylists/clean-path.tsv").as_str()
    );
    let sources = p["intel_sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 6);
    for s in sources {
        let name = s["name"].as_str().expect("name");
        assert_eq!(s["sha256"], sha256_file(name).as_str(), "{name}");
    }
}
