//! IPv4 header, RFC 791 §3.1.
//!
//! Checks, in order: at least 20 bytes (`ipv4.truncated`), version 4 (`ipv4.bad_version`),
//! IHL ≥ 5 (`ipv4.bad_ihl`), the options within the buffer (`ipv4.options_truncated`) and
//! total length ≥ IHL·4 (`ipv4.bad_total_length`). A total length larger than the buffer is
//! *not* an error: the capture's snaplen (or a fragment boundary further out) cut the
//! payload, and the walker decodes what is there. A total length smaller than the buffer
//! trims Ethernet padding.
//!
//! Header checksum (RFC 1071): [`Packet::verify_checksum`] treats a zero field as "not
//! computed" — Windows captures of outgoing traffic with IP checksum offload carry 0x0000
//! (`arkime-fbzero-android.pcap`, `suricata-verify-snmp-v3-encrypted-SNMPv3.pcap`) — and is
//! always true under `cfg(fuzzing)` so the fuzzer gets past it.

use std::net::{IpAddr, Ipv4Addr};

use super::{Error, Fragment, Layer, Result, be_u16};

mod field {
    use core::ops::Range;
    pub(super) const VER_IHL: usize = 0;
    pub(super) const LENGTH: Range<usize> = 2..4;
    pub(super) const IDENT: Range<usize> = 4..6;
    pub(super) const FLG_OFF: Range<usize> = 6..8;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: Range<usize> = 10..12;
    pub(super) const SRC_ADDR: Range<usize> = 12..16;
    pub(super) const DST_ADDR: Range<usize> = 16..20;
}

/// Size of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Read-only view of an IPv4 packet. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks lengths and the version, then wraps the buffer.
    ///
    /// # Errors
    /// See [`Packet::check_len`].
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `ipv4.truncated`, `ipv4.bad_version`, `ipv4.bad_ihl`, `ipv4.options_truncated` or
    /// `ipv4.bad_total_length`, as the module documentation describes.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::truncated(
                Layer::Ipv4,
                "truncated",
                HEADER_LEN,
                b.len(),
            ));
        }
        if self.version() != 4 {
            return Err(Error::invalid(Layer::Ipv4, "bad_version"));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::invalid(Layer::Ipv4, "bad_ihl"));
        }
        if b.len() < hl {
            return Err(Error::truncated(
                Layer::Ipv4,
                "options_truncated",
                hl,
                b.len(),
            ));
        }
        if usize::from(self.total_len()) < hl {
            return Err(Error::invalid(Layer::Ipv4, "bad_total_length"));
        }
        Ok(())
    }
    /// Returns the version field.
    pub fn version(&self) -> u8 {
        self.buf.as_ref()[field::VER_IHL] >> 4
    }
    /// Returns the header length in bytes (IHL · 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buf.as_ref()[field::VER_IHL] & 0x0f) * 4
    }
    /// Returns the total length field.
    pub fn total_len(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::LENGTH])
    }
    /// Returns the identification field.
    pub fn ident(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::IDENT])
    }
    /// Reports whether the more-fragments flag is set.
    pub fn more_frags(&self) -> bool {
        be_u16(&self.buf.as_ref()[field::FLG_OFF]) & 0x2000 != 0
    }
    /// Reports whether the don't-fragment flag is set.
    pub fn dont_frag(&self) -> bool {
        be_u16(&self.buf.as_ref()[field::FLG_OFF]) & 0x4000 != 0
    }
    /// Returns the fragment offset in bytes.
    pub fn frag_offset_bytes(&self) -> u16 {
        (be_u16(&self.buf.as_ref()[field::FLG_OFF]) & 0x1fff) << 3
    }
    /// Returns the time to live.
    pub fn ttl(&self) -> u8 {
        self.buf.as_ref()[field::TTL]
    }
    /// Returns the protocol field.
    pub fn protocol(&self) -> u8 {
        self.buf.as_ref()[field::PROTOCOL]
    }
    /// Returns the header checksum field.
    pub fn checksum(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::CHECKSUM])
    }
    /// Returns the source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        addr(&self.buf.as_ref()[field::SRC_ADDR])
    }
    /// Returns the destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr(&self.buf.as_ref()[field::DST_ADDR])
    }
    /// Reports whether the header checksum is right, or zero (not computed: offload).
    /// Always true under `cfg(fuzzing)`.
    pub fn verify_checksum(&self) -> bool {
        if cfg!(fuzzing) || self.checksum() == 0 {
            return true;
        }
        ones_complement_sum(&self.buf.as_ref()[..self.header_len()]) == 0xffff
    }
    /// Returns the payload: after the options, up to the total length or the end of the
    /// buffer, whichever comes first.
    pub fn payload(&self) -> &[u8] {
        let b = self.buf.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        &b[self.header_len()..end]
    }
}

