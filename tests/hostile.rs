//! Hostile and corrupt input: crafted captures and frames that a span port or a handed-over
//! file can carry. Each gives a clear error or a counted skip — never a panic, never
//! unbounded memory — and the run's counters say what was not analysed.

mod common;

use cleanpath::capture::{Error, FileReader};
use cleanpath::decode::{self, Decoded, Layer, MAX_TUNNEL_DEPTH};
use cleanpath::synth::pcapng::Writer;
use common::analyze_reader;
use etherparse::PacketBuilder;
use std::path::Path;

const MAC_A: [u8; 6] = [0x00, 0x05, 0x85, 0x0a, 0x0b, 0x0c];
const MAC_B: [u8; 6] = [0x00, 0xd0, 0xf6, 0x01, 0x02, 0x03];

fn udp4(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .udp(sp, dp)
        .write(&mut out, payload)
        .expect("build");
    out
}

fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

/// A G-PDU header (no optional fields) around `inner`.
fn gtpu(teid: u32, inner: &[u8]) -> Vec<u8> {
    let mut g = vec![0x30, 0xff];
    g.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    g.extend_from_slice(&teid.to_be_bytes());
    g.extend_from_slice(inner);
    g
}

fn reader(bytes: Vec<u8>) -> FileReader {
    FileReader::from_bytes(Path::new("hostile.pcapng"), bytes).expect("opens")
}

fn one_frame_capture(frame: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    let i = w.interface(1, "hostile0");
    w.packet(i, 1_000_000_000, frame);
    w.finish()
}

#[test]
fn gtp_u_nested_past_the_depth_limit_is_counted_not_followed() {
    let mut pkt = udp4([8, 8, 8, 8], [12, 1, 2, 3], 53, 40_000, b"x");
    for depth in 0..(MAX_TUNNEL_DEPTH as u32 + 4) {
        pkt = udp4(
            [12, 1, 2, 10],
            [12, 1, 2, 20],
            2152,
            2152,
            &gtpu(depth + 1, &pkt),
        );
    }
    let frame = eth(0x0800, &pkt);
    let mut d = Decoded::default();
    let err = decode::decode(cleanpath::capture::LinkType::ETHERNET, &frame, &mut d)
        .expect_err("too deep");
    assert_eq!((err.layer(), err.what()), (Layer::Gtpu, "tunnel_too_deep"));
    let t = d.tunnel.expect("outermost tunnel kept");
    assert_eq!(t.depth as usize, MAX_TUNNEL_DEPTH);
    assert_eq!(t.teid.0, MAX_TUNNEL_DEPTH as u32 + 4, "outermost TEID");
    // Through the pipeline: one flow keyed on the outer layers, the error counted.
    let run = analyze_reader(reader(one_frame_capture(&frame)));
    assert_eq!(
        run.counters.decode_errors.get("gtpu.tunnel_too_deep"),
        Some(&1)
    );
    assert_eq!(run.flows.len(), 1);
    assert_eq!(run.flows[0].flow.decode_errors, 1);
}

/// IPv6 with `n` destination-options headers of `len8` 8-octet units each, then UDP.
fn ipv6_ext_chain(n: usize, len8: u8) -> Vec<u8> {
    let udp = {
        let mut u = vec![0x9c, 0x40, 0x01, 0xbb, 0x00, 0x09, 0x00, 0x00, b'x'];
        u[4..6].copy_from_slice(&9u16.to_be_bytes());
        u
    };
    let mut exts = Vec::new();
    for i in 0..n {
        let next = if i + 1 == n { 17 } else { 60 };
        let size = (usize::from(len8) + 1) * 8;
        let mut h = vec![0u8; size];
        h[0] = next;
        h[1] = len8;
        // PadN option filling the rest of the header (RFC 8200 §4.2).
        h[2] = 1;
        h[3] = (size - 4) as u8;
        if size - 4 > 255 {
            // Longer than one PadN can say: use several.
            let mut off = 2;
            while off < size {
                let left = size - off;
                if left == 1 {
                    h[off] = 0; // Pad1
                    off += 1;
                } else {
                    let l = (left - 2).min(255);
                    h[off] = 1;
                    h[off + 1] = l as u8;
                    off += 2 + l;
                }
            }
        }
        exts.extend_from_slice(&h);
    }
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&((exts.len() + udp.len()) as u16).to_be_bytes());
    ip.push(if n == 0 { 17 } else { 60 });
    ip.push(64);
    ip.extend_from_slice(
        &"2600:380::1"
            .parse::<std::net::Ipv6Addr>()
            .expect("addr")
            .octets(),
    );
    ip.extend_from_slice(
        &"2001:4860::8888"
            .parse::<std::net::Ipv6Addr>()
            .expect("addr")
            .octets(),
    );
    ip.extend_from_slice(&exts);
    ip.extend_from_slice(&udp);
    eth(0x86dd, &ip)
}

#[test]
fn ipv6_extension_chains_long_and_too_long() {
    let link = cleanpath::capture::LinkType::ETHERNET;
    let mut d = Decoded::default();
    // The longest chain accepted, each header as large as its length field allows.
    let max = ipv6_ext_chain(cleanpath::decode::ipv6::MAX_EXT_HEADERS, 255);
    assert!(max.len() > 30_000);
    decode::decode(link, &max, &mut d).expect("a long but valid chain decodes");
    assert_eq!(
        d.transport,
        cleanpath::decode::Transport::Udp {
            src: 40_000,
            dst: 443
        }
    );
    // One more header is refused, by count, before walking further.
    let over = ipv6_ext_chain(cleanpath::decode::ipv6::MAX_EXT_HEADERS + 1, 0);
    let e = decode::decode(link, &over, &mut d).expect_err("too many");
    assert_eq!(
        (e.layer(), e.what()),
        (Layer::Ipv6Ext, "too_many_ext_headers")
    );
    assert!(d.ip.is_none() || d.transport == cleanpath::decode::Transport::None);
}

