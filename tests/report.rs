//! `cleanpath report` end to end on JSON lines that the tests produce by running
//! `cleanpath analyze --json` on the demo capture: every format shows the violations with
//! their evidence and provenance, exit codes, period filtering at the exact boundaries,
//! scope, the diff across reports, escaping of hostile text and malformed input.

use serde_json::Value;
use sha2::Digest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn cleanpath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .output()
        .expect("cleanpath runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn demo_pcap() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cleanpath-demo.pcapng")
        .display()
        .to_string()
}

/// A directory that lives as long as the test binary.
fn dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
        .path()
}

/// The demo analysed to JSON lines (once per test binary).
fn demo_jsonl() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| {
        let p = dir().join("demo.jsonl").display().to_string();
        let o = cleanpath(&["analyze", "--json", "-q", "-o", &p, &demo_pcap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        p
    })
}

/// The demo's flow objects, read back.
fn demo_flows() -> Vec<Value> {
    std::fs::read_to_string(demo_jsonl())
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|v| v["type"] == "flow")
        .collect()
}

/// (key, hop kind, rule_at of each counted match) of every violating hop, computed from
/// the flow objects the way the report documents it.
fn expected_violations() -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for f in demo_flows() {
        for h in f["hops"].as_array().expect("hops") {
            for m in h["matches"].as_array().into_iter().flatten() {
                if m["counts"] == true {
                    out.insert((
                        format!(
                            "{} @ {}",
                            m["entity"].as_str().expect("entity"),
                            h["value"].as_str().expect("value")
                        ),
                        h["kind"].as_str().expect("kind").to_string(),
                        m["rule_at"].as_str().expect("rule_at").to_string(),
                    ));
                }
            }
        }
    }
    out
}

fn sha256_hex(p: &str) -> String {
    sha2::Sha256::digest(std::fs::read(p).expect("read"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn report_json(extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["report", "--format", "json", "--jsonl", demo_jsonl()];
    args.extend_from_slice(extra);
    let o = cleanpath(&args);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&o.stdout), text(&o.stderr)));
    (o.status.code(), v)
}

