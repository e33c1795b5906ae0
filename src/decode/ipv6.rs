//! IPv6 fixed header (RFC 8200 §3) and extension header chain (RFC 8200 §4; AH, RFC 4302 §2.2).
//!
//! The walk follows Next Header through hop-by-hop options (0, first only), routing (43),
//! fragment (44), destination options (60) and AH (51) up to the first upper-layer protocol,
//! 59 (no next header) or ESP (50). A Fragment header with a non-zero offset also ends the
//! walk: the upper-layer header is in the first fragment. Routing type 4 is the Segment
//! Routing Header, RFC 8754, decoded by `srh.rs`.
//!
//! A payload length of 0 (a jumbogram, RFC 2675, or a segmentation-offload capture) means
//! "to the end of the buffer". A payload length larger than the buffer is a sliced capture,
//! not an error; the extension headers themselves must be complete (`ipv6_ext.truncated`).
//! The Fragment header's 32-bit identification is kept in 16 bits ([`Fragment::id`]).

use std::net::{IpAddr, Ipv6Addr};

use super::reader::Reader;
use super::{Error, Fragment, Layer, Result, be_u16, be_u32};

mod field {
    use core::ops::Range;
    pub(super) const VER_TC_FLOW: Range<usize> = 0..4;
    pub(super) const LENGTH: Range<usize> = 4..6;
    pub(super) const NXT_HDR: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC_ADDR: Range<usize> = 8..24;
    pub(super) const DST_ADDR: Range<usize> = 24..40;
}

/// Size of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// The most extension headers walked before `ipv6_ext.too_many_ext_headers`.
pub const MAX_EXT_HEADERS: usize = 16;

/// Next Header values handled by the extension header walk (IANA "Assigned Internet
/// Protocol Numbers").
pub mod next_header {
    /// Hop-by-Hop Options.
    pub const HOP_BY_HOP: u8 = 0;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload.
    pub const ESP: u8 = 50;
    /// Authentication Header.
    pub const AH: u8 = 51;
    /// No Next Header.
    pub const NO_NEXT: u8 = 59;
    /// Destination Options.
    pub const DEST_OPTS: u8 = 60;
}

/// Read-only view of an IPv6 packet. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length and version, then wraps the buffer.
    ///
    /// # Errors
    /// `ipv6.truncated` below 40 bytes; `ipv6.bad_version` when the version is not 6.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `ipv6.truncated` below 40 bytes; `ipv6.bad_version` when the version is not 6.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Ipv6, "truncated", HEADER_LEN, have));
        }
        if self.version() != 6 {
            return Err(Error::invalid(Layer::Ipv6, "bad_version"));
        }
        Ok(())
    }
    /// Returns the version field.
    pub fn version(&self) -> u8 {
        self.buf.as_ref()[0] >> 4
    }
    /// Returns the 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        be_u32(&self.buf.as_ref()[field::VER_TC_FLOW]) & 0x000f_ffff
    }
    /// Returns the payload length field.
    pub fn payload_len(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::LENGTH])
    }
    /// Returns the Next Header field of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[field::NXT_HDR]
    }
    /// Returns the hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buf.as_ref()[field::HOP_LIMIT]
    }
    /// Returns the source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buf.as_ref()[field::SRC_ADDR])
    }
    /// Returns the destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buf.as_ref()[field::DST_ADDR])
    }
    /// Returns the payload (extension headers included): up to the payload length or the
    /// end of the buffer, whichever comes first; to the end when the payload length is 0.
    pub fn payload(&self) -> &[u8] {
        let b = self.buf.as_ref();
        let end = match self.payload_len() {
            0 => b.len(),
            n => (HEADER_LEN + usize::from(n)).min(b.len()),
        };
        &b[HEADER_LEN..end]
    }
}

/// Reads sixteen bytes as an address. The caller passes at least 16 bytes.
fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// The result of walking the extension header chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit.
    pub hop_limit: u8,
    /// Payload length field.
    pub payload_len: u16,
    /// The upper-layer protocol after the extension headers (or 59, 50, or the protocol
    /// named by a non-first fragment).
    pub upper: u8,
    /// Bytes from the start of the packet to the upper-layer header.
    pub header_len: usize,
    /// Set when a Fragment header was seen.
    pub fragment: Option<Fragment>,
    /// Start and end (from the start of the packet) of the first Segment Routing Header.
    pub srh: Option<(usize, usize)>,
    /// Number of extension headers walked.
    pub ext_count: u8,
}

