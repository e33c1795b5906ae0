//! The compiled intel database: the AS tables and IEEE registries, flattened and with
//! their Poptrie arrays, in one versioned binary file that loads in milliseconds instead
//! of re-parsing ~10 MB of gzip CSV.
//!
//! # File layout (format version 1, all integers little-endian)
//!
//! ```text
//!  0   magic       "CPINTEL\0"                      8 bytes
//!  8   version     u32 = 1
//! 12   meta_len    u32
//! 16   meta_crc    u32  CRC-32 (IEEE) of the meta JSON
//! 20   reserved    u32 = 0
//! 24   meta        JSON: snapshot dates, source names + SHA-256 + sizes, counts,
//!                  sections [{name, offset, len, crc32}]
//!  …   sections    each at a 16-byte aligned offset:
//!                  asn.names  asn.v4.spans  asn.v4.trie  asn.v6.spans  asn.v6.trie
//!                  oui.names  oui.assignments  oui.rows  oui.trie
//! ```
//!
//! Loading maps the file ([`memmap2`]), checks magic, version, the meta checksum, that
//! every section lies inside the file and matches its CRC-32, then copies the sections
//! into the owned tables, re-validating every trie index ([`super::lpm::Poptrie::from_parts`]).
//! A corrupt or truncated file is a [`DbError`] naming the file and what is wrong; no
//! input makes the loader panic or read out of bounds.
//!
//! Everything in a database is rebuilt from the text sources (`data/`, or the files
//! given): it carries no information of its own beyond the snapshot dates it is told.

mod mmap;

use super::lpm::{Key, Node, Poptrie};
use super::{AsnTable, Intel, OuiRegistry};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"CPINTEL\0";
const FIXED: usize = 24;

/// A database could not be read, or is not a valid one.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file could not be opened, mapped or written.
    #[error("{path}: {source}")]
    Io {
        /// File name.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the database magic.
    #[error("{path}: not a cleanpath intel database (bad magic)")]
    BadMagic {
        /// File name.
        path: String,
    },
    /// The file's format version is not the one this build reads.
    #[error(
        "{path}: unsupported database format version {found} (this cleanpath reads {FORMAT_VERSION}); rebuild it with `cleanpath db build`"
    )]
    Version {
        /// File name.
        path: String,
        /// Version found.
        found: u32,
    },
    /// The file ends before a part the header announces.
    #[error("{path}: truncated: {what} ends at byte {end}, file has {len} bytes")]
    Truncated {
        /// File name.
        path: String,
        /// Which part.
        what: String,
        /// Where it should end.
        end: u64,
        /// File length.
        len: u64,
    },
    /// A checksum does not match.
    #[error("{path}: {what} checksum mismatch (stored {stored:08x}, computed {computed:08x})")]
    Checksum {
        /// File name.
        path: String,
        /// Which part.
        what: String,
        /// Stored CRC-32.
        stored: u32,
        /// Computed CRC-32.
        computed: u32,
    },
    /// A part is present and intact but its content is inconsistent.
    #[error("{path}: {what} is corrupt: {why}")]
    Corrupt {
        /// File name.
        path: String,
        /// Which part.
        what: String,
        /// What is wrong.
        why: String,
    },
}

/// One text source a database was compiled from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// File name (as given, or `data/…` for the bundled files).
    pub name: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// File size in bytes.
    pub bytes: u64,
}

/// Where a section lies in the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SectionInfo {
    /// Section name.
    pub name: String,
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// CRC-32 (IEEE) of the section's bytes.
    pub crc32: u32,
}

/// The database header (stored as JSON after the fixed part).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// Date of the routing data (IP → AS), `YYYY-MM-DD`, or `unknown`.
    pub snapshot: String,
    /// Date of the IEEE registries, `YYYY-MM-DD`, or `unknown`.
    pub ieee_snapshot: String,
    /// cleanpath version that wrote the file.
    pub writer: String,
    /// The text sources, in load order.
    pub sources: Vec<SourceInfo>,
    /// IPv4 ranges, IPv6 ranges, (AS, org) pairs, IEEE assignments.
    pub counts: Counts,
    /// The sections.
    pub sections: Vec<SectionInfo>,
}

/// Table sizes recorded in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// IPv4 ranges.
    pub v4_ranges: u64,
    /// IPv6 ranges.
    pub v6_ranges: u64,
    /// Distinct (ASN, organisation) pairs.
    pub as_names: u64,
    /// IEEE assignments (rows, duplicates included).
    pub ieee_assignments: u64,
}

