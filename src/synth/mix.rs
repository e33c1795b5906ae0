//! A synthetic 5G traffic mix of any size, with the verdict of every flow known by
//! construction (the ground truth `analyze` is tested against).
//!
//! What it writes (classic pcap, nanosecond timestamps, Ethernet):
//!
//! | share | flow kind | encapsulation |
//! |---|---|---|
//! | ~70 % | N3 user plane | GTP-U (TS 29.281) with a PDU Session Container (TS 38.415), IPv4 or IPv6 outer |
//! | ~30 % | routed traffic | plain Ethernet, 802.1Q VLAN, or an MPLS label stack |
//! | a few | PFCP (N4) | UDP/8805 Session Establishment Requests naming the N3 TEIDs |
//! | a few | NGAP (N2) | SCTP/38412 DATA chunks, PPID 60 |
//!
//! Inner traffic is TCP/443, QUIC (UDP/443) or DNS (UDP/53) with a size mix of pure
//! ACKs, MSS-sized segments and small datagrams; payload bytes are zero (no subscriber
//! data, even synthetic). Flows start in order and their popularity afterwards is
//! Zipf-skewed (s = 1) towards recently started flows, so every flow gets at least one
//! packet and a few get most of them.
//!
//! Verdicts by construction, using real AS ranges (bundled ip-location-db table) and
//! real IEEE assignments:
//!
//! - **CLEAN**: every hop is attributable and named by no rule: AT&T transport and
//!   subscriber space (AS7018, AS20057), Google, Fastly and Facebook servers; Nokia,
//!   Ericsson and Juniper MACs.
//! - **VIOLATION**: as CLEAN, but one server in China Mobile (AS9808), China Unicom
//!   (AS4837) or China Telecom (AS4134) space, or one neighbour MAC of Huawei or ZTE.
//! - **UNKNOWN**: as CLEAN, but the subscriber or client has a private (RFC 1918 / RFC
//!   4193) address, or one neighbour MAC is locally administered.
//! - PFCP and NGAP flows run between AT&T-addressed core nodes with clean MACs: CLEAN
//!   today (cleanpath does not judge their contents yet).
//!
//! Each flow has its own key in `analyze` (the GTP-U TEID differs per session and
//! direction; client ports differ per flow), the first packet of a flow goes from its
//! client (or, on N3, from its sender), and the whole capture spans at most
//! `packets` microseconds, so with `--max-flows` at least the flow count and the default
//! idle timeout, `analyze` reports exactly one record per generated flow, numbered as
//! the generator numbers them.

use crate::policy::verdict::Verdict;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::pcap::PcapWriter;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct MixConfig {
    /// Frames to write.
    pub packets: u64,
    /// Flows (capped at `packets`).
    pub flows: u64,
    /// Seed: the same configuration writes the same bytes.
    pub seed: u64,
    /// Share of flows that touch a denylisted AS or vendor, 0..=1.
    pub violation_share: f64,
    /// Share of flows with an unattributable hop, 0..=1.
    pub unknown_share: f64,
    /// Share of GTP-U sessions with IPv6 outer addresses, 0..=1.
    pub ipv6_outer_share: f64,
    /// Slice frames to this many bytes (0: keep whole frames).
    pub snaplen: u32,
}

impl Default for MixConfig {
    fn default() -> Self {
        Self {
            packets: 1_000_000,
            flows: 100_000,
            seed: 1,
            violation_share: 0.05,
            unknown_share: 0.05,
            ipv6_outer_share: 0.2,
            snaplen: 0,
        }
    }
}

/// The tunnel of a generated flow, as `analyze` reports its first packet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TruthTunnel {
    /// Outer source (the sending gNB or UPF).
    pub src: String,
    /// Outer destination.
    pub dst: String,
    /// TEID.
    pub teid: u32,
    /// QFI.
    pub qfi: Option<u8>,
}

/// The ground truth of one generated flow, one JSON line each.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TruthRecord {
    /// Flow number in order of first packet (as `analyze` numbers it).
    pub id: u64,
    /// The verdict the flow was built to get.
    pub verdict: Verdict,
    /// What was built: `gtpu4`, `gtpu6`, `ether`, `vlan`, `mpls`, `pfcp`, `ngap`.
    pub kind: String,
    /// Why the verdict, e.g. `endpoint AS9808`, `neighbour MAC Huawei`.
    pub why: String,
    /// Inner IP protocol.
    pub proto: u8,
    /// Inner source address of the first packet.
    pub src: String,
    /// Inner destination address of the first packet.
    pub dst: String,
    /// Inner source port of the first packet.
    pub src_port: u16,
    /// Inner destination port of the first packet.
    pub dst_port: u16,
    /// The GTP-U tunnel of the first packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TruthTunnel>,
    /// Packets written for the flow (both directions).
    pub packets: u64,
}

/// Totals of a generated file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MixStats {
    /// Frames written.
    pub packets: u64,
    /// Flows written.
    pub flows: u64,
    /// Wire bytes of the frames.
    pub wire_bytes: u64,
    /// Flows by verdict: clean, unknown, violation.
    pub verdicts: [u64; 3],
}

