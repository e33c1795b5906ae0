//! Flow keys: one key across tunnel layers.
//!
//! A GTP-U flow is keyed by its outer endpoints (gNB/UPF), TEID and QFI *and* its inner
//! 5-tuple, so two UEs behind the same tunnel pair, or two QoS flows of one UE, stay
//! apart. Endpoints are stored in canonical order (lower address first) so both
//! directions of a conversation share one key; [`Direction`] says which way a packet went.
//! Frames that carry no IP (ARP, LLDP, …) get an L2 key from their MACs and EtherType.

use crate::decode::{Decoded, Mac, Qfi, Teid};
use std::net::IpAddr;

/// The outer layer of a GTP-U flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TunnelKey {
    /// Lower outer endpoint address.
    pub a: IpAddr,
    /// Higher outer endpoint address.
    pub b: IpAddr,
    /// Tunnel endpoint identifier (direction-specific in GTP-U: uplink and downlink differ).
    pub teid: Teid,
    /// QoS flow identifier, when a PDU Session Container carried one.
    pub qfi: Option<Qfi>,
}

/// The innermost endpoints of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoints {
    /// An IP 5-tuple in canonical order (`(a, a_port) <= (b, b_port)`).
    Ip {
        /// Lower address.
        a: IpAddr,
        /// Higher address.
        b: IpAddr,
        /// Port of `a` (0 when the protocol has none).
        a_port: u16,
        /// Port of `b`.
        b_port: u16,
        /// IP protocol number.
        proto: u8,
    },
    /// A non-IP frame: canonical MAC pair and EtherType.
    L2 {
        /// Lower MAC.
        a: Mac,
        /// Higher MAC.
        b: Mac,
        /// EtherType (0 for 802.3 length frames such as CDP).
        ethertype: u16,
    },
    /// A tunnel whose inner packet could not be decoded.
    Opaque,
}

/// The key of a flow: optional tunnel plus inner endpoints. `Copy`, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// The GTP-U tunnel, for tunnelled traffic.
    pub tunnel: Option<TunnelKey>,
    /// The inner (or only) endpoints.
    pub inner: Endpoints,
}

/// Which way a packet went relative to the key's canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From `a` to `b`.
    AToB,
    /// From `b` to `a`.
    BToA,
}

impl FlowKey {
    /// Builds the key of a decoded frame and the packet's direction, or `None` when the
    /// frame has neither IP, tunnel nor both MACs (nothing to key a flow on).
    pub fn from_decoded(d: &Decoded) -> Option<(FlowKey, Direction)> {
        let tunnel = d.tunnel.map(|t| {
            let (a, b) = if t.outer_src <= t.outer_dst {
                (t.outer_src, t.outer_dst)
            } else {
                (t.outer_dst, t.outer_src)
            };
            (
                TunnelKey {
                    a,
                    b,
                    teid: t.teid,
                    qfi: t.qfi,
                },
                t.outer_src <= t.outer_dst,
            )
        });
        let (inner, fwd) = if let Some(ip) = d.ip {
            let (sp, dp) = d.transport.ports();
            if (ip.src, sp) <= (ip.dst, dp) {
                let e = Endpoints::Ip {
                    a: ip.src,
                    b: ip.dst,
                    a_port: sp,
                    b_port: dp,
                    proto: ip.proto,
                };
                (e, true)
            } else {
                let e = Endpoints::Ip {
                    a: ip.dst,
                    b: ip.src,
                    a_port: dp,
                    b_port: sp,
                    proto: ip.proto,
                };
                (e, false)
            }
        } else if let Some((_, fwd)) = tunnel {
            (Endpoints::Opaque, fwd)
        } else {
            let (src, dst) = (d.l2.src?, d.l2.dst.unwrap_or(Mac([0xff; 6])));
            let (a, b, fwd) = if src <= dst {
                (src, dst, true)
            } else {
                (dst, src, false)
            };
            (
                Endpoints::L2 {
                    a,
                    b,
                    ethertype: d.ethertype,
                },
                fwd,
            )
        };
        // With a tunnel, the outer order decides the direction: the inner order is the
        // same for uplink and downlink only by accident of addressing.
        let fwd = tunnel.map_or(fwd, |(_, f)| f);
        let dir = if fwd {
            Direction::AToB
        } else {
            Direction::BToA
        };
        Some((
            FlowKey {
                tunnel: tunnel.map(|(t, _)| t),
                inner,
            },
            dir,
        ))
    }
}