/// A text source to compile: its name and bytes (gzip or plain CSV).
#[derive(Debug, Clone)]
pub struct Source {
    /// Name used in errors and in the header.
    pub name: String,
    /// File content.
    pub bytes: std::borrow::Cow<'static, [u8]>,
}

impl Source {
    /// Reads a source file.
    ///
    /// # Errors
    /// [`DbError::Io`] if it cannot be read.
    pub fn read(path: &Path) -> Result<Self, DbError> {
        let bytes = std::fs::read(path).map_err(|source| DbError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self {
            name: path.display().to_string(),
            bytes: bytes.into(),
        })
    }

    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.name.clone(),
            sha256: crate::digest::sha256_hex(&self.bytes),
            bytes: self.bytes.len() as u64,
        }
    }
}

/// What a database is compiled from: AS tables and IEEE registries.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `start_ip,end_ip,asn,org` CSV files, in load order.
    pub asn: Vec<Source>,
    /// IEEE registry CSVs (`oui`, `mam`, `oui36`, `iab`), in load order.
    pub ieee: Vec<Source>,
    /// Date of the routing data (`YYYY-MM-DD`) or `unknown`.
    pub snapshot: String,
    /// Date of the IEEE data or `unknown`.
    pub ieee_snapshot: String,
}

impl Sources {
    /// The tables bundled in `data/` (compiled into the binary), with their dates from
    /// `data/README.md`.
    pub fn bundled() -> Self {
        let src = |(name, bytes): (&str, &'static [u8])| Source {
            name: name.to_string(),
            bytes: bytes.into(),
        };
        Self {
            asn: super::asn::BUNDLED.into_iter().map(src).collect(),
            ieee: super::oui::BUNDLED.into_iter().map(src).collect(),
            snapshot: super::asn::BUNDLED_SNAPSHOT.to_string(),
            ieee_snapshot: super::oui::BUNDLED_SNAPSHOT.to_string(),
        }
    }

    /// The header's source list (names, SHA-256, sizes).
    pub fn infos(&self) -> Vec<SourceInfo> {
        self.asn
            .iter()
            .chain(&self.ieee)
            .map(Source::info)
            .collect()
    }

    /// A key naming these sources and this format: 16 hex digits of the SHA-256 over
    /// the sources' hashes, their dates and the format version. Used to name cached
    /// databases, so that a changed source gives a new file.
    pub fn cache_key(&self) -> String {
        let mut h = sha2::Sha256::new();
        h.update(FORMAT_VERSION.to_le_bytes());
        for s in self.infos() {
            h.update(s.name.as_bytes());
            h.update([0]);
            h.update(s.sha256.as_bytes());
        }
        h.update(self.snapshot.as_bytes());
        h.update([0]);
        h.update(self.ieee_snapshot.as_bytes());
        crate::digest::hex(&h.finalize()[..8])
    }

    /// Parses the sources into tables.
    ///
    /// # Errors
    /// [`super::LoadError`] naming the file and line of the first bad row.
    pub fn parse(&self) -> Result<Intel, super::LoadError> {
        let mut asn = AsnTable::default();
        for s in &self.asn {
            asn.add_csv(&s.name, super::decompress(&s.bytes))?;
        }
        let mut oui = OuiRegistry::default();
        for s in &self.ieee {
            oui.add_csv(&s.name, super::decompress(&s.bytes))?;
        }
        Ok(Intel { asn, oui })
    }
}

/// Appends named sections, then writes the whole file.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    sections: Vec<(String, Vec<u8>)>,
}

impl Writer {
    /// Adds a section.
    pub(crate) fn section(&mut self, name: &str, bytes: Vec<u8>) {
        self.sections.push((name.to_string(), bytes));
    }

    /// Adds a trie as a section: `top_bits, n_direct, n_nodes, n_leaves` (u32 each),
    /// then the direct table, the nodes (`vector u64, leafvec u64, base0 u32, base1
    /// u32`) and the leaves.
    pub(crate) fn trie<K: Key>(&mut self, name: &str, t: &Poptrie<K>) {
        let mut b = Vec::with_capacity(t.memory_bytes() + 16);
        for n in [
            t.top_bits(),
            t.direct().len() as u32,
            t.nodes().len() as u32,
            t.leaves().len() as u32,
        ] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        for &d in t.direct() {
            b.extend_from_slice(&d.to_le_bytes());
        }
        for n in t.nodes() {
            b.extend_from_slice(&n.vector.to_le_bytes());
            b.extend_from_slice(&n.leafvec.to_le_bytes());
            b.extend_from_slice(&n.base0.to_le_bytes());
            b.extend_from_slice(&n.base1.to_le_bytes());
        }
        for &l in t.leaves() {
            b.extend_from_slice(&l.to_le_bytes());
        }
        self.section(name, b);
    }