// ---- address pools (checked against the bundled tables by `tests/gen_mix.rs`) ----

/// An address pool inside one table range of one origin AS (or a private block).
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    /// Name used in tests and the truth's `why`.
    pub name: &'static str,
    /// First address.
    pub base: IpAddr,
    /// Number of addresses.
    pub size: u64,
    /// Origin AS the bundled table gives every address of the pool (0: none, private).
    pub asn: u32,
}

impl Pool {
    const fn v4(name: &'static str, a: [u8; 4], size: u64, asn: u32) -> Self {
        Self {
            name,
            base: IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            size,
            asn,
        }
    }
    const fn v6(name: &'static str, seg: [u16; 2], size: u64, asn: u32) -> Self {
        Self {
            name,
            base: IpAddr::V6(Ipv6Addr::new(seg[0], seg[1], 0, 0, 0, 0, 0, 0)),
            size,
            asn,
        }
    }
    /// Returns the `n`th address (modulo the size).
    pub fn addr(&self, n: u64) -> IpAddr {
        let k = n % self.size;
        match self.base {
            IpAddr::V4(b) => IpAddr::V4(Ipv4Addr::from(u32::from(b).wrapping_add(k as u32))),
            IpAddr::V6(b) => IpAddr::V6(Ipv6Addr::from(u128::from(b).wrapping_add(u128::from(k)))),
        }
    }
    /// Returns the last address.
    pub fn last(&self) -> IpAddr {
        self.addr(self.size - 1)
    }
}

/// gNBs (AS7018, AT&T transport).
pub const GNB4: Pool = Pool::v4("gnb4", [12, 1, 8, 0], 2048, 7018);
/// UPFs (AS7018).
pub const UPF4: Pool = Pool::v4("upf4", [12, 1, 20, 0], 1024, 7018);
/// SMFs (AS7018).
pub const SMF4: Pool = Pool::v4("smf4", [12, 1, 30, 0], 256, 7018);
/// AMFs (AS7018).
pub const AMF4: Pool = Pool::v4("amf4", [12, 1, 31, 0], 256, 7018);
/// IPv6 transport: gNBs (AS7018).
pub const GNB6: Pool = Pool::v6("gnb6", [0x2600, 0x0300], 1 << 32, 7018);
/// IPv6 transport: UPFs (AS7018).
pub const UPF6: Pool = Pool::v6("upf6", [0x2600, 0x0301], 1 << 32, 7018);
/// Subscribers (AS20057, AT&T Mobility).
pub const UE4: Pool = Pool::v4("ue4", [166, 137, 0, 0], 65_536, 20057);
/// IPv6 subscribers (AS20057).
pub const UE6: Pool = Pool::v6("ue6", [0x2600, 0x0380], 1 << 40, 20057);
/// Enterprise clients of routed traffic (AS7018): 12.1.97.0-12.2.11.255.
pub const ENT4: Pool = Pool::v4("ent4", [12, 1, 97, 0], 43_776, 7018);
/// Private clients (RFC 1918): UNKNOWN.
pub const PRIV4: Pool = Pool::v4("priv4", [10, 0, 0, 0], 1 << 24, 0);
/// Unique local IPv6 clients (RFC 4193): UNKNOWN.
pub const PRIV6: Pool = Pool::v6("priv6", [0xfd00, 0], 1 << 40, 0);
/// Clean servers.
pub const CLEAN_SERVERS: [Pool; 4] = [
    Pool::v4("google", [142, 250, 0, 0], 131_072, 15169),
    Pool::v4("google-dns", [8, 8, 8, 0], 256, 15169),
    Pool::v4("fastly", [151, 101, 0, 0], 65_536, 54113),
    Pool::v4("facebook", [157, 240, 0, 0], 32_768, 32934),
];
/// Clean IPv6 servers.
pub const CLEAN_SERVERS6: [Pool; 1] = [Pool::v6("google6", [0x2001, 0x4860], 1 << 40, 15169)];
/// Servers in denylisted carriers' space: VIOLATION.
pub const BAD_SERVERS: [Pool; 2] = [
    Pool::v4("china-mobile", [120, 192, 0, 0], 18_432, 9808),
    Pool::v4("china-unicom", [123, 125, 29, 0], 256, 4837),
];
/// IPv6 servers in China Telecom space: VIOLATION.
pub const BAD_SERVERS6: [Pool; 1] = [Pool::v6("china-telecom6", [0x240e, 0], 1 << 40, 4134)];

/// Clean equipment MAC prefixes: Nokia, Ericsson (radio side), Juniper (router).
pub const OUI_NOKIA: [u8; 3] = [0x00, 0xd0, 0xf6];
/// Ericsson AB.
pub const OUI_ERICSSON: [u8; 3] = [0x04, 0x4e, 0x06];
/// Juniper Networks.
pub const OUI_JUNIPER: [u8; 3] = [0x00, 0x05, 0x85];
/// Huawei Technologies: VIOLATION.
pub const OUI_HUAWEI: [u8; 3] = [0x00, 0xe0, 0xfc];
/// ZTE Corporation: VIOLATION.
pub const OUI_ZTE: [u8; 3] = [0x00, 0x15, 0xeb];

