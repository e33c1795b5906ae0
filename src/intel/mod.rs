//! Intelligence tables: IP address → origin AS and organisation, MAC address → IEEE
//! registrant. The bundled tables (see `data/README.md`) are compiled into the binary so
//! that a fresh clone and an installed binary work alone; users may load their own files.
//!
//! Lookups here are simple and correct (sorted disjoint ranges, binary search); the
//! prefix-trie core replaces the structures, not this interface.

use std::fmt;

mod asn;
mod oui;

pub use asn::{AsnMatch, AsnTable};
pub use oui::{MacInfo, OuiRegistry, Registry};

/// An autonomous system number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize)]
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
