//! Decode throughput: every frame of two real captures, decoded from memory.
//!
//! `fixtures/telekom-5gtv-n3_example.pcap` (GTP-U with PDU Session Containers) and
//! `fixtures/pcapplusplus-many-protocols.pcap` (4709 mixed frames) are read once with the
//! capture stage; the timed loop only decodes.

use cleanpath::capture::{FileReader, LinkType};
use cleanpath::decode::{Decoded, decode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

/// Returns every frame of a fixture with its link type.
fn frames(name: &str) -> Vec<(LinkType, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let mut r = FileReader::open(&path).expect("fixture opens");
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().expect("fixture reads") {
        out.push((f.link, f.data.to_vec()));
    }
    out
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for name in [
        "telekom-5gtv-n3_example.pcap",
        "pcapplusplus-many-protocols.pcap",
    ] {
        let frames = frames(name);
        group.throughput(Throughput::Elements(frames.len() as u64));
        let mut out = Decoded::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut errors = 0u32;
                for (link, f) in &frames {
                    errors += u32::from(decode(*link, black_box(f), &mut out).is_err());
                }
                black_box((errors, out.payload_len))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
