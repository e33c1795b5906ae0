//! Capture file reader: classic libpcap (draft-ietf-opsawg-pcap §4 file header, §5 packet
//! record, plus the nanosecond and Kuznetzov "modified" variants) and pcapng
//! (draft-ietf-opsawg-pcapng §4.1 SHB, §4.2 IDB, §4.3 EPB, §4.4 SPB), plain or gzip.
//!
//! Parsing is done by the `pcap-parser` crate, one complete record at a time; framing,
//! buffering and bounds are done here so that every error names the byte offset of the
//! record it is about, and so that no length field read from the file can make the reader
//! allocate without bound:
//!
//! - a record's captured length must be at most [`MAX_CAPLEN_BYTES`] (the 256 KiB that
//!   Wireshark also allows for Ethernet); a larger one is [`Error::Corrupt`]. A captured
//!   length above the header's snaplen is tolerated (tcpdump and Wireshark read such files).
//! - a pcapng block must be at most [`MAX_BLOCK_BYTES`] long, a multiple of 4, and end with
//!   the same length it starts with.
//! - the buffer ([`DEFAULT_CAPACITY`], 1 MiB) only grows when one record is larger than it.
//!
//! Offsets in errors are offsets into the decompressed stream for gzip files, and the
//! error text says so. An SPB carries no timestamp (§4.4): its frame gets the previous
//! frame's time, or 0 when it is the first frame of the file.
//!
//! Not used from `pcap-parser`: `EnhancedPacketBlock::decode_ts` and `build_ts_resolution`.
//! The first truncates seconds to `u32` (wrong after 2106, see `tcpdump-time_2107.pcapng`) and
//! the second rejects every power-of-two `if_tsresol`; the IDB `if_tsoffset` helper also
//! decodes big-endian sections as little-endian. [`units_per_second`] and [`ng_timestamp`]
//! replace them.

use super::input::{DEFAULT_CAPACITY, Input};
use super::{Error, Format, Frame, Interface, LinkType, ReadStats, Timestamp};
use pcap_parser::pcap::{
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
};
use pcap_parser::pcapng::{
    Block, EPB_MAGIC, IDB_MAGIC, ISB_MAGIC, NRB_MAGIC, OptionCode, SHB_MAGIC, SPB_MAGIC,
    parse_block_be, parse_block_le,
};
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

/// Largest captured length accepted for one frame (Wireshark's `WTAP_MAX_PACKET_SIZE_STANDARD`).
pub const MAX_CAPLEN_BYTES: u32 = 256 * 1024;

/// Largest pcapng block accepted (name-resolution or secrets blocks can exceed one frame).
pub const MAX_BLOCK_BYTES: u32 = 16 * 1024 * 1024;

/// Length of a classic pcap file header.
const PCAP_HEADER_LEN: usize = 24;
/// pcapng byte-order magic as read in the section's own byte order.
const BOM: u32 = 0x1A2B_3C4D;
/// pcapng minimum block: type, length, trailing length.
const NG_MIN_BLOCK: usize = 12;
/// Offset of the packet data inside an EPB (type, len, if_id, ts_high, ts_low, caplen, origlen).
const EPB_DATA: usize = 28;
/// Offset of the packet data inside an SPB (type, len, origlen).
const SPB_DATA: usize = 12;

/// Reads frames from one pcap or pcapng file, plain or gzip-compressed.
pub struct FileReader {
    path: PathBuf,
    input: Input,
    format: Format,
    gzip: bool,
    pcap: PcapState,
    ng: NgState,
    interfaces: Vec<Interface>,
    stats: ReadStats,
    /// Timestamp of the previous frame (an SPB carries none).
    last_ts: Timestamp,
    /// Length of the record behind the frame last returned, consumed on the next call.
    pending: usize,
    /// An error or the end was reached: every later call returns `Ok(None)`.
    done: bool,
}

/// Classic pcap parameters from the file header.
#[derive(Debug, Clone, Copy, Default)]
struct PcapState {
    big_endian: bool,
    nanos: bool,
    modified: bool,
}