fn keys(v: &Value) -> BTreeSet<String> {
    v["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|x| x["key"].as_str().expect("key").to_string())
        .collect()
}

#[test]
fn every_format_shows_the_demo_violations_with_evidence_and_provenance() {
    let expected = expected_violations();
    let expected_keys: BTreeSet<&str> = expected.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(expected_keys.len(), 4, "{expected:?}");
    assert!(expected_keys.contains("Huawei @ 00:e0:fc:11:22:33"));
    let hash = sha256_hex(demo_jsonl());
    for format in ["text", "markdown", "json", "html"] {
        let o = cleanpath(&["report", "--format", format, "--jsonl", demo_jsonl()]);
        let out = text(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{format}: {out}\n{}",
            text(&o.stderr)
        );
        for (key, kind, rule_at) in &expected {
            assert!(out.contains(key.as_str()), "{format} lacks {key}");
            assert!(
                out.contains(rule_at.as_str()),
                "{format} lacks {rule_at} of {key}"
            );
            if format != "json" {
                let label = match kind.as_str() {
                    "l2_neighbour" => "L2 neighbour",
                    "srv6_segment" => "SRv6 segment",
                    "endpoint" => "endpoint",
                    _ => "tunnel endpoint",
                };
                let value = key.split(" @ ").nth(1).unwrap();
                assert!(
                    out.contains(&format!("{label} {value}")),
                    "{format} lacks {label} {value}"
                );
            }
        }
        // Provenance: the report input's hash, the capture's hash as the run recorded it,
        // the denylist and its rule count, the tables, the version.
        assert!(out.contains(&hash), "{format} lacks the input hash");
        let capture_hash = sha256_hex(&demo_pcap());
        assert!(
            out.contains(&capture_hash),
            "{format} lacks the capture's SHA-256"
        );
        assert!(out.contains("bundled denylists/clean-path.tsv"), "{format}");
        assert!(out.contains("ip-location-db"), "{format}: attribution");
        assert!(out.contains(env!("CARGO_PKG_VERSION")), "{format}");
        if format == "json" {
            let v: Value = serde_json::from_str(&out).expect("json");
            assert_eq!(v["schema"], "cleanpath-report/1");
            assert_eq!(v["status"], "VIOLATION");
            assert_eq!(v["totals"]["violation"], 4);
            assert_eq!(v["totals"]["flows"], 9);
            let got: BTreeSet<(String, String, String)> = v["violations"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|x| {
                    x["evidence"].as_array().unwrap().iter().map(move |e| {
                        (
                            x["key"].as_str().unwrap().to_string(),
                            x["hop_kind"].as_str().unwrap().to_string(),
                            e["rule_at"].as_str().unwrap().to_string(),
                        )
                    })
                })
                .collect();
            assert_eq!(got, expected);
            let run = &v["provenance"]["runs"][0];
            assert_eq!(run["inputs"][0]["path"], demo_pcap());
            assert_eq!(run["inputs"][0]["sha256"], capture_hash.as_str());
            assert_eq!(run["judged_with"]["rules"], 296, "the bundled rule count");
            assert_eq!(v["provenance"]["report_inputs"][0]["sha256"], hash.as_str());
            assert_eq!(v["capture_loss"]["complete"], true);
            let unknown: BTreeSet<&str> = v["unknown_hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["hop_value"].as_str().unwrap())
                .collect();
            assert_eq!(
                unknown,
                BTreeSet::from(["02:00:00:aa:bb:cc", "10.20.30.40"])
            );
            // Top talkers by bytes: the largest pair is the sum of its flows' bytes.
            let mut pair_bytes = std::collections::BTreeMap::<(String, String), u64>::new();
            for f in demo_flows() {
                let (a, b) = (
                    f["src"].as_str().unwrap_or("?"),
                    f["dst"].as_str().unwrap_or("?"),
                );
                let k = if a <= b { (a, b) } else { (b, a) };
                *pair_bytes.entry((k.0.into(), k.1.into())).or_default() +=
                    f["bytes"]["fwd"].as_u64().unwrap() + f["bytes"]["rev"].as_u64().unwrap();
            }
            let top = pair_bytes.values().max().copied().unwrap();
            assert_eq!(v["top_talkers"][0]["bytes"], top);
        } else {
            assert!(out.contains("296 rules"), "{format}");
        }
        if format == "html" {
            assert!(out.starts_with("<!DOCTYPE html>"));
            assert!(out.contains("<svg"), "charts are inline SVG");
            assert!(
                !out.to_ascii_lowercase().contains("<script"),
                "no JavaScript"
            );
            assert!(
                !out.contains("src=\"http") && !out.contains("href=\"http"),
                "self-contained"
            );
        }
    }
}

#[test]
fn same_input_same_report_bytes() {
    let a = cleanpath(&[
        "report",
        "--format",
        "json",
        "--since",
        "24h",
        "--jsonl",
        demo_jsonl(),
    ]);
    let b = cleanpath(&[
        "report",
        "--format",
        "json",
        "--since",
        "24h",
        "--jsonl",
        demo_jsonl(),
    ]);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status.code(), Some(1));
}

#[test]
fn gzip_input_gives_the_same_findings() {
    use std::io::Write;
    let gz = dir().join("demo.jsonl.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::default(),
    );
    e.write_all(&std::fs::read(demo_jsonl()).expect("read"))
        .expect("gzip");
    e.finish().expect("gzip");
    let (code, v) = report_json(&[]);
    let o = cleanpath(&[
        "report",
        "--format",
        "json",
        "--jsonl",
        &gz.display().to_string(),
    ]);
    assert_eq!(o.status.code(), code);
    let g: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(keys(&g), keys(&v));
    assert_eq!(g["totals"], v["totals"]);
}

#[test]
fn clean_input_exits_0() {
    let rules = dir().join("never.tsv");
    std::fs::write(
        &rules,
        "kind\tvalue\tentity\tcategory\tconfidence\tsource\tdate\tnote\n\
         asn\tAS64496\tDocumentation AS\tuntrusted_carrier\thigh\tRFC 5398\t2008-12-01\tnever routed\n",
    )
    .expect("write rules");
    let jsonl = dir().join("clean.jsonl").display().to_string();
    let o = cleanpath(&[
        "analyze",
        "--json",
        "-q",
        "-o",
        &jsonl,
        "--no-bundled-denylist",
        "--denylist",
        &rules.display().to_string(),
        &demo_pcap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    for format in ["text", "markdown", "json", "html"] {
        let o = cleanpath(&["report", "--format", format, "--jsonl", &jsonl]);
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o.stdout));
        let out = text(&o.stdout);
        assert!(out.contains("CLEAN"), "{format}");
        assert!(
            out.contains("1 rules") || out.contains("\"rules\": 1"),
            "{format}: the custom rule count"
        );
    }
    let o = cleanpath(&["report", "--format", "json", "--jsonl", &jsonl]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["status"], "CLEAN");
    assert_eq!(v["totals"]["violation"], 0);
    assert_eq!(v["totals"]["unknown"], 1);
    assert_eq!(v["violations"].as_array().map(Vec::len), Some(0));
}

/// Flow ids whose capture span overlaps [from, to), from the flow objects themselves.
fn overlapping(from: &str, to: &str) -> u64 {
    // RFC 3339 with the same width and zone compare as strings.
    demo_flows()
        .iter()
        .filter(|f| {
            f["first_ts"].as_str().expect("first_ts") < to
                && f["last_ts"].as_str().expect("last_ts") >= from
        })
        .count() as u64
}

#[test]
fn period_filtering_keeps_and_drops_flows_exactly() {
    let flows = demo_flows();
    let f3 = flows.iter().find(|f| f["id"] == 3).expect("flow 3");
    // The demo's flow 3 (Huawei) spans .007 to .010.
    assert_eq!(f3["first_ts"], "2026-11-01T00:00:00.007000000Z");
    assert_eq!(f3["last_ts"], "2026-11-01T00:00:00.010000000Z");
    let huawei = "Huawei @ 00:e0:fc:11:22:33";
    let cases = [
        // (from, to, Huawei in?)
        (
            "2026-11-01T00:00:00.010000000Z",
            "2026-11-01T00:00:01.000000000Z",
            true,
        ), // last_ts == from: in
        (
            "2026-11-01T00:00:00.010000001Z",
            "2026-11-01T00:00:01.000000000Z",
            false,
        ), // 1 ns later: out
        (
            "2026-11-01T00:00:00.000000000Z",
            "2026-11-01T00:00:00.007000000Z",
            false,
        ), // first_ts == to: out
        (
            "2026-11-01T00:00:00.000000000Z",
            "2026-11-01T00:00:00.007000001Z",
            true,
        ), // 1 ns later: in
    ];
    for (from, to, in_period) in cases {
        let (code, v) = report_json(&["--from", from, "--to", to]);
        let n = overlapping(from, to);
        assert_eq!(v["totals"]["flows"], n, "{from}..{to}");
        assert_eq!(v["totals"]["outside_period"], 9 - n, "{from}..{to}");
        assert_eq!(keys(&v).contains(huawei), in_period, "{from}..{to}");
        let violating = v["totals"]["violation"].as_u64().unwrap();
        assert_eq!(code, Some(if violating > 0 { 1 } else { 0 }));
    }
    // Nothing before the capture: exit 0.
    let (code, v) = report_json(&["--to", "2026-11-01"]);
    assert_eq!((code, v["totals"]["flows"].as_u64()), (Some(0), Some(0)));
    // --since counts back from the newest capture time (.018): 1 ms keeps what overlaps
    // [.017000001, .018000001).
    let (_, v) = report_json(&["--since", "1ms"]);
    assert_eq!(v["period"]["to"], "2026-11-01T00:00:00.018000001Z");
    assert_eq!(
        v["totals"]["flows"],
        overlapping(
            "2026-11-01T00:00:00.017000001Z",
            "2026-11-01T00:00:00.018000001Z"
        )
    );
    let (code, v) = report_json(&["--since", "24h"]);
    assert_eq!((code, v["totals"]["flows"].as_u64()), (Some(1), Some(9)));
    // ...or from the wall clock with --since-now: the demo is not from the last millisecond.
    let (code, v) = report_json(&["--since", "1ms", "--since-now"]);
    assert_eq!((code, v["totals"]["flows"].as_u64()), (Some(0), Some(0)));
    // Bad periods are errors.
    for bad in [
        &["--since", "24"][..],
        &["--from", "yesterday"],
        &["--from", "2026-11-02", "--to", "2026-11-01"],
    ] {
        let mut args = vec!["report", "--jsonl", demo_jsonl()];
        args.extend_from_slice(bad);
        let o = cleanpath(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(text(&o.stderr).contains("cleanpath: error"), "{bad:?}");
    }
}

#[test]
fn scope_by_interface_and_sensor() {
    let flows = demo_flows();
    let on = |i: u64| flows.iter().filter(|f| f["iface"] == i).count() as u64;
    // The demo's interfaces: 0 = n3-span, 1 = core-span.
    for (iface, idx) in [("n3-span", 0), ("core-span", 1), ("1", 1)] {
        let (_, v) = report_json(&["--iface", iface]);
        assert_eq!(v["totals"]["flows"], on(idx), "{iface}");
        assert_eq!(v["totals"]["outside_scope"], 9 - on(idx), "{iface}");
    }
    let o = cleanpath(&[
        "report",
        "--format",
        "json",
        "--sensor",
        "no-such-sensor",
        "--jsonl",
        demo_jsonl(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stderr).contains("no-such-sensor"));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["totals"]["flows"], 0);
}

#[test]
fn diff_across_two_reports() {
    let d = tempfile::tempdir().expect("tempdir");
    let first = d.path().join("first.json").display().to_string();
    // Up to .010: only the Huawei flow (.007-.010) violates.
    let o = cleanpath(&[
        "report",
        "--format",
        "json",
        "-o",
        &first,
        "--to",
        "2026-11-01T00:00:00.010Z",
        "--jsonl",
        demo_jsonl(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(&first).expect("read")).expect("json");
    assert_eq!(
        keys(&a),
        BTreeSet::from(["Huawei @ 00:e0:fc:11:22:33".to_string()])
    );
    let (_, b) = report_json(&["--previous", &first]);
    let all = keys(&b);
    let new: BTreeSet<String> = b["diff"]["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().into())
        .collect();
    assert_eq!(new, all.difference(&keys(&a)).cloned().collect());
    assert_eq!(new.len(), 3);
    assert_eq!(b["diff"]["previous"]["path"], first.as_str());
    for v in b["violations"].as_array().unwrap() {
        assert_eq!(
            v["new"],
            !keys(&a).contains(v["key"].as_str().unwrap()),
            "{}",
            v["key"]
        );
    }
    // The text says which are new.
    let o = cleanpath(&["report", "--previous", &first, "--jsonl", demo_jsonl()]);
    let t = text(&o.stdout);
    assert!(t.contains("Huawei @ 00:e0:fc:11:22:33\n"), "not NEW: {t}");
    assert!(t.contains("ZTE @ 00:15:eb:01:02:03  [NEW]"), "{t}");
    // And the other way round: what the later period no longer shows.
    let second = d.path().join("second.json").display().to_string();
    std::fs::write(&second, serde_json::to_vec(&b).unwrap()).expect("write");
    let (_, c) = report_json(&["--from", "2026-11-01T00:00:00.017Z", "--previous", &second]);
    let gone: BTreeSet<String> = c["diff"]["gone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().into())
        .collect();
    assert_eq!(gone, all.difference(&keys(&c)).cloned().collect());
    assert!(!gone.is_empty());
    // A previous file that is not a report is an error.
    let o = cleanpath(&[
        "report",
        "--previous",
        demo_jsonl(),
        "--jsonl",
        demo_jsonl(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn state_dir_diffs_against_the_newest_earlier_report() {
    let d = tempfile::tempdir().expect("tempdir");
    let state = d.path().display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--format",
            "json",
            "--state-dir",
            &state,
            "--jsonl",
            demo_jsonl(),
        ];
        args.extend_from_slice(extra);
        let o = cleanpath(&args);
        serde_json::from_slice::<Value>(&o.stdout).expect("json")
    };
    let a = run(&["--to", "2026-11-01T00:00:00.010Z"]);
    assert_eq!(a["diff"]["previous"], Value::Null);
    let b = run(&[]);
    let prev = b["diff"]["previous"]["path"].as_str().expect("previous");
    assert!(
        prev.ends_with("cleanpath-report-20261101T000000.010000000Z.json"),
        "{prev}"
    );
    assert_eq!(b["diff"]["new"].as_array().map(Vec::len), Some(3));
    let files: Vec<PathBuf> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    // Re-running the earlier night replaces its file and still has nothing before it.
    let a2 = run(&["--to", "2026-11-01T00:00:00.010Z"]);
    assert_eq!(a2["diff"]["previous"], Value::Null);
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
}

#[test]
fn hostile_text_is_escaped() {
    let hostile = r#"<script>alert("x")</script> & Co"#;
    let src = std::fs::read_to_string(demo_jsonl()).expect("read");
    let evil = src
        .replace("HUAWEI TECHNOLOGIES CO.,LTD", &hostile.replace('"', "\\\""))
        .replace("\"sensor\":\"", "\"sensor\":\"<img src=x onerror=alert(1)>");
    assert_ne!(evil, src);
    let p = dir().join("evil.jsonl").display().to_string();
    std::fs::write(&p, evil).expect("write");
    let o = cleanpath(&["report", "--format", "html", "--jsonl", &p]);
    assert_eq!(o.status.code(), Some(1));
    let html = text(&o.stdout);
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "unescaped script"
    );
    assert!(!html.contains("<img"), "unescaped img");
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"),
        "escaped org"
    );
    let o = cleanpath(&["report", "--format", "markdown", "--jsonl", &p]);
    let md = text(&o.stdout);
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
}

#[test]
fn malformed_input_names_file_and_line() {
    let p = dir().join("bad.jsonl").display().to_string();
    let src = std::fs::read_to_string(demo_jsonl()).expect("read");
    let mut lines: Vec<&str> = src.lines().collect();
    lines[2] = "{\"type\":\"flow\",\"id\":";
    std::fs::write(&p, lines.join("\n")).expect("write");
    let o = cleanpath(&["report", "--jsonl", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("{p}:3:")),
        "{}",
        text(&o.stderr)
    );
    let o = cleanpath(&["report", "--jsonl", "/nonexistent/flows.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/nonexistent/flows.jsonl"));
}

#[test]
fn interrupted_run_is_capture_loss() {
    // A run cut off before its summary: the flows count, and the loss is reported.
    let src = std::fs::read_to_string(demo_jsonl()).expect("read");
    let cut: Vec<&str> = src
        .lines()
        .filter(|l| !l.contains("\"type\":\"summary\""))
        .collect();
    let p = dir().join("cut.jsonl").display().to_string();
    std::fs::write(&p, cut.join("\n")).expect("write");
    let o = cleanpath(&["report", "--format", "json", "--jsonl", &p]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["capture_loss"]["complete"], false);
    assert_eq!(
        v["capture_loss"]["unfinished_runs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(v["provenance"]["runs"][0]["judged_with"], Value::Null);
}

/// A run with frames of link types cleanpath does not decode: the summary reads back and
/// the report lists them as capture loss.
#[test]
fn unsupported_link_types_are_reported_as_capture_loss() {
    let p = dir().join("odd-links.jsonl").display().to_string();
    let odd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tcpdump-unsupported-link-type-160.pcap")
        .display()
        .to_string();
    let o = cleanpath(&["analyze", "--json", "-q", "-o", &p, &odd, &demo_pcap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let r = cleanpath(&["report", "--jsonl", &p, "--format", "json"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stderr));
    let v: Value = serde_json::from_slice(&r.stdout).expect("json report");
    assert_eq!(
        v["capture_loss"]["unsupported_link_types"]["linktype 160"], 1,
        "{}",
        v["capture_loss"]
    );
    assert_eq!(v["totals"]["violation"], 4);
}
