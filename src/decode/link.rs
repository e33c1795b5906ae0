//! Link-layer headers other than Ethernet, from the tcpdump.org LINKTYPE registry:
//! NULL / LOOP (`LINKTYPE_NULL` 0, `LINKTYPE_LOOP` 108), Linux cooked capture v1
//! (`LINKTYPE_LINUX_SLL` 113) and v2 (`LINKTYPE_LINUX_SLL2` 276), and raw IP
//! (`LINKTYPE_RAW` 101, DLT 12 and 14, `LINKTYPE_IPV4` 228, `LINKTYPE_IPV6` 229).
//!
//! - NULL carries a 4-octet address family in the *capturing* host's byte order, LOOP in
//!   network order; both orders are accepted for both. AF 2 is IPv4; 24, 28 and 30 (the
//!   BSDs' and Darwin's AF_INET6) are IPv6. Some captures hold an EtherType in the last two
//!   octets instead (`pcapplusplus-null_loopback.pcap` frame 3: `0f 00 08 00`); 0x0800 and
//!   0x86dd there are accepted too. Anything else is `link.address_family` (unsupported).
//! - SLL: packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2).
//!   SLL2: protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet type (1),
//!   address length (1), address (8). The protocol is an EtherType when ≥ 0x0600; smaller
//!   values (802.2 LLC, Novell 802.3) end decoding with `ethertype` 0, like 802.3 frames.
//!   The address becomes [`L2::src`](super::L2::src) when it is 6 octets long.
//! - Raw IP reads the version nibble: 4 or 6, else `link.bad_ip_version`.
//!
//! Only the low 16 bits of the link type are the type (the pcap header's high bits carry
//! FCS information), so they alone are looked at. Other types are `link.link_type`
//! (unsupported).

use super::ethernet::{self, EtherType};
use super::{Decoded, Error, Layer, Result, be_u16};
use crate::capture::LinkType;

/// Size of the NULL / LOOP header.
pub(crate) const NULL_HEADER_LEN: usize = 4;
/// Size of the Linux cooked capture v1 header.
pub(crate) const SLL_HEADER_LEN: usize = 16;
/// Size of the Linux cooked capture v2 header.
pub(crate) const SLL2_HEADER_LEN: usize = 20;

/// What follows the link-layer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// An EtherType-dispatched payload.
    EtherType(EtherType),
    /// An IPv4 packet.
    Ipv4,
    /// An IPv6 packet.
    Ipv6,
    /// Nothing cleanpath decodes (802.3 length frames, LLC).
    Stop,
}

/// Decodes the link-layer header of `data`, fills `out.l2`, and returns the header length
/// and what follows.
///
/// # Errors
/// `link.truncated`, `link.address_family`, `link.bad_ip_version` or `link.link_type`.
pub(crate) fn parse(link: LinkType, data: &[u8], out: &mut Decoded) -> Result<(usize, Next)> {
    match LinkType(link.0 & 0xffff) {
        LinkType::ETHERNET => {
            let p = ethernet::Packet::new_checked(data)?;
            out.l2.src = Some(p.src());
            out.l2.dst = Some(p.dst());
            Ok((
                ethernet::HEADER_LEN,
                p.ethertype().map_or(Next::Stop, Next::EtherType),
            ))
        }
        LinkType::NULL | LinkType::LOOP => {
            let h = header(data, NULL_HEADER_LEN)?;
            let af = [h[0], h[1], h[2], h[3]];
            let next = match (u32::from_le_bytes(af), u32::from_be_bytes(af)) {
                (2, _) | (_, 2) => Next::Ipv4,
                (24 | 28 | 30, _) | (_, 24 | 28 | 30) => Next::Ipv6,
                _ => match EtherType(be_u16(&h[2..4])) {
                    et @ (EtherType::IPV4 | EtherType::IPV6) => Next::EtherType(et),
                    _ => return Err(Error::unsupported(Layer::Link, "address_family")),
                },
            };
            Ok((NULL_HEADER_LEN, next))
        }
        LinkType::RAW | LinkType::RAW_BSD12 | LinkType::RAW_BSD14 => {
            let next = match data.first().map(|b| b >> 4) {
                None => return Err(Error::truncated(Layer::Link, "truncated", 1, 0)),
                Some(4) => Next::Ipv4,
                Some(6) => Next::Ipv6,
                Some(_) => return Err(Error::invalid(Layer::Link, "bad_ip_version")),
            };
            Ok((0, next))
        }
        LinkType::IPV4 => Ok((0, Next::Ipv4)),
        LinkType::IPV6 => Ok((0, Next::Ipv6)),
        LinkType::LINUX_SLL => {
            let h = header(data, SLL_HEADER_LEN)?;
            if be_u16(&h[4..6]) == 6 {
                out.l2.src = Some(ethernet::mac(&h[6..12]));
            }
            Ok((SLL_HEADER_LEN, protocol(be_u16(&h[14..16]))))
        }
        LinkType::LINUX_SLL2 => {
            let h = header(data, SLL2_HEADER_LEN)?;
            if h[11] == 6 {
                out.l2.src = Some(ethernet::mac(&h[12..18]));
            }
            Ok((SLL2_HEADER_LEN, protocol(be_u16(&h[0..2]))))
        }
        _ => Err(Error::unsupported(Layer::Link, "link_type")),
    }
}