/// pcapng parsing state.
#[derive(Debug, Default)]
struct NgState {
    /// Byte order of the current section.
    big_endian: bool,
    /// Section header blocks seen so far.
    sections: u32,
    /// Index into `interfaces` of the current section's interface 0.
    section_base: usize,
    /// Clock of each entry of `interfaces`.
    clocks: Vec<Clock>,
}

/// How an interface's EPB timestamps are scaled.
#[derive(Debug, Clone, Copy)]
struct Clock {
    units_per_sec: u64,
    offset_secs: i64,
}

/// What `next_pcap`/`next_ng` found: where the frame's bytes are in the available window.
#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    ts: Timestamp,
    bad_ts: bool,
    iface: u32,
    orig_len: u32,
    data_start: usize,
    data_len: usize,
    record_len: usize,
}

/// A pcapng block reduced to owned values, so the buffer borrow ends before state changes.
enum NgEvent {
    Section,
    Interface {
        link: LinkType,
        snaplen: u32,
        name: Option<String>,
        tsresol: u8,
        tsoffset: i64,
    },
    Enhanced {
        if_id: u32,
        ts_high: u32,
        ts_low: u32,
        caplen: u32,
        origlen: u32,
    },
    Simple {
        origlen: u32,
        room: usize,
    },
    Skip,
}