#[test]
fn mpls_stack_without_bottom_label() {
    // Three label stack entries, none with the bottom-of-stack bit, then the frame ends.
    // The error stops the walk; the frame still keys an L2 flow on its MACs.
    let labels: Vec<u8> = [100u32, 200, 300]
        .iter()
        .flat_map(|l| ((l << 12) | 64).to_be_bytes())
        .collect();
    let frame = eth(0x8847, &labels);
    let mut d = Decoded::default();
    let e = decode::decode(cleanpath::capture::LinkType::ETHERNET, &frame, &mut d)
        .expect_err("no bottom of stack");
    assert_eq!(e.layer(), Layer::Mpls);
    let run = analyze_reader(reader(one_frame_capture(&frame)));
    let key = format!("mpls.{}", e.what());
    assert_eq!(
        run.counters.decode_errors.get(&key),
        Some(&1),
        "{:?}",
        run.counters
    );
}

/// Appends a raw pcapng block (little-endian) with a correct trailer.
fn block(out: &mut Vec<u8>, ty: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

fn demo_frame() -> Vec<u8> {
    eth(
        0x0800,
        &udp4([12, 1, 2, 30], [63, 118, 7, 1], 5000, 5001, b"hello"),
    )
}

#[test]
fn unknown_blocks_are_skipped_and_counted() {
    let mut w = Writer::new();
    let i = w.interface(1, "eth0");
    w.packet(i, 1, &demo_frame());
    let mut bytes = w.finish();
    block(&mut bytes, 0x0bad_beef, &[1, 2, 3, 4, 5, 6, 7, 8]);
    // A custom block (type 0x00000BAD): a private enterprise number, then private data.
    block(&mut bytes, 0x0000_0bad, &[0, 0, 0x7f, 0x49, 9, 9, 9, 9]);
    let mut tail = Writer::new();
    let _ = tail.interface(1, "unused");
    // Append one more EPB for interface 0 by hand (same section).
    let f = demo_frame();
    let mut epb = Vec::new();
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&2u32.to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
    epb.extend_from_slice(&f);
    epb.resize(epb.len() + (4 - f.len() % 4) % 4, 0);
    block(&mut bytes, 6, &epb);
    let mut r = reader(bytes);
    let mut n = 0;
    while r.next_frame().expect("reads").is_some() {
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(r.stats().skipped_blocks, 2);
}

#[test]
fn zero_length_block_is_corrupt_with_its_offset() {
    let mut w = Writer::new();
    let i = w.interface(1, "eth0");
    w.packet(i, 1, &demo_frame());
    let mut bytes = w.finish();
    let at = bytes.len() as u64;
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes()); // total length 0: impossible
    bytes.extend_from_slice(&[0u8; 24]);
    let mut r = reader(bytes);
    assert!(r.next_frame().expect("first frame").is_some());
    match r.next_frame() {
        Err(e @ (Error::Corrupt { .. } | Error::Truncated { .. })) => {
            let msg = e.to_string();
            assert!(msg.contains(&format!("offset {at}")), "{msg}");
            assert!(msg.contains("hostile.pcapng"), "{msg}");
        }
        other => panic!("expected a corrupt block error, got {other:?}"),
    }
    assert!(matches!(r.next_frame(), Ok(None)));
}

#[test]
fn ten_thousand_interfaces_stay_bounded() {
    let mut w = Writer::new();
    let mut last = 0;
    for n in 0..10_000 {
        last = w.interface(1, &format!("if{n}"));
    }
    w.packet(last, 5, &demo_frame());
    let mut r = reader(w.finish());
    let f = r.next_frame().expect("reads").expect("one frame");
    assert_eq!(f.iface, 9_999);
    assert!(r.next_frame().expect("end").is_none());
    assert_eq!(r.interfaces().len(), 10_000);
}

#[test]
fn timestamps_going_backwards_keep_flow_times_ordered() {
    let mut w = Writer::new();
    let i = w.interface(1, "eth0");
    for ts in [
        5_000_000_000u64,
        3_000_000_000,
        9_000_000_000,
        1_000_000_000,
    ] {
        w.packet(i, ts, &demo_frame());
    }
    let run = analyze_reader(reader(w.finish()));
    assert_eq!(run.flows.len(), 1);
    let f = &run.flows[0].flow;
    assert_eq!(f.packets, [4, 0]);
    assert_eq!(f.first_ts.0, 5_000_000_000, "the first packet's time");
    assert_eq!(f.last_ts.0, 9_000_000_000, "the latest time seen");
}

#[test]
fn a_file_of_only_garbage_frames_says_how_much_was_not_analysed() {
    let mut w = Writer::new();
    let eth_if = w.interface(1, "eth0");
    let odd_if = w.interface(147, "user0"); // LINKTYPE_USER0: not decoded
    w.packet(eth_if, 1, &[0xde, 0xad]); // shorter than an Ethernet header
    w.packet(odd_if, 2, &[1, 2, 3, 4]);
    w.packet(eth_if, 3, &demo_frame());
    let run = analyze_reader(reader(w.finish()));
    assert_eq!(run.counters.frames, 3);
    assert_eq!(run.counters.frames_without_flow, 2);
    assert_eq!(run.counters.unsupported_link_types.get(&147), Some(&1));
    assert_eq!(run.counters.decode_errors.values().sum::<u64>(), 1);
    assert_eq!(run.flows.len(), 1);
}
