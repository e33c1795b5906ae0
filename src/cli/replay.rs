//! The hidden `cleanpath replay -i IFACE FILE…`: sends the Ethernet frames of capture files
//! out of an interface through a packet socket, paced, for the live tests and benchmarks.

use super::run::Outcome;
use crate::capture::live::{self, Interface};
use crate::capture::{FileReader, LinkType};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of the hidden `replay` command.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Interface to send on.
    #[arg(short, long = "interface", value_name = "IFACE")]
    pub interface: String,
    /// Frames per second (0 = as fast as the kernel takes them).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub pps: u64,
    /// Send the files this many times.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub loops: u32,
    /// Capture files (Ethernet frames are sent; others are counted as skipped).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// The replay's result, one JSON object on standard output.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ReplayReport {
    /// Frames sent.
    pub sent: u64,
    /// Frames not sent because they are not Ethernet or shorter than an Ethernet header.
    pub skipped: u64,
    /// Frames sent shorter than on the wire (the file holds only a slice).
    pub sliced: u64,
    /// Frames the kernel refused (e.g. larger than the MTU).
    pub refused: u64,
    /// Seconds taken.
    pub seconds: f64,
}

/// Runs the hidden `cleanpath replay`.
///
/// # Errors
/// The interface cannot be opened or a file cannot be read.
pub(super) fn replay(a: &ReplayArgs) -> Result<Outcome> {
    let iface = Interface::lookup(&a.interface)?;
    let tx = live::Sender::open(&iface).with_context(|| format!("opening {}", iface.name))?;
    let mut rep = ReplayReport::default();
    let started = Instant::now();
    let mut k: u64 = 0;
    for _ in 0..a.loops {
        for path in &a.files {
            let mut r = FileReader::open(path)?;
            while let Some(f) = r.next_frame()? {
                if f.link != LinkType::ETHERNET || f.data.len() < 14 {
                    rep.skipped += 1;
                    continue;
                }
                if a.pps > 0 {
                    let due = started + Duration::from_secs_f64(k as f64 / a.pps as f64);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                }
                k += 1;
                loop {
                    match tx.send(f.data) {
                        Ok(()) => {
                            rep.sent += 1;
                            if (f.data.len() as u64) < u64::from(f.orig_len_bytes) {
                                rep.sliced += 1;
                            }
                        }
                        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                            std::thread::sleep(Duration::from_micros(50));
                            continue;
                        }
                        Err(e) => {
                            rep.refused += 1;
                            eprintln!("cleanpath: {}: frame {}: {e}", path.display(), f.frame_no);
                        }
                    }
                    break;
                }
            }
        }
    }
    rep.seconds = started.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string(&rep)?);
    Ok(Outcome::Clean)
}
