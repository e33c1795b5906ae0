//! Synthetic captures the project generates itself: a minimal pcapng writer and the demo fixture,
//! whose every flow has a verdict known by construction.

pub mod demo;
pub mod mix;
pub mod pcap;
pub mod pcapng;
