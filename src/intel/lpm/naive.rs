//! Simple, obviously correct references for the property tests: a linear scan over the
//! prefixes (longest wins, ties to the later insert) and one over ranges (narrowest
//! wins, ties to the later range). O(n) per lookup; never used on the hot path.

use super::Key;

/// Prefixes in insertion order, looked up by scanning all of them.
#[derive(Debug, Clone, Default)]
pub struct NaiveLpm {
    /// (first key, length, value) in `u128` key space.
    prefixes: Vec<(u128, u8, u32)>,
}

impl NaiveLpm {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `prefix/len` → `value` (bits past `len` are ignored).
    pub fn insert<K: Key>(&mut self, prefix: K, len: u8, value: u32) {
        let host = low_ones(K::BITS - u32::from(len).min(K::BITS));
        self.prefixes.push((prefix.to_u128() & !host, len, value));
    }

    /// The value of the longest prefix covering `key`, ties to the later insert.
    pub fn lookup<K: Key>(&self, key: K) -> Option<u32> {
        let k = key.to_u128();
        let mut best: Option<(u8, u32)> = None;
        for &(p, len, v) in &self.prefixes {
            let host = low_ones(K::BITS - u32::from(len).min(K::BITS));
            if k & !host == p && best.is_none_or(|(l, _)| len >= l) {
                best = Some((len, v));
            }
        }
        best.map(|(_, v)| v)
    }
}

/// The value of the narrowest range `(start, end, value)` covering `key`, ties to the
/// later range.
pub fn range_lookup<K: Key>(ranges: &[(K, K, u32)], key: K) -> Option<u32> {
    let mut best: Option<(u128, u32)> = None;
    for &(s, e, v) in ranges {
        if s <= key && key <= e {
            let w = e.to_u128() - s.to_u128();
            if best.is_none_or(|(bw, _)| w <= bw) {
                best = Some((w, v));
            }
        }
    }
    best.map(|(_, v)| v)
}

fn low_ones(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}
