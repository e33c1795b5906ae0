//! cleanpath: a network traffic auditor for the 5G Clean Path standard.
//!
//! Clean Path asks that 5G traffic entering or leaving a facility crosses only trusted
//! equipment and is not directly connected to untrusted carriers. cleanpath turns packets
//! into that proof: every flow gets a verdict (CLEAN, VIOLATION or UNKNOWN) and the
//! evidence behind it.
//!
//! ```text
//!  capture ──► decode ──► flow ──► intel ──► policy ──► report
//!  pcap/pcapng  Ethernet   one key   IP→ASN   denylists  text summary,
//!  gzip, live   VLAN/MPLS  across    MAC→     with       JSON lines
//!  (files)      IPv4/IPv6  tunnels:  vendor   source,
//!               SRH, UDP,  outer +            date and
//!               TCP, SCTP  TEID +             confidence
//!               GTP-U      QFI +
//!                          inner
//! ```
//!
//! - [`capture`] reads frames from capture files (magic-detected, gzip-aware).
//! - [`decode`] walks the layers of one frame without copying and fills a [`decode::Decoded`].
//! - [`flow`] keys frames into flows across tunnel layers and bounds memory.
//! - [`intel`] answers IP → origin AS and MAC → IEEE registrant.
//! - [`policy`] holds the denylist rules and turns a flow's hops into a verdict with evidence.
//! - [`report`] writes the human summary and JSON lines.
//! - [`pipeline`] drives decode → flow → policy for a stream of frames.
//! - [`synth`] writes the captures the project generates itself (the demo fixture).
//! - [`cli`] parses arguments and drives the pipeline.
//!
//! `decode` and `intel` do no I/O beyond loading their tables, so they can be benched and
//! fuzzed alone. A stage depends only on stages to its left.

pub mod capture;
pub mod cli;
pub mod decode;
pub mod digest;
pub mod flow;
pub mod intel;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod sink;
pub mod store;
pub mod synth;
