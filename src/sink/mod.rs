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
}

/// What a sink learns when a run starts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RunInfo {
    /// Sensor name (host name unless configured).
    pub sensor: String,
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
