//! Reports: the human summary on stdout and JSON lines, one object per flow plus a final
//! summary object. Reports carry headers and verdicts only, never payload.

mod json;
mod text;
mod time;

pub use json::{FlowRecord, PerDirection, TunnelRecord};
pub use text::{TextReport, TextSink};
pub use time::rfc3339;

use crate::capture::{Format, ReadStats};
use crate::flow::TableStats;
use crate::pipeline::Counters;
use serde::Serialize;

/// Returns the usual name of an IP protocol number (`tcp`, `udp`, …), if it has one here.
pub(crate) fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        58 => "icmpv6",
        132 => "sctp",
        _ => return None,
    })
}

/// Formats an address with its port: `a:p`, `[v6]:p`, or the bare address without a port.
pub(crate) fn with_port(addr: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if addr.contains(':') => format!("[{addr}]:{p}"),
        Some(p) => format!("{addr}:{p}"),
        None => addr.to_string(),
    }
}

/// One input file as the summary describes it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InputSummary {
    /// Path as given.
    pub path: String,
    /// Container format, once detected.
    pub format: Option<Format>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// Reader counters.
    pub read: ReadStats,
    /// Interfaces the file declared.
    pub interfaces: Vec<InterfaceSummary>,
    /// Whether the whole file was read.
    pub complete: bool,
    /// The error that stopped reading, naming the byte offset.
    pub error: Option<String>,
}

/// One capture interface.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InterfaceSummary {
    /// Interface name, if the file records one.
    pub name: Option<String>,
    /// Link type, e.g. `ethernet (1)`.
    pub link_type: String,
}

/// What the run judged with, so a result can be reproduced.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Provenance {
    /// cleanpath version.
    pub cleanpath: String,
    /// IPv4 ranges in the AS table.
    pub asn_v4_ranges: usize,
    /// IPv6 ranges in the AS table.
    pub asn_v6_ranges: usize,
    /// IEEE assignments loaded.
    pub oui_assignments: usize,
    /// Denylist files in force.
    pub denylists: Vec<String>,
    /// Rules in force.
    pub rules: usize,
    /// Minimum confidence that fails a flow.
    pub min_confidence: crate::policy::Confidence,
    /// Data attribution required by the tables' licences.
    pub attribution: String,
    /// Date of the routing data (IP → AS) the verdicts used, `YYYY-MM-DD` or `unknown`.
    #[serde(default)]
    pub intel_snapshot: String,
    /// Date of the IEEE registries, `YYYY-MM-DD` or `unknown`.
    #[serde(default)]
    pub ieee_snapshot: String,
    /// The intel source files (AS tables, IEEE registries) with their SHA-256.
    #[serde(default)]
    pub intel_sources: Vec<SourceHash>,
    /// The denylist files in force with their SHA-256 (the version of the rules).
    #[serde(default)]
    pub denylist_sha256: Vec<SourceHash>,
}

/// A file that went into a verdict, by name and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SourceHash {
    /// File name (`data/…` or `denylists/…` for bundled files).
    pub name: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// The attribution line the bundled AS data's licence (CC BY 4.0) requires in reports.
pub const ATTRIBUTION: &str = "IP-to-ASN data: ip-location-db (CC BY 4.0), built from RouteViews, \
     NRO/RIR delegation statistics and DB-IP IP to ASN Lite (https://db-ip.com); \
     MAC registries: IEEE Registration Authority public listing";

/// The final summary of a run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Summary {
    /// Always `summary` in JSON lines.
    #[serde(rename = "type")]
    pub kind: String,
    /// Inputs.
    pub files: Vec<InputSummary>,
    /// Packet counters and verdict totals.
    #[serde(flatten)]
    pub counters: Counters,
    /// Flow table counters.
    pub flow_table: TableStats,
    /// Whether every input was read to its end and every frame keyed to a flow.
    pub complete: bool,
    /// What the run judged with.
    pub provenance: Provenance,
}

pub mod summary;
