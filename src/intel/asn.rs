//! IP → origin AS, from ip-location-db's `asn-ipv4.csv` / `asn-ipv6.csv` (CSV per
//! RFC 4180 §2, no header: `start_ip,end_ip,asn,org`, inclusive ranges; provenance and
//! caveats in `data/README.md`).
//!
//! # Layout
//!
//! ```text
//!  ip ─► Poptrie (lpm) ─► span id ─► v4: [ Span<u32>  { start, end, name } ]  sorted,
//!                                   v6: [ Span<u128> { start, end, name } ]  disjoint
//!                                                              │
//!  names: [ (Asn, org) ] ◄──────────────────────────────────────┘  one per (ASN, org)
//! ```
//!
//! A lookup is one [`Poptrie`] walk (see [`super::lpm`]) to the index of the span that
//! covers the address; the span keeps the range exactly as loaded (or the piece of it
//! left after flattening), so [`AsnMatch::first`]/[`AsnMatch::last`] are exact. Org
//! names are interned: the bundled data has ~515k ranges but only ~91k distinct
//! (ASN, org) pairs, so each range costs 12 (v4) or 48 (v6) bytes and no allocation,
//! plus the trie.
//!
//! # Invariants
//!
//! After every [`AsnTable::add_csv`] both range lists are sorted and disjoint. Input
//! ranges may overlap (the bundled IPv4 file has one such pair, see `data/README.md`):
//! they are flattened so that inside any overlap the *narrowest* covering range wins
//! (the more specific announcement, as in longest-prefix match), and the wider range
//! keeps the addresses outside it, possibly split in two. Between ranges of equal width
//! the one loaded last wins. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are looked
//! up as IPv4.

use super::db;
use super::lpm::{Key, Poptrie};
use super::{Asn, LineCounter, LoadError, csv_error, line_at, open_table, record_line};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The bundled ip-location-db tables: file name used in errors, gzip bytes.
pub(super) static BUNDLED: [(&str, &[u8]); 2] = [
    (
        "data/asn-ipv4.csv.gz",
        include_bytes!("../../data/asn-ipv4.csv.gz"),
    ),
    (
        "data/asn-ipv6.csv.gz",
        include_bytes!("../../data/asn-ipv6.csv.gz"),
    ),
];

/// Data build date of the bundled tables (`data/README.md`).
pub(super) const BUNDLED_SNAPSHOT: &str = "2026-06-17";

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

/// One inclusive address range and the index of its (ASN, org) pair in `names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span<T> {
    start: T,
    end: T,
    name: u32,
}

/// An address as an unsigned integer (`u32` for IPv4, `u128` for IPv6).
trait Addr: Copy + Ord + std::hash::Hash + Key {
    /// Bits resolved by the trie's direct table for this family.
    const TOP_BITS: u32;
    /// The next address, `None` at the top of the family.
    fn succ(self) -> Option<Self>;
    /// The previous address (saturating at zero).
    fn pred(self) -> Self;
    /// The address widened to `u128`, for range widths.
    fn wide(self) -> u128;
}

impl Addr for u32 {
    const TOP_BITS: u32 = 18;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Self {
        self.saturating_sub(1)
    }
    fn wide(self) -> u128 {
        u128::from(self)
    }
}

impl Addr for u128 {
    const TOP_BITS: u32 = 16;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Self {
        self.saturating_sub(1)
    }
    fn wide(self) -> u128 {
        self
    }
}

/// A multiplicative hash for the `u32` AS numbers used as keys while interning: the
/// default SipHash showed up as the top cost of loading the bundled table. Keys come from
/// the loaded files, and a collision-flooding file only slows its own load.
#[derive(Debug, Default)]
struct AsnHasher(u64);

impl Hasher for AsnHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        let x = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 29);
    }
}

/// Sorted, disjoint address ranges of both families, each with its origin AS.
#[derive(Default)]
pub struct AsnTable {
    /// IPv4 ranges.
    v4: Ranges<u32>,
    /// IPv6 ranges.
    v6: Ranges<u128>,
    /// Interned (ASN, org) pairs; `Span::name` indexes this.
    names: Vec<(Asn, Box<str>)>,
    /// ASN → indices into `names` (almost always one), for interning.
    by_asn: HashMap<u32, Vec<u32>, BuildHasherDefault<AsnHasher>>,
    /// The pair interned last, checked before `by_asn`.
    last_name: Option<(Asn, u32)>,
}

