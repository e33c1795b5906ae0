//! Zero-copy decoding of one frame, every layer: link (Ethernet, SLL, SLL2, NULL/LOOP, raw IP),
//! 802.1Q/802.1ad VLAN tags, MPLS label stacks, IPv4, IPv6 with extension headers and the
//! Segment Routing Header, UDP, TCP, SCTP, ICMP/ICMPv6 and GTP-U v1 (with its extension
//! header chain, including the PDU Session Container that carries the QFI), whose inner
//! IPv4/IPv6 packet is decoded again.
//!
//! [`decode`] fills a caller-owned [`Decoded`] (reset on entry, no allocation) and returns
//! `Err` at the first malformed layer. What was decoded before the error stays valid, so a
//! flow can still be keyed on the outer headers of a packet whose inner packet is broken.
//! A malformed packet is data, not a failure: callers count the error by
//! [`Error::layer`] and [`Error::what`] and go on.
//!
//! Nothing here does I/O, and no input can make it panic (see `fuzz/`).
//!
//! # Rules every layer follows
//! - Each layer sees the bytes captured *and* inside every enclosing length field (IP total
//!   length, UDP length, GTP-U length), so Ethernet padding never reads as payload.
//! - A header that does not fit those bytes is an error (`…truncated`). A payload that
//!   does not fit is a sliced capture or a first fragment, and is not an error.
//! - IP fragments set [`Ip::fragment`]; a fragment other than the first
//!   has no transport header, so decoding stops after IP with `Ok`.
//! - Non-IP EtherTypes (ARP, LLDP, …) and 802.3 length frames (CDP, STP) end the walk with
//!   `Ok` and `ethertype` set (0 for 802.3).
//! - UDP with port 2152 on either side is GTP-U only when its payload starts with version 1
//!   and PT 1; anything else there (DNS in `zeek-gtp3_false_gtp.pcap`) is plain UDP.
//! - A G-PDU's payload is decoded by its first nibble (4 or 6), else `gtpu.non_ip_pdu`.
//!   Other GTP-U messages (echo, error indication, end marker) record the tunnel and stop.
//!   [`Decoded::tunnel`] describes the outermost tunnel; its `depth` counts GTP-U layers.
//! - A wrong, non-zero IPv4 header checksum does not stop the walk: the frame is decoded
//!   to the end and `ipv4.bad_checksum` is returned only if nothing else failed. `out` is
//!   then complete, so the caller can both count the error and key the flow. Wrong IPv4
//!   checksums are common in real captures (anonymised addresses, e.g.
//!   `zeek-mixed-vlan-mpls.pcap`), and a checksum of 0 means "offloaded" ([`ipv4`]).
//! - The outermost Segment Routing Header gives [`Decoded::srv6_segments`].
//! - Error counter keys are stable snake_case, per layer: `ipv4.bad_ihl`,
//!   `gtpu.ext_header_truncated`, `mpls.no_bottom_of_stack`, `vlan.too_many_tags`, … (each
//!   protocol module lists its own). `Truncated` means a header did not fit the bytes
//!   available, `Invalid` a forbidden field value, `Unsupported` something valid that
//!   cleanpath does not decode (`link.link_type`, `gtpu.non_ip_pdu`, `mpls.non_ip_payload`).
//! - Checksums other than the IPv4 header's are not verified: captures of locally sent
//!   traffic carry offloaded, not yet computed, TCP/UDP checksums.
//! - A sliced frame (captured length below the original length) is not flagged here: the
//!   caller knows it from the capture record.

use std::fmt;
use std::net::IpAddr;

pub mod ethernet;
pub mod gtpu;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
mod link;
pub mod mpls;
mod reader;
pub mod sctp;
pub mod srh;
mod stack;
pub mod tcp;
#[cfg(test)]
mod testdata;
pub mod udp;
pub mod vlan;

pub use ethernet::{EtherType, Packet as EthernetPacket};
pub use gtpu::{MsgType as GtpuMsgType, Packet as GtpuPacket, Repr as GtpuRepr};
pub use icmp::{Packet as IcmpPacket, Repr as IcmpRepr};
pub use ipv4::{Packet as Ipv4Packet, Repr as Ipv4Repr};
pub use ipv6::{Packet as Ipv6Packet, Repr as Ipv6Repr};
pub use mpls::{LabelEntry as MplsLabelEntry, Packet as MplsPacket};
pub use sctp::{Packet as SctpPacket, Repr as SctpRepr};
pub use srh::{Packet as SrhPacket, Repr as SrhRepr};
pub use stack::{MAX_IP_LAYERS, decode};
pub use tcp::{Packet as TcpPacket, Repr as TcpRepr};
pub use udp::{Packet as UdpPacket, Repr as UdpRepr};
pub use vlan::{Packet as VlanPacket, Repr as VlanRepr};

/// The most VLAN tags kept per frame; more are counted as an error.
pub const MAX_VLANS: usize = 4;
/// The most MPLS labels kept per frame; more are counted as an error.
pub const MAX_MPLS_LABELS: usize = 8;
/// The most SRv6 segments kept per frame; more are counted as an error.
pub const MAX_SEGMENTS: usize = 16;
/// The deepest GTP-U-in-GTP-U nesting decoded.
pub const MAX_TUNNEL_DEPTH: usize = 4;