impl Repr {
    /// Walks the extension headers of a checked packet.
    ///
    /// # Errors
    /// `ipv6_ext.truncated`, `ipv6_ext.hop_by_hop_not_first` or
    /// `ipv6_ext.too_many_ext_headers`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        let mut r = Reader::new(p.payload());
        let mut nh = p.next_header();
        let mut fragment = None;
        let mut srh = None;
        let mut count = 0usize;
        loop {
            let start = r.pos();
            let len = match nh {
                next_header::HOP_BY_HOP | next_header::ROUTING | next_header::DEST_OPTS => {
                    if nh == next_header::HOP_BY_HOP && count != 0 {
                        // RFC 8200 §4.1: only immediately after the IPv6 header.
                        return Err(Error::invalid(Layer::Ipv6Ext, "hop_by_hop_not_first"));
                    }
                    ext_len(&r, |l| (usize::from(l) + 1) * 8)?
                }
                next_header::AH => ext_len(&r, |l| (usize::from(l) + 2) * 4)?,
                next_header::FRAGMENT => 8,
                _ => break,
            };
            count += 1;
            if count > MAX_EXT_HEADERS {
                return Err(Error::invalid(Layer::Ipv6Ext, "too_many_ext_headers"));
            }
            let h = r.take(len, Layer::Ipv6Ext, "truncated")?;
            let this = nh;
            nh = h[0];
            if this == next_header::ROUTING && h[2] == super::srh::ROUTING_TYPE && srh.is_none() {
                srh = Some((HEADER_LEN + start, HEADER_LEN + start + len));
            }
            if this == next_header::FRAGMENT {
                let off = be_u16(&h[2..4]);
                let f = Fragment {
                    offset_bytes: off & 0xfff8,
                    more: off & 1 != 0,
                    // Kept in 16 bits: `Fragment::id` is the IPv4 width.
                    id: (be_u32(&h[4..8]) & 0xffff) as u16,
                };
                fragment = Some(f);
                if f.offset_bytes != 0 {
                    break;
                }
            }
        }
        Ok(Self {
            src: p.src_addr(),
            dst: p.dst_addr(),
            hop_limit: p.hop_limit(),
            payload_len: p.payload_len(),
            upper: nh,
            header_len: HEADER_LEN + r.pos(),
            fragment,
            srh,
            ext_count: count as u8,
        })
    }
    /// Reports whether this is a fragment other than the first (no upper-layer header).
    pub fn is_later_fragment(&self) -> bool {
        self.fragment.is_some_and(|f| f.offset_bytes != 0)
    }
    /// Converts to the flow-facing [`super::Ip`].
    pub fn to_ip(&self) -> super::Ip {
        super::Ip {
            src: IpAddr::V6(self.src),
            dst: IpAddr::V6(self.dst),
            proto: self.upper,
            ttl: self.hop_limit,
            total_len_bytes: self.payload_len.saturating_add(HEADER_LEN as u16),
            fragment: self.fragment,
        }
    }
}

/// Reads the length octet (offset 1) of the extension header at the cursor and converts it.
fn ext_len(r: &Reader<'_>, f: impl Fn(u8) -> usize) -> Result<usize> {
    match r.rest().get(1) {
        Some(&l) => Ok(f(l)),
        None => Err(Error::truncated(Layer::Ipv6Ext, "truncated", 2, r.left())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_udp_over_linktype_ipv6() {
        // tcpdump-LINKTYPE_IPV6.pcap: 2001:db8::1 -> 2620:fe::9, UDP, payload length 37.
        let p = Packet::new_checked(td::TCPDUMP_LINKTYPE_IPV6).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.src, "2001:db8::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(r.dst, "2620:fe::9".parse::<Ipv6Addr>().unwrap());
        assert_eq!((r.upper, r.hop_limit, r.payload_len), (17, 64, 37));
        assert_eq!(
            (r.header_len, r.fragment, r.srh, r.ext_count),
            (40, None, None, 0)
        );
    }

    #[test]
    fn hop_by_hop_then_routing_type_0() {
        // zeek-ipv6-hbh-routing0.pcap: HBH (8 bytes) + routing type 0 (40 bytes) + UDP.
        let p = Packet::new_checked(&td::ZEEK_IPV6_HBH_ROUTING0[14..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!((r.upper, r.header_len, r.ext_count), (17, 88, 2));
        assert_eq!(r.srh, None);
        assert_eq!(p.flow_label(), 0);
    }

    #[test]
    fn finds_the_segment_routing_header() {
        // tcpdump-ipv6-srh-ext-header.pcap: routing type 4, 40 bytes, then IPv6 (41).
        let p = Packet::new_checked(&td::TCPDUMP_SRH[14..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!((r.upper, r.header_len, r.srh), (41, 80, Some((40, 80))));
    }

    #[test]
    fn truncated_fixed_header_and_extension() {
        let err = Packet::new_checked(&td::TCPDUMP_LINKTYPE_IPV6[..39]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Ipv6, "truncated", 40, 39));
        // Cut the 40-byte routing header of the SRH frame after 20 bytes.
        let p = Packet::new_checked(&td::TCPDUMP_SRH[14..14 + 60]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::truncated(Layer::Ipv6Ext, "truncated", 40, 20))
        );
    }

    #[test]
    fn heapoverflow_reproducer_repeats_hop_by_hop() {
        // tcpdump-ipv6hdr-heapoverflow.pcap: next header 0, HBH whose next header is 0 again.
        let p = Packet::new_checked(td::TCPDUMP_IPV6HDR_HEAPOVERFLOW).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::invalid(Layer::Ipv6Ext, "hop_by_hop_not_first"))
        );
    }

    #[test]
    fn invalid_version() {
        // pcapplusplus-null_loopback.pcap frame 2 carries IPv4 after the 4-byte header.
        let err = Packet::new_checked(&td::PCPP_NULL_IPV4_UDP[4..]).unwrap_err();
        assert_eq!(err, Error::invalid(Layer::Ipv6, "bad_version"));
    }
}
