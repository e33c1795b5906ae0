//! The audit store (issue 7): one suite run against SQLite and against a real PostgreSQL
//! server (`CLEANPATH_TEST_PG`, started by `.ci/postgres.sh`). The real `cleanpath`
//! binary writes; the store's reader API reads back.
//!
//! In CI (`CI=true`) a missing PostgreSQL is a failure; locally the PostgreSQL half skips
//! with a message on stderr.

#![cfg(all(feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use cleanpath::policy::verdict::Verdict;
use cleanpath::report::{FlowRecord, Summary, rfc3339};
use cleanpath::sink::{InputFile, RunInfo};
use cleanpath::store::{
    self, Credentials, Filter, StoreReader, open_reader, open_writer, parse_rfc3339_ns,
};
use common::fixture;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A store made for one test; a PostgreSQL database is dropped afterwards.
struct TestStore {
    url: String,
    _dir: tempfile::TempDir,
    pg_db: Option<(String, String)>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((base, db)) = &self.pg_db {
            if let Ok(mut c) = postgres::Client::connect(base, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
        }
    }
}

/// The test server's URL: required in CI, optional locally.
fn pg_base() -> Option<String> {
    match std::env::var("CLEANPATH_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            let msg = "CLEANPATH_TEST_PG is not set: start a throwaway server with \
                       `source .ci/postgres.sh` before `cargo test`";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} (CI=true: the PostgreSQL store tests must run)");
            }
            eprintln!("SKIPPED (PostgreSQL half of the store suite): {msg}");
            None
        }
    }
}

/// A new, empty store of the given backend, or `None` when PostgreSQL is not available
/// outside CI.
fn fresh(backend: Backend, name: &str) -> Option<TestStore> {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => Some(TestStore {
            url: format!("sqlite:{}", dir.path().join("store.db").display()),
            _dir: dir,
            pg_db: None,
        }),
        Backend::Postgres => {
            let base = pg_base()?;
            let db = format!("cp_{name}_{}", std::process::id());
            let mut c = postgres::Client::connect(&base, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connecting to CLEANPATH_TEST_PG={base}: {e}"));
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .unwrap();
            c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
            let url = if base.contains("://") {
                let (head, _) = base.rsplit_once('/').unwrap();
                format!("{head}/{db}")
            } else {
                format!("{base} dbname={db}")
            };
            Some(TestStore {
                url,
                _dir: dir,
                pg_db: Some((base, db)),
            })
        }
    }
}

fn cleanpath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .env_remove("CLEANPATH_STORE")
        .output()
        .expect("cleanpath runs")
}

fn reader(url: &str) -> Box<dyn StoreReader> {
    open_reader(url, &Credentials::default()).unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// Every capture in `fixtures/`, sorted.
fn all_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.contains(".pcap")
        })
        .collect();
    v.sort();
    v
}

/// The JSON lines of a run: (run line, flow records, summary).
fn parse_jsonl(text: &str) -> (Value, Vec<Value>, Summary) {
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let run = lines.first().cloned().unwrap();
    assert_eq!(run["type"], "run");
    let flows: Vec<Value> = lines
        .iter()
        .filter(|l| l["type"] == "flow")
        .cloned()
        .collect();
    let summary: Summary = store::summary_from_json(text.lines().last().unwrap()).unwrap();
    assert_eq!(lines.last().unwrap()["type"], "summary");
    (run, flows, summary)
}

fn by_id(mut flows: Vec<Value>) -> Vec<Value> {
    flows.sort_by_key(|f| f["id"].as_u64().unwrap());
    flows
}

fn values(recs: &[FlowRecord]) -> Vec<Value> {
    by_id(
        recs.iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect(),
    )
}

/// `fixtures/SHA256SUMS` as file name → hash.
fn published_sums() -> BTreeMap<String, String> {
    std::fs::read_to_string(fixture("SHA256SUMS"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, n)| (n.trim().to_string(), h.to_string()))
        .collect()
}

/// SHA-256 of a file, computed here (the demo is generated, so not in SHA256SUMS).
fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Backend::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name(super::Backend::Postgres);
            }
        }
    )*};
}

