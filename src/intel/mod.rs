//! Intelligence tables: IP address → origin AS and organisation, MAC address → IEEE
//! registrant. The bundled tables (see `data/README.md`) are compiled into the binary so
//! that a fresh clone and an installed binary work alone; users may load their own files.
//!
//! Both tables answer through the prefix-trie core, [`lpm`] (a Poptrie); the tables
//! keep the original ranges and names that the trie's value ids point to.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

mod asn;
pub mod db;
pub mod lpm;
mod oui;

pub use asn::{AsnMatch, AsnTable};
pub use oui::{MacInfo, OuiRegistry, Registry};

/// An autonomous system number.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Asn(pub u32);

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// A reference table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File name.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("{path}:{line}: {what}")]
    Row {
        /// File name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        what: String,
    },
}

/// Both lookup tables together.
#[derive(Debug)]
pub struct Intel {
    /// IP → origin AS.
    pub asn: AsnTable,
    /// MAC → IEEE registrant.
    pub oui: OuiRegistry,
}

impl Intel {
    /// Loads the tables bundled in `data/` (compiled into the binary).
    ///
    /// # Errors
    /// Only if the bundled data is corrupt, which the test suite rules out.
    pub fn bundled() -> Result<Self, LoadError> {
        Ok(Self {
            asn: AsnTable::bundled()?,
            oui: OuiRegistry::bundled()?,
        })
    }
}

/// Tables shared by the threads of a live capture, replaceable while they are in use:
/// readers take a snapshot ([`SharedIntel::load`]) per packet or batch and keep using it
/// even if a rebuilt database is swapped in meanwhile ([`SharedIntel::store`]); the old
/// tables are freed when the last snapshot of them is dropped. Lookups never wait on a
/// swap (`arc-swap`: a load is a few atomic operations, no lock).
#[derive(Debug)]
pub struct SharedIntel {
    inner: arc_swap::ArcSwap<Intel>,
}

impl SharedIntel {
    /// Shares `intel`.
    pub fn new(intel: Intel) -> Self {
        Self {
            inner: arc_swap::ArcSwap::from_pointee(intel),
        }
    }

    /// The tables in use now; they stay valid as long as the guard is held.
    pub fn load(&self) -> arc_swap::Guard<std::sync::Arc<Intel>> {
        self.inner.load()
    }

    /// Replaces the tables atomically; returns the previous ones.
    pub fn store(&self, intel: Intel) -> std::sync::Arc<Intel> {
        self.inner.swap(std::sync::Arc::new(intel))
    }
}

/// Opens a table file for reading, transparently decompressing gzip (detected by its
/// magic bytes `1f 8b`, not by the file name).
fn open_table(path: &Path) -> Result<Box<dyn Read>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let is_gzip = reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// A reader over `bytes`, gunzipped when they start with the gzip magic.
fn decompress(bytes: &[u8]) -> Box<dyn Read + '_> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    }
}

/// Builds a [`LoadError::Row`] for a `csv` reader error (I/O or gzip corruption
/// mid-stream, bad UTF-8); `line` is where the reader stood when the error came.
fn csv_error(name: &str, line: u64, err: &csv::Error) -> LoadError {
    LoadError::Row {
        path: name.to_string(),
        line,
        what: format!("cannot read row: {err}"),
    }
}

/// A reader that remembers where the newlines are, so that rows can be given their
/// true line numbers: the `csv` crate's own `Position::line` does not count blank
/// lines and counts a CR LF pair as one line only sometimes.
struct LineCounter<R> {
    inner: R,
    /// Bytes delivered so far.
    offset: u64,
    /// Offsets of delivered `\n` bytes not yet passed by the caller.
    pending: VecDeque<u64>,
    /// Number of `\n` bytes before the last offset asked about.
    passed: u64,
}

impl<R: Read> LineCounter<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            pending: VecDeque::new(),
            passed: 0,
        }
    }

    /// Returns the number of `\n` bytes before byte `offset`. Offsets asked about must
    /// not decrease.
    fn newlines_before(&mut self, offset: u64) -> u64 {
        while self.pending.front().is_some_and(|&nl| nl < offset) {
            self.pending.pop_front();
            self.passed += 1;
        }
        self.passed
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.offset;
        let got = buf.get(..n).unwrap_or_default();
        self.pending.extend(
            got.iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| base + i as u64),
        );
        self.offset += n as u64;
        Ok(n)
    }
}

/// Returns the 1-based line on which the record just read started, given the number of
/// newlines inside its fields. Call right after a successful read.
fn record_line<R: Read>(rdr: &mut csv::Reader<LineCounter<R>>, newlines_inside: usize) -> u64 {
    // The reader stands just past the record's terminator (or at EOF): the record's
    // last line holds byte `end - 1`.
    let end = rdr.position().byte();
    let last = 1 + rdr.get_mut().newlines_before(end.saturating_sub(1));
    last.saturating_sub(newlines_inside as u64)
}

/// Returns the 1-based line holding byte `offset` (offsets asked about must not
/// decrease).
fn line_at<R: Read>(rdr: &mut csv::Reader<LineCounter<R>>, offset: u64) -> u64 {
    1 + rdr.get_mut().newlines_before(offset)
}
