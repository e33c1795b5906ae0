//! Capture front-end: reads frames from pcap and pcapng files (plain or gzip-compressed).
//!
//! The format is chosen by the file's magic bytes, never by its name. A file yields
//! [`Frame`]s in order; when the file turns out to be truncated or corrupt, the reader
//! returns a [`Error`] naming the file and byte offset, after having delivered every
//! frame before that point.

use std::fmt;
use std::path::PathBuf;

/// A link-layer header type (the pcap `LINKTYPE_*` registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: 4-octet address family in host byte order.
    pub const NULL: Self = Self(0);
    /// IEEE 802.3 Ethernet.
    pub const ETHERNET: Self = Self(1);
    /// Raw IP on some BSDs (DLT_RAW = 12).
    pub const RAW_BSD12: Self = Self(12);
    /// Raw IP on OpenBSD (DLT_RAW = 14).
    pub const RAW_BSD14: Self = Self(14);
    /// Raw IPv4 or IPv6, version read from the first nibble.
    pub const RAW: Self = Self(101);
    /// OpenBSD loopback: 4-octet address family in network byte order.
    pub const LOOP: Self = Self(108);
    /// Linux cooked capture v1.
    pub const LINUX_SLL: Self = Self(113);
    /// Raw IPv4.
    pub const IPV4: Self = Self(228);
    /// Raw IPv6.
    pub const IPV6: Self = Self(229);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: Self = Self(276);

    /// Returns the conventional short name, or `None` for a type cleanpath does not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::NULL => "null",
            Self::ETHERNET => "ethernet",
            Self::RAW_BSD12 | Self::RAW_BSD14 | Self::RAW => "raw",
            Self::LOOP => "loop",
            Self::LINUX_SLL => "linux_sll",
            Self::IPV4 => "ipv4",
            Self::IPV6 => "ipv6",
            Self::LINUX_SLL2 => "linux_sll2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "linktype {}", self.0),
        }
    }
}

/// Capture timestamp in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number within its file, as Wireshark counts.
    pub frame_no: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Link type of the interface the frame was captured on.
    pub link: LinkType,
    /// Index into [`FileReader::interfaces`] of the capturing interface.
    pub iface: u32,
    /// Original length on the wire in bytes (may exceed `data.len()`).
    pub orig_len_bytes: u32,
    /// Captured bytes.
    pub data: &'a [u8],
}

/// An interface a file declares (one per pcap file; one per IDB in pcapng).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface name from the IDB `if_name` option, if any.
    pub name: Option<String>,
    /// Link type of the frames it captured.
    pub link: LinkType,
    /// pcapng section number (0 for classic pcap).
    pub section: u32,
    /// Snapshot length in bytes (0 = unlimited).
    pub snaplen_bytes: u32,
}

/// Container format detected from the magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Classic libpcap, microsecond timestamps.
    Pcap,
    /// Classic libpcap, nanosecond timestamps.
    PcapNs,
    /// Kuznetzov's "modified" libpcap format.
    PcapModified,
    /// pcapng.
    Pcapng,
}

/// A capture file problem that stops reading that file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The first bytes are neither pcap nor pcapng (nor gzip of either).
    #[error("{path}: not a pcap or pcapng file (magic {magic:02x?})")]
    BadMagic {
        /// File path.
        path: PathBuf,
        /// The first bytes read.
        magic: Vec<u8>,
    },
    /// The file ends in the middle of a record or block.
    #[error("{path}: truncated at byte offset {offset}: {what}")]
    Truncated {
        /// File path.
        path: PathBuf,
        /// Offset of the incomplete record or block (in the decompressed stream for gzip).
        offset: u64,
        /// What was being read.
        what: String,
    },
    /// A record or block is malformed.
    #[error("{path}: corrupt at byte offset {offset}: {what}")]
    Corrupt {
        /// File path.
        path: PathBuf,
        /// Offset of the malformed record or block (in the decompressed stream for gzip).
        offset: u64,
        /// What is wrong.
        what: String,
    },
}

/// Counters a reader keeps while reading.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Frames delivered.
    pub frames: u64,
    /// Captured bytes delivered.
    pub captured_bytes: u64,
    /// Frames whose captured length is shorter than the wire length.
    pub sliced_frames: u64,
    /// Blocks skipped because cleanpath does not use them (pcapng NRB, ISB, custom, unknown).
    pub skipped_blocks: u64,
    /// Frames whose timestamp field was out of range (still delivered, time clamped).
    pub bad_timestamps: u64,
}

#[cfg(feature = "libpcap")]
pub mod bpf;
mod file;
mod input;
#[cfg(target_os = "linux")]
pub mod live;
#[cfg(feature = "libpcap")]
pub use bpf::BpfFilter;
pub use file::{FileReader, MAX_BLOCK_BYTES, MAX_CAPLEN_BYTES};
