//! The layer walker: chains the per-protocol views from the link header to the innermost
//! transport header and fills a [`Decoded`].
//!
//! ```text
//! link ─► [VLAN…] ─► [MPLS…] ─► IPv4/IPv6(+ext, SRH) ─► UDP ─► GTP-U ─► IPv4/IPv6 ─► …
//!                                      │  ▲             TCP, SCTP, ICMP, ICMPv6
//!                                      └──┘ IP-in-IP (4, 41)
//! ```
//! The walk is a loop over a `Next` state, not recursion, so nesting costs no stack; it is
//! bounded by [`MAX_TUNNEL_DEPTH`] GTP-U layers and [`MAX_IP_LAYERS`] IP headers.
//!
//! The rules the layers share are in the module documentation of [`crate::decode`].

use super::ethernet::EtherType;
use super::{
    Decoded, Error, Layer, MAX_TUNNEL_DEPTH, Result, Transport, Tunnel, gtpu, icmp, ipv4, ipv6,
    link, mpls, sctp, srh, tcp, udp, vlan,
};
use crate::capture::LinkType;

/// The most IP headers (outer, IP-in-IP, inside tunnels) decoded per frame.
pub const MAX_IP_LAYERS: usize = 2 * (MAX_TUNNEL_DEPTH + 1);

/// IANA protocol numbers dispatched after IP.
mod proto {
    pub(super) const ICMP: u8 = 1;
    pub(super) const IPV4: u8 = 4;
    pub(super) const TCP: u8 = 6;
    pub(super) const UDP: u8 = 17;
    pub(super) const IPV6: u8 = 41;
    pub(super) const ICMPV6: u8 = 58;
    pub(super) const SCTP: u8 = 132;
}