impl std::fmt::Debug for AsnTable {
    /// Summarises the table (counts only: it holds half a million ranges).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsnTable")
            .field("v4_ranges", &self.v4.len())
            .field("v6_ranges", &self.v6.len())
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl AsnTable {
    /// Loads the ip-location-db tables bundled in `data/`.
    ///
    /// # Errors
    /// Only if the bundled data is corrupt.
    pub fn bundled() -> Result<Self, LoadError> {
        let mut table = Self::default();
        for (name, bytes) in BUNDLED {
            table.add_csv(name, flate2::read::GzDecoder::new(bytes))?;
        }
        Ok(table)
    }

    /// Loads `start_ip,end_ip,asn,org` CSV files (optionally gzip-compressed, by magic).
    ///
    /// # Errors
    /// [`LoadError`] naming the file and line of the first bad row.
    pub fn from_paths(v4: &Path, v6: &Path) -> Result<Self, LoadError> {
        let mut table = Self::default();
        for path in [v4, v6] {
            table.add_csv(&path.display().to_string(), open_table(path)?)?;
        }
        Ok(table)
    }

    /// Adds the rows of one CSV stream (either family; rows may mix families). `name` is used in errors.
    ///
    /// Blank lines are skipped. Rows overlapping ranges already loaded are flattened as
    /// described in the module documentation. On error the table is left unchanged.
    ///
    /// # Errors
    /// [`LoadError::Row`] naming `name` and the line of the first bad row.
    pub fn add_csv<R: Read>(&mut self, name: &str, reader: R) -> Result<(), LoadError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(LineCounter::new(reader));
        let mut rec = csv::ByteRecord::new();
        let (mut new4, mut new6) = (Vec::new(), Vec::new());
        let names_before = self.names.len();
        let mut rows: u64 = 0;
        let result = loop {
            let start = rdr.position().byte();
            if rows % 4096 == 0 {
                // Let the line counter forget newlines it will not be asked about.
                line_at(&mut rdr, start);
            }
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => rows += 1,
                Ok(false) => break Ok(()),
                Err(e) => break Err(csv_error(name, line_at(&mut rdr, start), &e)),
            }
            if let Err(what) = self.add_row(&rec, &mut new4, &mut new6) {
                let inside = rec.as_slice().iter().filter(|&&b| b == b'\n').count();
                break Err(LoadError::Row {
                    path: name.to_string(),
                    line: record_line(&mut rdr, inside),
                    what,
                });
            }
        };
        if let Err(e) = result {
            self.forget_names(names_before);
            return Err(e);
        }
        self.v4.add(new4);
        self.v6.add(new6);
        Ok(())
    }

    /// Parses one row into `new4`/`new6`; returns what is wrong with it.
    fn add_row(
        &mut self,
        rec: &csv::ByteRecord,
        new4: &mut Vec<Span<u32>>,
        new6: &mut Vec<Span<u128>>,
    ) -> Result<(), String> {
        let [start, end, asn, org] = [0, 1, 2, 3].map(|i| rec.get(i).unwrap_or_default());
        if rec.len() != 4 {
            return Err(format!(
                "expected 4 fields (start_ip,end_ip,asn,org), found {}",
                rec.len()
            ));
        }
        let start = parse_ip(start).ok_or_else(|| bad_field("start address", start))?;
        let end = parse_ip(end).ok_or_else(|| bad_field("end address", end))?;
        let asn = std::str::from_utf8(asn)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| bad_field("AS number", asn))?;
        let org = std::str::from_utf8(org)
            .map_err(|e| format!("organisation name is not valid UTF-8 ({e})"))?;
        match (start, end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => {
                let (start, end) = (u32::from(s), u32::from(e));
                check_order(start, end, &s, &e)?;
                let name = self.intern(Asn(asn), org)?;
                new4.push(Span { start, end, name });
            }
            (IpAddr::V6(s), IpAddr::V6(e)) => {
                let (start, end) = (u128::from(s), u128::from(e));
                check_order(start, end, &s, &e)?;
                let name = self.intern(Asn(asn), org)?;
                new6.push(Span { start, end, name });
            }
            (s, e) => {
                return Err(format!(
                    "start {s} and end {e} are of different address families"
                ));
            }
        }
        Ok(())
    }

    /// Returns the index of the (ASN, org) pair, adding it when new.
    fn intern(&mut self, asn: Asn, org: &str) -> Result<u32, String> {
        // Consecutive rows often belong to the same AS: skip the hash lookup.
        if let Some((last_asn, id)) = self.last_name {
            if last_asn == asn && self.names.get(id as usize).is_some_and(|n| &*n.1 == org) {
                return Ok(id);
            }
        }
        let id = self.intern_slow(asn, org)?;
        self.last_name = Some((asn, id));
        Ok(id)
    }

    fn intern_slow(&mut self, asn: Asn, org: &str) -> Result<u32, String> {
        let ids = self.by_asn.entry(asn.0).or_default();
        if let Some(&id) = ids
            .iter()
            .find(|&&id| self.names.get(id as usize).is_some_and(|n| &*n.1 == org))
        {
            return Ok(id);
        }
        let id = u32::try_from(self.names.len())
            .map_err(|_| "more than 2^32 distinct (AS, organisation) pairs".to_string())?;
        self.names.push((asn, org.into()));
        ids.push(id);
        Ok(id)
    }

    /// Drops names interned after `len` (rollback of a failed [`Self::add_csv`]).
    fn forget_names(&mut self, len: usize) {
        self.last_name = None;
        for (asn, _) in self.names.drain(len..) {
            if let Some(ids) = self.by_asn.get_mut(&asn.0) {
                ids.retain(|&id| (id as usize) < len);
                if ids.is_empty() {
                    self.by_asn.remove(&asn.0);
                }
            }
        }
    }

    /// Returns the origin AS of `ip`, or `None` when no range covers it.
    pub fn lookup(&self, ip: IpAddr) -> Option<AsnMatch<'_>> {
        match ip.to_canonical() {
            IpAddr::V4(a) => {
                let s = self.v4.find(u32::from(a))?;
                self.answer(s.name, Ipv4Addr::from(s.start), Ipv4Addr::from(s.end))
            }
            IpAddr::V6(a) => {
                let s = self.v6.find(u128::from(a))?;
                self.answer(s.name, Ipv6Addr::from(s.start), Ipv6Addr::from(s.end))
            }
        }
    }

    fn answer(
        &self,
        name: u32,
        first: impl Into<IpAddr>,
        last: impl Into<IpAddr>,
    ) -> Option<AsnMatch<'_>> {
        let (asn, org) = self.names.get(name as usize)?;
        Some(AsnMatch {
            asn: *asn,
            org,
            first: first.into(),
            last: last.into(),
        })
    }

    /// Returns the number of ranges (IPv4, IPv6).
    pub fn len(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    /// Reports whether the table holds no range.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// Returns the bytes held by the IPv4 and IPv6 tries (not the ranges or names).
    pub fn trie_bytes(&self) -> (usize, usize) {
        (
            self.v4.trie.as_ref().map_or(0, Poptrie::memory_bytes),
            self.v6.trie.as_ref().map_or(0, Poptrie::memory_bytes),
        )
    }

    /// Returns the number of distinct (ASN, organisation) pairs loaded.
    pub fn names_len(&self) -> usize {
        self.names.len()
    }
}