/// A protocol layer, used to name where decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// The link-layer header (Ethernet, SLL, SLL2, NULL/LOOP, raw).
    Link,
    /// An 802.1Q / 802.1ad tag.
    Vlan,
    /// An MPLS label stack entry.
    Mpls,
    /// IPv4.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Ext,
    /// IPv6 Segment Routing Header (RFC 8754).
    Srh,
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// SCTP.
    Sctp,
    /// ICMP.
    Icmp,
    /// ICMPv6.
    Icmpv6,
    /// GTP-U v1 (3GPP TS 29.281).
    Gtpu,
}

impl Layer {
    /// Returns the lower-case name used in counters (`gtpu`, `ipv4`, …).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Mpls => "mpls",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6_ext",
            Layer::Srh => "srh",
            Layer::Udp => "udp",
            Layer::Tcp => "tcp",
            Layer::Sctp => "sctp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::Gtpu => "gtpu",
        }
    }
}

/// Why a layer could not be decoded. Small, `Copy`, allocation-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the header or a length field requires.
    Truncated {
        /// Layer being decoded.
        layer: Layer,
        /// Counter key, e.g. `ext_header_truncated`.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field holds a value the spec forbids (GTP version != 1, IHL < 5, …).
    Invalid {
        /// Layer being decoded.
        layer: Layer,
        /// Counter key, e.g. `bad_ihl`.
        what: &'static str,
    },
    /// Valid on the wire but not decoded by cleanpath (yet).
    Unsupported {
        /// Layer being decoded.
        layer: Layer,
        /// Counter key, e.g. `non_ip_pdu`.
        what: &'static str,
    },
}

impl Error {
    /// Returns the layer where decoding stopped.
    pub fn layer(&self) -> Layer {
        match *self {
            Error::Truncated { layer, .. }
            | Error::Invalid { layer, .. }
            | Error::Unsupported { layer, .. } => layer,
        }
    }
    /// Returns the counter key within the layer (`truncated`, `bad_ihl`, …).
    pub fn what(&self) -> &'static str {
        match *self {
            Error::Truncated { what, .. }
            | Error::Invalid { what, .. }
            | Error::Unsupported { what, .. } => what,
        }
    }
}

impl Error {
    /// Builds a [`Error::Truncated`].
    pub(crate) const fn truncated(
        layer: Layer,
        what: &'static str,
        need: usize,
        have: usize,
    ) -> Self {
        Error::Truncated {
            layer,
            what,
            need,
            have,
        }
    }
    /// Builds an [`Error::Invalid`].
    pub(crate) const fn invalid(layer: Layer, what: &'static str) -> Self {
        Error::Invalid { layer, what }
    }
    /// Builds an [`Error::Unsupported`].
    pub(crate) const fn unsupported(layer: Layer, what: &'static str) -> Self {
        Error::Unsupported { layer, what }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated {
                layer,
                what,
                need,
                have,
            } => write!(
                f,
                "{}.{what} (need {need} bytes, have {have})",
                layer.name()
            ),
            Error::Invalid { layer, what } => write!(f, "{}.{what}", layer.name()),
            Error::Unsupported { layer, what } => {
                write!(f, "{}.{what} (unsupported)", layer.name())
            }
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for decode results.
pub type Result<T> = core::result::Result<T, Error>;

/// Reads a big-endian `u16` from the first two bytes. The caller has checked the length.
#[inline]
pub(crate) fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Reads a big-endian `u32` from the first four bytes. The caller has checked the length.
#[inline]
pub(crate) fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// Reports whether this is a group (multicast or broadcast) address: I/G bit set.
    pub fn is_group(self) -> bool {
        self.0[0] & 0x01 != 0
    }
    /// Reports whether this is a locally administered address: U/L bit set.
    /// Such an address is in no IEEE registry and names no vendor.
    pub fn is_local(self) -> bool {
        self.0[0] & 0x02 != 0
    }
    /// Returns the address as a 48-bit integer.
    pub fn to_u64(self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = &'static str;
    /// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-…` or `aabb.ccdd.eeff`.
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        let seps_ok = s
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '-' || c == '.');
        if hex.len() != 12 || !seps_ok {
            return Err("expected a 48-bit MAC address such as 00:e0:fc:12:34:56");
        }
        let mut m = [0u8; 6];
        for (i, b) in m.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| "bad hex digit")?;
        }
        Ok(Mac(m))
    }
}

/// GTP-U tunnel endpoint identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Teid(pub u32);

/// 5G QoS flow identifier (6 bits), from the PDU Session Container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Qfi(pub u8);

/// A fixed-capacity stack of small `Copy` values (VLAN ids, MPLS labels, SRv6 segments).
/// Pushing past capacity sets the overflow flag instead of allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack<T: Copy + Default, const N: usize> {
    items: [T; N],
    len: u8,
    overflow: bool,
}

