//! The demo capture: a small 5G span with flows whose verdicts are known by construction.
//!
//! The operator in the story runs its RAN and core in AT&T address space (AS7018 for
//! transport, AS20057 for subscribers; ranges from the bundled ip-location-db table).
//! Equipment MACs use real IEEE assignments: Nokia `00:d0:f6`, Juniper `00:05:85`,
//! Ericsson `04:4e:06`, Huawei `00:e0:fc`, ZTE `00:15:eb`.
//!
//! | flow | what | expected |
//! |---|---|---|
//! | 1 | GTP-U uplink, UE → 8.8.8.8 TCP 443, TEID 0x101 QFI 9 | CLEAN |
//! | 2 | GTP-U downlink of the same session, TEID 0x201 QFI 9 | CLEAN |
//! | 3 | plain IPv4 whose next-hop router MAC is Huawei's | VIOLATION (L2 neighbour) |
//! | 4 | GTP-U uplink to 202.97.33.1, China Telecom AS4134, TEID 0x102 QFI 5 | VIOLATION (endpoint) |
//! | 5 | IPv6 TCP between AT&T and Google | CLEAN |
//! | 6 | IPv4 from a private address through a locally administered MAC | UNKNOWN |
//! | 7 | IPv6 steered by SRv6 through 2408:8000::1, China Unicom AS4837 | VIOLATION (SRv6 segment) |
//! | 8 | VLAN 100 IPv4 whose source MAC is ZTE's | VIOLATION (L2 neighbour) |
//! | 9 | LLDP from a Nokia port to the nearest-bridge group address | CLEAN |
//!
//! Payloads are zero bytes: the demo carries no subscriber data.

use super::pcapng::Writer;
use etherparse::{PacketBuilder, VlanId};

/// Nokia (MA-L 00:D0:F6), the gNB's transport port.
pub const MAC_NOKIA: [u8; 6] = [0x00, 0xd0, 0xf6, 0x01, 0x02, 0x03];
/// Juniper Networks (MA-L 00:05:85), the operator's router.
pub const MAC_JUNIPER: [u8; 6] = [0x00, 0x05, 0x85, 0x0a, 0x0b, 0x0c];
/// Ericsson AB (MA-L 04:4E:06).
pub const MAC_ERICSSON: [u8; 6] = [0x04, 0x4e, 0x06, 0x10, 0x20, 0x30];
/// Huawei Technologies (MA-L 00:E0:FC): an untrusted next hop.
pub const MAC_HUAWEI: [u8; 6] = [0x00, 0xe0, 0xfc, 0x11, 0x22, 0x33];
/// ZTE Corporation (MA-L 00:15:EB): an untrusted switch.
pub const MAC_ZTE: [u8; 6] = [0x00, 0x15, 0xeb, 0x01, 0x02, 0x03];
/// A locally administered address: in no registry.
pub const MAC_LOCAL: [u8; 6] = [0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc];
/// LLDP nearest-bridge group address.
pub const MAC_LLDP: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];

/// gNB N3 address (AS7018).
pub const GNB: [u8; 4] = [12, 1, 2, 10];
/// UPF N3 address (AS7018).
pub const UPF: [u8; 4] = [12, 1, 2, 20];
/// First UE (AS20057).
pub const UE1: [u8; 4] = [166, 137, 10, 10];
/// Second UE (AS20057).
pub const UE2: [u8; 4] = [166, 137, 10, 11];

/// 2026-11-01T00:00:00Z in nanoseconds.
const T0: u64 = 1_793_491_200_000_000_000;
const MS: u64 = 1_000_000;

fn v6(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16])
}

fn build(b: PacketBuilder2, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and every value is a constant within range.
    b.write(&mut out, payload)
        .unwrap_or_else(|e| panic!("demo packet: {e}"));
    out
}

type PacketBuilder2 = etherparse::PacketBuilderStep<etherparse::TcpHeader>;

fn tcp4(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    build(
        PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, seq, 65_535),
        payload,
    )
}

fn udp4(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .udp(sp, dp)
        .write(&mut out, payload)
        .unwrap_or_else(|e| panic!("demo packet: {e}"));
    out
}