/// Returns the first `len` bytes of `data`, or `link.truncated`.
fn header(data: &[u8], len: usize) -> Result<&[u8]> {
    data.get(..len)
        .ok_or(Error::truncated(Layer::Link, "truncated", len, data.len()))
}

/// Maps an SLL/SLL2 protocol field to what follows.
fn protocol(v: u16) -> Next {
    if v >= EtherType::MIN {
        Next::EtherType(EtherType(v))
    } else {
        Next::Stop
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    fn run(link: LinkType, data: &[u8]) -> (Result<(usize, Next)>, Decoded) {
        let mut d = Decoded::default();
        let r = parse(link, data, &mut d);
        (r, d)
    }

    #[test]
    fn sll_v1_with_ethernet_address() {
        // pcapplusplus-SllPacket.pcap: type 0 (to us), ARPHRD 1, addr len 6, 86dd.
        let (r, d) = run(LinkType::LINUX_SLL, td::PCPP_SLL_IPV6_TCP);
        assert_eq!(r, Ok((16, Next::EtherType(EtherType::IPV6))));
        assert_eq!(d.l2.src.unwrap().to_string(), "00:12:44:1e:74:00");
        assert_eq!(d.l2.dst, None);
    }

    #[test]
    fn sll_v2_with_ethernet_address() {
        // pcapplusplus-Sll2Packet.pcap: 0800, ifindex 20, ARPHRD 1, outgoing, addr len 6.
        let (r, d) = run(LinkType::LINUX_SLL2, td::PCPP_SLL2_TCP);
        assert_eq!(r, Ok((20, Next::EtherType(EtherType::IPV4))));
        assert_eq!(d.l2.src.unwrap().to_string(), "d2:cf:c2:50:15:ea");
    }

    #[test]
    fn null_header_byte_orders_and_ethertype_variant() {
        // pcapplusplus-null_loopback.pcap frames 1-3: 1e000000, 02000000, 0f000800.
        assert_eq!(
            run(LinkType::NULL, td::PCPP_NULL_IPV6_TCP).0,
            Ok((4, Next::Ipv6))
        );
        assert_eq!(
            run(LinkType::NULL, td::PCPP_NULL_IPV4_UDP).0,
            Ok((4, Next::Ipv4))
        );
        assert_eq!(
            run(LinkType::NULL, td::PCPP_NULL_ETHERTYPE).0,
            Ok((4, Next::EtherType(EtherType::IPV4)))
        );
        // LOOP is network order; the little-endian header is still accepted.
        assert_eq!(
            run(LinkType::LOOP, td::PCPP_NULL_IPV4_UDP).0,
            Ok((4, Next::Ipv4))
        );
    }

    #[test]
    fn null_with_unknown_family_is_unsupported() {
        // An SLL2 header read as NULL: 08 00 00 00 is AF 8 little-endian, 0x08000000 big.
        assert_eq!(
            run(LinkType::NULL, td::PCPP_SLL2_TCP).0,
            Err(Error::unsupported(Layer::Link, "address_family"))
        );
    }

    #[test]
    fn raw_ip_version_nibble() {
        assert_eq!(
            run(LinkType::RAW, td::TCPDUMP_RAW_IPV4).0,
            Ok((0, Next::Ipv4))
        );
        assert_eq!(
            run(LinkType::RAW_BSD12, td::TCPDUMP_LINKTYPE_IPV6).0,
            Ok((0, Next::Ipv6))
        );
        // An Ethernet frame read as raw IP: first nibble 0 (MAC 01:80:c2…).
        assert_eq!(
            run(LinkType::RAW, td::ZEEK_LLDP).0,
            Err(Error::invalid(Layer::Link, "bad_ip_version"))
        );
    }

    #[test]
    fn truncated_and_unsupported() {
        assert_eq!(
            run(LinkType::LINUX_SLL2, &td::PCPP_SLL2_TCP[..19]).0,
            Err(Error::truncated(Layer::Link, "truncated", 20, 19))
        );
        assert_eq!(
            run(LinkType::NULL, &td::PCPP_NULL_IPV4_UDP[..3]).0,
            Err(Error::truncated(Layer::Link, "truncated", 4, 3))
        );
        assert_eq!(
            run(LinkType::RAW, &[]).0,
            Err(Error::truncated(Layer::Link, "truncated", 1, 0))
        );
        // LINKTYPE_PPP (9) is not decoded.
        assert_eq!(
            run(LinkType(9), td::TCPDUMP_RAW_IPV4).0,
            Err(Error::unsupported(Layer::Link, "link_type"))
        );
        // The FCS bits of tcpdump's reproducers (0x30000001) still mean Ethernet.
        assert!(run(LinkType(0x3000_0001), td::ZEEK_LLDP).0.is_ok());
    }
}
