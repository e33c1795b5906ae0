//! JSON lines: one object per flow (`"type": "flow"`), then one summary object.
//! The fields are documented in the README ("JSON lines output").

use super::time::rfc3339;
use crate::flow::{EndReason, Endpoints};
use crate::pipeline::FlowResult;
use crate::policy::verdict::{Hop, Verdict};
use serde::Serialize;
use std::net::Ipv6Addr;

/// Packet or byte counts per direction.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PerDirection {
    /// In the direction of the flow's first packet.
    pub fwd: u64,
    /// The reverse direction.
    pub rev: u64,
}

/// The outer GTP-U tunnel of a flow, as its first packet showed it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TunnelRecord {
    /// Outer source (the sending gNB or UPF).
    pub src: String,
    /// Outer destination.
    pub dst: String,
    /// Tunnel endpoint identifier.
    pub teid: u32,
    /// QoS flow identifier.
    pub qfi: Option<u8>,
    /// PDU type of the first packet's PDU Session Container: `DL` or `UL`.
    pub pdu_type: Option<String>,
}

/// One flow as written to JSON lines.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FlowRecord {
    /// Always `flow`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Flow number, in order of first packet.
    pub id: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Input file of the first packet.
    pub file: String,
    /// Interface index of the first packet within that file (see the summary's `files`).
    pub iface: u32,
    /// Frame number of the first packet.
    pub first_frame: u64,
    /// Time of the first packet (RFC 3339, UTC).
    pub first_ts: String,
    /// Time of the last packet.
    pub last_ts: String,
    /// Why the flow ended.
    pub end: EndReason,
    /// IP protocol number (absent for non-IP flows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<u8>,
    /// Inner source address of the first packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Inner destination address of the first packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// Source port of the first packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination port of the first packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// EtherType of a non-IP flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethertype: Option<u16>,
    /// The GTP-U tunnel, for tunnelled flows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelRecord>,
    /// MAC addresses on the flow's frames.
    pub macs: Vec<String>,
    /// VLAN ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlans: Vec<u16>,
    /// MPLS labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mpls: Vec<u32>,
    /// SRv6 segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub srv6_segments: Vec<String>,
    /// Packets per direction.
    pub packets: PerDirection,
    /// Wire bytes per direction.
    pub bytes: PerDirection,
    /// Packets of the flow with a malformed inner layer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub decode_errors: u64,
    /// Packets that were IP fragments.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fragments: u64,
    /// Every hop with its attribution and the rules it matched.
    pub hops: Vec<Hop>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FlowRecord {
    /// Builds the record of a judged flow; `file` names its input.
    pub fn new(r: &FlowResult, file: &str) -> Self {
        let f = &r.flow;
        let (proto, ethertype) = match f.key.inner {
            Endpoints::Ip { proto, .. } => (Some(proto), None),
            Endpoints::L2 { ethertype, .. } => (None, Some(ethertype)),
            Endpoints::Opaque => (None, None),
        };
        let has_ports = f.first.src_port != 0 || f.first.dst_port != 0;
        FlowRecord {
            kind: "flow".into(),
            id: f.id,
            verdict: r.judgement.verdict,
            file: file.into(),
            iface: f.iface,
            first_frame: f.first_frame,
            first_ts: rfc3339(f.first_ts),
            last_ts: rfc3339(f.last_ts),
            end: r.end,
            proto,
            src: f.first.src.map(|a| a.to_string()),
            dst: f.first.dst.map(|a| a.to_string()),
            src_port: has_ports.then_some(f.first.src_port),
            dst_port: has_ports.then_some(f.first.dst_port),
            ethertype,
            tunnel: f.first.tunnel.map(|t| TunnelRecord {
                src: t.outer_src.to_string(),
                dst: t.outer_dst.to_string(),
                teid: t.teid.0,
                qfi: t.qfi.map(|q| q.0),
                pdu_type: t
                    .pdu_type
                    .map(|p| if p == 0 { "DL" } else { "UL" }.to_string()),
            }),
            macs: f.macs.as_slice().iter().map(|m| m.to_string()).collect(),
            vlans: f.vlans.as_slice().to_vec(),
            mpls: f.mpls.as_slice().to_vec(),
            srv6_segments: f
                .srv6
                .as_slice()
                .iter()
                .map(|&s| Ipv6Addr::from(s).to_string())
                .collect(),
            packets: PerDirection {
                fwd: f.packets[0],
                rev: f.packets[1],
            },
            bytes: PerDirection {
                fwd: f.bytes[0],
                rev: f.bytes[1],
            },
            decode_errors: f.decode_errors,
            fragments: f.fragments,
            hops: r.judgement.hops.clone(),
        }
    }
}
