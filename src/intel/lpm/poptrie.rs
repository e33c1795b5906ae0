//! The immutable Poptrie and its lookups (see the module diagram in [`super`]).

use super::Key;
use std::marker::PhantomData;

/// Set in a direct-table entry when the entry is a leaf (value in the low 31 bits).
pub(super) const LEAF: u32 = 1 << 31;

/// Addresses looked up together by [`Poptrie::lookup_batch`], one level at a time, so
/// that their cache misses overlap.
const LANES: usize = 16;

/// One internal node: 64 children, each an internal node or a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Node {
    /// Bit `i` set: child `i` is an internal node.
    pub vector: u64,
    /// Bit `i` set: child `i` is a leaf that differs from the leaf before it.
    pub leafvec: u64,
    /// Index in `leaves` of this node's first leaf.
    pub base0: u32,
    /// Index in `nodes` of this node's first internal child.
    pub base1: u32,
}

/// Bits `0..=i` set.
#[inline(always)]
fn upto(i: usize) -> u64 {
    (2u64 << i).wrapping_sub(1)
}

/// An immutable longest-prefix-match table over keys `K`, built by
/// [`super::Builder`] or [`Poptrie::from_disjoint`].
#[derive(Clone, PartialEq, Eq)]
pub struct Poptrie<K> {
    /// Bits resolved by the direct table.
    top_bits: u32,
    /// `2^top_bits` entries: `LEAF | leaf` or a node index.
    direct: Vec<u32>,
    /// Internal nodes; children of a node are contiguous.
    nodes: Vec<Node>,
    /// Leaf values: 0 = none, `v + 1` = value id `v`.
    leaves: Vec<u32>,
    _key: PhantomData<K>,
}

impl<K> Poptrie<K> {
    /// Bytes held by the three arrays.
    pub fn memory_bytes(&self) -> usize {
        self.direct.len() * 4 + self.nodes.len() * size_of::<Node>() + self.leaves.len() * 4
    }
}

impl<K> std::fmt::Debug for Poptrie<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poptrie")
            .field("top_bits", &self.top_bits)
            .field("nodes", &self.nodes.len())
            .field("leaves", &self.leaves.len())
            .field("bytes", &self.memory_bytes())
            .finish()
    }
}

/// Why a set of arrays is not a valid trie (from a corrupt database file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    /// The direct table's size is not `2^top_bits`, or `top_bits` is out of range.
    #[error("direct table has {len} entries, expected 2^{top_bits}")]
    DirectSize {
        /// Bits of the direct table.
        top_bits: u32,
        /// Entries found.
        len: usize,
    },
    /// An index points outside its array.
    #[error("{what} {index} points past the end ({len} entries)")]
    Index {
        /// Which index.
        what: &'static str,
        /// The index (or end of the range) found.
        index: u64,
        /// Length of the array it points into.
        len: usize,
    },
    /// A node's leaf bitmap is empty although some child is a leaf.
    #[error("node {0} has leaf children but no leaf marked")]
    NoLeaf(usize),
    /// A path of internal nodes is longer than the key.
    #[error("node {0} lies deeper than the key is long")]
    TooDeep(usize),
}

impl<K: Key> Poptrie<K> {
    /// Assembles a trie from its arrays (as stored in a database file), checking every
    /// index so that no lookup can read out of bounds or loop.
    ///
    /// # Errors
    /// [`PartsError`] on the first inconsistency.
    pub fn from_parts(
        top_bits: u32,
        direct: Vec<u32>,
        nodes: Vec<Node>,
        leaves: Vec<u32>,
    ) -> Result<Self, PartsError> {
        if !(1..=24).contains(&top_bits) || top_bits >= K::BITS || direct.len() != 1 << top_bits {
            return Err(PartsError::DirectSize {
                top_bits,
                len: direct.len(),
            });
        }
        let check = |what, end: u64, len: usize| {
            if end > len as u64 {
                Err(PartsError::Index {
                    what,
                    index: end,
                    len,
                })
            } else {
                Ok(())
            }
        };
        // depth[i]: key offset at which node i is entered (0 = not yet reached).
        let mut depth = vec![0u32; nodes.len()];
        for &e in &direct {
            if e & LEAF == 0 {
                check("direct entry", u64::from(e) + 1, nodes.len())?;
                depth[e as usize] = top_bits;
            }
        }
        // Children always come after their parent (the builder reserves a node's
        // children before building them), so one forward pass sees parents first.
        for (i, n) in nodes.iter().enumerate() {
            let kids = u64::from(n.vector.count_ones());
            check("child base", u64::from(n.base1) + kids, nodes.len())?;
            check(
                "leaf base",
                u64::from(n.base0) + u64::from(n.leafvec.count_ones()),
                leaves.len(),
            )?;
            // A leaf after a run of internal children reuses the last leaf before it;
            // the first leaf of the node must therefore be marked.
            let first_leaf = (!n.vector).trailing_zeros();
            if first_leaf < 64 && n.leafvec & upto(first_leaf as usize) == 0 {
                return Err(PartsError::NoLeaf(i));
            }
            let d = depth.get(i).copied().unwrap_or(0);
            if kids > 0 {
                if d == 0 || d + 6 >= K::BITS {
                    return Err(PartsError::TooDeep(i));
                }
                for c in n.base1 as usize..(n.base1 as usize + kids as usize) {
                    if c <= i {
                        return Err(PartsError::TooDeep(c));
                    }
                    if let Some(slot) = depth.get_mut(c) {
                        *slot = d + 6;
                    }
                }
            }
        }
        Ok(Self {
            top_bits,
            direct,
            nodes,
            leaves,
            _key: PhantomData,
        })
    }