both!(
    nightly_fixtures_equal_json_lines,
    replayed_batch_does_not_duplicate,
    reader_filters,
    fleet_of_four_concurrent_writers,
    kill_9_keeps_committed_batches,
    check_finds_damage,
);

/// Runs raw SQL on a test store (to damage it on purpose).
fn raw_sql(url: &str, sql: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    } else {
        postgres::Client::connect(url, postgres::NoTls)
            .unwrap()
            .batch_execute(sql)
            .unwrap();
    }
}

/// The consistency check is not a rubber stamp: lost evidence, a miscounted
/// equipment row and a finished run missing a flow are each reported.
fn check_finds_damage(backend: Backend) {
    let Some(st) = fresh(backend, "damage") else {
        return;
    };
    let (recs, summary) = demo_records();
    let mut w = open_writer(&st.url, &Credentials::default()).unwrap();
    w.begin(&run_info("d", None)).unwrap();
    w.write_batch(&recs).unwrap();
    w.finish(&summary, 1_700_000_003_000).unwrap();
    let mut r = reader(&st.url);
    assert_eq!(r.check().unwrap(), Vec::<String>::new());
    raw_sql(
        &st.url,
        "DELETE FROM evidence WHERE seq = 0 AND flow_id = (SELECT MIN(flow_id) FROM evidence)",
    );
    raw_sql(
        &st.url,
        "UPDATE equipment SET flows = flows + 1 WHERE hop_value = '00:e0:fc:11:22:33'",
    );
    let problems = r.check().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("evidence holds 5 rows"),
        "{problems:#?}"
    );
    assert!(problems[1].contains("equipment counts"), "{problems:#?}");
    raw_sql(
        &st.url,
        "DELETE FROM evidence WHERE flow_id = 9; DELETE FROM flows WHERE flow_id = 9",
    );
    let problems = r.check().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("its summary counts 9 flows, the store holds 8")),
        "{problems:#?}"
    );
}