impl AsnTable {
    /// Writes the names, spans and tries as database sections (see [`super::db`]).
    pub(super) fn write_sections(&self, w: &mut db::Writer) {
        let mut names = Vec::new();
        names.extend_from_slice(&(self.names.len() as u32).to_le_bytes());
        for (asn, org) in &self.names {
            names.extend_from_slice(&asn.0.to_le_bytes());
            names.extend_from_slice(&(org.len() as u32).to_le_bytes());
            names.extend_from_slice(org.as_bytes());
        }
        w.section("asn.names", names);
        let mut v4 = Vec::with_capacity(self.v4.spans.len() * 12);
        for s in &self.v4.spans {
            for x in [s.start, s.end, s.name] {
                v4.extend_from_slice(&x.to_le_bytes());
            }
        }
        w.section("asn.v4.spans", v4);
        let mut v6 = Vec::with_capacity(self.v6.spans.len() * 36);
        for s in &self.v6.spans {
            v6.extend_from_slice(&s.start.to_le_bytes());
            v6.extend_from_slice(&s.end.to_le_bytes());
            v6.extend_from_slice(&s.name.to_le_bytes());
        }
        w.section("asn.v6.spans", v6);
        if let Some(t) = &self.v4.trie {
            w.trie("asn.v4.trie", t);
        }
        if let Some(t) = &self.v6.trie {
            w.trie("asn.v6.trie", t);
        }
    }

