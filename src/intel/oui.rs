//! MAC → IEEE registrant, from the IEEE Registration Authority's public listings
//! (`oui.csv` MA-L, `mam.csv` MA-M, `oui36.csv` MA-S, `iab.csv` IAB; CSV per RFC 4180,
//! header `Registry,Assignment,Organization Name,Organization Address`). Address bits
//! per IEEE Std 802-2014 §8.2: the I/G bit (LSB of the first octet) marks group
//! addresses, the U/L bit (next bit) locally administered ones.
//!
//! # Layout
//!
//! ```text
//!  mac ─► I/G set? ─► Group
//!         U/L set? ─► Local
//!         Poptrie (lpm) over /24 MA-L, /28 MA-M, /36 MA-S and IAB prefixes
//!           ─► assignment id ─► Registered { registry, bits, org }
//!           ─► none          ─► Unregistered
//! ```
//!
//! Longest prefix first matters: IEEE carves MA-M/MA-S/IAB blocks out of MA-L blocks it
//! registers to itself (`00:50:C2` and `70:B3:D5` are "IEEE Registration Authority").
//! The trie ([`super::lpm`], 48-bit MACs left-aligned in `u64`) gives the longest in
//! one walk.
//! Organisation names are interned and trimmed of surrounding whitespace (the IEEE
//! files carry trailing spaces and tabs). When the same assignment is listed twice (the
//! 2022 MA-L file lists `080030` three times and `0001C8` twice, for historical
//! co-registrants), the first row wins the lookup; every row still counts in
//! [`OuiRegistry::len`]. "Private" rows are registered assignments whose owner asked
//! IEEE not to publish its name: they resolve to org "Private".

use super::lpm::{Builder, Poptrie, mac_key};
use super::{LineCounter, LoadError, csv_error, line_at, open_table, record_line};
use crate::decode::Mac;
use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::io::Read;
use std::path::Path;

/// Date of the bundled IEEE registries (`data/README.md`).
pub(super) const BUNDLED_SNAPSHOT: &str = "2022-08-27";

/// The bundled registries: file name used in errors, gzip bytes.
pub(super) static BUNDLED: [(&str, &[u8]); 4] = [
    (
        "data/ieee/oui.csv.gz",
        include_bytes!("../../data/ieee/oui.csv.gz"),
    ),
    (
        "data/ieee/mam.csv.gz",
        include_bytes!("../../data/ieee/mam.csv.gz"),
    ),
    (
        "data/ieee/oui36.csv.gz",
        include_bytes!("../../data/ieee/oui36.csv.gz"),
    ),
    (
        "data/ieee/iab.csv.gz",
        include_bytes!("../../data/ieee/iab.csv.gz"),
    ),
];

/// The IEEE registry an assignment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Registry {
    /// MA-L, 24-bit prefix (the classic OUI).
    #[serde(rename = "MA-L")]
    MaL,
    /// MA-M, 28-bit prefix.
    #[serde(rename = "MA-M")]
    MaM,
    /// MA-S, 36-bit prefix.
    #[serde(rename = "MA-S")]
    MaS,
    /// IAB, 36-bit prefix (legacy).
    #[serde(rename = "IAB")]
    Iab,
}

impl std::fmt::Display for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Registry::MaL => "MA-L",
            Registry::MaM => "MA-M",
            Registry::MaS => "MA-S",
            Registry::Iab => "IAB",
        })
    }
}

impl Registry {
    /// Parses the `Registry` column (`MA-L`, `MA-M`, `MA-S`, `IAB`).
    fn parse(s: &str) -> Option<Self> {
        match s {
            "MA-L" => Some(Self::MaL),
            "MA-M" => Some(Self::MaM),
            "MA-S" => Some(Self::MaS),
            "IAB" => Some(Self::Iab),
            _ => None,
        }
    }

    /// Returns a dense index (0..4) for per-registry counters.
    fn index(self) -> usize {
        match self {
            Self::MaL => 0,
            Self::MaM => 1,
            Self::MaS => 2,
            Self::Iab => 3,
        }
    }