/// GTP-U G-PDU with a PDU Session Container (TS 29.281 §5.2.1, TS 38.415 §5.5.2).
fn gtpu(teid: u32, qfi: u8, uplink: bool, seq: u16, inner: &[u8]) -> Vec<u8> {
    let ext = [
        0x01,                             // length: 1 × 4 octets
        if uplink { 0x10 } else { 0x00 }, // PDU type (UL = 1, DL = 0) in the high nibble
        qfi & 0x3f,                       // QFI in the low 6 bits
        0x00,                             // no next extension header
    ];
    let len = 4 + ext.len() + inner.len();
    let mut g = vec![0x36, 0xff]; // v1, PT=1, E=1, S=1; G-PDU
    g.extend_from_slice(&(len as u16).to_be_bytes());
    g.extend_from_slice(&teid.to_be_bytes());
    g.extend_from_slice(&seq.to_be_bytes());
    g.push(0x00); // N-PDU number
    g.push(0x85); // next extension: PDU Session Container
    g.extend_from_slice(&ext);
    g.extend_from_slice(inner);
    g
}

fn n3(src_mac: [u8; 6], dst_mac: [u8; 6], src: [u8; 4], dst: [u8; 4], gtp: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv4(src, dst, 64)
        .udp(2152, 2152)
        .write(&mut out, gtp)
        .unwrap_or_else(|e| panic!("demo packet: {e}"));
    out
}

fn eth(src: [u8; 6], dst: [u8; 6], ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + body.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(body);
    f
}