/// Analyses every fixture into the store and checks the stored flows, run and
/// provenance against the JSON lines of the same run; returns the store for the
/// cross-backend comparison.
fn nightly(backend: Backend, name: &str) -> Option<(TestStore, Vec<Value>)> {
    let st = fresh(backend, name)?;
    let files = all_fixtures();
    assert!(files.len() > 150, "{} fixtures", files.len());
    let mut args = vec![
        "analyze", "-q", "--json", "--store", &st.url, "--sensor", "nightly", "--site", "lab",
    ];
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let o = cleanpath(&args);
    // Violations among the fixtures: exit 1.
    assert!(
        o.status.code() == Some(1),
        "{:?} {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let (run_line, json_flows, summary) = parse_jsonl(&String::from_utf8_lossy(&o.stdout));
    assert!(json_flows.len() > 500, "{} flows", json_flows.len());

    let mut r = reader(&st.url);
    let stored = values(&r.flows(&Filter::default()).unwrap());
    assert_eq!(stored.len(), json_flows.len());
    let json_flows = by_id(json_flows);
    assert!(
        stored == json_flows,
        "stored flows differ from the JSON lines"
    );

    // Verdict counts through the indexed column equal the summary's.
    let v = summary.counters.verdicts;
    for (verdict, want) in [
        (Verdict::Clean, v.clean),
        (Verdict::Unknown, v.unknown),
        (Verdict::Violation, v.violation),
    ] {
        let f = Filter {
            verdict: Some(verdict),
            ..Filter::default()
        };
        let got = r.flows(&f).unwrap();
        assert_eq!(got.len() as u64, want, "{verdict}");
        assert!(got.iter().all(|x| x.verdict == verdict));
    }
    assert!(v.violation > 0 && v.clean > 0 && v.unknown > 0, "{v:?}");

    // The run row: what began, what finished, the hashes of every input.
    let runs = r.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(run.finished);
    assert_eq!(run.info.sensor, "nightly");
    assert_eq!(run.info.site.as_deref(), Some("lab"));
    assert_eq!(run.info.run_id, run_line["run_id"].as_str().unwrap());
    assert_eq!(run.info.run_id.len(), 32);
    let from_json: Vec<InputFile> = serde_json::from_value(run_line["inputs"].clone()).unwrap();
    assert_eq!(run.info.inputs, from_json);
    let sums = published_sums();
    assert_eq!(run.info.inputs.len(), files.len());
    let mut published = 0;
    for i in &run.info.inputs {
        let name = Path::new(&i.path).file_name().unwrap().to_string_lossy();
        let want = sums
            .get(name.as_ref())
            .inspect(|_| published += 1)
            .cloned()
            .unwrap_or_else(|| sha256_hex(Path::new(&i.path)));
        assert_eq!(i.sha256.as_deref(), Some(want.as_str()), "{name}");
    }
    assert!(published > 170, "{published} inputs listed in SHA256SUMS");
    let s = run.summary.as_ref().unwrap();
    assert_eq!(s.counters.verdicts, v);
    assert_eq!(s.counters.frames, summary.counters.frames);
    assert_eq!(s.provenance.rules, summary.provenance.rules);
    assert_eq!(s.provenance.denylists, summary.provenance.denylists);
    assert!(
        run.finished_unix_ms.unwrap() >= run.info.started_unix_ms,
        "{run:?}"
    );

    let problems = r.check().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    Some((st, stored))
}

fn nightly_fixtures_equal_json_lines(backend: Backend) {
    nightly(backend, "nightly");
}

/// The nightly run into both backends gives identical flows, runs' counters and
/// equipment tables.
#[test]
fn sqlite_and_postgres_hold_identical_results() {
    let Some((pg, pg_flows)) = nightly(Backend::Postgres, "ident") else {
        return;
    };
    let (lite, lite_flows) = nightly(Backend::Sqlite, "ident").unwrap();
    assert!(pg_flows == lite_flows);
    let (mut a, mut b) = (reader(&lite.url), reader(&pg.url));
    let eq_a = a.equipment(None).unwrap();
    let eq_b = b.equipment(None).unwrap();
    assert!(eq_a.len() > 50, "{}", eq_a.len());
    assert_eq!(eq_a, eq_b);
    let ra = &a.runs(&Filter::default()).unwrap()[0];
    let rb = &b.runs(&Filter::default()).unwrap()[0];
    assert_eq!(
        ra.summary.as_ref().unwrap().counters.verdicts,
        rb.summary.as_ref().unwrap().counters.verdicts
    );
    assert_eq!(ra.info.inputs, rb.info.inputs);
}

/// The demo's flows and summary, from the binary's JSON lines.
fn demo_records() -> (Vec<FlowRecord>, Summary) {
    let demo = fixture("cleanpath-demo.pcapng");
    let o = cleanpath(&["analyze", "-q", "--json", &demo.display().to_string()]);
    let text = String::from_utf8_lossy(&o.stdout);
    let (_, flows, summary) = parse_jsonl(&text);
    let recs = flows
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    (recs, summary)
}

fn run_info(sensor: &str, site: Option<&str>) -> RunInfo {
    RunInfo {
        sensor: sensor.into(),
        site: site.map(Into::into),
        run_id: cleanpath::sink::new_run_id(),
        started_unix_ms: 1_700_000_000_000,
        inputs: vec![InputFile::of(&fixture("cleanpath-demo.pcapng")).unwrap()],
        version: "test".into(),
    }
}

fn replayed_batch_does_not_duplicate(backend: Backend) {
    let Some(st) = fresh(backend, "replay") else {
        return;
    };
    let (recs, summary) = demo_records();
    assert_eq!(recs.len(), 9);
    let mut w = open_writer(&st.url, &Credentials::default()).unwrap();
    w.begin(&run_info("replay", None)).unwrap();
    assert_eq!(w.write_batch(&recs[..5]).unwrap(), 5);
    // The first batch retried whole, then overlapping: only new flows count.
    assert_eq!(w.write_batch(&recs[..5]).unwrap(), 0);
    assert_eq!(w.write_batch(&recs).unwrap(), 4);
    assert_eq!(w.write_batch(&recs).unwrap(), 0);
    w.finish(&summary, 1_700_000_001_000).unwrap();
    // A second writer replaying the same run (same id) changes nothing either.
    drop(w);

    let mut r = reader(&st.url);
    let stored = r.flows(&Filter::default()).unwrap();
    assert_eq!(values(&stored), values(&recs));
    let problems = r.check().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");

    // The equipment table learned the demo's Huawei MAC once per flow that crossed it.
    let huawei = "00:e0:fc:11:22:33";
    let crossing: Vec<&FlowRecord> = recs
        .iter()
        .filter(|f| f.macs.iter().any(|m| m == huawei))
        .collect();
    assert!(!crossing.is_empty());
    let eq = r.equipment(Some("replay")).unwrap();
    let row = eq
        .iter()
        .find(|e| e.hop_value == huawei)
        .expect("Huawei MAC");
    assert_eq!(row.hop_kind, "l2_neighbour");
    assert_eq!(row.org.as_deref(), Some("HUAWEI TECHNOLOGIES CO.,LTD"));
    assert_eq!(row.entity.as_deref(), Some("Huawei"));
    assert_eq!(row.flows, crossing.len() as i64);
    let first = crossing
        .iter()
        .map(|f| parse_rfc3339_ns(&f.first_ts).unwrap())
        .min()
        .unwrap();
    assert_eq!(row.first_seen_ns, first);
    assert!(row.attribution.contains("\"registry\":\"MA-L\""));
    // No inner endpoint is equipment.
    assert!(eq.iter().all(|e| e.hop_kind != "endpoint"));

    // The run row is finished with the summary's counts.
    let runs = r.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].finished);
    assert_eq!(
        runs[0]
            .summary
            .as_ref()
            .unwrap()
            .counters
            .verdicts
            .violation,
        4
    );
    let want = sha256_hex(&fixture("cleanpath-demo.pcapng"));
    assert_eq!(runs[0].info.inputs[0].sha256, Some(want));
}

