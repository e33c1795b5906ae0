//! MAC → IEEE registrant (stub: filled in by the intel stage).

use super::LoadError;
use crate::decode::Mac;
use std::io::Read;
use std::path::Path;

/// The IEEE registry an assignment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Registry {
    /// MA-L, 24-bit prefix (the classic OUI).
    MaL,
    /// MA-M, 28-bit prefix.
    MaM,
    /// MA-S, 36-bit prefix.
    MaS,
    /// IAB, 36-bit prefix (legacy).
    Iab,
}

/// What a MAC address says about the equipment behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacInfo<'a> {
    /// Multicast or broadcast (I/G bit set): a group, not a device.
    Group,
    /// Locally administered (U/L bit set): in no registry, names no vendor.
    Local,
    /// A registered assignment; the longest matching prefix wins.
    Registered {
        /// Registry of the assignment.
        registry: Registry,
        /// Prefix length in bits (24, 28 or 36).
        prefix_bits: u8,
        /// Registrant organisation name as the IEEE lists it.
        org: &'a str,
    },
    /// Universally administered but in no loaded registry (new or unlisted assignment).
    Unregistered,
}

/// The IEEE MA-L, MA-M, MA-S and IAB registries.
#[derive(Debug, Default)]
pub struct OuiRegistry {
    _private: (),
}

impl OuiRegistry {
    /// Loads the registries bundled in `data/ieee/`.
    ///
    /// # Errors
    /// Only if the bundled data is corrupt.
    pub fn bundled() -> Result<Self, LoadError> {
        unimplemented!()
    }

    /// Loads `oui.csv`, `mam.csv`, `oui36.csv` and `iab.csv` (each optionally `.gz`) from `dir`.
    ///
    /// # Errors
    /// [`LoadError`] naming the file and line of the first bad row.
    pub fn from_dir(dir: &Path) -> Result<Self, LoadError> {
        let _ = dir;
        unimplemented!()
    }

    /// Adds the rows of one IEEE CSV stream (`Registry,Assignment,Organization Name,…`).
    ///
    /// # Errors
    /// [`LoadError::Row`] naming `name` and the line of the first bad row.
    pub fn add_csv<R: Read>(&mut self, name: &str, reader: R) -> Result<(), LoadError> {
        let _ = (name, reader);
        unimplemented!()
    }

    /// Classifies `mac`: group, local, registered (longest prefix) or unregistered.
    pub fn lookup(&self, mac: Mac) -> MacInfo<'_> {
        let _ = mac;
        unimplemented!()
    }

    /// Returns the number of assignments loaded.
    pub fn len(&self) -> usize {
        unimplemented!()
    }

    /// Reports whether no assignment is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
