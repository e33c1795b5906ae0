//! IP → origin AS (stub: filled in by the intel stage).

use super::{Asn, LoadError};
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// The answer to an AS lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsnMatch<'a> {
    /// Origin AS.
    pub asn: Asn,
    /// Organisation name registered for the AS (DB-IP's naming).
    pub org: &'a str,
    /// First address of the matching range.
    pub first: IpAddr,
    /// Last address of the matching range (inclusive).
    pub last: IpAddr,
}

/// Sorted, disjoint address ranges of both families, each with its origin AS.
#[derive(Debug, Default)]
pub struct AsnTable {
    _private: (),
}

impl AsnTable {
    /// Loads the ip-location-db tables bundled in `data/`.
    ///
    /// # Errors
    /// Only if the bundled data is corrupt.
    pub fn bundled() -> Result<Self, LoadError> {
        unimplemented!()
    }

    /// Loads `start_ip,end_ip,asn,org` CSV files (optionally gzip-compressed, by magic).
    ///
    /// # Errors
    /// [`LoadError`] naming the file and line of the first bad row.
    pub fn from_paths(v4: &Path, v6: &Path) -> Result<Self, LoadError> {
        let _ = (v4, v6);
        unimplemented!()
    }

    /// Adds the rows of one CSV stream (either family; rows may mix families). `name` is used in errors.
    ///
    /// # Errors
    /// [`LoadError::Row`] naming `name` and the line of the first bad row.
    pub fn add_csv<R: Read>(&mut self, name: &str, reader: R) -> Result<(), LoadError> {
        let _ = (name, reader);
        unimplemented!()
    }

    /// Returns the origin AS of `ip`, or `None` when no range covers it.
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnMatch<'_>> {
        let _ = ip;
        unimplemented!()
    }

    /// Returns the number of ranges (IPv4, IPv6).
    pub fn len(&self) -> (usize, usize) {
        unimplemented!()
    }

    /// Reports whether the table holds no range.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}