impl FileReader {
    /// Opens `path`, detects the format by magic bytes (after gzip, if gzip).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::BadMagic`] for an unknown format.
    /// [`Error::Truncated`] when the file is shorter than its file header.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_source(path, Box::new(file), DEFAULT_CAPACITY)
    }

    /// Reads from an in-memory copy of a capture file (benches, fuzzing). `name` is used in errors.
    ///
    /// # Errors
    /// As [`FileReader::open`].
    pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<Self, Error> {
        let hint = bytes.len();
        Self::from_source(name, Box::new(Cursor::new(bytes)), hint)
    }

    /// Detects gzip and the container format, reads the classic pcap file header.
    fn from_source(
        path: &Path,
        mut src: Box<dyn Read + Send>,
        size_hint: usize,
    ) -> Result<Self, Error> {
        let io_err = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        // Peek at the first bytes without losing them: they go back in front of the stream.
        let mut head = [0u8; 2];
        let mut got = 0;
        while got < head.len() {
            match src.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        let gzip = head[..got] == [0x1f, 0x8b];
        let chained: Box<dyn Read + Send> = Box::new(Cursor::new(head[..got].to_vec()).chain(src));
        let (stream, capacity): (Box<dyn Read + Send>, usize) = if gzip {
            let decoder = flate2::read::MultiGzDecoder::new(chained);
            (Box::new(decoder), DEFAULT_CAPACITY)
        } else {
            (chained, size_hint.clamp(64, DEFAULT_CAPACITY))
        };
        let mut reader = Self {
            path: path.to_path_buf(),
            input: Input::new(stream, capacity),
            format: Format::Pcap,
            gzip,
            pcap: PcapState::default(),
            ng: NgState::default(),
            interfaces: Vec::new(),
            stats: ReadStats::default(),
            last_ts: Timestamp::default(),
            pending: 0,
            done: false,
        };
        reader.read_file_header()?;
        Ok(reader)
    }

    /// Sets `format` from the magic; for classic pcap also reads the 24-byte header.
    fn read_file_header(&mut self) -> Result<(), Error> {
        let n = self.fill(PCAP_HEADER_LEN, 0)?;
        let a = self.input.available();
        let magic = &a[..n.min(4)];
        // (format, big_endian) by magic, as it appears on disk.
        let (format, big_endian) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Format::Pcap, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Format::Pcap, true),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Format::PcapNs, false),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Format::PcapNs, true),
            [0x34, 0xcd, 0xb2, 0xa1] => (Format::PcapModified, false),
            [0xa1, 0xb2, 0xcd, 0x34] => {
                return Err(self.corrupt(
                    0,
                    "big-endian \"modified\" pcap (magic a1b2cd34) is not supported".into(),
                ));
            }
            [0x0a, 0x0d, 0x0d, 0x0a] => {
                // The SHB is read as the first block by `next_ng`.
                self.format = Format::Pcapng;
                return Ok(());
            }
            _ if magic.len() < 4 && is_magic_prefix(magic) => {
                let what = if n == 0 {
                    "empty file: no pcap or pcapng header".to_owned()
                } else {
                    format!("file header: the file ends after {n} bytes")
                };
                return Err(self.truncated(0, what));
            }
            _ => {
                return Err(Error::BadMagic {
                    path: self.path.clone(),
                    magic: magic.to_vec(),
                });
            }
        };
        if n < PCAP_HEADER_LEN {
            return Err(self.truncated(
                0,
                format!("pcap file header needs {PCAP_HEADER_LEN} bytes, the file ends after {n}"),
            ));
        }
        let Ok((_, header)) = parse_pcap_header(&a[..PCAP_HEADER_LEN]) else {
            return Err(self.corrupt(0, "unreadable pcap file header".into()));
        };
        // LINKTYPE_ values sit in the low 26 bits; the top bits may carry FCS information.
        let link = LinkType(u32::from_ne_bytes(header.network.0.to_ne_bytes()) & 0x03FF_FFFF);
        self.format = format;
        self.pcap = PcapState {
            big_endian,
            nanos: header.is_nanosecond_precision(),
            modified: header.is_modified_format(),
        };
        self.interfaces.push(Interface {
            name: None,
            link,
            section: 0,
            snaplen_bytes: header.snaplen,
        });
        self.input.consume(PCAP_HEADER_LEN);
        Ok(())
    }

    /// Returns the next frame, `Ok(None)` at the clean end of the file.
    ///
    /// # Errors
    /// A truncated or corrupt record ends the file with an error naming its offset;
    /// every frame before it has been returned.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.input.consume(std::mem::take(&mut self.pending));
        let found = if self.format == Format::Pcapng {
            self.next_ng()
        } else {
            self.next_pcap()
        };
        let meta = match found {
            Ok(Some(meta)) => meta,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        let end = meta.data_start + meta.data_len;
        let (Some(iface), true) = (
            self.interfaces.get(meta.iface as usize),
            end <= self.input.available().len(),
        ) else {
            // Unreachable: `next_*` checked both. Kept as an error rather than a panic.
            self.done = true;
            return Err(self.corrupt(self.input.pos(), "internal framing error".into()));
        };
        let link = iface.link;
        self.stats.frames += 1;
        self.stats.captured_bytes += meta.data_len as u64;
        if (meta.data_len as u64) < u64::from(meta.orig_len) {
            self.stats.sliced_frames += 1;
        }
        if meta.bad_ts {
            self.stats.bad_timestamps += 1;
        }
        self.last_ts = meta.ts;
        self.pending = meta.record_len;
        Ok(Some(Frame {
            frame_no: self.stats.frames,
            ts: meta.ts,
            link,
            iface: meta.iface,
            orig_len_bytes: meta.orig_len,
            data: &self.input.available()[meta.data_start..end],
        }))
    }

    /// Frames one classic pcap record (§5: 16-byte header, or 24 for the modified format).
    fn next_pcap(&mut self) -> Result<Option<FrameMeta>, Error> {
        let PcapState {
            big_endian,
            nanos,
            modified,
        } = self.pcap;
        let off = self.input.pos();
        let frame_no = self.stats.frames + 1;
        let hdr_len = if modified { 24 } else { 16 };
        let n = self.fill(hdr_len, off)?;
        if n == 0 {
            return Ok(None);
        }
        if n < hdr_len {
            return Err(self.truncated(
                off,
                format!(
                    "frame {frame_no}: record header needs {hdr_len} bytes, the file ends after {n}"
                ),
            ));
        }
        let caplen = read_u32(&self.input.available()[8..12], big_endian);
        if caplen > MAX_CAPLEN_BYTES {
            return Err(self.corrupt(
                off,
                format!(
                    "frame {frame_no}: captured length {caplen} bytes exceeds the \
                     {MAX_CAPLEN_BYTES}-byte limit"
                ),
            ));
        }
        let need = hdr_len + caplen as usize;
        let n = self.fill(need, off)?;
        if n < need {
            return Err(self.truncated(
                off,
                format!(
                    "frame {frame_no}: record needs {need} bytes ({hdr_len}-byte header + \
                     {caplen} captured), the file ends after {n}"
                ),
            ));
        }
        let rec = &self.input.available()[..need];
        let parsed = match (modified, big_endian) {
            (true, _) => parse_pcap_frame_modified(rec),
            (false, false) => parse_pcap_frame(rec),
            (false, true) => parse_pcap_frame_be(rec),
        };
        let Ok((_, blk)) = parsed else {
            return Err(self.corrupt(off, format!("frame {frame_no}: unreadable record")));
        };
        let (ts, bad_ts) = pcap_timestamp(blk.ts_sec, blk.ts_usec, nanos);
        Ok(Some(FrameMeta {
            ts,
            bad_ts,
            iface: 0,
            orig_len: blk.origlen,
            data_start: hdr_len,
            data_len: caplen as usize,
            record_len: need,
        }))
    }

    /// Walks pcapng blocks until a packet block, keeping section and interface state.
    fn next_ng(&mut self) -> Result<Option<FrameMeta>, Error> {
        loop {
            let off = self.input.pos();
            let frame_no = self.stats.frames + 1;
            let n = self.fill(NG_MIN_BLOCK, off)?;
            if n == 0 {
                return Ok(None);
            }
            if n < NG_MIN_BLOCK {
                return Err(self.truncated(
                    off,
                    format!("block header needs {NG_MIN_BLOCK} bytes, the file ends after {n}"),
                ));
            }
            let a = self.input.available();
            let big_endian = if read_u32(&a[0..4], false) == SHB_MAGIC {
                // §4.1: a new section may switch byte order; the BOM tells which.
                match read_u32(&a[8..12], false) {
                    BOM => false,
                    x if x.swap_bytes() == BOM => true,
                    x => {
                        return Err(self.corrupt(
                            off,
                            format!(
                                "section header block: byte-order magic {x:08x} is not 1a2b3c4d"
                            ),
                        ));
                    }
                }
            } else {
                self.ng.big_endian
            };
            let btype = read_u32(&a[0..4], big_endian);
            let blen = read_u32(&a[4..8], big_endian);
            let name = block_name(btype);
            if blen < NG_MIN_BLOCK as u32 || blen % 4 != 0 {
                return Err(self.corrupt(
                    off,
                    format!(
                        "{name} block: length {blen} is not a multiple of 4 of at least {NG_MIN_BLOCK}"
                    ),
                ));
            }
            if blen > MAX_BLOCK_BYTES {
                return Err(self.corrupt(
                    off,
                    format!("{name} block: length {blen} exceeds the {MAX_BLOCK_BYTES}-byte limit"),
                ));
            }
            let need = blen as usize;
            let n = self.fill(need, off)?;
            if n < need {
                return Err(self.truncated(
                    off,
                    format!("{name} block needs {need} bytes, the file ends after {n}"),
                ));
            }
            if btype == EPB_MAGIC && blen >= 32 {
                let caplen = read_u32(&self.input.available()[20..24], big_endian);
                if caplen > MAX_CAPLEN_BYTES {
                    return Err(self.corrupt(
                        off,
                        format!(
                            "frame {frame_no}: captured length {caplen} bytes exceeds the \
                             {MAX_CAPLEN_BYTES}-byte limit"
                        ),
                    ));
                }
                if 32 + u64::from(caplen.next_multiple_of(4)) > u64::from(blen) {
                    return Err(self.corrupt(
                        off,
                        format!(
                            "frame {frame_no}: captured length {caplen} bytes does not fit in \
                             an enhanced packet block of {blen} bytes"
                        ),
                    ));
                }
            }
            let blk = &self.input.available()[..need];
            let trailer = read_u32(&blk[need - 4..], big_endian);
            if trailer != blen {
                return Err(self.corrupt(
                    off,
                    format!(
                        "{name} block: trailing length {trailer} differs from leading length {blen}"
                    ),
                ));
            }
            let parsed = if big_endian {
                parse_block_be(blk)
            } else {
                parse_block_le(blk)
            };
            let event = match parsed {
                Ok((_, block)) => NgEvent::from_block(&block, big_endian),
                Err(e) => {
                    let why = match e {
                        pcap_parser::nom::Err::Incomplete(_) => {
                            "a field runs past the end of the block".to_owned()
                        }
                        pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e) => {
                            describe(&e)
                        }
                    };
                    return Err(self.corrupt(off, format!("malformed {name} block: {why}")));
                }
            };
            match event {
                NgEvent::Section => {
                    self.ng.big_endian = big_endian;
                    self.ng.sections += 1;
                    self.ng.section_base = self.interfaces.len();
                }
                NgEvent::Interface {
                    link,
                    snaplen,
                    name,
                    tsresol,
                    tsoffset,
                } => {
                    let Some(units_per_sec) = units_per_second(tsresol) else {
                        return Err(self.corrupt(
                            off,
                            format!(
                                "interface description block: if_tsresol {tsresol:#04x} is out of range"
                            ),
                        ));
                    };
                    self.interfaces.push(Interface {
                        name,
                        link,
                        section: self.ng.sections.saturating_sub(1),
                        snaplen_bytes: snaplen,
                    });
                    self.ng.clocks.push(Clock {
                        units_per_sec,
                        offset_secs: tsoffset,
                    });
                }
                NgEvent::Enhanced {
                    if_id,
                    ts_high,
                    ts_low,
                    caplen,
                    origlen,
                } => {
                    let declared = self.interfaces.len() - self.ng.section_base;
                    let iface = self.ng.section_base + if_id as usize;
                    let (Some(clock), true) =
                        (self.ng.clocks.get(iface), (if_id as usize) < declared)
                    else {
                        return Err(self.corrupt(
                            off,
                            format!(
                                "frame {frame_no}: enhanced packet block refers to interface \
                                 {if_id}, but its section declares {declared}"
                            ),
                        ));
                    };
                    let (ts, bad_ts) = ng_timestamp(ts_high, ts_low, *clock);
                    return Ok(Some(FrameMeta {
                        ts,
                        bad_ts,
                        iface: iface as u32,
                        orig_len: origlen,
                        data_start: EPB_DATA,
                        data_len: caplen as usize,
                        record_len: need,
                    }));
                }
                NgEvent::Simple { origlen, room } => {
                    let Some(iface) = self.interfaces.get(self.ng.section_base) else {
                        return Err(self.corrupt(
                            off,
                            format!(
                                "frame {frame_no}: simple packet block in a section without \
                                 an interface description block"
                            ),
                        ));
                    };
                    // §4.4: captured length = min(original length, snaplen of interface 0).
                    let mut caplen = room.min(origlen as usize);
                    if iface.snaplen_bytes != 0 {
                        caplen = caplen.min(iface.snaplen_bytes as usize);
                    }
                    if caplen > MAX_CAPLEN_BYTES as usize {
                        return Err(self.corrupt(
                            off,
                            format!(
                                "frame {frame_no}: captured length {caplen} bytes exceeds the \
                                 {MAX_CAPLEN_BYTES}-byte limit"
                            ),
                        ));
                    }
                    return Ok(Some(FrameMeta {
                        ts: self.last_ts,
                        bad_ts: false,
                        iface: self.ng.section_base as u32,
                        orig_len: origlen,
                        data_start: SPB_DATA,
                        data_len: caplen,
                        record_len: need,
                    }));
                }
                NgEvent::Skip => self.stats.skipped_blocks += 1,
            }
            self.input.consume(need);
        }
    }

    /// Makes `n` bytes available; a read error becomes an [`Error`] about the record at `off`.
    fn fill(&mut self, n: usize, off: u64) -> Result<usize, Error> {
        self.input.fill(n).map_err(|e| self.read_error(e, off))
    }

    /// Classifies a read error: gzip stream damage is reported like file damage.
    fn read_error(&self, source: io::Error, off: u64) -> Error {
        if self.gzip {
            match source.kind() {
                io::ErrorKind::UnexpectedEof => {
                    return self.truncated(off, format!("gzip stream ends early ({source})"));
                }
                io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                    return self.corrupt(off, format!("gzip data is corrupt ({source})"));
                }
                _ => {}
            }
        }
        Error::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Builds [`Error::Truncated`], noting when the offset is in decompressed data.
    fn truncated(&self, offset: u64, what: String) -> Error {
        Error::Truncated {
            path: self.path.clone(),
            offset,
            what: self.annotate(what),
        }
    }

    /// Builds [`Error::Corrupt`], noting when the offset is in decompressed data.
    fn corrupt(&self, offset: u64, what: String) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            offset,
            what: self.annotate(what),
        }
    }

    fn annotate(&self, what: String) -> String {
        if self.gzip {
            what + " (decompressed offset)"
        } else {
            what
        }
    }

    /// Returns the interfaces declared so far (grows as pcapng IDBs are read).
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Returns the detected container format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Reports whether the file was gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Returns the bytes of the file consumed so far (decompressed offset for gzip), for progress.
    pub fn position(&self) -> u64 {
        self.input.pos() + self.pending as u64
    }
}