impl<T: Copy + Default, const N: usize> Default for Stack<T, N> {
    fn default() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
            overflow: false,
        }
    }
}

impl<T: Copy + Default, const N: usize> Stack<T, N> {
    /// Pushes `v`; returns `false` (and remembers the overflow) when full.
    pub fn push(&mut self, v: T) -> bool {
        let len = usize::from(self.len);
        if len < N {
            self.items[len] = v;
            self.len += 1;
            true
        } else {
            self.overflow = true;
            false
        }
    }
    /// Returns the values pushed so far, outermost first.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..usize::from(self.len)]
    }
    /// Reports whether a push was refused.
    pub fn is_overflowed(&self) -> bool {
        self.overflow
    }
    /// Empties the stack.
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }
}

/// The outermost link-layer addresses of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L2 {
    /// Source address (Ethernet source, or SLL/SLL2 link-layer address when it is 6 bytes).
    pub src: Option<Mac>,
    /// Destination address (Ethernet only; SLL carries none).
    pub dst: Option<Mac>,
}

/// IPv4 fragment information (RFC 791).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fragment {
    /// Fragment offset in bytes.
    pub offset_bytes: u16,
    /// More-fragments flag.
    pub more: bool,
    /// Identification field.
    pub id: u16,
}

/// An IP header's flow-relevant fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol after extension headers (IPv6) or the protocol field (IPv4).
    pub proto: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Total length from the header (IPv4 total length, IPv6 40 + payload length).
    pub total_len_bytes: u16,
    /// Set when the packet is an IPv4 fragment (offset != 0 or MF set) or has an IPv6 Fragment header.
    pub fragment: Option<Fragment>,
}

/// The transport header of the innermost IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// None decoded (not IP, a non-first fragment, or an unsupported protocol).
    #[default]
    None,
    /// UDP ports.
    Udp {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// TCP ports and flags.
    Tcp {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
        /// Flags octet (CWR..FIN).
        flags: u8,
    },
    /// SCTP common header and chunk summary.
    Sctp {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
        /// Number of chunks in the packet.
        chunks: u16,
        /// Payload protocol identifier of the first DATA chunk (60 = NGAP).
        data_ppid: Option<u32>,
    },
    /// ICMP type and code.
    Icmp {
        /// Type.
        ty: u8,
        /// Code.
        code: u8,
    },
    /// ICMPv6 type and code.
    Icmpv6 {
        /// Type.
        ty: u8,
        /// Code.
        code: u8,
    },
}

impl Transport {
    /// Returns the (source, destination) ports of UDP, TCP and SCTP, else `(0, 0)`:
    /// ICMP type and code are not ports, so echo requests and replies share one flow.
    pub fn ports(&self) -> (u16, u16) {
        match *self {
            Transport::Udp { src, dst }
            | Transport::Tcp { src, dst, .. }
            | Transport::Sctp { src, dst, .. } => (src, dst),
            _ => (0, 0),
        }
    }
}

/// The outermost GTP-U tunnel a frame travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// Outer IP source (the sending gNB or UPF).
    pub outer_src: IpAddr,
    /// Outer IP destination.
    pub outer_dst: IpAddr,
    /// Outer UDP source port.
    pub src_port: u16,
    /// Outer UDP destination port.
    pub dst_port: u16,
    /// Tunnel endpoint identifier.
    pub teid: Teid,
    /// GTP message type (255 = G-PDU, 1/2 = echo, 26 = error indication, 254 = end marker).
    pub msg_type: u8,
    /// Sequence number, when the S flag is set.
    pub seq: Option<u16>,
    /// QFI from a PDU Session Container (extension header type 0x85).
    pub qfi: Option<Qfi>,
    /// PDU type from the PDU Session Container: 0 = downlink, 1 = uplink.
    pub pdu_type: Option<u8>,
    /// Number of GTP-U layers decoded (1 unless GTP-U is nested in GTP-U).
    pub depth: u8,
}

/// Everything later stages need from one frame. Reset by [`decode`] on entry.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// Outermost link-layer addresses.
    pub l2: L2,
    /// VLAN ids, outermost first.
    pub vlans: Stack<u16, MAX_VLANS>,
    /// MPLS labels (20-bit values), outermost first.
    pub mpls: Stack<u32, MAX_MPLS_LABELS>,
    /// The EtherType after VLAN tags (0 when the link carries no EtherType and no IP was found).
    pub ethertype: u16,
    /// The outermost GTP-U tunnel, if any.
    pub tunnel: Option<Tunnel>,
    /// The innermost IP header (inside the tunnel when there is one).
    pub ip: Option<Ip>,
    /// The innermost transport header.
    pub transport: Transport,
    /// SRv6 segment list of the outermost IPv6 Segment Routing Header, in wire order,
    /// as integers (`Ipv6Addr::from(u128)` converts).
    pub srv6_segments: Stack<u128, MAX_SEGMENTS>,
    /// Offset of the innermost transport payload within the frame.
    pub payload_offset: usize,
    /// Length of the captured innermost transport payload.
    pub payload_len: usize,
}