    fn finish(self, mut meta: Meta) -> (Vec<u8>, Meta) {
        // Offsets depend on the meta length, which depends on the offsets: lay out with
        // a provisional meta, then pad the meta to the length the offsets assumed.
        let align = |x: usize| x.div_ceil(16) * 16;
        let mut meta_len = 0;
        loop {
            let mut at = align(FIXED + meta_len);
            meta.sections = self
                .sections
                .iter()
                .map(|(name, b)| {
                    let s = SectionInfo {
                        name: name.clone(),
                        offset: at as u64,
                        len: b.len() as u64,
                        crc32: crc32fast::hash(b),
                    };
                    at = align(at + b.len());
                    s
                })
                .collect();
            let json = serde_json::to_vec(&meta).unwrap_or_default();
            if json.len() <= meta_len {
                let mut json = json;
                json.resize(meta_len, b' ');
                let mut out = Vec::with_capacity(at);
                out.extend_from_slice(MAGIC);
                out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
                out.extend_from_slice(&(meta_len as u32).to_le_bytes());
                out.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
                out.extend_from_slice(&json);
                for (s, (_, b)) in meta.sections.iter().zip(&self.sections) {
                    out.resize(s.offset as usize, 0);
                    out.extend_from_slice(b);
                }
                out.resize(align(out.len()), 0);
                return (out, meta);
            }
            meta_len = json.len() + 64;
        }
    }
}

/// Reads the sections of a mapped, checked file.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    path: String,
    bytes: &'a [u8],
    meta: Meta,
}

impl<'a> Reader<'a> {
    /// The bytes of section `name`.
    pub(crate) fn section(&self, name: &str) -> Result<&'a [u8], DbError> {
        let s = self
            .meta
            .sections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| self.corrupt("header", format!("section `{name}` is missing")))?;
        // Bounds and checksum were checked when the file was opened.
        Ok(self
            .bytes
            .get(s.offset as usize..(s.offset + s.len) as usize)
            .unwrap_or_default())
    }

    /// A [`DbError::Corrupt`] for `what`.
    pub(crate) fn corrupt(&self, what: &str, why: String) -> DbError {
        DbError::Corrupt {
            path: self.path.clone(),
            what: what.to_string(),
            why,
        }
    }

    /// Reads a trie section written by [`Writer::trie`].
    pub(crate) fn trie<K: Key>(&self, name: &str) -> Result<Poptrie<K>, DbError> {
        let b = self.section(name)?;
        let what = format!("section `{name}`");
        let head = u32s(
            b.get(..16)
                .ok_or_else(|| self.corrupt(&what, "shorter than its 16-byte header".into()))?,
        );
        let [top, nd, nn, nl] = [0, 1, 2, 3].map(|i| head.get(i).copied().unwrap_or(0) as usize);
        let need = 16 + nd * 4 + nn * 24 + nl * 4;
        if b.len() != need {
            return Err(self.corrupt(
                &what,
                format!(
                    "{} bytes, its counts ({nd} direct, {nn} nodes, {nl} leaves) need {need}",
                    b.len()
                ),
            ));
        }
        let mut at = 16;
        let mut take = |n: usize| {
            let s = b.get(at..at + n).unwrap_or_default();
            at += n;
            s
        };
        let direct = u32s(take(nd * 4));
        let nodes = take(nn * 24)
            .chunks_exact(24)
            .map(|c| {
                let u64_at =
                    |i: usize| u64::from_le_bytes(c[i..i + 8].try_into().unwrap_or_default());
                let u32_at =
                    |i: usize| u32::from_le_bytes(c[i..i + 4].try_into().unwrap_or_default());
                Node {
                    vector: u64_at(0),
                    leafvec: u64_at(8),
                    base0: u32_at(16),
                    base1: u32_at(20),
                }
            })
            .collect();
        let leaves = u32s(take(nl * 4));
        Poptrie::from_parts(top as u32, direct, nodes, leaves)
            .map_err(|e| self.corrupt(&what, e.to_string()))
    }
}

/// The little-endian u32 at byte `at` of `b` (0 past the end; callers check lengths).
#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// Little-endian u32s of `b` (a trailing partial word is ignored).
pub(crate) fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A loaded database: the tables and the header they came with.
#[derive(Debug)]
pub struct Db {
    /// The tables.
    pub intel: Intel,
    /// The header.
    pub meta: Meta,
}