impl NgEvent {
    /// Extracts what the reader keeps from a parsed block.
    fn from_block(block: &Block<'_>, big_endian: bool) -> Self {
        match block {
            Block::SectionHeader(_) => Self::Section,
            Block::InterfaceDescription(idb) => {
                // Option values are raw bytes in the section's byte order (§3.5).
                let tsoffset = idb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::IfTsoffset)
                    .and_then(|o| o.as_bytes().ok())
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(0, |b| {
                        if big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        }
                    });
                let name = idb
                    .if_name()
                    .and_then(Result::ok)
                    .map(|s| s.trim_end_matches('\0').to_owned());
                Self::Interface {
                    link: LinkType(u32::from_ne_bytes(idb.linktype.0.to_ne_bytes()) & 0xFFFF),
                    snaplen: idb.snaplen,
                    name,
                    tsresol: idb.if_tsresol,
                    tsoffset,
                }
            }
            Block::EnhancedPacket(epb) => Self::Enhanced {
                if_id: epb.if_id,
                ts_high: epb.ts_high,
                ts_low: epb.ts_low,
                caplen: epb.caplen,
                origlen: epb.origlen,
            },
            Block::SimplePacket(spb) => Self::Simple {
                origlen: spb.origlen,
                room: spb.data.len(),
            },
            _ => Self::Skip,
        }
    }
}

