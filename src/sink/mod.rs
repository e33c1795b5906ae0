//! Sinks: where judged flows go. Every run feeds each configured sink the same records:
//! `begin` once, `flow` per finished flow (as soon as it finishes), `finish` with the
//! summary. The text summary, JSON lines and the stores are all sinks.
//!
//! Modelled on ripgrep's searcher `Sink`: default hooks for the run's edges, a required
//! per-item method.

pub mod ipfix;
mod jsonl;

pub use ipfix::{IpfixConfig, IpfixSink};
pub use jsonl::JsonlSink;

use crate::report::{FlowRecord, Summary};

/// A sink could not take a record.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Any other failure, described.
    #[error("{0}")]
    Other(String),
}

/// One input of a run, for provenance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// Size in bytes, when known.
    pub bytes: Option<u64>,
    /// SHA-256 of the file's bytes (lowercase hex), for regular files; absent for pipes
    /// and devices, which cannot be read twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl InputFile {
    /// Describes `path`: its size and, for a regular file, the SHA-256 of its content.
    ///
    /// # Errors
    /// A regular file that cannot be read to its end.
    pub fn of(path: &std::path::Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path).ok();
        let regular = meta.as_ref().is_some_and(std::fs::Metadata::is_file);
        Ok(Self {
            path: path.display().to_string(),
            bytes: meta
                .as_ref()
                .filter(|_| regular)
                .map(std::fs::Metadata::len),
            sha256: if regular {
                Some(sha256_file(path)?)
            } else {
                None
            },
        })
    }
}

/// Returns the SHA-256 of a file's content as lowercase hex.
///
/// # Errors
/// The file cannot be opened or read.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
    }
    Ok(crate::digest::hex(&h.finalize()))
}

/// Returns a new run id: 128 random bits from the OS as 32 hex digits (unique per sensor
/// with overwhelming probability). Falls back to time, process id and a counter when
/// `/dev/urandom` cannot be read.
pub fn new_run_id() -> String {
    use std::io::Read;
    let mut b = [0u8; 16];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if random.is_err() {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b[..12].copy_from_slice(&nanos.to_be_bytes()[4..]);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mix = std::process::id() ^ seq.rotate_left(16);
        b[12..].copy_from_slice(&mix.to_be_bytes());
    }
    crate::digest::hex(&b)
}

/// What a sink learns when a run starts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RunInfo {
    /// Sensor name (host name unless configured).
    pub sensor: String,
    /// Site the sensor belongs to, when configured (`--site`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Identifies the run among the sensor's runs (see [`new_run_id`]).
    #[serde(default)]
    pub run_id: String,
    /// Wall-clock start of the run, milliseconds since the epoch (the only wall-clock
    /// time cleanpath records; flow times are capture times).
    pub started_unix_ms: i64,
    /// Inputs in order.
    pub inputs: Vec<InputFile>,
    /// cleanpath version.
    pub version: String,
}

/// A destination for judged flows.
pub trait Sink {
    /// Called once before the first flow.
    ///
    /// # Errors
    /// The sink cannot start (e.g. its store cannot be opened for writing).
    fn begin(&mut self, _run: &RunInfo) -> Result<(), Error> {
        Ok(())
    }

    /// Called for every finished, judged flow, in the order flows finish.
    ///
    /// # Errors
    /// The record could not be written.
    fn flow(&mut self, rec: &FlowRecord) -> Result<(), Error>;

    /// Called once after the last flow with the run's summary.
    ///
    /// # Errors
    /// The summary could not be written or the sink could not be flushed.
    fn finish(&mut self, _summary: &Summary) -> Result<(), Error> {
        Ok(())
    }
}
