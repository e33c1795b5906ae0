//! Store writes: flows per second into SQLite (a temporary file) and, when
//! `CLEANPATH_TEST_PG` names a server (`source .ci/postgres.sh`), into PostgreSQL.
//! Each iteration writes one batch of [`BATCH`] flows of a new run through
//! [`cleanpath::store::Writer`] (what the store sink's writer thread does per batch).
//! The flows are the judged flows of every fixture, repeated to fill the batch.
//!
//! Run: `cargo bench --bench store`. Figures go to BENCHMARKS.md with machine and date.

use cleanpath::capture::FileReader;
use cleanpath::flow::Limits;
use cleanpath::intel::Intel;
use cleanpath::pipeline::Analyzer;
use cleanpath::policy::verdict::Judge;
use cleanpath::policy::{Confidence, Denylist};
use cleanpath::report::FlowRecord;
use cleanpath::sink::{RunInfo, new_run_id};
use cleanpath::store::{Credentials, open_writer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

/// Flows per batch (the sink's default batch size).
const BATCH: usize = cleanpath::store::BATCH_FLOWS;

fn fixture_flows() -> Vec<FlowRecord> {
    let intel = Intel::bundled().expect("bundled intel");
    let rules = Denylist::bundled().expect("bundled denylist");
    let judge = Judge::new(&intel, &rules, Confidence::Medium);
    let mut a = Analyzer::new(judge, Limits::default());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".pcap"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let Ok(mut r) = FileReader::open(p) else {
            continue;
        };
        let file = p.display().to_string();
        let no = u16::try_from(i).expect("few fixtures");
        while let Ok(Some(f)) = r.next_frame() {
            a.frame(no, &f, &mut |res| out.push(FlowRecord::new(&res, &file)));
        }
    }
    a.finish(&mut |res| out.push(FlowRecord::new(&res, "end")));
    out
}

fn batch() -> Vec<FlowRecord> {
    let base = fixture_flows();
    (0..BATCH)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r.id = i as u64 + 1;
            r
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let flows = batch();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = vec![(
        "sqlite",
        format!("sqlite:{}", dir.path().join("bench.db").display()),
    )];
    match std::env::var("CLEANPATH_TEST_PG") {
        Ok(u) if !u.is_empty() => urls.push(("postgres", u)),
        _ => eprintln!("store bench: CLEANPATH_TEST_PG unset, PostgreSQL not measured"),
    }
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, url) in &urls {
        let mut w = open_writer(url, &Credentials::default()).expect("store opens");
        group.bench_function(format!("{name}_batch_{BATCH}"), |b| {
            b.iter(|| {
                w.begin(&RunInfo {
                    sensor: "bench".into(),
                    site: None,
                    run_id: new_run_id(),
                    started_unix_ms: 0,
                    inputs: Vec::new(),
                    version: "bench".into(),
                })
                .expect("run row");
                assert_eq!(w.write_batch(&flows).expect("batch"), BATCH);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
