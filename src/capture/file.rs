//! Capture file reader (stub: filled in by the capture stage).

use super::{Error, Format, Frame, Interface, ReadStats};
use std::path::Path;

/// Reads frames from one pcap or pcapng file, plain or gzip-compressed.
pub struct FileReader {
    _private: (),
}

impl FileReader {
    /// Opens `path`, detects the format by magic bytes (after gzip, if gzip).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::BadMagic`] for an unknown format.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let _ = path;
        unimplemented!()
    }

    /// Reads from an in-memory copy of a capture file (benches, fuzzing). `name` is used in errors.
    ///
    /// # Errors
    /// As [`FileReader::open`].
    pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<Self, Error> {
        let _ = (name, bytes);
        unimplemented!()
    }

    /// Returns the next frame, `Ok(None)` at the clean end of the file.
    ///
    /// # Errors
    /// A truncated or corrupt record ends the file with an error naming its offset;
    /// every frame before it has been returned.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        unimplemented!()
    }

    /// Returns the interfaces declared so far (grows as pcapng IDBs are read).
    pub fn interfaces(&self) -> &[Interface] {
        unimplemented!()
    }

    /// Returns the detected container format.
    pub fn format(&self) -> Format {
        unimplemented!()
    }

    /// Reports whether the file was gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        unimplemented!()
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> &ReadStats {
        unimplemented!()
    }

    /// Returns the bytes of the file consumed so far (decompressed offset for gzip), for progress.
    pub fn position(&self) -> u64 {
        unimplemented!()
    }
}