/// 2026-11-01T00:00:00Z in nanoseconds.
const T0: u64 = 1_793_491_200_000_000_000;
/// Time between frames: 1 µs, so 100 M frames span 100 s, inside the idle timeout.
const DT_NS: u64 = 1_000;
/// Largest frame written (Ethernet MTU 1500 + 14).
const MAX_FRAME: usize = 1514;

// ---- deterministic randomness ----

fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A small, fast, seeded generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn unit(&mut self) -> f64 {
        unit(self.next())
    }
}

// ---- flow specs ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gtpu4,
    Gtpu6,
    Ether,
    Vlan,
    Mpls,
    Pfcp,
    Ngap,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gtpu4 => "gtpu4",
            Kind::Gtpu6 => "gtpu6",
            Kind::Ether => "ether",
            Kind::Vlan => "vlan",
            Kind::Mpls => "mpls",
            Kind::Pfcp => "pfcp",
            Kind::Ngap => "ngap",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    Tcp,
    Quic,
    Dns,
    Pfcp,
    Ngap,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    kind: Kind,
    app: App,
    verdict: Verdict,
    why: &'static str,
    /// MAC of the client (or sending) side, and of the other side.
    mac_c: [u8; 6],
    mac_s: [u8; 6],
    /// Client and server addresses and ports (client sends first).
    client: IpAddr,
    server: IpAddr,
    cport: u16,
    sport: u16,
    proto: u8,
    /// Outer tunnel: sender, receiver, TEID, QFI, uplink.
    tunnel: Option<(IpAddr, IpAddr, u32, u8, bool)>,
    vlan: u16,
    mpls: [u32; 2],
}

fn mac(oui: [u8; 3], h: u64) -> [u8; 6] {
    let b = h.to_le_bytes();
    [oui[0], oui[1], oui[2], b[0], b[1], b[2]]
}

/// Derives everything about one flow from the seed and its number: no per-flow state.
struct Plan {
    cfg: MixConfig,
    flows: u64,
    n_pfcp: u64,
    n_ngap: u64,
}

impl Plan {
    fn new(cfg: MixConfig) -> Self {
        let flows = cfg.flows.clamp(1, cfg.packets.max(1));
        let n_pfcp = (flows / 2000).clamp(1, 1024).min(flows);
        let n_ngap = (flows / 1000).clamp(1, 4096).min(flows - n_pfcp);
        Self {
            cfg,
            flows,
            n_pfcp,
            n_ngap,
        }
    }

    fn h(&self, idx: u64, salt: u64) -> u64 {
        mix64(self.cfg.seed ^ mix64(idx.wrapping_mul(8).wrapping_add(salt)))
    }