fn reader_filters(backend: Backend) {
    let Some(st) = fresh(backend, "filters") else {
        return;
    };
    let (recs, summary) = demo_records();
    for (sensor, site) in [("a", Some("north")), ("b", Some("south")), ("c", None)] {
        let mut w = open_writer(&st.url, &Credentials::default()).unwrap();
        w.begin(&run_info(sensor, site)).unwrap();
        w.write_batch(&recs).unwrap();
        if sensor != "c" {
            w.finish(&summary, 1_700_000_002_000).unwrap();
        }
    }
    let mut r = reader(&st.url);
    let n = recs.len();
    let count = |r: &mut Box<dyn StoreReader>, f: Filter| r.flows(&f).unwrap().len();
    assert_eq!(count(&mut r, Filter::default()), 3 * n);
    let sensor = |s: &str| Filter {
        sensor: Some(s.into()),
        ..Filter::default()
    };
    assert_eq!(count(&mut r, sensor("b")), n);
    assert_eq!(count(&mut r, sensor("zz")), 0);
    let site = Filter {
        site: Some("north".into()),
        ..Filter::default()
    };
    assert_eq!(count(&mut r, site.clone()), n);
    let runs = r.runs(&site).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].info.sensor, "a");
    let all_runs = r.runs(&Filter::default()).unwrap();
    assert_eq!(all_runs.len(), 3);
    assert_eq!(all_runs.iter().filter(|x| x.finished).count(), 2);
    let unfinished = all_runs.iter().find(|x| !x.finished).unwrap();
    assert_eq!(unfinished.info.sensor, "c");
    assert!(unfinished.summary.is_none());

    // Interface: the demo's flows per interface index.
    for iface in [0u32, 1] {
        let want = recs.iter().filter(|f| f.iface == iface).count();
        let f = Filter {
            iface: Some(iface),
            sensor: Some("a".into()),
            ..Filter::default()
        };
        assert_eq!(count(&mut r, f), want, "iface {iface}");
    }
    // Capture-time window: flows overlapping [from, to).
    let mut times: Vec<(i64, i64)> = recs
        .iter()
        .map(|f| {
            (
                parse_rfc3339_ns(&f.first_ts).unwrap(),
                parse_rfc3339_ns(&f.last_ts).unwrap(),
            )
        })
        .collect();
    times.sort();
    let from = times[3].0;
    let to = times[6].0;
    let want = times.iter().filter(|(a, b)| *b >= from && *a < to).count();
    assert!(want > 0 && want < n, "{want}");
    let f = Filter {
        from_ns: Some(from),
        to_ns: Some(to),
        sensor: Some("a".into()),
        ..Filter::default()
    };
    let got = r.flows(&f).unwrap();
    assert_eq!(
        got.len(),
        want,
        "window {} .. {}",
        rfc3339_ns(from),
        rfc3339_ns(to)
    );
    // Ordered by first packet time.
    let firsts: Vec<i64> = got
        .iter()
        .map(|x| parse_rfc3339_ns(&x.first_ts).unwrap())
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
    // Combined: violations at site south.
    let f = Filter {
        site: Some("south".into()),
        verdict: Some(Verdict::Violation),
        ..Filter::default()
    };
    assert_eq!(count(&mut r, f), 4);
    // The unfinished run is not a consistency problem; finished ones hold all flows.
    let problems = r.check().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