    pub(super) fn from_built(
        top_bits: u32,
        direct: Vec<u32>,
        nodes: Vec<Node>,
        leaves: Vec<u32>,
    ) -> Self {
        Self {
            top_bits,
            direct,
            nodes,
            leaves,
            _key: PhantomData,
        }
    }

    /// Returns the value id of the longest prefix covering `key`.
    #[inline]
    pub fn lookup(&self, key: K) -> Option<u32> {
        let e = *self.direct.get(key.top(self.top_bits))?;
        if e & LEAF != 0 {
            return (e & !LEAF).checked_sub(1);
        }
        let mut node = self.nodes.get(e as usize)?;
        let mut off = self.top_bits;
        loop {
            let i = key.chunk(off);
            let mask = upto(i);
            if node.vector & (1 << i) != 0 {
                let c = node.base1 + (node.vector & mask).count_ones() - 1;
                node = self.nodes.get(c as usize)?;
                off += 6;
                if off >= K::BITS {
                    return None; // only in a corrupt trie, which from_parts rejects
                }
            } else {
                let l = node.base0 + (node.leafvec & mask).count_ones();
                return self.leaves.get(l.checked_sub(1)? as usize)?.checked_sub(1);
            }
        }
    }

    /// Looks up every key of `keys` into the same position of `out` (which must be at
    /// least as long; extra entries are left alone). Keys are processed 16 at a time,
    /// one trie level per round, so that their memory accesses overlap.
    pub fn lookup_batch(&self, keys: &[K], out: &mut [Option<u32>]) {
        for (kc, oc) in keys.chunks(LANES).zip(out.chunks_mut(LANES)) {
            let mut at = [0u32; LANES];
            let mut active: u32 = 0;
            for (lane, (&k, o)) in kc.iter().zip(oc.iter_mut()).enumerate() {
                match self.direct.get(k.top(self.top_bits)) {
                    Some(&e) if e & LEAF != 0 => *o = (e & !LEAF).checked_sub(1),
                    Some(&e) => {
                        at[lane] = e;
                        active |= 1 << lane;
                    }
                    None => *o = None,
                }
            }
            let mut off = self.top_bits;
            while active != 0 {
                if off >= K::BITS {
                    for (lane, o) in oc.iter_mut().enumerate() {
                        if active & (1 << lane) != 0 {
                            *o = None;
                        }
                    }
                    break;
                }
                let mut left = active;
                while left != 0 {
                    let lane = left.trailing_zeros() as usize;
                    left &= left - 1;
                    let (Some(&k), Some(o), Some(node)) = (
                        kc.get(lane),
                        oc.get_mut(lane),
                        self.nodes.get(at[lane] as usize),
                    ) else {
                        active &= !(1 << lane);
                        continue;
                    };
                    let i = k.chunk(off);
                    let mask = upto(i);
                    if node.vector & (1 << i) != 0 {
                        at[lane] = node.base1 + (node.vector & mask).count_ones() - 1;
                    } else {
                        let l = (node.base0 + (node.leafvec & mask).count_ones()).checked_sub(1);
                        *o = l
                            .and_then(|l| self.leaves.get(l as usize))
                            .and_then(|v| v.checked_sub(1));
                        active &= !(1 << lane);
                    }
                }
                off += 6;
            }
        }
    }

    /// Bits resolved by the direct table.
    pub fn top_bits(&self) -> u32 {
        self.top_bits
    }

    /// The direct table (`LEAF | leaf value` or a node index per entry).
    pub fn direct(&self) -> &[u32] {
        &self.direct
    }

    /// The internal nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The leaf values (0 = none, `v + 1` = value id `v`).
    pub fn leaves(&self) -> &[u32] {
        &self.leaves
    }
}