    fn spec(&self, idx: u64) -> Spec {
        let clean_radio = mac(OUI_NOKIA, self.h(idx, 1));
        let router = mac(OUI_JUNIPER, self.h(idx, 2));
        if idx < self.n_pfcp {
            // N4: SMF -> UPF, PFCP over UDP/8805 both ways.
            return Spec {
                kind: Kind::Pfcp,
                app: App::Pfcp,
                verdict: Verdict::Clean,
                why: "PFCP between AT&T core nodes",
                mac_c: mac(OUI_ERICSSON, self.h(idx, 3)),
                mac_s: router,
                client: SMF4.addr(idx / UPF4.size),
                server: UPF4.addr(idx),
                cport: 8805,
                sport: 8805,
                proto: 17,
                tunnel: None,
                vlan: 0,
                mpls: [0; 2],
            };
        }
        if idx < self.n_pfcp + self.n_ngap {
            // N2: gNB -> AMF, NGAP over SCTP/38412.
            let c = idx - self.n_pfcp;
            return Spec {
                kind: Kind::Ngap,
                app: App::Ngap,
                verdict: Verdict::Clean,
                why: "NGAP between AT&T RAN and core",
                mac_c: clean_radio,
                mac_s: router,
                client: GNB4.addr(c),
                server: AMF4.addr(c / GNB4.size),
                cport: 38412,
                sport: 38412,
                proto: 132,
                tunnel: None,
                vlan: 0,
                mpls: [0; 2],
            };
        }
        let hv = self.h(idx, 4);
        let u = unit(hv);
        let verdict = if u < self.cfg.violation_share {
            Verdict::Violation
        } else if u < self.cfg.violation_share + self.cfg.unknown_share {
            Verdict::Unknown
        } else {
            Verdict::Clean
        };
        let variant = self.h(idx, 5) % 3;
        let app = match self.h(idx, 6) % 20 {
            0..=10 => App::Tcp,
            11..=17 => App::Quic,
            _ => App::Dns,
        };
        let (proto, sport) = match app {
            App::Tcp => (6, 443),
            App::Quic => (17, 443),
            _ => (17, 53),
        };
        let cport = 1024 + (idx % 60_000) as u16;
        let hs = self.h(idx, 7);
        let kind_roll = self.h(idx, 0) % 10;
        let gtp = kind_roll < 7;
        // Sessions of four flows share a tunnel pair, TEIDs, outer family and subscriber.
        let session = idx / 4;
        let hsess = mix64(self.cfg.seed ^ session.wrapping_mul(0x5851_f42d_4c95_7f2d));
        let inner6 = self.h(idx, 8) % 5 == 0;
        let mut mac_c = clean_radio;
        let mut mac_s = router;
        let mut why = "every hop attributed, none denylisted";
        let mut bad_server = false;
        let mut private_client = false;
        match (verdict, variant) {
            (Verdict::Violation, 0) => {
                bad_server = true;
                why = "endpoint in a denylisted carrier's AS";
            }
            (Verdict::Violation, 1) => {
                mac_s = mac(OUI_HUAWEI, hs);
                why = "neighbour MAC Huawei";
            }
            (Verdict::Violation, _) => {
                mac_s = mac(OUI_ZTE, hs);
                why = "neighbour MAC ZTE";
            }
            (Verdict::Unknown, 0 | 1) => {
                private_client = true;
                why = "private client address";
            }
            (Verdict::Unknown, _) => {
                mac_c = [
                    0x02,
                    0x00,
                    0x5e ^ (hs as u8),
                    (hs >> 8) as u8,
                    (hs >> 16) as u8,
                    1,
                ];
                why = "locally administered MAC";
            }
            _ => {}
        }
        let server = match (inner6, bad_server) {
            (false, false) => {
                let p = CLEAN_SERVERS[(hs % 4) as usize];
                p.addr(hs >> 8)
            }
            (false, true) => BAD_SERVERS[(hs % 2) as usize].addr(hs >> 8),
            (true, false) => CLEAN_SERVERS6[0].addr(hs >> 8),
            (true, true) => BAD_SERVERS6[0].addr(hs >> 8),
        };
        if gtp {
            let outer6 = unit(hsess) < self.cfg.ipv6_outer_share;
            let (gnb, upf) = if outer6 {
                (GNB6.addr(session), UPF6.addr(hsess >> 20))
            } else {
                (GNB4.addr(session), UPF4.addr(hsess >> 20))
            };
            let client = match (inner6, private_client) {
                (false, false) => UE4.addr(session),
                (false, true) => PRIV4.addr(session),
                (true, false) => UE6.addr(session),
                (true, true) => PRIV6.addr(session),
            };
            let uplink = self.h(idx, 9) % 3 != 0;
            let teid = 0x0010_0000u32
                .wrapping_add((session as u32).wrapping_mul(2))
                .wrapping_add(u32::from(!uplink));
            let qfi = match hs % 10 {
                0 => 1,
                1 | 2 => 5,
                _ => 9,
            };
            let tunnel = if uplink {
                Some((gnb, upf, teid, qfi, true))
            } else {
                Some((upf, gnb, teid, qfi, false))
            };
            let (client, server, cport, sport, mac_c, mac_s) = if uplink {
                (client, server, cport, sport, mac_c, mac_s)
            } else {
                (server, client, sport, cport, mac_s, mac_c)
            };
            return Spec {
                kind: if outer6 { Kind::Gtpu6 } else { Kind::Gtpu4 },
                app,
                verdict,
                why,
                mac_c,
                mac_s,
                client,
                server,
                cport,
                sport,
                proto,
                tunnel,
                vlan: 0,
                mpls: [0; 2],
            };
        }
        // Routed traffic: the client number must be unique per flow: idx / 60000 picks it.
        let n = idx / 60_000;
        let client = match (inner6, private_client) {
            (false, false) => ENT4.addr(n),
            (false, true) => PRIV4.addr(n),
            (true, false) => GNB6.addr(n + (1 << 31)),
            (true, true) => PRIV6.addr(n),
        };
        let kind = match kind_roll {
            7 => Kind::Ether,
            8 => Kind::Vlan,
            _ => Kind::Mpls,
        };
        Spec {
            kind,
            app,
            verdict,
            why,
            mac_c,
            mac_s,
            client,
            server,
            cport,
            sport,
            proto,
            tunnel: None,
            vlan: 100 + (hs % 3900) as u16,
            mpls: [
                16 + (hs % 1000) as u32,
                100_000 + ((hs >> 10) % 1000) as u32,
            ],
        }
    }

    /// Zipf popularity (s = 1): each flow gets a random rank r in 1..=flows and weight 1/r.
    fn weight(&self, idx: u64) -> f64 {
        1.0 / (1 + self.h(idx, 10) % self.flows) as f64
    }

    fn truth(&self, idx: u64, packets: u64) -> TruthRecord {
        let s = self.spec(idx);
        TruthRecord {
            id: idx + 1,
            verdict: s.verdict,
            kind: s.kind.name().into(),
            why: s.why.into(),
            proto: s.proto,
            src: s.client.to_string(),
            dst: s.server.to_string(),
            src_port: s.cport,
            dst_port: s.sport,
            tunnel: s.tunnel.map(|(a, b, teid, qfi, _)| TruthTunnel {
                src: a.to_string(),
                dst: b.to_string(),
                teid,
                qfi: Some(qfi),
            }),
            packets,
        }
    }
}