fn rfc3339_ns(ns: i64) -> String {
    rfc3339(cleanpath::capture::Timestamp(ns))
}

/// Four sensors analyse different captures into one store at the same time.
fn fleet_of_four_concurrent_writers(backend: Backend) {
    let Some(st) = fresh(backend, "fleet") else {
        return;
    };
    let inputs = [
        "pcapplusplus-many-protocols.pcap",
        "telekom-5gtv-n3_example.pcap",
        "zeek-gtp2_different_udp_port.pcap",
        "zeek-sctp.pcap",
    ];
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = inputs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let out = dir.path().join(format!("s{i}.jsonl"));
            let child = Command::new(env!("CARGO_BIN_EXE_cleanpath"))
                .args([
                    "analyze",
                    "-q",
                    "--json",
                    "-o",
                    &out.display().to_string(),
                    "--store",
                    &st.url,
                    "--sensor",
                    &format!("s{i}"),
                    "--site",
                    if i < 2 { "east" } else { "west" },
                    &fixture(f).display().to_string(),
                ])
                .env_remove("CLEANPATH_STORE")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    let mut expected = Vec::new();
    for (child, out) in children {
        let o = child.wait_with_output().unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{:?}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        let (_, flows, _) = parse_jsonl(&std::fs::read_to_string(out).unwrap());
        expected.push(by_id(flows));
    }
    let mut r = reader(&st.url);
    let mut total = 0;
    for (i, want) in expected.iter().enumerate() {
        let f = Filter {
            sensor: Some(format!("s{i}")),
            ..Filter::default()
        };
        let got = values(&r.flows(&f).unwrap());
        assert_eq!(got.len(), want.len(), "sensor s{i}");
        assert!(&got == want, "sensor s{i}: stored flows differ");
        let runs = r.runs(&f).unwrap();
        assert_eq!(runs.len(), 1);
        assert!(runs[0].finished);
        total += want.len();
    }
    assert!(expected[0].len() > 100, "{}", expected[0].len());
    assert_eq!(r.flows(&Filter::default()).unwrap().len(), total);
    let east = Filter {
        site: Some("east".into()),
        ..Filter::default()
    };
    assert_eq!(
        r.flows(&east).unwrap().len(),
        expected[0].len() + expected[1].len()
    );
    let problems = r.check().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Byte offsets of the frame boundaries of a little-endian classic pcap.
fn pcap_frame_ends(bytes: &[u8]) -> Vec<usize> {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let mut ends = Vec::new();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + incl;
        ends.push(off);
    }
    ends
}