/// Reads four bytes as an address. The caller passes at least 4 bytes.
fn addr(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// The RFC 1071 one's-complement sum of 16-bit words, folded to 16 bits.
fn ones_complement_sum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(w.get(1).copied().unwrap_or(0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The parts of an IPv4 header later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol field.
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Total length field.
    pub total_len: u16,
    /// Header length in bytes.
    pub header_len: usize,
    /// Fragment information when offset ≠ 0 or MF is set.
    pub fragment: Option<Fragment>,
    /// Result of [`Packet::verify_checksum`].
    pub checksum_ok: bool,
}

impl Repr {
    /// Extracts the summary of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        let fragment = (p.more_frags() || p.frag_offset_bytes() != 0).then(|| Fragment {
            offset_bytes: p.frag_offset_bytes(),
            more: p.more_frags(),
            id: p.ident(),
        });
        Self {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            total_len: p.total_len(),
            header_len: p.header_len(),
            fragment,
            checksum_ok: p.verify_checksum(),
        }
    }
    /// Converts to the flow-facing [`super::Ip`]; `proto` is the protocol field.
    pub fn to_ip(&self) -> super::Ip {
        super::Ip {
            src: IpAddr::V4(self.src),
            dst: IpAddr::V4(self.dst),
            proto: self.protocol,
            ttl: self.ttl,
            total_len_bytes: self.total_len,
            fragment: self.fragment,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_n3_outer_header() {
        // telekom-5gtv-n3_example.pcap frame 1, IPv4 at offset 14.
        let p = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[14..]).unwrap();
        let r = Repr::parse(&p);
        assert_eq!(
            r,
            Repr {
                src: Ipv4Addr::new(172, 16, 12, 2),
                dst: Ipv4Addr::new(10, 200, 11, 70),
                protocol: 17,
                ttl: 64,
                total_len: 922,
                header_len: 20,
                fragment: None,
                checksum_ok: true,
            }
        );
        assert_eq!(p.checksum(), 0xa53c);
        assert_eq!(p.ident(), 0x03f7);
        assert_eq!(p.payload().len(), 922 - 20);
    }

    #[test]
    fn first_and_second_fragment() {
        // zeek-gtp_ext_header.pcap frames 1 and 2: id 0x208c, MF then offset 0xb9 · 8.
        let r1 = Repr::parse(&Packet::new_checked(&td::ZEEK_GTP_EXT_C0[14..]).unwrap());
        assert_eq!(
            r1.fragment,
            Some(Fragment {
                offset_bytes: 0,
                more: true,
                id: 0x208c
            })
        );
        let r2 = Repr::parse(&Packet::new_checked(&td::ZEEK_GTP_EXT_C0_FRAG2[14..]).unwrap());
        assert_eq!(
            r2.fragment,
            Some(Fragment {
                offset_bytes: 1480,
                more: false,
                id: 0x208c
            })
        );
        assert!(r1.checksum_ok && r2.checksum_ok);
    }

    #[test]
    fn ethernet_padding_is_trimmed() {
        // zeek-gtp10_not_0xff.pcap frame 2: total length 40 in a 60-byte frame.
        let p = Packet::new_checked(&td::ZEEK_GTP10_ECHO_REQ[14..]).unwrap();
        assert_eq!(p.total_len(), 40);
        assert_eq!(p.payload().len(), 20);
    }

    #[test]
    fn truncated_header() {
        let err = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[14..33]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Ipv4, "truncated", 20, 19));
    }

    #[test]
    fn invalid_ihl() {
        // tcpdump-ipv4_invalid_hdr_length.pcap: first octet 0x44.
        let err = Packet::new_checked(&td::TCPDUMP_IPV4_INVALID_HDR_LENGTH[14..]).unwrap_err();
        assert_eq!(err, Error::invalid(Layer::Ipv4, "bad_ihl"));
    }

    #[test]
    fn invalid_version_on_linktype_ipv4() {
        // tcpdump-LINKTYPE_IPV4_invalid.pcap holds an IPv6 packet.
        let err = Packet::new_checked(td::TCPDUMP_LINKTYPE_IPV4_INVALID).unwrap_err();
        assert_eq!(err, Error::invalid(Layer::Ipv4, "bad_version"));
    }

    #[test]
    fn bad_and_offloaded_checksums() {
        // tcpdump-udp-length-heapoverflow.pcap: checksum field 0x3030 over '0' bytes.
        let p = Packet::new_checked(&td::TCPDUMP_UDP_LENGTH_HEAPOVERFLOW[14..]).unwrap();
        assert_eq!(p.checksum(), 0x3030);
        assert_eq!(p.verify_checksum(), cfg!(fuzzing));
        // suricata-verify-snmp-v3-encrypted-SNMPv3.pcap frame 1: checksum 0 (offloaded).
        let p = Packet::new_checked(&td::SURICATA_SNMPV3_CKSUM_ZERO[14..]).unwrap();
        assert_eq!(p.checksum(), 0);
        assert!(p.verify_checksum());
    }
}