/// Prefix sums of flow weights (a Fenwick tree), to draw a started flow with
/// probability proportional to its weight in O(log flows).
struct Fenwick {
    tree: Vec<f64>,
    len: usize,
    total: f64,
}

impl Fenwick {
    fn with_capacity(n: usize) -> Self {
        Self {
            tree: vec![0.0; n + 1],
            len: 0,
            total: 0.0,
        }
    }
    fn len(&self) -> u64 {
        self.len as u64
    }
    /// Appends the next flow's weight.
    fn push(&mut self, w: f64) {
        self.len += 1;
        let mut i = self.len;
        while i < self.tree.len() {
            self.tree[i] += w;
            i += i & i.wrapping_neg();
        }
        self.total += w;
    }
    /// Returns the flow whose cumulative weight interval holds `u * total`.
    fn pick(&self, u: f64) -> u64 {
        let mut target = u * self.total;
        let mut pos = 0usize;
        let mut step = (self.tree.len()).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && next <= self.len && self.tree[next] <= target {
                target -= self.tree[next];
                pos = next;
            }
            step >>= 1;
        }
        (pos.min(self.len.saturating_sub(1))) as u64
    }
}

// ---- frame building ----

fn sum16(data: &[u8], mut sum: u32) -> u32 {
    let mut it = data.chunks_exact(2);
    for c in &mut it {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = it.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut s = 0;
    match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            s = sum16(&a.octets(), s);
            s = sum16(&b.octets(), s);
        }
        _ => {
            s = sum16(&v6_octets(src), s);
            s = sum16(&v6_octets(dst), s);
        }
    }
    s + u32::from(proto) + len as u32
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(v) => v.octets(),
        IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
    }
}

/// Appends an IP header for `payload_len` bytes of `proto`.
fn ip_header(buf: &mut Vec<u8>, src: IpAddr, dst: IpAddr, proto: u8, payload_len: usize) {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let start = buf.len();
            let total = (20 + payload_len) as u16;
            buf.extend_from_slice(&[0x45, 0]);
            buf.extend_from_slice(&total.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]); // DF set
            buf.extend_from_slice(&s.octets());
            buf.extend_from_slice(&d.octets());
            let ck = fold(sum16(&buf[start..], 0));
            buf[start + 10..start + 12].copy_from_slice(&ck.to_be_bytes());
        }
        _ => {
            buf.extend_from_slice(&[0x60, 0, 0, 0]);
            buf.extend_from_slice(&(payload_len as u16).to_be_bytes());
            buf.extend_from_slice(&[proto, 64]);
            buf.extend_from_slice(&v6_octets(src));
            buf.extend_from_slice(&v6_octets(dst));
        }
    }
}

fn ip_header_len(a: IpAddr) -> usize {
    if a.is_ipv4() { 20 } else { 40 }
}