/// Decodes one frame of link type `link` into `out`, which is reset first.
///
/// # Errors
/// The first malformed or unsupported layer; `out` keeps what was decoded before it.
/// `ipv4.bad_checksum` is the exception: it is reported after the whole frame was decoded
/// (see the module documentation).
pub fn decode(link: LinkType, data: &[u8], out: &mut Decoded) -> Result<()> {
    *out = Decoded::default();
    let (hdr, next) = link::parse(link, data, out)?;
    let mut w = Walker {
        data,
        out,
        off: hdr,
        end: data.len(),
        claimed: usize::MAX,
        in_fragment: false,
        ip_layers: 0,
        tunnels: 0,
        srh_seen: false,
        deferred: None,
    };
    let next = match next {
        link::Next::EtherType(et) => Next::EtherType(et),
        link::Next::Ipv4 => {
            w.out.ethertype = EtherType::IPV4.0;
            Next::Ipv4
        }
        link::Next::Ipv6 => {
            w.out.ethertype = EtherType::IPV6.0;
            Next::Ipv6
        }
        link::Next::Stop => Next::Done,
    };
    w.run(next)?;
    match w.deferred {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The layer to decode next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    EtherType(EtherType),
    Ipv4,
    Ipv6,
    Udp,
    Tcp,
    Sctp,
    Icmp,
    Icmpv6,
    Gtpu,
    Done,
}

/// Walk state. Invariant: `off ≤ end ≤ data.len()` (kept by `advance` and `limit`).
struct Walker<'a, 'o> {
    data: &'a [u8],
    out: &'o mut Decoded,
    /// Start of the current layer.
    off: usize,
    /// End of the bytes the current layer may use (captured and within enclosing lengths).
    end: usize,
    /// Bytes from `off` that the enclosing length field claims (may exceed `end - off`).
    claimed: usize,
    /// The current IP packet is a fragment (lengths of inner headers may exceed it).
    in_fragment: bool,
    ip_layers: usize,
    tunnels: usize,
    srh_seen: bool,
    deferred: Option<Error>,
}

impl<'a> Walker<'a, '_> {
    /// Returns the bytes of the current layer.
    fn cur(&self) -> &'a [u8] {
        self.data.get(self.off..self.end).unwrap_or_default()
    }

    /// Moves the start of the current layer `n` bytes on (saturating at `end`).
    fn advance(&mut self, n: usize) {
        self.off = self.off.saturating_add(n).min(self.end);
        self.claimed = self.claimed.saturating_sub(n);
    }

    /// Ends the current layer `len` bytes after its start (never extends it).
    fn limit(&mut self, len: usize) {
        self.end = self.end.min(self.off.saturating_add(len));
        self.claimed = len;
    }

    fn run(&mut self, mut next: Next) -> Result<()> {
        loop {
            next = match next {
                Next::EtherType(et) => self.ethertype(et)?,
                Next::Ipv4 => self.ipv4()?,
                Next::Ipv6 => self.ipv6()?,
                Next::Udp => self.udp()?,
                Next::Tcp => self.tcp()?,
                Next::Sctp => self.sctp()?,
                Next::Icmp | Next::Icmpv6 => self.icmp(next == Next::Icmpv6)?,
                Next::Gtpu => self.gtpu()?,
                Next::Done => break,
            };
        }
        self.out.payload_offset = self.off;
        self.out.payload_len = self.end - self.off;
        Ok(())
    }

    fn ethertype(&mut self, et: EtherType) -> Result<Next> {
        self.out.ethertype = et.0;
        if et.is_vlan() {
            let r = vlan::Repr::parse(&vlan::Packet::new_checked(self.cur())?);
            if !self.out.vlans.push(r.vid) {
                return Err(Error::invalid(Layer::Vlan, "too_many_tags"));
            }
            self.advance(vlan::HEADER_LEN);
            return Ok(Next::EtherType(r.ethertype));
        }
        if et.is_mpls() {
            let p = mpls::Packet::new_checked(self.cur())?;
            for e in p.entries() {
                self.out.mpls.push(e.label);
            }
            let next = match p.next_protocol()? {
                mpls::Payload::Ipv4 => Next::Ipv4,
                mpls::Payload::Ipv6 => Next::Ipv6,
            };
            self.advance(p.depth() * mpls::ENTRY_LEN);
            return Ok(next);
        }
        Ok(match et {
            EtherType::IPV4 => Next::Ipv4,
            EtherType::IPV6 => Next::Ipv6,
            _ => Next::Done,
        })
    }

    /// Counts an IP header against [`MAX_IP_LAYERS`].
    fn enter_ip(&mut self, layer: Layer) -> Result<()> {
        self.ip_layers += 1;
        if self.ip_layers > MAX_IP_LAYERS {
            return Err(Error::unsupported(layer, "too_many_ip_layers"));
        }
        Ok(())
    }

    fn ipv4(&mut self) -> Result<Next> {
        self.enter_ip(Layer::Ipv4)?;
        let p = ipv4::Packet::new_checked(self.cur())?;
        let r = ipv4::Repr::parse(&p);
        self.out.ip = Some(r.to_ip());
        self.out.transport = Transport::None;
        if !r.checksum_ok && self.deferred.is_none() {
            self.deferred = Some(Error::invalid(Layer::Ipv4, "bad_checksum"));
        }
        self.limit(usize::from(r.total_len));
        self.advance(r.header_len);
        self.in_fragment = r.fragment.is_some();
        if r.fragment.is_some_and(|f| f.offset_bytes != 0) {
            return Ok(Next::Done);
        }
        Ok(after_ip(r.protocol))
    }

    fn ipv6(&mut self) -> Result<Next> {
        self.enter_ip(Layer::Ipv6)?;
        let p = ipv6::Packet::new_checked(self.cur())?;
        let r = ipv6::Repr::parse(&p)?;
        self.out.ip = Some(r.to_ip());
        self.out.transport = Transport::None;
        if let Some((start, end)) = r.srh {
            if !self.srh_seen {
                self.srh_seen = true;
                let bytes = self.cur().get(start..end).unwrap_or_default();
                let s = srh::Repr::parse(&srh::Packet::new_checked(bytes)?);
                self.out.srv6_segments = s.segments;
            }
        }
        if r.payload_len != 0 {
            self.limit(ipv6::HEADER_LEN + usize::from(r.payload_len));
        }
        self.advance(r.header_len);
        self.in_fragment = r.fragment.is_some();
        if r.is_later_fragment() {
            return Ok(Next::Done);
        }
        Ok(after_ip(r.upper))
    }

    fn udp(&mut self) -> Result<Next> {
        let p = udp::Packet::new_checked(self.cur())?;
        if !self.in_fragment {
            p.check_ip_len(self.claimed)?;
        }
        let r = udp::Repr::parse(&p);
        self.out.transport = Transport::Udp {
            src: r.src_port,
            dst: r.dst_port,
        };
        self.limit(usize::from(r.len));
        self.advance(udp::HEADER_LEN);
        let on_port = r.src_port == gtpu::PORT || r.dst_port == gtpu::PORT;
        if on_port && gtpu::Packet::is_gtpu(self.cur()) {
            return Ok(Next::Gtpu);
        }
        Ok(Next::Done)
    }

    fn tcp(&mut self) -> Result<Next> {
        let r = tcp::Repr::parse(&tcp::Packet::new_checked(self.cur())?);
        self.out.transport = Transport::Tcp {
            src: r.src_port,
            dst: r.dst_port,
            flags: r.flags,
        };
        self.advance(r.header_len);
        Ok(Next::Done)
    }

    fn sctp(&mut self) -> Result<Next> {
        let r = sctp::Repr::parse(&sctp::Packet::new_checked(self.cur())?)?;
        self.out.transport = Transport::Sctp {
            src: r.src_port,
            dst: r.dst_port,
            chunks: r.chunks,
            data_ppid: r.data_ppid,
        };
        self.advance(sctp::HEADER_LEN);
        Ok(Next::Done)
    }

    fn icmp(&mut self, v6: bool) -> Result<Next> {
        let p = if v6 {
            icmp::Packet::new_checked_v6(self.cur())?
        } else {
            icmp::Packet::new_checked(self.cur())?
        };
        let r = icmp::Repr::parse(&p);
        self.out.transport = if v6 {
            Transport::Icmpv6 {
                ty: r.ty,
                code: r.code,
            }
        } else {
            Transport::Icmp {
                ty: r.ty,
                code: r.code,
            }
        };
        self.advance(icmp::HEADER_LEN);
        Ok(Next::Done)
    }

    fn gtpu(&mut self) -> Result<Next> {
        if self.tunnels >= MAX_TUNNEL_DEPTH {
            return Err(Error::unsupported(Layer::Gtpu, "tunnel_too_deep"));
        }
        let p = gtpu::Packet::new_checked(self.cur())?;
        let r = gtpu::Repr::parse(&p)?;
        self.tunnels += 1;
        match (&mut self.out.tunnel, self.out.ip, self.out.transport) {
            (Some(t), _, _) => t.depth = self.tunnels as u8,
            (None, Some(ip), Transport::Udp { src, dst }) => {
                self.out.tunnel = Some(Tunnel {
                    outer_src: ip.src,
                    outer_dst: ip.dst,
                    src_port: src,
                    dst_port: dst,
                    teid: r.teid,
                    msg_type: r.msg_type.0,
                    seq: r.seq,
                    qfi: r.qfi,
                    pdu_type: r.pdu_type,
                    depth: 1,
                });
            }
            // Unreachable: GTP-U is only entered from UDP over IP.
            (None, _, _) => return Err(Error::invalid(Layer::Gtpu, "no_outer_udp")),
        }
        self.limit(r.total_len);
        self.advance(r.header_len);
        if r.msg_type != gtpu::MsgType::G_PDU {
            return Ok(Next::Done);
        }
        match self.cur().first().map(|b| b >> 4) {
            None => Err(Error::truncated(Layer::Gtpu, "payload_truncated", 1, 0)),
            Some(4) => Ok(Next::Ipv4),
            Some(6) => Ok(Next::Ipv6),
            Some(_) => Err(Error::unsupported(Layer::Gtpu, "non_ip_pdu")),
        }
    }
}