    /// Returns the prefix length in bits of this registry's assignments.
    pub fn prefix_bits(self) -> u8 {
        match self {
            Self::MaL => 24,
            Self::MaM => 28,
            Self::MaS | Self::Iab => 36,
        }
    }
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

/// One assignment: its registry, prefix and the index of its registrant in `names`.
#[derive(Debug, Clone, Copy)]
struct Assignment {
    registry: Registry,
    /// Prefix value (the top `registry.prefix_bits()` bits of the MAC).
    key: u64,
    name: u32,
}

/// Bits resolved by the MAC trie's direct table.
const MAC_TOP_BITS: u32 = 16;

/// The IEEE MA-L, MA-M, MA-S and IAB registries.
#[derive(Default)]
pub struct OuiRegistry {
    /// Distinct assignments, first listing of each.
    assignments: Vec<Assignment>,
    /// (prefix bits, prefix value) → index in `assignments`.
    seen: HashMap<(u8, u64), u32>,
    /// MAC → index in `assignments` (rebuilt after every load).
    trie: Option<Poptrie<u64>>,
    /// Interned registrant names.
    names: Vec<Box<str>>,
    /// Name → index in `names`.
    name_ids: HashMap<Box<str>, u32>,
    /// Rows loaded per registry (MA-L, MA-M, MA-S, IAB), duplicates included.
    rows: [usize; 4],
}

impl std::fmt::Debug for OuiRegistry {
    /// Summarises the registry (counts only).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OuiRegistry")
            .field("ma_l", &self.count(Registry::MaL))
            .field("ma_m", &self.count(Registry::MaM))
            .field("ma_s", &self.count(Registry::MaS))
            .field("iab", &self.count(Registry::Iab))
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl OuiRegistry {
    /// Loads the registries bundled in `data/ieee/`.
    ///
    /// # Errors
    /// Only if the bundled data is corrupt.
    pub fn bundled() -> Result<Self, LoadError> {
        let mut reg = Self::default();
        for (name, bytes) in BUNDLED {
            reg.add_csv(name, flate2::read::GzDecoder::new(bytes))?;
        }
        Ok(reg)
    }

    /// Loads `oui.csv`, `mam.csv`, `oui36.csv` and `iab.csv` (each optionally `.gz`) from `dir`.
    ///
    /// All four must be present (as `X.csv` or `X.csv.gz`; `X.csv` is preferred); gzip
    /// is detected by magic, not by name.
    ///
    /// # Errors
    /// [`LoadError`] naming the file and line of the first bad row.
    pub fn from_dir(dir: &Path) -> Result<Self, LoadError> {
        let mut reg = Self::default();
        for stem in ["oui", "mam", "oui36", "iab"] {
            let plain = dir.join(format!("{stem}.csv"));
            let gz = dir.join(format!("{stem}.csv.gz"));
            let path = if !plain.exists() && gz.exists() {
                gz
            } else {
                plain
            };
            reg.add_csv(&path.display().to_string(), open_table(&path)?)?;
        }
        Ok(reg)
    }

    /// Adds the rows of one IEEE CSV stream (`Registry,Assignment,Organization Name,…`).
    ///
    /// The header row is required. Each row's registry must be `MA-L`, `MA-M`, `MA-S`
    /// or `IAB` and its assignment 6, 7 or 9 hex digits to match. On error the registry
    /// is left unchanged.
    ///
    /// # Errors
    /// [`LoadError::Row`] naming `name` and the line of the first bad row.
    pub fn add_csv<R: Read>(&mut self, name: &str, reader: R) -> Result<(), LoadError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(LineCounter::new(reader));
        let row_err = |line: u64, what: String| LoadError::Row {
            path: name.to_string(),
            line,
            what,
        };
        let header = rdr.headers().map_err(|e| csv_error(name, 1, &e))?;
        let want = ["Registry", "Assignment", "Organization Name"];
        if header.len() < 3 || header.iter().zip(want).any(|(h, w)| h.trim() != w) {
            return Err(row_err(
                1,
                format!(
                    "expected header `Registry,Assignment,Organization Name,Organization Address`, found `{}`",
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        let mut rows = Vec::new();
        let mut rec = csv::StringRecord::new();
        loop {
            let start = rdr.position().byte();
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(csv_error(name, line_at(&mut rdr, start), &e)),
            }
            let line = record_line(&mut rdr, rec.as_slice().matches('\n').count());
            rows.push(parse_row(&rec).map_err(|what| row_err(line, what))?);
        }
        for (registry, key, org) in rows {
            let name = self.intern(&org);
            let id = u32::try_from(self.assignments.len()).unwrap_or(u32::MAX);
            if let MapEntry::Vacant(v) = self.seen.entry((registry.prefix_bits(), key)) {
                v.insert(id);
                self.assignments.push(Assignment {
                    registry,
                    key,
                    name,
                });
            }
            self.rows[registry.index()] += 1;
        }
        self.index();
        Ok(())
    }

    /// Rebuilds the trie over all assignments (value id = index in `assignments`).
    fn index(&mut self) {
        let mut b = Builder::<u64>::new(MAC_TOP_BITS);
        for (a, id) in self.assignments.iter().zip(0u32..) {
            let bits = a.registry.prefix_bits();
            // Assignments are at most one per CSV row held in memory: far below the
            // trie's 2^31 value limit, and prefixes are at most 36 bits.
            let _ = b.insert(mac_key(a.key << (48 - u32::from(bits))), bits, id);
        }
        self.trie = Some(b.build());
    }

    fn intern(&mut self, org: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(org) {
            return id;
        }
        // Names are at most one per row, so fewer than the rows held in memory.
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(org.into());
        self.name_ids.insert(org.into(), id);
        id
    }

    /// Classifies `mac`: group, local, registered (longest prefix) or unregistered.
    pub fn lookup(&self, mac: Mac) -> MacInfo<'_> {
        if mac.is_group() {
            return MacInfo::Group;
        }
        if mac.is_local() {
            return MacInfo::Local;
        }
        let hit = self
            .trie
            .as_ref()
            .and_then(|t| t.lookup(mac_key(mac.to_u64())))
            .and_then(|id| self.assignments.get(id as usize));
        match hit {
            Some(a) => MacInfo::Registered {
                registry: a.registry,
                prefix_bits: a.registry.prefix_bits(),
                org: self.names.get(a.name as usize).map_or("", |n| n),
            },
            None => MacInfo::Unregistered,
        }
    }

    /// Returns the number of assignments loaded.
    pub fn len(&self) -> usize {
        self.rows.iter().sum()
    }

    /// Reports whether no assignment is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the number of assignments loaded from `registry` (duplicates included).
    pub fn count(&self, registry: Registry) -> usize {
        self.rows[registry.index()]
    }
}

impl OuiRegistry {
    /// Writes names, assignments, row counts and the trie as database sections.
    pub(super) fn write_sections(&self, w: &mut super::db::Writer) {
        let mut names = Vec::new();
        names.extend_from_slice(&(self.names.len() as u32).to_le_bytes());
        for n in &self.names {
            names.extend_from_slice(&(n.len() as u32).to_le_bytes());
            names.extend_from_slice(n.as_bytes());
        }
        w.section("oui.names", names);
        let mut a = Vec::with_capacity(self.assignments.len() * 16);
        for x in &self.assignments {
            a.extend_from_slice(&(x.registry.index() as u32).to_le_bytes());
            a.extend_from_slice(&x.name.to_le_bytes());
            a.extend_from_slice(&x.key.to_le_bytes());
        }
        w.section("oui.assignments", a);
        let rows: Vec<u8> = self
            .rows
            .iter()
            .flat_map(|&r| (r as u64).to_le_bytes())
            .collect();
        w.section("oui.rows", rows);
        if let Some(t) = &self.trie {
            w.trie("oui.trie", t);
        }
    }

    /// Reads the sections written by [`Self::write_sections`], checking every index.
    pub(super) fn read_sections(r: &super::db::Reader<'_>) -> Result<Self, super::db::DbError> {
        let b = r.section("oui.names")?;
        let bad = |what: &str, why: &str| r.corrupt(&format!("section `{what}`"), why.to_string());
        let count = super::db::u32s(b.get(..4).ok_or_else(|| bad("oui.names", "empty"))?)[0];
        let mut reg = Self::default();
        let mut at = 4;
        for _ in 0..count {
            let len = super::db::u32_at(
                b.get(at..at + 4)
                    .ok_or_else(|| bad("oui.names", "ends inside a name"))?,
                0,
            ) as usize;
            let name = b
                .get(at + 4..at + 4 + len)
                .ok_or_else(|| bad("oui.names", "ends inside a name"))?;
            let name =
                std::str::from_utf8(name).map_err(|_| bad("oui.names", "a name is not UTF-8"))?;
            reg.intern(name);
            at += 4 + len;
        }
        if reg.names.len() != count as usize {
            return Err(bad("oui.names", "a name is listed twice"));
        }
        let registries = [Registry::MaL, Registry::MaM, Registry::MaS, Registry::Iab];
        let a = r.section("oui.assignments")?;
        for c in a.chunks_exact(16) {
            let w = [super::db::u32_at(c, 0), super::db::u32_at(c, 4)];
            let registry = *registries
                .get(w[0] as usize)
                .ok_or_else(|| bad("oui.assignments", "unknown registry"))?;
            let key = u64::from_le_bytes(c[8..16].try_into().unwrap_or_default());
            if w[1] >= count || key >> registry.prefix_bits() != 0 {
                return Err(bad(
                    "oui.assignments",
                    "an assignment names a missing registrant or is too wide",
                ));
            }
            let id = reg.assignments.len() as u32;
            reg.seen.insert((registry.prefix_bits(), key), id);
            reg.assignments.push(Assignment {
                registry,
                key,
                name: w[1],
            });
        }
        let rows = r.section("oui.rows")?;
        if rows.len() != 32 || a.len() % 16 != 0 {
            return Err(bad("oui.rows", "wrong size"));
        }
        for (slot, c) in reg.rows.iter_mut().zip(rows.chunks_exact(8)) {
            *slot = u64::from_le_bytes(c.try_into().unwrap_or_default()) as usize;
        }
        let trie: Poptrie<u64> = r.trie("oui.trie")?;
        if trie
            .leaves()
            .iter()
            .any(|&l| l as usize > reg.assignments.len())
        {
            return Err(bad("oui.trie", "a leaf names a missing assignment"));
        }
        reg.trie = Some(trie);
        Ok(reg)
    }
}

/// Parses one data row into (registry, prefix value, trimmed org name).
fn parse_row(rec: &csv::StringRecord) -> Result<(Registry, u64, String), String> {
    let (Some(reg), Some(hex), Some(org)) = (rec.get(0), rec.get(1), rec.get(2)) else {
        return Err(format!(
            "expected 4 fields (Registry,Assignment,Organization Name,Organization Address), found {}",
            rec.len()
        ));
    };
    let registry = Registry::parse(reg.trim())
        .ok_or_else(|| format!("unknown registry `{reg}` (expected MA-L, MA-M, MA-S or IAB)"))?;
    let hex = hex.trim();
    let digits = usize::from(registry.prefix_bits() / 4);
    if hex.len() != digits || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "bad {reg} assignment `{hex}`: expected {digits} hex digits"
        ));
    }
    let key = u64::from_str_radix(hex, 16).map_err(|e| format!("bad assignment `{hex}`: {e}"))?;
    Ok((registry, key, org.trim().to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // clippy.toml's allow-unwrap-in-tests is not set up yet
mod tests {
    use super::*;

    const HEADER: &str = "Registry,Assignment,Organization Name,Organization Address\n";

    fn reg(rows: &str) -> OuiRegistry {
        let mut r = OuiRegistry::default();
        r.add_csv("t.csv", format!("{HEADER}{rows}").as_bytes())
            .unwrap();
        r
    }

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_and_classes() {
        // Rows as in the 2022 IEEE files (0050C2 is IEEE's own block carved into IABs).
        let r = reg(
            "MA-L,0050C2,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \n\
                     IAB,0050C27D5,DEUTA-WERKE GmbH,\"Paffrather Str. 140\nBergisch Gladbach\"\n\
                     MA-M,741AE09,Private,\n\
                     MA-L,00E0FC,\"HUAWEI TECHNOLOGIES CO.,LTD\",\"No.2 Xin Cheng Road\"\n",
        );
        assert_eq!(r.len(), 4);
        assert_eq!(
            r.lookup(mac("00:50:c2:7d:5a:bc")),
            MacInfo::Registered {
                registry: Registry::Iab,
                prefix_bits: 36,
                org: "DEUTA-WERKE GmbH"
            }
        );
        assert_eq!(
            r.lookup(mac("00:50:c2:7d:6a:bc")),
            MacInfo::Registered {
                registry: Registry::MaL,
                prefix_bits: 24,
                org: "IEEE Registration Authority"
            }
        );
        assert_eq!(
            r.lookup(mac("74:1a:e0:9f:ff:ff")),
            MacInfo::Registered {
                registry: Registry::MaM,
                prefix_bits: 28,
                org: "Private"
            }
        );
        assert_eq!(r.lookup(mac("74:1a:e0:a0:00:00")), MacInfo::Unregistered);
        assert_eq!(r.lookup(mac("ff:ff:ff:ff:ff:ff")), MacInfo::Group);
        assert_eq!(r.lookup(mac("01:e0:fc:00:00:01")), MacInfo::Group);
        assert_eq!(r.lookup(mac("02:e0:fc:00:00:01")), MacInfo::Local);
        assert_eq!(r.count(Registry::Iab), 1);
        assert_eq!(r.count(Registry::MaS), 0);
    }

    #[test]
    fn duplicate_assignment_first_wins() {
        let r = reg("MA-L,080030,NETWORK RESEARCH CORPORATION,x\n\
                     MA-L,080030,ROYAL MELBOURNE INST OF TECH,y\n");
        assert_eq!(r.len(), 2);
        let MacInfo::Registered { org, .. } = r.lookup(mac("08:00:30:00:00:01")) else {
            panic!("not registered");
        };
        assert_eq!(org, "NETWORK RESEARCH CORPORATION");
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let cases = [
            (
                "Reg,Assignment,Organization Name\n",
                "t.csv:1: expected header `Registry,Assignment,Organization Name,Organization Address`, found `Reg,Assignment,Organization Name`",
            ),
            (
                "MA-L,00E0FC,\"a\nb\",c\nMA-X,00E0FD,x,y\n",
                "t.csv:4: unknown registry `MA-X` (expected MA-L, MA-M, MA-S or IAB)",
            ),
            (
                "MA-M,00E0FC,x,y\n",
                "t.csv:2: bad MA-M assignment `00E0FC`: expected 7 hex digits",
            ),
            (
                "IAB,0050C27DZ,x,y\n",
                "t.csv:2: bad IAB assignment `0050C27DZ`: expected 9 hex digits",
            ),
            (
                "MA-L,00E0FC\n",
                "t.csv:2: expected 4 fields (Registry,Assignment,Organization Name,Organization Address), found 2",
            ),
        ];
        for (body, want) in cases {
            let text = if body.starts_with("Reg,") {
                body.to_string()
            } else {
                format!("{HEADER}{body}")
            };
            let mut r = OuiRegistry::default();
            let err = r.add_csv("t.csv", text.as_bytes()).unwrap_err();
            assert_eq!(err.to_string(), want);
            assert!(r.is_empty());
        }
    }
}