/// Appends a UDP header; the checksum covers the header and `payload_len` zero bytes
/// (zero bytes add nothing to the sum). An IPv4 outer UDP (GTP-U) carries checksum 0.
fn udp_header(
    buf: &mut Vec<u8>,
    src: IpAddr,
    dst: IpAddr,
    sp: u16,
    dp: u16,
    payload_len: usize,
    ck: bool,
) {
    let len = 8 + payload_len;
    let start = buf.len();
    buf.extend_from_slice(&sp.to_be_bytes());
    buf.extend_from_slice(&dp.to_be_bytes());
    buf.extend_from_slice(&(len as u16).to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    if ck || src.is_ipv6() {
        let c = fold(sum16(&buf[start..], pseudo_sum(src, dst, 17, len)));
        let c = if c == 0 { 0xffff } else { c };
        buf[start + 6..start + 8].copy_from_slice(&c.to_be_bytes());
    }
}

/// Appends a TCP header (20 octets) whose checksum covers `payload_len` zero bytes.
#[allow(clippy::too_many_arguments)] // one call site; the fields of a TCP header
fn tcp_header(
    buf: &mut Vec<u8>,
    src: IpAddr,
    dst: IpAddr,
    sp: u16,
    dp: u16,
    seq: u32,
    flags: u8,
    payload_len: usize,
) {
    let start = buf.len();
    buf.extend_from_slice(&sp.to_be_bytes());
    buf.extend_from_slice(&dp.to_be_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&seq.wrapping_mul(7).to_be_bytes());
    buf.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    let c = fold(sum16(
        &buf[start..],
        pseudo_sum(src, dst, 6, 20 + payload_len),
    ));
    buf[start + 16..start + 18].copy_from_slice(&c.to_be_bytes());
}

/// CRC-32C (Castagnoli), reflected, as SCTP uses it (RFC 9260 Appendix A).
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// PFCP Session Establishment Request (TS 29.244 §7.5.2) with Node ID, CP F-SEID and one
/// Create PDR whose PDI names the N3 F-TEID of a user-plane session.
fn pfcp_body(seq: u32, smf: IpAddr, upf: IpAddr, teid: u32) -> Vec<u8> {
    fn ie(out: &mut Vec<u8>, ty: u16, body: &[u8]) {
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    }
    let v4 = |a: IpAddr| match a {
        IpAddr::V4(v) => v.octets(),
        IpAddr::V6(_) => [0; 4],
    };
    let mut ies = Vec::with_capacity(96);
    let mut node = vec![0u8]; // Node ID type: IPv4 address
    node.extend_from_slice(&v4(smf));
    ie(&mut ies, 60, &node);
    let mut fseid = vec![0x02]; // V4
    fseid.extend_from_slice(&u64::from(seq).to_be_bytes());
    fseid.extend_from_slice(&v4(smf));
    ie(&mut ies, 57, &fseid);
    let mut pdi = Vec::new();
    ie(&mut pdi, 20, &[0]); // Source Interface: Access
    let mut fteid = vec![0x01]; // V4
    fteid.extend_from_slice(&teid.to_be_bytes());
    fteid.extend_from_slice(&v4(upf));
    ie(&mut pdi, 21, &fteid);
    let mut pdr = Vec::new();
    ie(&mut pdr, 56, &1u16.to_be_bytes()); // PDR ID
    ie(&mut pdr, 29, &255u32.to_be_bytes()); // Precedence
    ie(&mut pdr, 2, &pdi);
    ie(&mut ies, 1, &pdr);
    // TS 29.244 §7.2.2: length counts the octets after the first 4.
    let mut m = vec![0x21, 50]; // version 1, S=1; Session Establishment Request
    m.extend_from_slice(&((8 + 4 + ies.len()) as u16).to_be_bytes());
    m.extend_from_slice(&0u64.to_be_bytes()); // SEID 0: no session yet
    m.extend_from_slice(&(seq << 8).to_be_bytes()); // 3-octet sequence, spare
    m.extend_from_slice(&ies);
    m
}

/// A skeletal NGAP PDUSessionResourceSetupRequest (TS 38.413 §9.2.1.1) with the AMF and
/// RAN UE NGAP IDs (APER, TS 38.413 §9.4): enough for SCTP/NGAP dissectors.
fn ngap_body(ue: u32) -> Vec<u8> {
    let mut ies = vec![0x00, 0x02]; // two IEs
    ies.extend_from_slice(&[0x00, 0x0a, 0x00, 0x05, 0x40]); // AMF-UE-NGAP-ID
    ies.extend_from_slice(&ue.to_be_bytes());
    ies.extend_from_slice(&[0x00, 0x55, 0x00, 0x04, 0x80]); // RAN-UE-NGAP-ID
    ies.extend_from_slice(&ue.to_be_bytes()[1..]);
    let mut m = vec![0x00, 0x1d, 0x00, ies.len() as u8 + 1, 0x00];
    m.extend_from_slice(&ies);
    m
}

/// One frame of a flow into `buf`. `fwd`: from the client side.
fn build(
    buf: &mut Vec<u8>,
    s: &Spec,
    fwd: bool,
    first: bool,
    rng: &mut Rng,
    seq: u32,
    plan: &Plan,
) {
    buf.clear();
    let (src_mac, dst_mac) = if fwd {
        (s.mac_c, s.mac_s)
    } else {
        (s.mac_s, s.mac_c)
    };
    buf.extend_from_slice(&dst_mac);
    buf.extend_from_slice(&src_mac);
    let (isrc, idst, isp, idp) = if fwd {
        (s.client, s.server, s.cport, s.sport)
    } else {
        (s.server, s.client, s.sport, s.cport)
    };
    // Transport payload of the inner packet.
    let (app_payload, payload_len) = match s.app {
        App::Pfcp => {
            let session = rng.below((plan.flows / 4).max(1));
            let teid = 0x0010_0000u32.wrapping_add((session as u32).wrapping_mul(2));
            (Some(pfcp_body(seq, isrc, idst, teid)), 0)
        }
        App::Ngap => (Some(ngap_body(seq)), 0),
        App::Tcp => {
            let r = rng.unit();
            let n = if first || r < 0.35 {
                0
            } else if r < 0.85 {
                1200 + rng.below(200) as usize
            } else {
                rng.below(1200) as usize
            };
            (None, n)
        }
        App::Quic => {
            let n = if rng.unit() < 0.25 {
                40 + rng.below(80)
            } else {
                1200 + rng.below(152)
            };
            (None, n as usize)
        }
        App::Dns => (None, 30 + rng.below(200) as usize),
    };
    let l4_hdr = match s.app {
        App::Tcp => 20,
        App::Ngap => 12 + 16,
        _ => 8,
    };
    let outer_hdr = match s.tunnel {
        Some((a, ..)) => ip_header_len(a) + 8 + 16,
        None => 0,
    };
    let encap = match s.kind {
        Kind::Vlan => 4,
        Kind::Mpls => 8,
        _ => 0,
    };
    let room = MAX_FRAME - 14 - encap - outer_hdr - ip_header_len(isrc) - l4_hdr;
    let payload_len = payload_len.min(room);
    match s.kind {
        Kind::Vlan => {
            buf.extend_from_slice(&0x8100u16.to_be_bytes());
            buf.extend_from_slice(&s.vlan.to_be_bytes());
        }
        Kind::Mpls => {
            buf.extend_from_slice(&0x8847u16.to_be_bytes());
            buf.extend_from_slice(&((s.mpls[0] << 12) | 64).to_be_bytes());
            buf.extend_from_slice(&((s.mpls[1] << 12) | 0x100 | 64).to_be_bytes());
        }
        _ => {}
    }
    if !matches!(s.kind, Kind::Mpls) {
        let outer = s.tunnel.map_or(isrc, |(a, ..)| a);
        let et: u16 = if outer.is_ipv4() { 0x0800 } else { 0x86dd };
        buf.extend_from_slice(&et.to_be_bytes());
    }
    let inner_l4_len = l4_hdr
        + payload_len
        + app_payload.as_ref().map_or(0, |p| {
            p.len()
                + if s.app == App::Ngap {
                    (4 - p.len() % 4) % 4
                } else {
                    0
                }
        });
    let inner_len = ip_header_len(isrc) + inner_l4_len;
    if let Some((osrc, odst, teid, qfi, uplink)) = s.tunnel {
        let gtp_len = 16 + inner_len;
        ip_header(buf, osrc, odst, 17, 8 + gtp_len);
        udp_header(buf, osrc, odst, 2152, 2152, gtp_len, false);
        // TS 29.281 §5.1: v1, PT=1, E=1, S=1; G-PDU; length after the first 8 octets.
        buf.extend_from_slice(&[0x36, 0xff]);
        buf.extend_from_slice(&((gtp_len - 8) as u16).to_be_bytes());
        buf.extend_from_slice(&teid.to_be_bytes());
        buf.extend_from_slice(&(seq as u16).to_be_bytes());
        buf.extend_from_slice(&[0x00, 0x85]); // N-PDU, next: PDU Session Container
        // TS 38.415 §5.5.2: length 1 (×4), PDU type (UL = 1) high nibble, QFI, no next.
        buf.extend_from_slice(&[0x01, if uplink { 0x10 } else { 0x00 }, qfi & 0x3f, 0x00]);
    }
    ip_header(buf, isrc, idst, s.proto, inner_l4_len);
    match s.app {
        App::Tcp => {
            let flags = if first {
                0x02
            } else if payload_len > 0 {
                0x18
            } else {
                0x10
            };
            tcp_header(buf, isrc, idst, isp, idp, seq, flags, payload_len);
            buf.resize(buf.len() + payload_len, 0);
        }
        App::Quic | App::Dns => {
            udp_header(buf, isrc, idst, isp, idp, payload_len, true);
            buf.resize(buf.len() + payload_len, 0);
        }
        App::Pfcp => {
            let body = app_payload.unwrap_or_default();
            let start = buf.len();
            buf.extend_from_slice(&isp.to_be_bytes());
            buf.extend_from_slice(&idp.to_be_bytes());
            buf.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
            buf.extend_from_slice(&[0, 0]);
            buf.extend_from_slice(&body);
            let c = fold(sum16(
                &buf[start..],
                pseudo_sum(isrc, idst, 17, 8 + body.len()),
            ));
            buf[start + 6..start + 8]
                .copy_from_slice(&(if c == 0 { 0xffff } else { c }).to_be_bytes());
        }
        App::Ngap => {
            let body = app_payload.unwrap_or_default();
            let start = buf.len();
            buf.extend_from_slice(&isp.to_be_bytes());
            buf.extend_from_slice(&idp.to_be_bytes());
            buf.extend_from_slice(&0x4e47_4150u32.to_be_bytes()); // verification tag
            buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, below
            // DATA chunk (RFC 9260 §3.3.1): B|E, length excludes padding.
            buf.extend_from_slice(&[0, 0x03]);
            buf.extend_from_slice(&((16 + body.len()) as u16).to_be_bytes());
            buf.extend_from_slice(&seq.to_be_bytes()); // TSN
            buf.extend_from_slice(&[0, 0, 0, 0]); // stream id, stream seq
            buf.extend_from_slice(&60u32.to_be_bytes()); // PPID: NGAP
            buf.extend_from_slice(&body);
            buf.resize(buf.len() + (4 - body.len() % 4) % 4, 0);
            let c = crc32c(&buf[start..]);
            buf[start + 8..start + 12].copy_from_slice(&c.to_le_bytes());
        }
    }
}

/// Writes the mix as classic pcap to `pcap` and the ground truth, one JSON line per flow
/// in flow order, to `truth`.
///
/// # Errors
/// Any error of the writers.
pub fn generate<W: Write, T: Write>(
    cfg: &MixConfig,
    pcap: W,
    mut truth: T,
) -> io::Result<MixStats> {
    let plan = Plan::new(*cfg);
    let mut w = PcapWriter::new(pcap, 1, cfg.snaplen)?;
    let mut rng = Rng(mix64(cfg.seed ^ 0x6d69_785f_7061_636b));
    let flows = plan.flows;
    let mut counts: Vec<u32> = vec![0; usize::try_from(flows).unwrap_or(usize::MAX)];
    let mut started: u64 = 0;
    let mut popularity = Fenwick::with_capacity(counts.len());
    let mut buf = Vec::with_capacity(MAX_FRAME);
    let mut stats = MixStats::default();
    // Cache the spec of the last flow: Zipf makes repeats common.
    let mut cached: Option<(u64, Spec)> = None;
    for i in 0..cfg.packets {
        let left = cfg.packets - i;
        let new = flows - started;
        let f = if new > 0 && (started == 0 || rng.below(left) < new) {
            started += 1;
            started - 1
        } else {
            popularity.pick(rng.unit())
        };
        if f + 1 == started && popularity.len() < started {
            popularity.push(plan.weight(f));
        }
        let spec = match cached {
            Some((c, s)) if c == f => s,
            _ => {
                let s = plan.spec(f);
                cached = Some((f, s));
                s
            }
        };
        let n = &mut counts[f as usize];
        let first = *n == 0;
        let fwd = first || spec.tunnel.is_some() || rng.below(5) < 2;
        build(&mut buf, &spec, fwd, first, &mut rng, *n, &plan);
        *n = n.saturating_add(1);
        w.packet(T0 + i * DT_NS, &buf)?;
        stats.wire_bytes += buf.len() as u64;
    }
    w.finish()?;
    stats.packets = cfg.packets;
    stats.flows = started;
    for (idx, &n) in counts.iter().enumerate().take(started as usize) {
        let t = plan.truth(idx as u64, u64::from(n));
        stats.verdicts[match t.verdict {
            Verdict::Clean => 0,
            Verdict::Unknown => 1,
            Verdict::Violation => 2,
        }] += 1;
        serde_json::to_writer(&mut truth, &t)?;
        truth.write_all(b"\n")?;
    }
    truth.flush()?;
    Ok(stats)
}

/// Every address pool the generator draws from, for checks against the tables.
pub fn pools() -> Vec<Pool> {
    let mut v = vec![
        GNB4, UPF4, SMF4, AMF4, GNB6, UPF6, UE4, UE6, ENT4, PRIV4, PRIV6,
    ];
    v.extend(CLEAN_SERVERS);
    v.extend(CLEAN_SERVERS6);
    v.extend(BAD_SERVERS);
    v.extend(BAD_SERVERS6);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(cfg: &MixConfig) -> (Vec<u8>, Vec<TruthRecord>, MixStats) {
        let mut pcap = Vec::new();
        let mut truth = Vec::new();
        let stats = generate(cfg, &mut pcap, &mut truth).unwrap();
        let recs = truth
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        (pcap, recs, stats)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let cfg = MixConfig {
            packets: 2000,
            flows: 300,
            ..MixConfig::default()
        };
        let (a, ta, _) = make(&cfg);
        let (b, tb, _) = make(&cfg);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        let (c, _, _) = make(&MixConfig { seed: 2, ..cfg });
        assert_ne!(a, c);
    }

    #[test]
    fn every_flow_gets_a_packet_and_popularity_is_skewed() {
        let cfg = MixConfig {
            packets: 20_000,
            flows: 2_000,
            ..MixConfig::default()
        };
        let (_, truth, stats) = make(&cfg);
        assert_eq!(stats.flows, 2_000);
        assert_eq!(truth.len(), 2_000);
        assert!(truth.iter().all(|t| t.packets >= 1));
        assert_eq!(truth.iter().map(|t| t.packets).sum::<u64>(), 20_000);
        let mut p: Vec<u64> = truth.iter().map(|t| t.packets).collect();
        p.sort_unstable_by(|a, b| b.cmp(a));
        // The top 1 % of flows carry far more than 1 % of the packets.
        let top: u64 = p[..20].iter().sum();
        assert!(top > 2_000, "top 20 flows carry {top} of 20000 packets");
        assert!(truth.iter().any(|t| t.kind == "pfcp") && truth.iter().any(|t| t.kind == "ngap"));
    }

    #[test]
    fn flows_are_capped_at_packets_and_frames_fit_the_mtu() {
        let cfg = MixConfig {
            packets: 500,
            flows: 10_000,
            ..MixConfig::default()
        };
        let (pcap, truth, stats) = make(&cfg);
        assert_eq!((stats.flows, truth.len()), (500, 500));
        assert!(stats.wire_bytes <= 500 * MAX_FRAME as u64);
        assert!(pcap.len() as u64 == 24 + 16 * 500 + stats.wire_bytes);
    }

    #[test]
    fn sctp_checksum_is_crc32c() {
        // RFC 3720 B.4 test vector: 32 zero bytes.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
    }
}
