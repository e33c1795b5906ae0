//! `cleanpath lookup ADDR…`: what the intel tables and denylists say about IP and MAC
//! addresses — prefix and range, origin AS and organisation, or IEEE vendor; every
//! matching denylist rule with its source; and the snapshot that answered.

use super::args::LookupArgs;
use super::run::Outcome;
use crate::decode::Mac;
use crate::intel::lpm::range_to_cidrs;
use crate::policy::verdict::{Attribution, Hop, HopKind, Judge};
use crate::policy::{Confidence, Denylist};
use anyhow::{Result, bail};
use std::io::Write;
use std::net::IpAddr;

/// One answer, as printed with `--json` (one object per line).
#[derive(Debug, serde::Serialize)]
struct Answer<'a> {
    query: &'a str,
    /// The CIDR prefix of the matching range that holds the address (IP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    /// Attribution and matching rules (as in `analyze --json` hops).
    #[serde(flatten)]
    hop: Hop,
    /// Date of the data that answered (routing data for IPs, IEEE registries for MACs).
    snapshot: &'a str,
}

/// Runs `cleanpath lookup`.
///
/// # Errors
/// An argument that is neither an IP nor a MAC address, unreadable tables or rules.
pub(super) fn run(a: &LookupArgs) -> Result<Outcome> {
    enum Query {
        Ip(IpAddr),
        Mac(Mac),
    }
    let queries = a
        .addresses
        .iter()
        .map(|q| {
            if let Ok(ip) = q.parse::<IpAddr>() {
                Ok(Query::Ip(ip))
            } else if let Ok(mac) = q.parse::<Mac>() {
                Ok(Query::Mac(mac))
            } else {
                bail!("`{q}`: not an IPv4, IPv6 or MAC address")
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let (intel, meta) = super::db::load_intel(&[], None, a.intel_db.as_deref())?;
    let mut rules = if a.no_bundled_denylist {
        Denylist::default()
    } else {
        Denylist::bundled()?
    };
    for p in &a.denylist {
        rules.extend(Denylist::load_file(p)?);
    }
    let judge = Judge::new(&intel, &rules, Confidence::Medium);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (q, query) in a.addresses.iter().zip(queries) {
        let (hop, prefix, snapshot) = match query {
            Query::Ip(ip) => {
                let prefix = intel
                    .asn
                    .lookup(ip)
                    .and_then(|m| prefix_of(ip, m.first, m.last));
                (
                    judge.ip_hop(HopKind::Endpoint, ip),
                    prefix,
                    meta.snapshot.as_str(),
                )
            }
            Query::Mac(mac) => (judge.mac_hop(mac), None, meta.ieee_snapshot.as_str()),
        };
        let answer = Answer {
            query: q,
            prefix,
            hop,
            snapshot,
        };
        if a.json {
            serde_json::to_writer(&mut out, &answer)?;
            writeln!(out)?;
        } else {
            write_text(&mut out, &answer)?;
        }
    }
    Ok(Outcome::Clean)
}

/// The CIDR block of `first..=last` that holds `ip`.
fn prefix_of(ip: IpAddr, first: IpAddr, last: IpAddr) -> Option<String> {
    match (ip.to_canonical(), first, last) {
        (IpAddr::V4(x), IpAddr::V4(f), IpAddr::V4(l)) => {
            let x = u32::from(x);
            range_to_cidrs(u32::from(f), u32::from(l))
                .into_iter()
                .find(|&(p, len)| len == 0 || (x ^ p) >> (32 - u32::from(len)) == 0)
                .map(|(p, len)| format!("{}/{len}", std::net::Ipv4Addr::from(p)))
        }
        (IpAddr::V6(x), IpAddr::V6(f), IpAddr::V6(l)) => {
            let x = u128::from(x);
            range_to_cidrs(u128::from(f), u128::from(l))
                .into_iter()
                .find(|&(p, len)| len == 0 || (x ^ p) >> (128 - u32::from(len)) == 0)
                .map(|(p, len)| format!("{}/{len}", std::net::Ipv6Addr::from(p)))
        }
        _ => None,
    }
}

fn write_text(out: &mut impl Write, a: &Answer<'_>) -> std::io::Result<()> {
    writeln!(out, "{}", a.query)?;
    match &a.hop.attribution {
        Attribution::As { asn, org, range } => {
            if let Some(p) = &a.prefix {
                writeln!(out, "  prefix    {p} (range {range})")?;
            }
            writeln!(out, "  AS        AS{asn} {org}")?;
        }
        Attribution::Vendor {
            registry,
            prefix_bits,
            org,
        } => writeln!(out, "  vendor    {org} ({registry}, /{prefix_bits})")?,
        Attribution::Group => writeln!(out, "  group     multicast or broadcast address")?,
        Attribution::Unattributed { reason } => writeln!(out, "  unknown   {reason}")?,
    }
    if a.hop.matches.is_empty() {
        writeln!(out, "  rules     none match")?;
    }
    for m in &a.hop.matches {
        writeln!(
            out,
            "  rule      {} ({}, {} confidence{}): {} {} — {}, {} [{}]",
            m.entity,
            m.category.as_str(),
            m.confidence.as_str(),
            if m.counts { "" } else { ", warning only" },
            m.rule_kind.as_str(),
            m.rule_value,
            m.source,
            m.date,
            m.rule_at
        )?;
    }
    writeln!(out, "  snapshot  {}", a.snapshot)
}
