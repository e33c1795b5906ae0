//! `cleanpath gen mix`: writes the synthetic 5G mix and its ground truth
//! (see [`crate::synth::mix`]).

use super::args::GenArgs;
use super::run::Outcome;
use crate::synth::mix::{MixConfig, generate};
use anyhow::{Context, Result, bail};
use std::io::BufWriter;

/// Generates the mix described by `g` into `g.output` (and `g.truth`).
pub(super) fn run(g: &GenArgs) -> Result<Outcome> {
    for (name, v) in [
        ("--violation-share", g.violation_share),
        ("--unknown-share", g.unknown_share),
        ("--ipv6-outer-share", g.ipv6_outer_share),
    ] {
        if !(0.0..=1.0).contains(&v) {
            bail!("{name} {v}: must be between 0 and 1");
        }
    }
    if g.violation_share + g.unknown_share > 1.0 {
        bail!("--violation-share plus --unknown-share exceed 1");
    }
    if g.snaplen != 0 && g.snaplen < 64 {
        bail!(
            "--snaplen {}: at least 64 bytes, or 0 for whole frames",
            g.snaplen
        );
    }
    let cfg = MixConfig {
        packets: g.packets,
        flows: g.flows,
        seed: g.seed,
        violation_share: g.violation_share,
        unknown_share: g.unknown_share,
        ipv6_outer_share: g.ipv6_outer_share,
        snaplen: g.snaplen,
    };
    let create = |p: &std::path::Path| {
        std::fs::File::create(p)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .with_context(|| format!("creating {}", p.display()))
    };
    let pcap = create(&g.output)?;
    let stats = match &g.truth {
        Some(t) => generate(&cfg, pcap, create(t)?),
        None => generate(&cfg, pcap, std::io::sink()),
    }
    .with_context(|| format!("writing {}", g.output.display()))?;
    eprintln!(
        "cleanpath: wrote {} frames ({} wire bytes) in {} flows: {} clean, {} unknown, {} violation",
        stats.packets,
        stats.wire_bytes,
        stats.flows,
        stats.verdicts[0],
        stats.verdicts[1],
        stats.verdicts[2]
    );
    Ok(Outcome::Clean)
}