/// Maps an IP protocol number to the next layer.
fn after_ip(protocol: u8) -> Next {
    match protocol {
        proto::TCP => Next::Tcp,
        proto::UDP => Next::Udp,
        proto::SCTP => Next::Sctp,
        proto::ICMP => Next::Icmp,
        proto::ICMPV6 => Next::Icmpv6,
        proto::IPV4 => Next::Ipv4,
        proto::IPV6 => Next::Ipv6,
        _ => Next::Done,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::super::testdata as td;
    use super::super::{Fragment, Ip, Qfi, Teid};
    use super::*;

    fn run(link: LinkType, data: &[u8]) -> (Result<()>, Decoded) {
        let mut d = Decoded::default();
        let r = decode(link, data, &mut d);
        (r, d)
    }

    fn eth(data: &[u8]) -> (Result<()>, Decoded) {
        run(LinkType::ETHERNET, data)
    }

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse::<Ipv4Addr>().unwrap())
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
    }

    fn udp(src: u16, dst: u16) -> Transport {
        Transport::Udp { src, dst }
    }

    // ---- GTP-U ----

    #[test]
    fn n3_gtpu_with_pdu_session_container() {
        let (r, d) = eth(td::N3_GTPU_PDU_SESSION);
        assert_eq!(r, Ok(()));
        assert_eq!(d.l2.dst.unwrap().to_string(), "40:de:ad:d9:ed:d9");
        assert_eq!(d.l2.src.unwrap().to_string(), "52:54:00:e2:36:87");
        assert_eq!(d.ethertype, 0x0800);
        assert_eq!(
            d.tunnel,
            Some(Tunnel {
                outer_src: v4("172.16.12.2"),
                outer_dst: v4("10.200.11.70"),
                src_port: 2152,
                dst_port: 2152,
                teid: Teid(0x4002_0125),
                msg_type: 255,
                seq: None,
                qfi: Some(Qfi(5)),
                pdu_type: Some(1),
                depth: 1,
            })
        );
        assert_eq!(
            d.ip,
            Some(Ip {
                src: v4("10.0.255.2"),
                dst: v4("172.16.11.2"),
                proto: 17,
                ttl: 64,
                total_len_bytes: 878,
                fragment: None,
            })
        );
        assert_eq!(d.transport, udp(2002, 2003));
        // 14 + 20 + 8 + GTP-U 16 + 20 + 8; inner UDP length 858.
        assert_eq!((d.payload_offset, d.payload_len), (86, 850));
    }

    #[test]
    fn decoded_is_reset_between_frames() {
        let mut d = Decoded::default();
        decode(LinkType::ETHERNET, td::N3_GTPU_PDU_SESSION, &mut d).unwrap();
        decode(LinkType::ETHERNET, td::ZEEK_LLDP, &mut d).unwrap();
        assert_eq!((d.tunnel, d.ip, d.transport), (None, None, Transport::None));
        decode(LinkType::ETHERNET, td::N3_GTPU_PDU_SESSION_2, &mut d).unwrap();
        let t = d.tunnel.unwrap();
        assert_eq!(
            (t.teid, t.qfi, t.seq),
            (Teid(0x4002_0125), Some(Qfi(5)), None)
        );
    }

    #[test]
    fn gtpu_extension_c0_inside_an_outer_first_fragment() {
        // The outer IPv4 packet is a first fragment (MF): its UDP length (1524) exceeds the
        // fragment, which is not an error; the inner IPv4/TCP header is complete.
        let (r, d) = eth(td::ZEEK_GTP_EXT_C0);
        assert_eq!(r, Ok(()));
        let t = d.tunnel.unwrap();
        assert_eq!(
            (t.teid, t.seq, t.qfi, t.msg_type),
            (Teid(0x0010_0657), Some(5), None, 255)
        );
        assert_eq!(
            (t.outer_src, t.outer_dst),
            (v4("10.155.148.149"), v4("10.155.148.157"))
        );
        let ip = d.ip.unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.proto, ip.ttl),
            (v4("10.155.182.202"), v4("10.155.186.57"), 6, 63)
        );
        assert_eq!(ip.fragment, None);
        assert_eq!(
            d.transport,
            Transport::Tcp {
                src: 41511,
                dst: 6005,
                flags: 0x10
            }
        );
        // TCP header 32 bytes at 14+20+8+16+20 = 78; the frame ends at 1514.
        assert_eq!((d.payload_offset, d.payload_len), (110, 1404));
    }

    #[test]
    fn non_first_fragment_stops_after_ip() {
        let (r, d) = eth(td::ZEEK_GTP_EXT_C0_FRAG2);
        assert_eq!(r, Ok(()));
        let ip = d.ip.unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                offset_bytes: 1480,
                more: false,
                id: 0x208c
            })
        );
        assert_eq!((d.transport, d.tunnel), (Transport::None, None));
        assert_eq!((d.payload_offset, d.payload_len), (34, 44));
    }

    #[test]
    fn gtpu_over_ipv6_in_a_vlan() {
        let (r, d) = eth(td::ARKIME_GTP6_VLAN);
        assert_eq!(r, Ok(()));
        assert_eq!(d.vlans.as_slice(), &[2048]); // TCI 0x0800
        assert_eq!(d.ethertype, 0x86dd);
        let t = d.tunnel.unwrap();
        assert_eq!(t.outer_src, v6("1111:2222:3333:4444:5555:6666:0:1"));
        assert_eq!(t.outer_dst, v6("1111:2222:3333:4444:5555:6666::"));
        assert_eq!(
            (t.src_port, t.dst_port, t.teid),
            (62301, 2152, Teid(0x022b_e642))
        );
        assert_eq!((t.seq, t.qfi, t.depth), (None, None, 1));
        let ip = d.ip.unwrap();
        assert_eq!(ip.src, v6("1111:2222:3333:4444:5555:7777::"));
        assert_eq!(ip.dst, v6("1111:2222:3333:4444:5555:8888:a8ac:7bc0"));
        assert_eq!((ip.proto, ip.ttl, ip.total_len_bytes), (17, 242, 380));
        assert_eq!(d.transport, udp(53, 57030));
        assert_eq!((d.payload_offset, d.payload_len), (122, 332));
    }

    #[test]
    fn inner_udp_2152_that_is_not_gtp_stays_udp() {
        let (r, d) = eth(td::ZEEK_GTP4_UDP_2152_INSIDE);
        assert_eq!(r, Ok(()));
        let t = d.tunnel.unwrap();
        assert_eq!(
            (t.outer_src, t.outer_dst),
            (v4("84.249.173.213"), v4("84.249.173.85"))
        );
        assert_eq!(
            (t.src_port, t.dst_port, t.teid, t.depth),
            (2158, 2152, Teid(0x3318), 1)
        );
        let ip = d.ip.unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.ttl),
            (v4("74.125.216.149"), v4("10.131.138.69"), 51)
        );
        assert_eq!(d.transport, udp(2152, 2152));
        assert_eq!(d.payload_len, 910 - 8);
    }

    #[test]
    fn dns_on_udp_2152_is_plain_udp() {
        let (r, d) = eth(td::ZEEK_GTP3_FALSE_GTP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.vlans.as_slice(), &[454]);
        assert_eq!(d.tunnel, None);
        assert_eq!(d.transport, udp(2152, 53));
        assert_eq!(d.ip.unwrap().dst, v4("195.178.38.3"));
    }

    #[test]
    fn gtpu_signalling_records_the_tunnel_and_stops() {
        let (r, d) = eth(td::ZEEK_GTP10_ERROR_IND);
        assert_eq!(r, Ok(()));
        let t = d.tunnel.unwrap();
        assert_eq!((t.msg_type, t.teid, t.seq), (26, Teid(0), Some(0)));
        assert_eq!(d.transport, udp(2152, 2152));
        assert_eq!(d.ip.unwrap().src, v4("247.56.43.90"));
        // The error indication's IEs (16 - 4 octets) are the payload.
        assert_eq!((d.payload_offset, d.payload_len), (54, 12));
        let (r, d) = eth(td::ZEEK_GTP10_ECHO_REQ);
        assert_eq!(r, Ok(()));
        assert_eq!(
            d.tunnel.map(|t| (t.msg_type, t.seq)),
            Some((1, Some(0xfe69)))
        );
    }

    #[test]
    fn g_pdu_with_a_non_ip_payload_is_unsupported() {
        let (r, d) = eth(td::ZEEK_GTP9_NON_IP_PDU);
        assert_eq!(r, Err(Error::unsupported(Layer::Gtpu, "non_ip_pdu")));
        // What was decoded before the error stays: the tunnel and the outer headers.
        assert_eq!(d.tunnel.map(|t| t.teid), Some(Teid(0x9813_014c)));
        assert_eq!(d.ip.unwrap().src, v4("173.86.159.28"));
        assert_eq!(d.transport, udp(2152, 2152));
    }

    // ---- VLAN, MPLS ----

    #[test]
    fn qinq_arp_is_not_an_error() {
        let (r, d) = eth(td::TCPDUMP_QINQ_ARP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.vlans.as_slice(), &[200, 2001]);
        assert_eq!(d.ethertype, 0x0806);
        assert_eq!(d.ip, None);
        assert_eq!((d.payload_offset, d.payload_len), (22, 42));
    }

    #[test]
    fn three_vlan_tags() {
        let (r, d) = eth(td::ZEEK_VLAN_QINQINQ);
        assert_eq!(r, Ok(()));
        assert_eq!(d.vlans.as_slice(), &[30, 20, 10]);
        assert_eq!(d.ip.unwrap().src, v4("141.142.228.5"));
        assert_eq!(
            d.transport,
            Transport::Tcp {
                src: 59856,
                dst: 80,
                flags: 0x02
            }
        );
    }

    #[test]
    fn mpls_over_two_vlans() {
        let (r, d) = eth(td::PCPP_MPLS_VLAN_IPV4);
        assert_eq!(r, Ok(()));
        assert_eq!(d.vlans.as_slice(), &[215, 11]);
        assert_eq!(d.mpls.as_slice(), &[16000]);
        assert_eq!(d.ethertype, 0x8847);
        let ip = d.ip.unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.total_len_bytes),
            (v4("2.3.4.6"), v4("12.13.14.15"), 335)
        );
        assert_eq!(
            d.transport,
            Transport::Tcp {
                src: 20636,
                dst: 80,
                flags: 0x18
            }
        );
    }

    #[test]
    fn mpls_pseudowire_is_unsupported() {
        let (r, d) = eth(td::PCPP_MPLS_PW_ETHERNET);
        assert_eq!(r, Err(Error::unsupported(Layer::Mpls, "non_ip_payload")));
        assert_eq!(d.mpls.as_slice(), &[18, 16]);
    }

    #[test]
    fn mpls_label_heapoverflow_reproducer() {
        let (r, d) = run(LinkType(0x3000_0001), td::TCPDUMP_MPLS_LABEL_HEAPOVERFLOW);
        assert_eq!(
            r,
            Err(Error::truncated(Layer::Mpls, "payload_truncated", 1, 0))
        );
        assert_eq!(d.mpls.as_slice(), &[0x30303, 0x3030b]);
        assert_eq!(d.ethertype, 0x8848);
    }

    // ---- IPv6, SRH ----

    #[test]
    fn srv6_segment_list_and_inner_ipv6() {
        let (r, d) = eth(td::TCPDUMP_SRH);
        assert_eq!(r, Ok(()));
        let segs: Vec<Ipv6Addr> = d
            .srv6_segments
            .as_slice()
            .iter()
            .map(|&s| s.into())
            .collect();
        assert_eq!(
            segs,
            [
                "a:b:c:3::d6".parse::<Ipv6Addr>().unwrap(),
                "a:b:c:2::f1:0".parse::<Ipv6Addr>().unwrap()
            ]
        );
        let ip = d.ip.unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.proto),
            (v6("a:b:c:12::1"), v6("b2::2"), 58)
        );
        assert_eq!(d.transport, Transport::Icmpv6 { ty: 128, code: 0 });
    }

    #[test]
    fn hop_by_hop_and_routing_type_0() {
        let (r, d) = eth(td::ZEEK_IPV6_HBH_ROUTING0);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().proto, 17);
        assert_eq!(d.transport, udp(53, 53));
        assert!(d.srv6_segments.as_slice().is_empty());
        assert_eq!((d.payload_offset, d.payload_len), (110, 3));
    }

    #[test]
    fn ipv6hdr_heapoverflow_reproducer() {
        let (r, d) = run(LinkType(0x3000_00e5), td::TCPDUMP_IPV6HDR_HEAPOVERFLOW);
        assert_eq!(
            r,
            Err(Error::invalid(Layer::Ipv6Ext, "hop_by_hop_not_first"))
        );
        assert_eq!((d.ethertype, d.ip), (0x86dd, None));
    }

    // ---- IPv4 ----

    #[test]
    fn ipv4_invalid_hdr_length() {
        let (r, d) = eth(td::TCPDUMP_IPV4_INVALID_HDR_LENGTH);
        assert_eq!(r, Err(Error::invalid(Layer::Ipv4, "bad_ihl")));
        assert_eq!(d.ip, None);
    }

    #[test]
    fn ipv4_total_length_beyond_capture_is_sliced_not_an_error() {
        let (r, d) = eth(td::TCPDUMP_IPV4_INVALID_TOTAL_LENGTH);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().total_len_bytes, 85);
        assert_eq!(d.transport, udp(39095, 53));
        assert_eq!(d.payload_len, 56);
    }

    #[test]
    fn bad_ipv4_checksum_is_reported_after_a_full_decode() {
        let (r, d) = eth(td::ZEEK_MIXED_VLAN_MPLS_BAD_CKSUM);
        assert_eq!(r, Err(Error::invalid(Layer::Ipv4, "bad_checksum")));
        assert_eq!(d.ip.unwrap().src, v4("141.42.64.125"));
        assert_eq!(
            d.transport,
            Transport::Tcp {
                src: 56730,
                dst: 80,
                flags: 0x02
            }
        );
        // A zero checksum is "offloaded", not bad.
        let (r, d) = eth(td::SURICATA_SNMPV3_CKSUM_ZERO);
        assert_eq!(r, Ok(()));
        assert_eq!(d.transport, udp(60376, 161));
    }

    #[test]
    fn truncated_l4_headers_are_errors() {
        // Both reproducers also have bad IPv4 checksums: the L4 error is reported.
        let (r, d) = run(LinkType(0x3000_0001), td::TCPDUMP_UDP_LENGTH_HEAPOVERFLOW);
        assert_eq!(r, Err(Error::truncated(Layer::Udp, "truncated", 8, 4)));
        assert_eq!(d.ip.unwrap().proto, 17);
        let (r, _) = run(LinkType(0x3000_0001), td::TCPDUMP_TCP_HEADER_HEAPOVERFLOW);
        assert_eq!(r, Err(Error::truncated(Layer::Tcp, "truncated", 20, 12)));
        let (r, _) = eth(td::ZEEK_TRUNCATED_TCP_HEADER);
        assert_eq!(
            r,
            Err(Error::truncated(Layer::Tcp, "options_truncated", 40, 34))
        );
        // TCP options beyond the IP total length (Ethernet padding is not used).
        let (r, _) = eth(td::PCPP_TCP_MALFORMED);
        assert_eq!(
            r,
            Err(Error::truncated(Layer::Tcp, "options_truncated", 28, 20))
        );
    }

    #[test]
    fn udp_length_beyond_ip_payload() {
        let (r, d) = eth(td::TCPDUMP_IP_SNMP_LEFTSHIFT);
        assert_eq!(r, Err(Error::invalid(Layer::Udp, "bad_length")));
        assert_eq!(d.transport, Transport::None);
    }

    // ---- SCTP, ICMP ----

    #[test]
    fn sctp_data_chunk() {
        let (r, d) = eth(td::SURICATA_SCTP);
        assert_eq!(r, Ok(()));
        assert_eq!(
            d.transport,
            Transport::Sctp {
                src: 7,
                dst: 7,
                chunks: 1,
                data_ppid: Some(0)
            }
        );
        assert_eq!((d.payload_offset, d.payload_len), (46, 528));
    }

    #[test]
    fn sctp_ngap_over_sll() {
        let (r, d) = run(LinkType::LINUX_SLL, td::FREE5GC_SCTP_SACK_NGAP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ethertype, 0x0800);
        assert_eq!(
            d.transport,
            Transport::Sctp {
                src: 38412,
                dst: 9487,
                chunks: 2,
                data_ppid: Some(60)
            }
        );
        let (r, d) = eth(td::ARKIME_SCTP_INIT_ACK);
        assert_eq!(r, Ok(()));
        assert!(matches!(
            d.transport,
            Transport::Sctp {
                src: 80,
                dst: 32836,
                chunks: 1,
                data_ppid: None
            }
        ));
        let (r, d) = eth(td::ARKIME_SCTP_DATA);
        assert_eq!(r, Ok(()));
        assert!(matches!(
            d.transport,
            Transport::Sctp {
                chunks: 1,
                data_ppid: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn icmp_and_icmpv6_over_sll2() {
        let (r, d) = run(LinkType::LINUX_SLL2, td::ZEEK_SLL2_ICMP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.transport, Transport::Icmp { ty: 8, code: 0 });
        assert_eq!(d.ip.unwrap().src, v4("192.0.2.1"));
        let (r, d) = run(LinkType::LINUX_SLL2, td::ZEEK_SLL2_ICMPV6);
        assert_eq!(r, Ok(()));
        assert_eq!(d.transport, Transport::Icmpv6 { ty: 128, code: 0 });
        assert_eq!(d.ip.unwrap().src, v6("fe80::8c36:6ff:fe44:acaf"));
    }

    // ---- link types ----

    #[test]
    fn sll_and_sll2_frames() {
        let (r, d) = run(LinkType::LINUX_SLL2, td::PCPP_SLL2_TCP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.l2.src.unwrap().to_string(), "d2:cf:c2:50:15:ea");
        assert_eq!(d.ip.unwrap().src, v4("7.249.151.114"));
        assert!(matches!(
            d.transport,
            Transport::Tcp {
                src: 57292,
                dst: 443,
                flags: 0x10
            }
        ));
        // Sliced: caplen 128 of 1296; the TCP header is complete.
        let (r, d) = run(LinkType::LINUX_SLL, td::PCPP_SLL_IPV6_TCP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().src, v6("2404:6800:8004::68"));
        assert_eq!(d.ip.unwrap().total_len_bytes, 1280);
        assert!(matches!(
            d.transport,
            Transport::Tcp {
                src: 80,
                dst: 50243,
                flags: 0x10
            }
        ));
        let (r, d) = run(LinkType::LINUX_SLL, td::ZEEK_SLL_ARP);
        assert_eq!(r, Ok(()));
        assert_eq!((d.ethertype, d.ip), (0x0806, None));
        assert_eq!(d.l2.src.unwrap().to_string(), "cc:2d:e0:26:19:99");
    }

    #[test]
    fn null_loopback_frames() {
        let (r, d) = run(LinkType::NULL, td::PCPP_NULL_IPV6_TCP);
        assert_eq!(r, Ok(()));
        assert_eq!((d.ethertype, d.ip.unwrap().src), (0x86dd, v6("::1")));
        assert!(matches!(
            d.transport,
            Transport::Tcp {
                src: 49888,
                dst: 81,
                flags: 0x18
            }
        ));
        let (r, d) = run(LinkType::NULL, td::PCPP_NULL_IPV4_UDP);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().dst, v4("172.16.1.255"));
        assert_eq!(d.transport, udp(55369, 8612));
        let (r, d) = run(LinkType::NULL, td::PCPP_NULL_ETHERTYPE);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().src, v4("10.0.0.138"));
        assert_eq!(d.transport, udp(53, 58125));
        assert_eq!((d.l2.src, d.l2.dst), (None, None));
    }

    #[test]
    fn raw_ip_link_types() {
        for link in [
            LinkType::RAW,
            LinkType::RAW_BSD12,
            LinkType::RAW_BSD14,
            LinkType::IPV4,
        ] {
            let (r, d) = run(link, td::TCPDUMP_RAW_IPV4);
            assert_eq!(r, Ok(()), "{link}");
            assert_eq!(
                (d.ip.unwrap().src, d.ip.unwrap().dst),
                (v4("192.168.1.100"), v4("9.9.9.9"))
            );
            assert_eq!(d.transport, udp(12345, 53));
            assert_eq!(d.ethertype, 0x0800);
        }
        let (r, d) = run(LinkType::IPV6, td::TCPDUMP_LINKTYPE_IPV6);
        assert_eq!(r, Ok(()));
        assert_eq!(d.ip.unwrap().dst, v6("2620:fe::9"));
        assert_eq!(d.transport, udp(12345, 53));
        let (r, _) = run(LinkType::IPV4, td::TCPDUMP_LINKTYPE_IPV4_INVALID);
        assert_eq!(r, Err(Error::invalid(Layer::Ipv4, "bad_version")));
    }

    #[test]
    fn lldp_and_cdp_are_not_errors() {
        let (r, d) = eth(td::ZEEK_LLDP);
        assert_eq!(r, Ok(()));
        assert_eq!(
            (d.ethertype, d.payload_offset, d.payload_len),
            (0x88cc, 14, 104)
        );
        let (r, d) = eth(td::ZEEK_CDP);
        assert_eq!(r, Ok(()));
        assert_eq!((d.ethertype, d.ip), (0, None));
        assert_eq!(d.l2.dst.unwrap().to_string(), "01:00:0c:cc:cc:cc");
    }

    #[test]
    fn unsupported_link_type() {
        let (r, _) = run(LinkType(9), td::ZEEK_LLDP);
        assert_eq!(r, Err(Error::unsupported(Layer::Link, "link_type")));
    }

    // ---- never panic ----

    /// Every link type decode() handles, plus one it does not.
    const LINKS: [LinkType; 11] = [
        LinkType::NULL,
        LinkType::ETHERNET,
        LinkType::RAW_BSD12,
        LinkType::RAW_BSD14,
        LinkType::RAW,
        LinkType::LOOP,
        LinkType::LINUX_SLL,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::LINUX_SLL2,
        LinkType(147),
    ];

    /// Every Ethernet fixture frame, with its link type.
    fn fixtures() -> Vec<(LinkType, &'static [u8])> {
        let mut v: Vec<(LinkType, &'static [u8])> = [
            td::N3_GTPU_PDU_SESSION,
            td::ZEEK_GTP_EXT_C0,
            td::ARKIME_GTP6_VLAN,
            td::ZEEK_GTP4_UDP_2152_INSIDE,
            td::ZEEK_GTP10_ERROR_IND,
            td::PCPP_MPLS_VLAN_IPV4,
            td::TCPDUMP_QINQ_ARP,
            td::TCPDUMP_SRH,
            td::ZEEK_IPV6_HBH_ROUTING0,
            td::SURICATA_SCTP,
            td::ARKIME_SCTP_DATA,
        ]
        .into_iter()
        .map(|f| (LinkType::ETHERNET, f))
        .collect();
        v.push((LinkType::LINUX_SLL, td::FREE5GC_SCTP_SACK_NGAP));
        v.push((LinkType::LINUX_SLL2, td::ZEEK_SLL2_ICMPV6));
        v.push((LinkType::NULL, td::PCPP_NULL_IPV6_TCP));
        v.push((LinkType::IPV6, td::TCPDUMP_LINKTYPE_IPV6));
        v
    }

    #[test]
    fn truncating_valid_frames_at_every_length_never_panics() {
        let mut d = Decoded::default();
        for (link, frame) in fixtures() {
            for n in 0..=frame.len() {
                let r = decode(link, &frame[..n], &mut d);
                // A cut inside the headers is an error; the payload_* fields stay in bounds.
                if r.is_ok() {
                    assert!(d.payload_offset + d.payload_len <= n, "{link} cut at {n}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(
            link in proptest::sample::select(LINKS.to_vec()),
            data in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let mut d = Decoded::default();
            if decode(link, &data, &mut d).is_ok() {
                prop_assert!(d.payload_offset + d.payload_len <= data.len());
            }
        }

        #[test]
        fn mutated_fixture_bytes_never_panic(
            which in 0usize..15,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let (link, frame) = fixtures()[which];
            let mut data = frame.to_vec();
            for (i, b) in flips {
                let i = i.index(data.len());
                data[i] = b;
            }
            let mut d = Decoded::default();
            if decode(link, &data, &mut d).is_ok() {
                prop_assert!(d.payload_offset + d.payload_len <= data.len());
            }
        }
    }
}
