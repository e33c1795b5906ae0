//! Verdicts with evidence: every hop a flow transits is attributed, matched against the
//! denylist, and the flow judged.
//!
//! A hop is anything the capture can attribute: the L2 neighbours (MACs on the wire), the
//! tunnel endpoints (gNB, UPF), SRv6 segments and the AS of each end. The rule:
//!
//! - **VIOLATION** when any hop matches a rule at or above the minimum confidence;
//! - **UNKNOWN** when no rule matched but some hop could not be attributed (a locally
//!   administered or unregistered MAC, an address no AS announces);
//! - **CLEAN** only when every hop is attributed and none matched.
//!
//! Matches below the minimum confidence are kept as warnings in the evidence. Group
//! addresses (multicast or broadcast MAC or IP destinations) are recorded but are not
//! equipment, so they neither attribute nor fail a flow.

use super::rule::{Category, Confidence, Denylist, RuleId, RuleKind};
use crate::decode::Mac;
use crate::flow::{Endpoints, Flow};
use crate::intel::{Intel, MacInfo, Registry};
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// A flow's verdict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Every hop attributed, none untrusted.
    Clean,
    /// Some hop could not be attributed, none matched a rule.
    Unknown,
    /// Some hop matched a denylist rule.
    Violation,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Clean => "CLEAN",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Violation => "VIOLATION",
        })
    }
}

/// What a hop is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum HopKind {
    /// A link-layer neighbour: a MAC address on the flow's frames at the capture point.
    L2Neighbour,
    /// A GTP-U tunnel endpoint (gNB or UPF) by its outer IP address.
    TunnelEndpoint,
    /// An SRv6 segment the packet is steered through.
    Srv6Segment,
    /// An end of the (inner) conversation, judged by its origin AS.
    Endpoint,
}

impl fmt::Display for HopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HopKind::L2Neighbour => "L2 neighbour",
            HopKind::TunnelEndpoint => "tunnel endpoint",
            HopKind::Srv6Segment => "SRv6 segment",
            HopKind::Endpoint => "endpoint",
        })
    }
}

/// Who a hop belongs to, as far as the tables tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attribution {
    /// An address originated by an AS.
    As {
        /// Origin AS number.
        asn: u32,
        /// AS organisation.
        org: String,
        /// The matching range, `first-last`.
        range: String,
    },
    /// A MAC registered to an organisation.
    Vendor {
        /// IEEE registry.
        registry: Registry,
        /// Prefix length of the assignment.
        prefix_bits: u8,
        /// Registrant.
        org: String,
    },
    /// A group (multicast/broadcast) address: not a device.
    Group,
    /// Nothing attributes this hop.
    Unattributed {
        /// Why, e.g. "private address (RFC 1918)".
        reason: String,
    },
}

/// A denylist rule that matched a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Evidence {
    /// Entity the rule names.
    pub entity: String,
    /// Clean Path category.
    pub category: Category,
    /// Match confidence.
    pub confidence: Confidence,
    /// What the rule matched on.
    pub rule_kind: RuleKind,
    /// The rule's value.
    pub rule_value: String,
    /// Where the fact comes from.
    pub source: String,
    /// When the listing took effect.
    pub date: String,
    /// `file:line` of the rule.
    pub rule_at: String,
    /// Whether this match counts towards VIOLATION (confidence at or above the minimum).
    pub counts: bool,
}

/// One hop of a flow, with its attribution and matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Hop {
    /// What the hop is.
    pub kind: HopKind,
    /// The hop's value (MAC, IP address).
    pub value: String,
    /// Who it belongs to.
    pub attribution: Attribution,
    /// Rules it matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<Evidence>,
}

impl Hop {
    /// Reports whether a counted rule matched.
    pub fn is_violation(&self) -> bool {
        self.matches.iter().any(|m| m.counts)
    }
    /// Reports whether the hop is unattributed and matched no counted rule.
    pub fn is_unattributed(&self) -> bool {
        matches!(self.attribution, Attribution::Unattributed { .. }) && !self.is_violation()
    }
}

/// A verdict and the hops behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Every hop, in order: L2 neighbours, tunnel endpoints, SRv6 segments, endpoints.
    pub hops: Vec<Hop>,
}

/// The verdict engine: tables, rules and the minimum confidence that fails a flow.
#[derive(Debug)]
pub struct Judge<'a> {
    intel: &'a Intel,
    rules: &'a Denylist,
    min_confidence: Confidence,
}

impl<'a> Judge<'a> {
    /// Creates a judge.
    pub fn new(intel: &'a Intel, rules: &'a Denylist, min_confidence: Confidence) -> Self {
        Self {
            intel,
            rules,
            min_confidence,
        }
    }