/// Returns the number of `if_tsresol` units per second (§4.2 option 9), `None` past `u64`.
///
/// Bit 7 clear: 10^-n seconds; set: 2^-n seconds with n in the low 7 bits.
fn units_per_second(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp)
    }
}

/// Converts an EPB timestamp to nanoseconds; the flag reports a value outside `i64` (clamped).
fn ng_timestamp(ts_high: u32, ts_low: u32, clock: Clock) -> (Timestamp, bool) {
    let units = (u64::from(ts_high) << 32) | u64::from(ts_low);
    let per_sec = clock.units_per_sec.max(1);
    let secs = i128::from(units / per_sec) + i128::from(clock.offset_secs);
    let nanos = u128::from(units % per_sec) * 1_000_000_000 / u128::from(per_sec);
    // nanos < 1e9 and |secs| < 2^65, so this cannot overflow i128.
    let total = secs * 1_000_000_000 + nanos as i128;
    match i64::try_from(total) {
        Ok(ns) => (Timestamp(ns), false),
        Err(_) => (Timestamp(if total < 0 { i64::MIN } else { i64::MAX }), true),
    }
}

/// Converts a classic pcap timestamp to nanoseconds; the flag reports a fraction field at or
/// above one second (clamped to the last unit of that second).
fn pcap_timestamp(secs: u32, frac: u32, nanos: bool) -> (Timestamp, bool) {
    let (limit, scale) = if nanos {
        (1_000_000_000, 1)
    } else {
        (1_000_000, 1_000)
    };
    let bad = frac >= limit;
    let frac = if bad { limit - 1 } else { frac };
    let ns = i64::from(secs) * 1_000_000_000 + i64::from(frac) * scale;
    (Timestamp(ns), bad)
}

