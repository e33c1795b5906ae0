//! Building a [`Poptrie`]: prefixes or ranges → sorted disjoint segments → trie arrays.

use super::Key;
use super::poptrie::{LEAF, Node, Poptrie};
use std::marker::PhantomData;

/// Largest value id a trie can hold (leaves store `id + 1` in 31 bits).
pub const MAX_VALUE: u32 = LEAF - 2;

/// A prefix or range could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The value id is larger than [`MAX_VALUE`].
    #[error("value id {0} is too large for the trie (at most 2^31 - 2)")]
    ValueTooLarge(u32),
    /// The prefix length is longer than the key.
    #[error("prefix length {len} is longer than the {bits}-bit key")]
    PrefixTooLong {
        /// Length given.
        len: u8,
        /// Key width.
        bits: u32,
    },
    /// A range's start is after its end.
    #[error("range start is after its end")]
    Reversed,
    /// Ranges given as disjoint are unsorted or overlap.
    #[error("ranges are not sorted and disjoint")]
    NotDisjoint,
}

/// An inclusive run of keys with one value id, in `u128` key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seg {
    pub(super) start: u128,
    pub(super) end: u128,
    pub(super) value: u32,
}

/// `bits` ones in the low bits.
fn ones(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// Collects prefixes (and ranges, split into prefixes) with value ids, then builds an
/// immutable [`Poptrie`]. The longest prefix covering a key wins; inserting the same
/// prefix twice keeps the later value.
#[derive(Debug, Clone)]
pub struct Builder<K> {
    top_bits: u32,
    /// (first key, length, value, insertion order).
    prefixes: Vec<(u128, u8, u32, u32)>,
    _key: PhantomData<K>,
}

impl<K: Key> Builder<K> {
    /// Starts an empty builder whose trie resolves the top `top_bits` key bits with one
    /// direct-indexed table of `2^top_bits` entries (clamped to `1..=24` and below the
    /// key width).
    pub fn new(top_bits: u32) -> Self {
        Self {
            top_bits: top_bits.clamp(1, 24).min(K::BITS - 1),
            prefixes: Vec::new(),
            _key: PhantomData,
        }
    }

    /// Adds `prefix/len` with value id `value`; bits of `prefix` past `len` are ignored.
    ///
    /// # Errors
    /// [`BuildError`] if `len` exceeds the key width or `value` exceeds [`MAX_VALUE`].
    pub fn insert(&mut self, prefix: K, len: u8, value: u32) -> Result<(), BuildError> {
        if u32::from(len) > K::BITS {
            return Err(BuildError::PrefixTooLong { len, bits: K::BITS });
        }
        if value > MAX_VALUE {
            return Err(BuildError::ValueTooLarge(value));
        }
        let host = ones(K::BITS - u32::from(len));
        let seq = u32::try_from(self.prefixes.len()).unwrap_or(u32::MAX);
        self.prefixes
            .push((prefix.to_u128() & !host, len, value, seq));
        Ok(())
    }

    /// Adds the inclusive range `start..=end`, split into exact CIDR prefixes.
    ///
    /// # Errors
    /// [`BuildError`] if `start > end` or `value` exceeds [`MAX_VALUE`].
    pub fn insert_range(&mut self, start: K, end: K, value: u32) -> Result<(), BuildError> {
        if start > end {
            return Err(BuildError::Reversed);
        }
        for (p, len) in range_to_cidrs(start, end) {
            self.insert(p, len, value)?;
        }
        Ok(())
    }

    /// Number of prefixes added.
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    /// Reports whether no prefix was added.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// Builds the trie.
    pub fn build(mut self) -> Poptrie<K> {
        // Parents before children; the same prefix twice: the later one last.
        self.prefixes
            .sort_unstable_by_key(|&(s, len, _, seq)| (s, len, seq));
        let mut segs: Vec<Seg> = Vec::with_capacity(self.prefixes.len());
        // Open prefixes, outermost first: (end, value).
        let mut stack: Vec<(u128, u32)> = Vec::new();
        // First key not yet given to a segment (None: past the top of the key space).
        let mut cursor: Option<u128> = Some(0);
        let n = self.prefixes.len();
        for k in 0..n {
            let (start, len, value, _) = self.prefixes[k];
            if self
                .prefixes
                .get(k + 1)
                .is_some_and(|&(s2, l2, _, _)| s2 == start && l2 == len)
            {
                continue; // replaced by a later insert of the same prefix
            }
            let end = start | ones(K::BITS - u32::from(len));
            while let Some(&(top_end, top_value)) = stack.last() {
                if top_end >= start {
                    break;
                }
                emit(&mut segs, &mut cursor, top_end, top_value);
                stack.pop();
            }
            if let Some(&(_, top_value)) = stack.last() {
                if start > 0 {
                    emit(&mut segs, &mut cursor, start - 1, top_value);
                }
            }
            cursor = Some(start);
            stack.push((end, value));
        }
        while let Some((top_end, top_value)) = stack.pop() {
            emit(&mut segs, &mut cursor, top_end, top_value);
        }
        build_from_segs(self.top_bits, &segs)
    }
}

/// Gives `cursor..=to` to `value` (nothing if the cursor is past `to`), merging with the
/// previous segment when adjacent and equal.
fn emit(segs: &mut Vec<Seg>, cursor: &mut Option<u128>, to: u128, value: u32) {
    let Some(from) = *cursor else { return };
    if from > to {
        return;
    }
    match segs.last_mut() {
        Some(last) if last.value == value && last.end.checked_add(1) == Some(from) => {
            last.end = to;
        }
        _ => segs.push(Seg {
            start: from,
            end: to,
            value,
        }),
    }
    *cursor = to.checked_add(1);
}

/// Splits the inclusive range `start..=end` into the fewest exact CIDR prefixes, in
/// address order (empty if `start > end`).
pub fn range_to_cidrs<K: Key>(start: K, end: K) -> Vec<(K, u8)> {
    let (mut s, e) = (start.to_u128(), end.to_u128());
    let mut out = Vec::new();
    if s > e {
        return out;
    }
    loop {
        let align = if s == 0 {
            K::BITS
        } else {
            s.trailing_zeros().min(K::BITS)
        };
        // Bits of the largest power of two that fits in e - s + 1.
        let fit = match (e - s).checked_add(1) {
            Some(count) => 127 - count.leading_zeros(),
            None => 128,
        };
        let b = align.min(fit).min(K::BITS);
        out.push((K::from_u128(s), (K::BITS - b) as u8));
        let last = s | ones(b);
        if last >= e {
            return out;
        }
        s = last + 1;
    }
}

/// Builds a trie from sorted, disjoint segments, each with value id `value`.
pub(super) fn build_from_segs<K: Key>(top_bits: u32, segs: &[Seg]) -> Poptrie<K> {
    let mut b = TrieBuild {
        nodes: Vec::new(),
        leaves: Vec::new(),
        bits: K::BITS,
    };
    let below = K::BITS - top_bits;
    let mut direct = Vec::with_capacity(1 << top_bits);
    let mut lo = 0;
    for t in 0..(1u128 << top_bits) {
        let bs = t << below;
        let be = bs | ones(below);
        lo += segs
            .get(lo..)
            .map_or(0, |r| r.partition_point(|s| s.end < bs));
        let rest = segs.get(lo..).unwrap_or_default();
        let sub = rest
            .get(..rest.partition_point(|s| s.start <= be))
            .unwrap_or_default();
        match classify(sub, bs, be) {
            Some(v) => direct.push(LEAF | v),
            None => {
                let idx = b.nodes.len();
                b.nodes.push(Node::default());
                direct.push(idx as u32);
                b.node(idx, sub, bs, top_bits);
            }
        }
    }
    b.nodes.shrink_to_fit();
    b.leaves.shrink_to_fit();
    Poptrie::from_built(top_bits, direct, b.nodes, b.leaves)
}

/// The leaf (0 or `value + 1`) for block `bs..=be` if one segment covers it or none
/// touches it; `None` if the block needs an internal node.
fn classify(sub: &[Seg], bs: u128, be: u128) -> Option<u32> {
    match sub {
        [] => Some(0),
        [s] if s.start <= bs && s.end >= be => Some(s.value + 1),
        _ => None,
    }
}

struct TrieBuild {
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    bits: u32,
}

impl TrieBuild {
    /// Fills node `idx`, which covers the keys from `base` whose top `off` bits are
    /// fixed; `segs` are the segments touching it.
    fn node(&mut self, idx: usize, segs: &[Seg], base: u128, off: u32) {
        let rem = self.bits - off;
        let mut node = Node {
            base0: self.leaves.len() as u32,
            ..Node::default()
        };
        let mut inner: Vec<(usize, usize, u128)> = Vec::new(); // (seg lo, seg hi, base)
        let mut prev_leaf: Option<u32> = None;
        let mut lo = 0;
        for i in 0..64u32 {
            let (cs, ce) = if rem >= 6 {
                let cs = base + (u128::from(i) << (rem - 6));
                (cs, cs | ones(rem - 6))
            } else {
                let cs = base + u128::from(i >> (6 - rem));
                (cs, cs)
            };
            lo += segs
                .get(lo..)
                .map_or(0, |r| r.partition_point(|s| s.end < cs));
            let rest = segs.get(lo..).unwrap_or_default();
            let hi = lo + rest.partition_point(|s| s.start <= ce);
            match classify(segs.get(lo..hi).unwrap_or_default(), cs, ce) {
                Some(v) => {
                    if prev_leaf != Some(v) {
                        self.leaves.push(v);
                        node.leafvec |= 1 << i;
                        prev_leaf = Some(v);
                    }
                }
                None => {
                    node.vector |= 1 << i;
                    inner.push((lo, hi, cs));
                }
            }
        }
        node.base1 = self.nodes.len() as u32;
        self.nodes
            .extend(std::iter::repeat_n(Node::default(), inner.len()));
        if let Some(slot) = self.nodes.get_mut(idx) {
            *slot = node;
        }
        for (k, (lo, hi, cs)) in inner.into_iter().enumerate() {
            let sub = segs.get(lo..hi).unwrap_or_default();
            self.node(node.base1 as usize + k, sub, cs, off + 6);
        }
    }
}

impl<K: Key> Poptrie<K> {
    /// Builds a trie from inclusive ranges `(start, end, value)` that are sorted by start
    /// and pairwise disjoint (as [`crate::intel::AsnTable`] keeps them). Adjacent ranges
    /// with the same value are merged.
    ///
    /// # Errors
    /// [`BuildError`] if the ranges are unsorted, overlap, or a value is too large.
    pub fn from_disjoint(
        top_bits: u32,
        ranges: impl IntoIterator<Item = (K, K, u32)>,
    ) -> Result<Self, BuildError> {
        let mut segs: Vec<Seg> = Vec::new();
        for (s, e, value) in ranges {
            let (start, end) = (s.to_u128(), e.to_u128());
            if start > end {
                return Err(BuildError::Reversed);
            }
            if segs.last().is_some_and(|l| l.end >= start) {
                return Err(BuildError::NotDisjoint);
            }
            if value > MAX_VALUE {
                return Err(BuildError::ValueTooLarge(value));
            }
            let mut cursor = Some(start);
            emit(&mut segs, &mut cursor, end, value);
        }
        let top = top_bits.clamp(1, 24).min(K::BITS - 1);
        Ok(build_from_segs(top, &segs))
    }
}
