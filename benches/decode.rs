//! Decode throughput: every frame of two real captures, decoded from memory.
//!
//! Reads `telekom-5gtv-n3_example.pcap` (GTP-U with PDU Session Containers) and
//! `pcapplusplus-many-protocols.pcap` (4709 mixed frames) from `$CLEANPATH_PCAPS`, else
//! `/work/shared/pcaps` or `../shared/pcaps`; skips with a message when neither is there.
//! The classic pcap records are parsed inline (the capture stage is benched on its own).

use std::hint::black_box;
use std::path::PathBuf;

use cleanpath::capture::LinkType;
use cleanpath::decode::{Decoded, decode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Returns the link type and frames of a classic (microsecond or nanosecond) pcap file.
fn read_pcap(bytes: &[u8]) -> Option<(LinkType, Vec<&[u8]>)> {
    let magic = bytes.get(..4)?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(off..off + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let link = LinkType(u32_at(20)? & 0xffff);
    let mut frames = Vec::new();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let caplen = u32_at(off + 8)? as usize;
        frames.push(bytes.get(off + 16..off + 16 + caplen)?);
        off += 16 + caplen;
    }
    Some((link, frames))
}

fn pcap_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("CLEANPATH_PCAPS")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    candidates.push("/work/shared/pcaps".into());
    candidates.push("../shared/pcaps".into());
    candidates.into_iter().find(|d| d.is_dir())
}

fn bench_decode(c: &mut Criterion) {
    let Some(dir) = pcap_dir() else {
        eprintln!("decode bench: no pcap directory (set CLEANPATH_PCAPS); skipped");
        return;
    };
    let mut group = c.benchmark_group("decode");
    for name in [
        "telekom-5gtv-n3_example.pcap",
        "pcapplusplus-many-protocols.pcap",
    ] {
        let Ok(bytes) = std::fs::read(dir.join(name)) else {
            eprintln!(
                "decode bench: {name} not found in {}; skipped",
                dir.display()
            );
            continue;
        };
        let Some((link, frames)) = read_pcap(&bytes) else {
            eprintln!("decode bench: {name} is not a classic pcap file; skipped");
            continue;
        };
        group.throughput(Throughput::Elements(frames.len() as u64));
        let mut out = Decoded::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut errors = 0u32;
                for f in &frames {
                    errors += u32::from(decode(link, black_box(f), &mut out).is_err());
                }
                black_box((errors, out.payload_len))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