fn checksum(data: &[u8], mut sum: u32) -> u16 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// IPv6 + Segment Routing Header (RFC 8754 §2) + UDP, `segments` in SRH order
/// (segments[0] is the final destination).
fn srv6_udp(
    src: [u8; 16],
    segments: &[[u8; 16]],
    left: u8,
    sp: u16,
    dp: u16,
    payload: &[u8],
) -> Vec<u8> {
    let dst = segments[usize::from(left)];
    let mut udp = Vec::new();
    udp.extend_from_slice(&sp.to_be_bytes());
    udp.extend_from_slice(&dp.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    // RFC 8200 §8.1: the pseudo-header uses the final destination.
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&segments[0]);
    pseudo.extend_from_slice(&(udp.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    let mut sum = 0u32;
    for c in pseudo.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    let ck = checksum(&udp, sum);
    udp[6..8].copy_from_slice(&(if ck == 0 { 0xffff } else { ck }).to_be_bytes());

    let mut srh = vec![
        17,                         // next header: UDP
        (segments.len() * 2) as u8, // hdr ext len in 8-octet units, excluding the first 8
        4,                          // routing type: SRH
        left,                       // segments left
        (segments.len() - 1) as u8, // last entry
        0,                          // flags
        0,
        0, // tag
    ];
    for s in segments {
        srh.extend_from_slice(s);
    }
    let mut ip = Vec::new();
    ip.extend_from_slice(&[0x60, 0, 0, 0]);
    ip.extend_from_slice(&((srh.len() + udp.len()) as u16).to_be_bytes());
    ip.push(43); // next header: routing
    ip.push(64);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    ip.extend_from_slice(&srh);
    ip.extend_from_slice(&udp);
    ip
}

/// An LLDPDU (IEEE 802.1AB §8): chassis id (MAC), port id, TTL, system name, end.
fn lldp() -> Vec<u8> {
    fn tlv(out: &mut Vec<u8>, ty: u8, value: &[u8]) {
        let hdr = (u16::from(ty) << 9) | (value.len() as u16);
        out.extend_from_slice(&hdr.to_be_bytes());
        out.extend_from_slice(value);
    }
    let mut d = Vec::new();
    let mut chassis = vec![4u8]; // subtype: MAC address
    chassis.extend_from_slice(&MAC_NOKIA);
    tlv(&mut d, 1, &chassis);
    tlv(&mut d, 2, b"\x071/1/1"); // subtype: locally assigned
    tlv(&mut d, 3, &120u16.to_be_bytes());
    tlv(&mut d, 5, b"gnb-site-17");
    tlv(&mut d, 0, &[]);
    d
}

/// Returns the demo capture as pcapng bytes. Deterministic: same bytes every call.
pub fn pcapng() -> Vec<u8> {
    let mut w = Writer::new();
    let n3_if = w.interface(1, "n3-span");
    let core_if = w.interface(1, "core-span");
    let zero = [0u8; 64];
    let mut t = T0;
    let mut next = |w: &mut Writer, iface: u32, frame: &[u8]| {
        t += MS;
        w.packet(iface, t, frame);
    };
    let g4 = [8, 8, 8, 8];
    let verizon = [63, 118, 7, 1];

    // Flows 1 and 2: a clean PDU session, uplink and downlink.
    for i in 0..3u16 {
        let ul = tcp4(UE1, g4, 40_000, 443, 1000 + u32::from(i), &zero[..40]);
        let f = n3(
            MAC_NOKIA,
            MAC_JUNIPER,
            GNB,
            UPF,
            &gtpu(0x101, 9, true, i, &ul),
        );
        next(&mut w, n3_if, &f);
        let dl = tcp4(g4, UE1, 443, 40_000, 5000 + u32::from(i), &zero[..60]);
        let f = n3(
            MAC_JUNIPER,
            MAC_NOKIA,
            UPF,
            GNB,
            &gtpu(0x201, 9, false, i, &dl),
        );
        next(&mut w, n3_if, &f);
    }
    // Flow 3: the next hop towards the internet is a Huawei router.
    for i in 0..2u32 {
        let ip = tcp4([12, 1, 2, 30], verizon, 50_000, 443, i, &zero[..20]);
        next(&mut w, core_if, &eth(MAC_JUNIPER, MAC_HUAWEI, 0x0800, &ip));
        let ip = tcp4(verizon, [12, 1, 2, 30], 443, 50_000, 100 + i, &zero[..20]);
        next(&mut w, core_if, &eth(MAC_HUAWEI, MAC_JUNIPER, 0x0800, &ip));
    }
    // Flow 4: a subscriber talks to a China Telecom address through a clean tunnel.
    for i in 0..2u16 {
        let ul = udp4(UE2, [202, 97, 33, 1], 51_000, 443, &zero[..48]);
        let f = n3(
            MAC_NOKIA,
            MAC_JUNIPER,
            GNB,
            UPF,
            &gtpu(0x102, 5, true, i, &ul),
        );
        next(&mut w, n3_if, &f);
    }
    // Flow 5: clean IPv6.
    let a6 = v6("2600:380::1");
    let google6 = v6("2001:4860:4860::8888");
    for i in 0..2u32 {
        let mut ip = Vec::new();
        PacketBuilder::ipv6(a6, google6, 64)
            .tcp(42_000, 443, i, 65_535)
            .write(&mut ip, &zero[..32])
            .unwrap_or_else(|e| panic!("demo packet: {e}"));
        next(
            &mut w,
            core_if,
            &eth(MAC_ERICSSON, MAC_JUNIPER, 0x86dd, &ip),
        );
    }
    // Flow 6: a private source behind a locally administered MAC: nothing attributes them.
    let ip = udp4([10, 20, 30, 40], g4, 53_000, 53, &zero[..30]);
    next(&mut w, core_if, &eth(MAC_LOCAL, MAC_JUNIPER, 0x0800, &ip));
    // Flow 7: SRv6 steers the packet through a China Unicom segment (already passed).
    let segs = [google6, v6("2408:8000::1")];
    let ip = srv6_udp(a6, &segs, 0, 44_000, 443, &zero[..24]);
    next(
        &mut w,
        core_if,
        &eth(MAC_ERICSSON, MAC_JUNIPER, 0x86dd, &ip),
    );
    // Flow 8: VLAN 100 traffic sent by a ZTE switch.
    let mut f = Vec::new();
    PacketBuilder::ethernet2(MAC_ZTE, MAC_JUNIPER)
        .single_vlan(VlanId::try_new(100).unwrap_or_default())
        .ipv4([12, 1, 2, 40], verizon, 64)
        .udp(5_000, 5_001)
        .write(&mut f, &zero[..16])
        .unwrap_or_else(|e| panic!("demo packet: {e}"));
    next(&mut w, core_if, &f);
    // Flow 9: LLDP from the gNB's Nokia port.
    next(&mut w, n3_if, &eth(MAC_NOKIA, MAC_LLDP, 0x88cc, &lldp()));
    w.finish()
}