    /// Reads the sections written by [`Self::write_sections`], checking that every index
    /// points inside its table and that the spans are sorted and disjoint.
    pub(super) fn read_sections(r: &db::Reader<'_>) -> Result<Self, db::DbError> {
        let b = r.section("asn.names")?;
        let bad = |why: &str| r.corrupt("section `asn.names`", why.to_string());
        let count = db::u32s(b.get(..4).ok_or_else(|| bad("empty"))?)[0] as usize;
        let mut names = Vec::with_capacity(count.min(b.len() / 8));
        let mut at = 4;
        for _ in 0..count {
            let head = b.get(at..at + 8).ok_or_else(|| bad("ends inside a name"))?;
            let (asn, len) = (db::u32_at(head, 0), db::u32_at(head, 4) as usize);
            let org = b
                .get(at + 8..at + 8 + len)
                .ok_or_else(|| bad("ends inside a name"))?;
            let org = std::str::from_utf8(org).map_err(|_| bad("a name is not UTF-8"))?;
            names.push((Asn(asn), Box::<str>::from(org)));
            at += 8 + len;
        }
        let mut table = Self {
            names,
            ..Self::default()
        };
        for (id, (asn, _)) in table.names.iter().enumerate() {
            table.by_asn.entry(asn.0).or_default().push(id as u32);
        }
        let n = table.names.len() as u32;
        let v4 = r.section("asn.v4.spans")?;
        table.v4.spans = v4
            .chunks_exact(12)
            .map(|c| Span {
                start: db::u32_at(c, 0),
                end: db::u32_at(c, 4),
                name: db::u32_at(c, 8),
            })
            .collect();
        let v6 = r.section("asn.v6.spans")?;
        table.v6.spans = v6
            .chunks_exact(36)
            .map(|c| {
                let u = |i: usize| u128::from_le_bytes(c[i..i + 16].try_into().unwrap_or_default());
                Span {
                    start: u(0),
                    end: u(16),
                    name: db::u32_at(c, 32),
                }
            })
            .collect();
        for (what, ok, len, rem) in [
            ("asn.v4.spans", spans_ok(&table.v4.spans, n), v4.len(), 12),
            ("asn.v6.spans", spans_ok(&table.v6.spans, n), v6.len(), 36),
        ] {
            if !ok || len % rem != 0 {
                return Err(r.corrupt(
                    &format!("section `{what}`"),
                    "spans unsorted, overlapping, or naming a missing AS".into(),
                ));
            }
        }
        table.v4.trie = Some(r.trie("asn.v4.trie")?);
        table.v6.trie = Some(r.trie("asn.v6.trie")?);
        for (what, max, leaves) in [
            (
                "asn.v4.trie",
                table.v4.spans.len(),
                table.v4.trie.as_ref().map(Poptrie::leaves),
            ),
            (
                "asn.v6.trie",
                table.v6.spans.len(),
                table.v6.trie.as_ref().map(Poptrie::leaves),
            ),
        ] {
            if leaves.unwrap_or_default().iter().any(|&l| l as usize > max) {
                return Err(r.corrupt(
                    &format!("section `{what}`"),
                    "a leaf names a missing span".into(),
                ));
            }
        }
        Ok(table)
    }
}

/// Spans are sorted, disjoint, well-formed and name one of `names` names.
fn spans_ok<T: Ord + Copy>(spans: &[Span<T>], names: u32) -> bool {
    spans.iter().all(|s| s.start <= s.end && s.name < names)
        && spans.windows(2).all(|w| w[0].end < w[1].start)
}

