//! Flow-table memory per flow: a counting global allocator measures the heap the table
//! holds after N distinct GTP-U flows (two MACs, a TEID and QFI, an inner TCP 5-tuple,
//! the shape of the generated 5G mix) have been inserted.
//!
//! `cargo bench --bench flow_memory` (1 M flows); `FLOWS=10000000 cargo bench --bench
//! flow_memory` for 10 M (needs ~6 GiB of RAM). Prints bytes per flow and the struct sizes.

#![allow(unsafe_code, missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use cleanpath::capture::Timestamp;
use cleanpath::decode::{Decoded, Ip, Mac, Qfi, Teid, Transport, Tunnel};
use cleanpath::flow::{Flow, FlowKey, FlowTable, Limits, Origin};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let n: u64 = std::env::var("FLOWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut d = Decoded::default();
    d.l2.src = Some(Mac([0x00, 0xd0, 0xf6, 1, 2, 3]));
    d.l2.dst = Some(Mac([0x00, 0x05, 0x85, 4, 5, 6]));
    let before = LIVE.load(Ordering::Relaxed);
    let mut table = FlowTable::new(Limits {
        max_flows: n as usize,
        ..Limits::default()
    });
    let t0 = std::time::Instant::now();
    for i in 0..n {
        let ue = IpAddr::V4(Ipv4Addr::from(0xa689_0000u32 + (i as u32 % 65_536)));
        d.tunnel = Some(Tunnel {
            outer_src: IpAddr::V4(Ipv4Addr::new(12, 1, 8, (i % 251) as u8)),
            outer_dst: IpAddr::V4(Ipv4Addr::new(12, 1, 20, 1)),
            src_port: 2152,
            dst_port: 2152,
            teid: Teid(0x10_0000 + (i / 4) as u32),
            msg_type: 255,
            seq: None,
            qfi: Some(Qfi(9)),
            pdu_type: Some(1),
            depth: 1,
        });
        d.ip = Some(Ip {
            src: ue,
            dst: IpAddr::V4(Ipv4Addr::new(142, 250, 1, 1)),
            proto: 6,
            ttl: 64,
            total_len_bytes: 40,
            fragment: None,
        });
        d.transport = Transport::Tcp {
            src: 1024 + (i % 60_000) as u16,
            dst: 443,
            flags: 0x10,
        };
        let at = Origin {
            file: 0,
            iface: 0,
            frame_no: i + 1,
            ts: Timestamp(1_793_491_200_000_000_000 + i as i64 * 1_000),
            wire_len: 100,
        };
        table.update(&d, false, at, |_, _| {});
    }
    let elapsed = t0.elapsed();
    let held = LIVE.load(Ordering::Relaxed) - before;
    assert_eq!(table.len() as u64, n);
    println!(
        "flows {n}: heap {:.1} MiB, {:.0} bytes per flow (FlowKey {} B + Flow {} B inline per entry, \
         plus the AttrSet vectors and hash table slack); insert {:.0} ns per new flow",
        held as f64 / 1_048_576.0,
        held as f64 / n as f64,
        std::mem::size_of::<FlowKey>(),
        std::mem::size_of::<Flow>(),
        elapsed.as_nanos() as f64 / n as f64
    );
}
