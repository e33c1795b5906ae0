//! The one place that maps a database file into memory.
#![allow(unsafe_code)] // memmap2::Mmap::map is unsafe: see SAFETY below

use std::fs::File;

/// Maps `file` read-only.
///
/// # Errors
/// The operating system's error (e.g. not a regular file).
pub(super) fn map(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private to this process; the bytes are only
    // ever read through `&[u8]` and copied into owned tables by `Db::load`, which
    // validates lengths and checksums first. A file truncated or rewritten by another
    // process *while mapped* could still fault (SIGBUS) or change under us; cleanpath
    // itself replaces database files only by renaming a new file over the old one,
    // which leaves an existing mapping intact.
    unsafe { memmap2::Mmap::map(file) }
}