/// Reads a `u32` in the given byte order from the first 4 bytes of `b` (callers pass 4).
fn read_u32(b: &[u8], big_endian: bool) -> u32 {
    let mut x = [0u8; 4];
    for (d, s) in x.iter_mut().zip(b) {
        *d = *s;
    }
    if big_endian {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    }
}

/// Reports whether `b` could be the start of a supported magic (a file cut inside it).
fn is_magic_prefix(b: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a],
        [0x1f, 0x8b, 0x08, 0x00],
    ];
    MAGICS.iter().any(|m| m.starts_with(b))
}

/// Returns a short name for a pcapng block type, for error messages.
fn block_name(btype: u32) -> &'static str {
    match btype {
        SHB_MAGIC => "section header",
        IDB_MAGIC => "interface description",
        EPB_MAGIC => "enhanced packet",
        SPB_MAGIC => "simple packet",
        NRB_MAGIC => "name resolution",
        ISB_MAGIC => "interface statistics",
        _ => "pcapng",
    }
}

/// Describes a `pcap-parser` error without dumping the input bytes.
fn describe<I>(e: &pcap_parser::PcapError<I>) -> String {
    match e {
        pcap_parser::PcapError::NomError(_, kind) => format!("{kind:?} check failed"),
        pcap_parser::PcapError::OwnedNomError(_, kind) => format!("{kind:?} check failed"),
        pcap_parser::PcapError::HeaderNotRecognized => "header not recognized".into(),
        _ => "unreadable".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tcpdump `tests/LINKTYPE_IPV4.pcap`: one 57-byte IPv4/UDP/DNS frame, LINKTYPE_IPV4 (228).
    static LINKTYPE_IPV4: [u8; 97] = [
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0x00, 0x00, 0xe4, 0x00, 0x00, 0x00, 0x84, 0x5c, 0x6d, 0x68, 0xf5, 0x0b,
        0x09, 0x00, 0x39, 0x00, 0x00, 0x00, 0x39, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x39, 0x00,
        0x01, 0x00, 0x00, 0x40, 0x11, 0xa6, 0x95, 0xc0, 0xa8, 0x01, 0x64, 0x09, 0x09, 0x09, 0x09,
        0x30, 0x39, 0x00, 0x35, 0x00, 0x25, 0x19, 0x76, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63,
        0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];

    /// tcpdump `tests/empty.pcapng`: an SHB and one Ethernet IDB, no packets.
    static EMPTY_PCAPNG: [u8; 48] = [
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x14,
        0x00, 0x00, 0x00,
    ];

    fn reader(bytes: &[u8]) -> FileReader {
        FileReader::from_bytes(Path::new("t.pcap"), bytes.to_vec()).expect("header")
    }

    #[test]
    fn deconstruct_one_pcap_record() {
        let mut r = reader(&LINKTYPE_IPV4);
        assert_eq!(r.format(), Format::Pcap);
        assert_eq!(r.interfaces()[0].snaplen_bytes, 65535);
        let f = r.next_frame().expect("ok").expect("frame");
        assert_eq!(f.frame_no, 1);
        assert_eq!(f.link, LinkType::IPV4);
        // ts_sec 0x686d5c84 = 1751997572, ts_usec 0x00090bf5 = 592885
        assert_eq!(f.ts, Timestamp(1_751_997_572_592_885_000));
        assert_eq!(f.orig_len_bytes, 57);
        assert_eq!(f.data.len(), 57);
        assert_eq!(&f.data[..2], &[0x45, 0x00]);
        assert!(r.next_frame().expect("clean end").is_none());
        assert_eq!(r.position(), 97);
        assert_eq!(r.stats().captured_bytes, 57);
    }

    #[test]
    fn truncated_record_names_its_offset() {
        let mut r = reader(&LINKTYPE_IPV4[..60]);
        match r.next_frame() {
            Err(Error::Truncated { offset, what, .. }) => {
                assert_eq!(offset, 24);
                assert!(what.contains("frame 1"), "{what}");
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
        assert!(r.next_frame().expect("done").is_none());
        // Cut inside the 24-byte file header.
        assert!(matches!(
            FileReader::from_bytes(Path::new("t.pcap"), LINKTYPE_IPV4[..10].to_vec()),
            Err(Error::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn absurd_caplen_is_corrupt_not_allocated() {
        let mut bytes = LINKTYPE_IPV4;
        bytes[32..36].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let mut r = reader(&bytes);
        match r.next_frame() {
            Err(Error::Corrupt { offset, what, .. }) => {
                assert_eq!(offset, 24);
                assert!(what.contains("4294967280"), "{what}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn empty_pcapng_has_an_interface_and_no_frames() {
        let mut r = reader(&EMPTY_PCAPNG);
        assert_eq!(r.format(), Format::Pcapng);
        assert!(r.next_frame().expect("clean end").is_none());
        assert_eq!(
            r.interfaces(),
            &[Interface {
                name: None,
                link: LinkType::ETHERNET,
                section: 0,
                snaplen_bytes: 262_144,
            }]
        );
    }

    #[test]
    fn pcapng_block_length_must_match_its_trailer() {
        let mut bytes = EMPTY_PCAPNG;
        bytes[44] = 0x18; // IDB trailing length 20 -> 24
        let mut r = reader(&bytes);
        assert!(matches!(
            r.next_frame(),
            Err(Error::Corrupt { offset: 28, .. })
        ));
    }

    #[test]
    fn large_block_grows_a_small_buffer() {
        // rusticata/pcap-parser assets/err-buffertoosmall.pcapng: EPBs of 1540 bytes.
        let bytes = include_bytes!("../../fixtures/pcap-parser-err-buffertoosmall.pcapng");
        let src: Box<dyn Read + Send> = Box::new(Cursor::new(bytes.to_vec()));
        let mut r = FileReader::from_source(Path::new("b.pcapng"), src, 1024).expect("header");
        let mut n = 0;
        while let Some(f) = r.next_frame().expect("valid file") {
            n += 1;
            assert_eq!(f.frame_no, n);
        }
        assert_eq!(n, 27);
        assert!(r.input.capacity() >= 1540);
        assert_eq!(r.position(), bytes.len() as u64);
    }

    #[test]
    fn tsresol_units() {
        assert_eq!(units_per_second(6), Some(1_000_000));
        assert_eq!(units_per_second(9), Some(1_000_000_000));
        assert_eq!(units_per_second(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units_per_second(20), None);
        assert_eq!(units_per_second(0x80 | 10), Some(1024));
        assert_eq!(units_per_second(0x80 | 63), Some(1 << 63));
        assert_eq!(units_per_second(0x80 | 64), None);
    }

    #[test]
    fn ng_timestamps_apply_offset_and_clamp() {
        let micro = Clock {
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        // draft-ietf-opsawg-pcapng §4.6 example: 2012-06-29 07:28:25.298858 UTC.
        let (ts, bad) = ng_timestamp(0x0004_c397, 0x64ca_47aa, micro);
        assert_eq!((ts, bad), (Timestamp(1_340_954_905_298_858_000), false));
        let shifted = Clock {
            offset_secs: -1_340_954_905,
            ..micro
        };
        assert_eq!(
            ng_timestamp(0x0004_c397, 0x64ca_47aa, shifted).0,
            Timestamp(298_858_000)
        );
        let huge = Clock {
            units_per_sec: 1,
            offset_secs: 0,
        };
        assert_eq!(
            ng_timestamp(u32::MAX, u32::MAX, huge),
            (Timestamp(i64::MAX), true)
        );
    }

    #[test]
    fn pcap_fraction_overflow_is_clamped() {
        assert_eq!(
            pcap_timestamp(1, 999_999, false),
            (Timestamp(1_999_999_000), false)
        );
        assert_eq!(
            pcap_timestamp(1, 1_000_000, false),
            (Timestamp(1_999_999_000), true)
        );
        assert_eq!(
            pcap_timestamp(1, 1_000_000_000, true),
            (Timestamp(1_999_999_999), true)
        );
    }
}
