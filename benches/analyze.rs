//! `analyze` over captures held in memory: capture → decode → flow → verdicts, the whole
//! pipeline per frame, reported as frames per second.
//!
//! Run: `cargo bench --bench analyze`. Figures go to BENCHMARKS.md with machine and date.

use cleanpath::capture::FileReader;
use cleanpath::flow::Limits;
use cleanpath::intel::Intel;
use cleanpath::pipeline::Analyzer;
use cleanpath::policy::verdict::Judge;
use cleanpath::policy::{Confidence, Denylist};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn count_frames(name: &Path, bytes: &[u8]) -> u64 {
    let mut r = FileReader::from_bytes(name, bytes.to_vec()).expect("fixture opens");
    let mut n = 0;
    while let Ok(Some(_)) = r.next_frame() {
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let intel = Intel::bundled().expect("bundled intel");
    let rules = Denylist::bundled().expect("bundled denylist");
    let mut group = c.benchmark_group("analyze");
    for name in [
        "telekom-5gtv-n3_example.pcap",
        "pcapplusplus-many-protocols.pcap",
        "cleanpath-demo.pcapng",
    ] {
        let path = fixture(name);
        let bytes = std::fs::read(&path).expect("fixture present");
        let frames = count_frames(&path, &bytes);
        group.throughput(Throughput::Elements(frames));
        group.bench_function(name, |b| {
            b.iter(|| {
                let judge = Judge::new(&intel, &rules, Confidence::Medium);
                let mut a = Analyzer::new(judge, Limits::default());
                let mut r = FileReader::from_bytes(&path, bytes.clone()).expect("opens");
                let mut flows = 0u64;
                while let Ok(Some(f)) = r.next_frame() {
                    a.frame(0, &f, &mut |_| flows += 1);
                }
                a.finish(&mut |_| flows += 1);
                black_box(flows)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