    /// Judges one flow.
    pub fn judge(&self, flow: &Flow) -> Judgement {
        let mut hops = Vec::new();
        for &mac in flow.macs.as_slice() {
            hops.push(self.mac_hop(mac));
        }
        if let Some(t) = flow.key.tunnel {
            hops.push(self.ip_hop(HopKind::TunnelEndpoint, t.a));
            hops.push(self.ip_hop(HopKind::TunnelEndpoint, t.b));
        }
        for &s in flow.srv6.as_slice() {
            hops.push(self.ip_hop(HopKind::Srv6Segment, IpAddr::V6(Ipv6Addr::from(s))));
        }
        if let Endpoints::Ip { a, b, .. } = flow.key.inner {
            hops.push(self.ip_hop(HopKind::Endpoint, a));
            if b != a {
                hops.push(self.ip_hop(HopKind::Endpoint, b));
            }
        }
        let verdict = if hops.iter().any(Hop::is_violation) {
            Verdict::Violation
        } else if hops.is_empty() || hops.iter().any(Hop::is_unattributed) {
            Verdict::Unknown
        } else {
            Verdict::Clean
        };
        Judgement { verdict, hops }
    }

    fn evidence(&self, ids: &[RuleId]) -> Vec<Evidence> {
        let mut out: Vec<Evidence> = ids
            .iter()
            .map(|&id| {
                let r = self.rules.rule(id);
                Evidence {
                    entity: r.entity.clone(),
                    category: r.category,
                    confidence: r.confidence,
                    rule_kind: r.kind,
                    rule_value: r.value.clone(),
                    source: r.source.clone(),
                    date: r.date.clone(),
                    rule_at: format!("{}:{}", r.file, r.line),
                    counts: r.confidence >= self.min_confidence,
                }
            })
            .collect();
        out.dedup();
        out
    }

    /// Attributes and matches one MAC address.
    pub fn mac_hop(&self, mac: Mac) -> Hop {
        let mut ids = Vec::new();
        let attribution = match self.intel.oui.lookup(mac) {
            MacInfo::Group => Attribution::Group,
            MacInfo::Local => {
                self.rules.match_mac(mac, None, &mut ids);
                Attribution::Unattributed {
                    reason: "locally administered MAC (in no IEEE registry)".into(),
                }
            }
            MacInfo::Unregistered => {
                self.rules.match_mac(mac, None, &mut ids);
                Attribution::Unattributed {
                    reason: "OUI not in the IEEE registries".into(),
                }
            }
            MacInfo::Registered {
                registry,
                prefix_bits,
                org,
            } => {
                self.rules.match_mac(mac, Some(org), &mut ids);
                Attribution::Vendor {
                    registry,
                    prefix_bits,
                    org: org.to_string(),
                }
            }
        };
        Hop {
            kind: HopKind::L2Neighbour,
            value: mac.to_string(),
            attribution,
            matches: self.evidence(&ids),
        }
    }

    /// Attributes and matches one IP address.
    pub fn ip_hop(&self, kind: HopKind, ip: IpAddr) -> Hop {
        let mut ids = Vec::new();
        self.rules.match_ip(ip, &mut ids);
        let attribution = if ip.is_multicast() || is_broadcast(ip) {
            Attribution::Group
        } else if let Some(m) = self.intel.asn.lookup(ip) {
            self.rules.match_as(m.asn, m.org, &mut ids);
            Attribution::As {
                asn: m.asn.0,
                org: m.org.to_string(),
                range: format!("{}-{}", m.first, m.last),
            }
        } else {
            Attribution::Unattributed {
                reason: no_as_reason(ip).into(),
            }
        };
        Hop {
            kind,
            value: ip.to_string(),
            attribution,
            matches: self.evidence(&ids),
        }
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

/// Explains why an address has no origin AS, naming the special-purpose block it is in.
pub fn no_as_reason(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_private() {
                "private address (RFC 1918), no origin AS"
            } else if v4.is_loopback() {
                "loopback address, no origin AS"
            } else if v4.is_link_local() {
                "link-local address, no origin AS"
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                "shared address space (RFC 6598, CGNAT), no origin AS"
            } else if v4.is_documentation() {
                "documentation address (RFC 5737), no origin AS"
            } else if v4.is_unspecified() {
                "unspecified address, no origin AS"
            } else {
                "no AS announces this address in the loaded table"
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                "loopback address, no origin AS"
            } else if v6.is_unspecified() {
                "unspecified address, no origin AS"
            } else if (s[0] & 0xfe00) == 0xfc00 {
                "unique local address (RFC 4193), no origin AS"
            } else if (s[0] & 0xffc0) == 0xfe80 {
                "link-local address, no origin AS"
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                "documentation address (RFC 3849), no origin AS"
            } else {
                "no AS announces this address in the loaded table"
            }
        }
    }
}