/// A writer fed through a FIFO that stalls mid-capture: once the flows it finished
/// before the stall are committed, `kill -9` it. The store must pass its integrity
/// check and hold exactly those flows, with the run left unfinished.
fn kill_9_keeps_committed_batches(backend: Backend) {
    let Some(st) = fresh(backend, "kill") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let capture = std::fs::read(fixture("pcapplusplus-many-protocols.pcap")).unwrap();
    let ends = pcap_frame_ends(&capture);
    let cut = ends[1999];

    // What the writer will have finished before the stall: the same analysis of the
    // first 2000 frames, less the flows that only end because that input ends.
    let prefix = dir.path().join("prefix.pcap");
    std::fs::write(&prefix, &capture[..cut]).unwrap();
    let o = cleanpath(&[
        "analyze",
        "-q",
        "--json",
        "--max-flows",
        "1",
        &prefix.display().to_string(),
    ]);
    let (_, flows, _) = parse_jsonl(&String::from_utf8_lossy(&o.stdout));
    let fifo = dir.path().join("capture.fifo");
    let want: Vec<Value> = by_id(
        flows
            .into_iter()
            .filter(|f| f["end"] != "end_of_input")
            .map(|mut f| {
                f["file"] = Value::from(fifo.display().to_string());
                f
            })
            .collect(),
    );
    assert!(want.len() > 500, "{}", want.len());

    let mk = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(mk.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args([
            "analyze",
            "-q",
            "--json",
            "-o",
            &dir.path().join("out.jsonl").display().to_string(),
            "--max-flows",
            "1",
            "--store",
            &st.url,
            "--sensor",
            "victim",
            &fifo.display().to_string(),
        ])
        .env_remove("CLEANPATH_STORE")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(&capture[..cut]).unwrap();
    w.flush().unwrap();

    // Rows appear within the batch interval of the stall; wait for all of them.
    let started = Instant::now();
    let mut seen = 0;
    while started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
        seen = match open_reader(&st.url, &Credentials::default()) {
            Ok(mut r) => r.flows(&Filter::default()).map_or(0, |f| f.len()),
            Err(_) => 0,
        };
        if seen >= want.len() {
            break;
        }
    }
    assert_eq!(seen, want.len(), "rows committed before the stall");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the writer is still running"
    );
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    drop(w);

    let mut r = reader(&st.url);
    let problems = r.check().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    let stored = values(&r.flows(&Filter::default()).unwrap());
    if stored != want {
        let ids = |v: &[Value]| {
            v.iter()
                .map(|f| f["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b) = (ids(&stored), ids(&want));
        assert_eq!(a, b, "flow ids");
        for (x, y) in stored.iter().zip(&want) {
            assert_eq!(x, y);
        }
    }
    let runs = r.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].finished, "the killed run must not look finished");
    assert!(runs[0].summary.is_none());
    assert_eq!(runs[0].info.inputs[0].sha256, None, "a FIFO is not hashed");

    // A store left by a killed writer takes the next run as usual.
    let demo = fixture("cleanpath-demo.pcapng").display().to_string();
    let o = cleanpath(&[
        "analyze", "-q", "--store", &st.url, "--sensor", "next", &demo,
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        r.flows(&Filter {
            sensor: Some("next".into()),
            ..Filter::default()
        })
        .unwrap()
        .len(),
        9
    );
}

#[test]
fn password_in_url_is_refused_before_any_work() {
    let demo = fixture("cleanpath-demo.pcapng").display().to_string();
    let o = cleanpath(&[
        "analyze",
        "--store",
        "postgres://audit:hunter2@127.0.0.1:1/cp",
        &demo,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("PGPASSWORD"), "{err}");
    assert!(!err.contains("hunter2"), "the password is echoed: {err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn newer_schema_is_refused() {
    let st = fresh(Backend::Sqlite, "newer").unwrap();
    drop(open_writer(&st.url, &Credentials::default()).unwrap());
    let path = st.url.strip_prefix("sqlite:").unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute("INSERT INTO schema_version VALUES (99, 0)", [])
        .unwrap();
    let e = open_reader(&st.url, &Credentials::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("newer"), "{e}");
    let e = open_writer(&st.url, &Credentials::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("version 99"), "{e}");
    const { assert!(store::SCHEMA_VERSION < 99) };
}