fn parse_ip(field: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn bad_field(what: &str, field: &[u8]) -> String {
    format!("bad {what} `{}`", String::from_utf8_lossy(field))
}

fn check_order<T: Ord, D: std::fmt::Display>(start: T, end: T, s: &D, e: &D) -> Result<(), String> {
    if start > end {
        return Err(format!("start {s} is after end {e}"));
    }
    Ok(())
}

/// The ranges of one address family.
#[derive(Debug, Default)]
struct Ranges<T> {
    /// Sorted by start, pairwise disjoint.
    spans: Vec<Span<T>>,
    /// Spans that are pieces of a wider input range cut by a narrower one: piece start
    /// → width (`end - start`) of the input range, so that later loads compare against
    /// the width of the range as announced, not of the piece left.
    clipped: HashMap<T, u128>,
    /// Address → index in `spans` (rebuilt after every load).
    trie: Option<Poptrie<T>>,
}

impl<T: Addr> Ranges<T> {
    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Returns the span covering `x`.
    fn find(&self, x: T) -> Option<&Span<T>> {
        self.spans.get(self.trie.as_ref()?.lookup(x)? as usize)
    }

    /// Rebuilds the trie over `spans` (value id = span index).
    fn index(&mut self) {
        let ranges = self
            .spans
            .iter()
            .zip(0u32..)
            .map(|(s, i)| (s.start, s.end, i));
        // Spans are sorted and disjoint and fewer than 2^31 (the loader's interning
        // limit is 2^32 names, but each span is a CSV row held in memory).
        self.trie = Poptrie::from_disjoint(T::TOP_BITS, ranges).ok();
    }

    /// Appends `new` (loaded after everything present) and restores the invariant.
    ///
    /// Only clusters of overlapping ranges go through [`flatten`]; the rest (all but
    /// two rows of the bundled IPv4 file) are copied as they are.
    fn add(&mut self, new: Vec<Span<T>>) {
        if new.is_empty() {
            return;
        }
        let old = self.spans.len();
        self.spans.extend(new);
        if self.spans.windows(2).all(|w| w[0].end < w[1].start) {
            self.index();
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        let width = |i: usize| {
            let s = &spans[i];
            let own = s.end.wide() - s.start.wide();
            if i < old {
                self.clipped.get(&s.start).copied().unwrap_or(own)
            } else {
                own
            }
        };
        let mut order: Vec<usize> = (0..spans.len()).collect();
        if !spans.windows(2).all(|w| w[0].start <= w[1].start) {
            order.sort_by_key(|&i| spans[i].start); // stable: ties keep load order
        }
        let mut out = Vec::with_capacity(spans.len());
        let mut clipped = HashMap::new();
        let mut k = 0;
        while let Some(&first) = order.get(k) {
            let mut max_end = spans[first].end;
            let mut j = k + 1;
            while let Some(&i) = order.get(j) {
                if spans[i].start > max_end {
                    break;
                }
                max_end = max_end.max(spans[i].end);
                j += 1;
            }
            if j == k + 1 {
                out.push(spans[first]);
                if width(first) != spans[first].end.wide() - spans[first].start.wide() {
                    clipped.insert(spans[first].start, width(first));
                }
            } else {
                let mut members = order[k..j].to_vec();
                members.sort_unstable(); // load order, for the ties
                let sub: Vec<Span<T>> = members.iter().map(|&i| spans[i]).collect();
                let widths: Vec<u128> = members.iter().map(|&i| width(i)).collect();
                let (pieces, c) = flatten(&sub, &widths);
                out.extend(pieces);
                clipped.extend(c);
            }
            k = j;
        }
        self.spans = out;
        self.clipped = clipped;
        self.index();
    }
}

/// Turns ranges in load order (possibly unsorted, overlapping, nested, duplicated) into
/// sorted disjoint ones: each address goes to the narrowest range covering it (by
/// `widths[i]`, the width of the range as loaded), ties to the range loaded last; a
/// range cut by a narrower one keeps its other pieces. Also returns, for each piece
/// narrower than `widths` says its input range is, its start → that width.
///
/// Sweep over the boundaries (every start and every end + 1): at each one, add the
/// ranges starting there to a heap ordered by (narrowest, latest), drop expired ranges
/// from its top, and give the segment up to the next boundary to the top. Adjacent
/// segments of the same input range are merged back. O(n log n).
fn flatten<T: Addr>(spans: &[Span<T>], widths: &[u128]) -> (Vec<Span<T>>, HashMap<T, u128>) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i].start);
    let mut bounds: Vec<T> = Vec::with_capacity(spans.len() * 2);
    for s in spans {
        bounds.push(s.start);
        bounds.extend(s.end.succ());
    }
    bounds.sort_unstable();
    bounds.dedup();

    let mut heap: BinaryHeap<(Reverse<u128>, usize)> = BinaryHeap::new();
    let mut next = 0;
    let mut out: Vec<Span<T>> = Vec::with_capacity(spans.len());
    let mut src: Vec<usize> = Vec::with_capacity(spans.len());
    for (k, &b) in bounds.iter().enumerate() {
        while let Some(&i) = order.get(next) {
            if spans[i].start > b {
                break;
            }
            heap.push((Reverse(widths.get(i).copied().unwrap_or(u128::MAX)), i));
            next += 1;
        }
        while let Some(&(_, i)) = heap.peek() {
            if spans[i].end >= b {
                break;
            }
            heap.pop();
        }
        let Some(&(_, i)) = heap.peek() else {
            continue;
        };
        // The top's end + 1 is itself a boundary, so the segment never passes its end.
        let end = bounds.get(k + 1).map_or(spans[i].end, |&nb| nb.pred());
        match out.last_mut() {
            Some(last) if src.last() == Some(&i) && last.end.succ() == Some(b) => last.end = end,
            _ => {
                out.push(Span {
                    start: b,
                    end,
                    name: spans[i].name,
                });
                src.push(i);
            }
        }
    }
    let clipped = out
        .iter()
        .zip(&src)
        .filter_map(|(piece, &i)| {
            let width = widths.get(i).copied().unwrap_or(u128::MAX);
            (width != piece.end.wide() - piece.start.wide()).then_some((piece.start, width))
        })
        .collect();
    (out, clipped)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // clippy.toml's allow-unwrap-in-tests is not set up yet
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    fn table(csv: &str) -> AsnTable {
        let mut t = AsnTable::default();
        t.add_csv("test.csv", csv.as_bytes()).unwrap();
        t
    }

    fn span(start: u32, end: u32, name: u32) -> Span<u32> {
        Span { start, end, name }
    }

    fn flat<T: Addr>(input: &[Span<T>]) -> Vec<Span<T>> {
        let widths: Vec<u128> = input
            .iter()
            .map(|s| s.end.wide() - s.start.wide())
            .collect();
        flatten(input, &widths).0
    }

    #[test]
    fn flatten_nested_partial_identical() {
        // name = input index. 0: wide [0,99]; 1: nested [10,19]; 2: partial [90,120];
        // 3: identical to 1 (later, wins the tie); 4: disjoint [200,200].
        let input = [
            span(0, 99, 0),
            span(10, 19, 1),
            span(90, 120, 2),
            span(10, 19, 3),
            span(200, 200, 4),
        ];
        assert_eq!(
            flat(&input),
            vec![
                span(0, 9, 0),
                span(10, 19, 3),
                span(20, 89, 0),
                span(90, 120, 2),
                span(200, 200, 4),
            ]
        );
    }

    #[test]
    fn flatten_top_of_address_space() {
        let input = [span(0, u32::MAX, 0), span(u32::MAX - 1, u32::MAX, 1)];
        assert_eq!(
            flat(&input),
            vec![span(0, u32::MAX - 2, 0), span(u32::MAX - 1, u32::MAX, 1)]
        );
        let input6 = [
            Span::<u128> {
                start: 5,
                end: u128::MAX,
                name: 0,
            },
            Span::<u128> {
                start: 7,
                end: 7,
                name: 1,
            },
        ];
        let out = flat(&input6);
        assert_eq!(out.len(), 3);
        assert_eq!((out[2].start, out[2].end, out[2].name), (8, u128::MAX, 0));
    }

    #[test]
    fn flatten_keeps_adjacent_rows_apart() {
        // Adjacent ranges of the same AS stay separate rows (as in the source file).
        let input = [span(0, 9, 7), span(10, 19, 7), span(5, 5, 8)];
        assert_eq!(
            flat(&input),
            vec![span(0, 4, 7), span(5, 5, 8), span(6, 9, 7), span(10, 19, 7)]
        );
    }

    #[test]
    fn overlap_like_dod_pair() {
        // The shape of rows 399115/399116 of the bundled IPv4 file.
        let t = table(
            "214.95.0.0,215.0.255.255,749,United States Department of Defense (DoD)\n\
             215.0.0.0,215.1.3.255,721,DoD Network Information Center\n",
        );
        assert_eq!(t.len(), (2, 0));
        let m = t.lookup(v4("215.0.0.1")).unwrap();
        assert_eq!(
            (m.asn, m.first, m.last),
            (Asn(721), v4("215.0.0.0"), v4("215.1.3.255"))
        );
        let m = t.lookup(v4("214.255.255.255")).unwrap();
        assert_eq!(
            (m.asn, m.first, m.last),
            (Asn(749), v4("214.95.0.0"), v4("214.255.255.255"))
        );
        assert_eq!(t.lookup(v4("215.1.4.0")), None);
    }

    #[test]
    fn later_load_compares_with_announced_width() {
        // A (width 99) is cut by B (width 79) into [0,9] and [90,99]. C (width 10),
        // loaded later, is narrower than A as announced, so it wins at 92 even though
        // the piece of A left there is only 9 wide.
        let mut t = table("0.0.0.0,0.0.0.99,1,A\n0.0.0.10,0.0.0.89,2,B\n");
        assert_eq!(t.lookup(v4("0.0.0.92")).unwrap().asn, Asn(1));
        t.add_csv("c.csv", "0.0.0.85,0.0.0.95,3,C\n".as_bytes())
            .unwrap();
        let at = |ip: &str| t.lookup(v4(ip)).map(|m| (m.asn.0, m.first, m.last));
        assert_eq!(at("0.0.0.84"), Some((2, v4("0.0.0.10"), v4("0.0.0.84"))));
        assert_eq!(at("0.0.0.92"), Some((3, v4("0.0.0.85"), v4("0.0.0.95"))));
        assert_eq!(at("0.0.0.96"), Some((1, v4("0.0.0.96"), v4("0.0.0.99"))));
        assert_eq!(at("0.0.0.100"), None);
    }

    #[test]
    fn clipped_piece_keeps_announced_width_across_loads() {
        let mut t = table("0.0.0.0,0.0.0.99,1,A\n0.0.0.10,0.0.0.89,2,B\n");
        // C (width 105) is wider than A as announced (99): A's piece [90,99] survives
        // whole and must still count as 99 wide afterwards.
        t.add_csv("c.csv", "0.0.0.95,0.0.0.200,3,C\n".as_bytes())
            .unwrap();
        assert_eq!(t.lookup(v4("0.0.0.97")).unwrap().asn, Asn(1));
        // F (width 59) beats A (99) and C (105), not A's 9-wide piece.
        t.add_csv("f.csv", "0.0.0.91,0.0.0.150,4,F\n".as_bytes())
            .unwrap();
        let at = |ip: &str| t.lookup(v4(ip)).map(|m| (m.asn.0, m.first, m.last));
        assert_eq!(at("0.0.0.90"), Some((1, v4("0.0.0.90"), v4("0.0.0.90"))));
        assert_eq!(at("0.0.0.92"), Some((4, v4("0.0.0.91"), v4("0.0.0.150"))));
        assert_eq!(at("0.0.0.151"), Some((3, v4("0.0.0.151"), v4("0.0.0.200"))));
    }

    #[test]
    fn quoting_interning_mixed_families() {
        let t = table(
            "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
             \n\
             2001:db8::,2001:db8::ff,13335,\"Cloudflare, Inc.\"\n\
             2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n",
        );
        assert_eq!(t.len(), (2, 1));
        assert_eq!(t.names_len(), 2);
        assert_eq!(t.lookup(v4("2.26.201.1")).unwrap().org, "LLC \"SPUTNIK\"");
        let m = t.lookup("2001:db8::80".parse().unwrap()).unwrap();
        assert_eq!((m.asn, m.org), (Asn(13335), "Cloudflare, Inc."));
        // IPv4-mapped IPv6 is looked up as IPv4.
        assert_eq!(
            t.lookup("::ffff:1.0.0.1".parse().unwrap()).unwrap().asn,
            Asn(13335)
        );
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let cases = [
            (
                "1.0.0.0,1.0.0.255,13335\n",
                "x.csv:1: expected 4 fields (start_ip,end_ip,asn,org), found 3",
            ),
            (
                "1.0.0.0,1.0.0.255,1,a\n1.0.0.300,1.0.1.0,2,b\n",
                "x.csv:2: bad start address `1.0.0.300`",
            ),
            (
                "1.0.0.0,1.0.0.255,1,a\n\n1.0.1.0,::1,2,b\n",
                "x.csv:3: start 1.0.1.0 and end ::1 are of different address families",
            ),
            (
                "1.0.0.9,1.0.0.1,1,a\n",
                "x.csv:1: start 1.0.0.9 is after end 1.0.0.1",
            ),
            (
                "1.0.0.0,1.0.0.255,1,a\r\n\r\n1.0.1.9,1.0.1.0,2,b\r\n",
                "x.csv:3: start 1.0.1.9 is after end 1.0.1.0",
            ),
            (
                "\n\n1.0.0.0,1.0.0.255,1,a\n1.0.1.9,1.0.1.0,2,b",
                "x.csv:4: start 1.0.1.9 is after end 1.0.1.0",
            ),
            ("1.0.0.0,1.0.0.255,AS1,a\n", "x.csv:1: bad AS number `AS1`"),
            (
                "1.0.0.0,1.0.0.255,1,\"multi\nline\"\n1.0.1.0,1.0.1.255,4294967296,b\n",
                "x.csv:3: bad AS number `4294967296`",
            ),
        ];
        for (csv, want) in cases {
            let mut t = AsnTable::default();
            t.add_csv("ok.csv", "9.0.0.0,9.0.0.255,9,Nine\n".as_bytes())
                .unwrap();
            let err = t.add_csv("x.csv", csv.as_bytes()).unwrap_err().to_string();
            assert_eq!(err, want);
            // A failed load leaves the table as it was.
            assert_eq!(t.len(), (1, 0));
            assert_eq!(t.names_len(), 1);
            assert_eq!(t.lookup(v4("9.0.0.1")).unwrap().org, "Nine");
        }
    }

    #[test]
    fn bad_utf8_org() {
        let mut t = AsnTable::default();
        let err = t
            .add_csv(
                "x.csv",
                &b"1.0.0.0,1.0.0.255,1,ok\n1.0.1.0,1.0.1.255,2,caf\xe9\n"[..],
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.csv:2: organisation name is not valid UTF-8"),
            "{err}"
        );
    }

    /// Narrowest covering range, ties to the last loaded: the rule `flatten` implements.
    fn naive(ranges: &[(u32, u32, u32)], x: u32) -> Option<u32> {
        let mut best: Option<(u32, usize)> = None;
        for (i, &(s, e, _)) in ranges.iter().enumerate() {
            if s <= x && x <= e && best.is_none_or(|(w, _)| e - s <= w) {
                best = Some((e - s, i));
            }
        }
        best.map(|(_, i)| ranges[i].2)
    }

    proptest! {
        #[test]
        fn lookup_matches_naive_scan(
            raw in proptest::collection::vec((0u32..400, 0u32..60, 1u32..6), 0..40),
            cut1 in 0usize..40,
            cut2 in 0usize..40,
        ) {
            // Small universe so ranges overlap often.
            let base = 0x0a00_0000u32;
            let ranges: Vec<(u32, u32, u32)> =
                raw.iter().map(|&(s, len, asn)| (base + s, base + s + len, asn)).collect();
            let row = |&(s, e, asn): &(u32, u32, u32)| {
                format!("{},{},{asn},org{asn}\n", Ipv4Addr::from(s), Ipv4Addr::from(e))
            };
            // Loaded in three add_csv calls, to exercise re-flattening.
            let a = cut1.min(cut2).min(ranges.len());
            let b = cut1.max(cut2).min(ranges.len());
            let mut t = AsnTable::default();
            for part in [&ranges[..a], &ranges[a..b], &ranges[b..]] {
                let text: String = part.iter().map(row).collect();
                t.add_csv("part.csv", text.as_bytes()).unwrap();
            }
            prop_assert!(t.v4.spans.windows(2).all(|w| w[0].end < w[1].start));
            for x in base.saturating_sub(2)..base + 470 {
                let got = t.lookup(IpAddr::V4(Ipv4Addr::from(x)));
                prop_assert_eq!(got.map(|m| m.asn.0), naive(&ranges, x), "at {}", Ipv4Addr::from(x));
                if let Some(m) = got {
                    prop_assert_eq!(m.org, format!("org{}", m.asn.0));
                    prop_assert!(m.first <= IpAddr::V4(Ipv4Addr::from(x)));
                    prop_assert!(m.last >= IpAddr::V4(Ipv4Addr::from(x)));
                }
            }
        }
    }
}