impl Db {
    /// Compiles `sources` into database bytes.
    ///
    /// # Errors
    /// [`super::LoadError`] naming the file and line of the first bad row.
    pub fn compile(sources: &Sources) -> Result<(Vec<u8>, Db), super::LoadError> {
        let intel = sources.parse()?;
        let (bytes, meta) = Self::encode(&intel, sources);
        Ok((bytes, Db { intel, meta }))
    }

    /// Encodes tables parsed from `sources`; returns the bytes and their header.
    pub fn encode(intel: &Intel, sources: &Sources) -> (Vec<u8>, Meta) {
        let mut w = Writer::default();
        intel.asn.write_sections(&mut w);
        intel.oui.write_sections(&mut w);
        let (v4, v6) = intel.asn.len();
        let meta = Meta {
            snapshot: sources.snapshot.clone(),
            ieee_snapshot: sources.ieee_snapshot.clone(),
            writer: format!("cleanpath {}", env!("CARGO_PKG_VERSION")),
            sources: sources.infos(),
            counts: Counts {
                v4_ranges: v4 as u64,
                v6_ranges: v6 as u64,
                as_names: intel.asn.names_len() as u64,
                ieee_assignments: intel.oui.len() as u64,
            },
            sections: Vec::new(),
        };
        w.finish(meta)
    }

    /// Loads and validates a database file.
    ///
    /// # Errors
    /// [`DbError`] naming the file and the first problem found.
    pub fn load(path: &Path) -> Result<Self, DbError> {
        let name = path.display().to_string();
        let io = |source| DbError::Io {
            path: name.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let map = mmap::map(&file).map_err(io)?;
        Self::from_bytes(&name, &map)
    }

    /// Validates and decodes database bytes; `name` is used in errors.
    ///
    /// # Errors
    /// [`DbError`] naming `name` and the first problem found.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, DbError> {
        let path = name.to_string();
        let len = bytes.len() as u64;
        let truncated = |what: &str, end: u64| DbError::Truncated {
            path: path.clone(),
            what: what.to_string(),
            end,
            len,
        };
        if bytes.len() < MAGIC.len() || !bytes.starts_with(MAGIC) {
            return Err(if MAGIC.starts_with(bytes) && !bytes.is_empty() {
                truncated("the fixed header", FIXED as u64)
            } else {
                DbError::BadMagic { path }
            });
        }
        let fixed = bytes
            .get(..FIXED)
            .ok_or_else(|| truncated("the fixed header", FIXED as u64))?;
        let [_, _, version, meta_len, meta_crc, _] = {
            let w = u32s(fixed);
            [0, 1, 2, 3, 4, 5].map(|i| w.get(i).copied().unwrap_or(0))
        };
        if version != FORMAT_VERSION {
            return Err(DbError::Version {
                path,
                found: version,
            });
        }
        let meta_end = FIXED as u64 + u64::from(meta_len);
        let json = bytes
            .get(FIXED..meta_end as usize)
            .ok_or_else(|| truncated("the header", meta_end))?;
        let computed = crc32fast::hash(json);
        if computed != meta_crc {
            return Err(DbError::Checksum {
                path,
                what: "header".into(),
                stored: meta_crc,
                computed,
            });
        }
        let meta: Meta = serde_json::from_slice(json).map_err(|e| DbError::Corrupt {
            path: path.clone(),
            what: "header".into(),
            why: e.to_string(),
        })?;
        for s in &meta.sections {
            let what = format!("section `{}`", s.name);
            let end = s.offset.saturating_add(s.len);
            let b = bytes
                .get(s.offset as usize..end.min(usize::MAX as u64) as usize)
                .ok_or_else(|| truncated(&what, end))?;
            let computed = crc32fast::hash(b);
            if computed != s.crc32 {
                return Err(DbError::Checksum {
                    path,
                    what,
                    stored: s.crc32,
                    computed,
                });
            }
        }
        let r = Reader {
            path: path.clone(),
            bytes,
            meta,
        };
        let asn = AsnTable::read_sections(&r)?;
        let oui = OuiRegistry::read_sections(&r)?;
        Ok(Self {
            intel: Intel { asn, oui },
            meta: r.meta,
        })
    }
}

/// The directory for cached databases: `$XDG_CACHE_HOME/cleanpath`, else
/// `$HOME/.cache/cleanpath`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("cleanpath"))
}

/// The cache file for `sources`: `<cache dir>/intel-<key>.cpdb`.
pub fn cache_path(sources: &Sources) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("intel-{}.cpdb", sources.cache_key())))
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, then
/// rename), creating the directory.
///
/// # Errors
/// [`DbError::Io`] naming the file that could not be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| DbError::Io { path: p, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
