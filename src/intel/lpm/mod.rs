//! Longest-prefix match: a Poptrie (Asai & Ohara, "Poptrie: A Compressed Trie with
//! Population Count for Fast and Scalable Software IP Routing Table Lookup", SIGCOMM
//! 2015, §3) over IPv4 (`u32`), MAC (`u64`, the 48 bits left-aligned) and IPv6 (`u128`)
//! keys, mapping each key to a compact value id (`u32`).
//!
//! # Shape
//!
//! ```text
//!  key bits:  [ top s bits ][ 6 ][ 6 ][ 6 ] …   (the last chunk is zero-padded)
//!                  │
//!  direct[2^s] ────┤ entry = LEAF|value+1   ─► answer (whole /s block is one leaf)
//!                  └ entry = node index ─┐
//!                                         ▼
//!  nodes[]:  Node { vector: u64, leafvec: u64, base0: u32, base1: u32 }   24 bytes
//!             i = next 6 key bits
//!             vector bit i set  ─► child  = nodes [base1 + popcnt(vector  & (2<<i)-1) - 1]
//!             otherwise         ─► answer = leaves[base0 + popcnt(leafvec & (2<<i)-1) - 1]
//!
//!  leaves[]: u32, 0 = no prefix covers the key, v+1 = value id v
//!            leafvec bit i is set only where a leaf differs from the leaf before it in
//!            the same node (leaf compression): a run of equal leaves costs one slot.
//! ```
//!
//! # Why this shape
//!
//! A lookup touches the direct table once and then one 24-byte node per 6 bits of key
//! below `s`; a prefix table's routes mostly end at /24 (IPv4) and /48 (IPv6), so typical
//! IPv4 lookups read 1 to 3 cache lines and no pointer is chased through a binary trie.
//! The children and leaves of a node are stored contiguously, so a node needs only two
//! base indices and two bitmaps, and a child's position is a popcount — one instruction
//! on x86-64 and AArch64. Leaf compression keeps the leaves array close to the number of
//! distinct ranges instead of 64 per node. The three arrays are plain integers with no
//! pointers, so the compiled database (`intel::db`) stores them as they are.
//!
//! Build: [`Builder`] takes prefixes (longest wins; later inserts of the same prefix
//! replace earlier ones) or inclusive ranges (split into exact CIDRs), flattens them into
//! sorted disjoint segments and builds the trie from those in one pass
//! ([`Poptrie::from_disjoint`] takes already-disjoint segments). [`naive`] holds the
//! simple references the property tests compare against.

mod builder;
pub mod naive;
mod poptrie;

pub use builder::{BuildError, Builder, MAX_VALUE, range_to_cidrs};
pub use poptrie::{Node, PartsError, Poptrie};

/// A key type: an unsigned integer whose most significant bits are looked up first.
pub trait Key: Copy + Ord + std::fmt::Debug + Send + Sync + 'static {
    /// Width of the key in bits.
    const BITS: u32;
    /// The key as a `u128` (zero-extended; not shifted).
    fn to_u128(self) -> u128;
    /// The low `Self::BITS` bits of `v`.
    fn from_u128(v: u128) -> Self;
    /// The 6 bits starting `off` bits from the top (`off < BITS`), zero-padded on the
    /// right when fewer than 6 remain.
    fn chunk(self, off: u32) -> usize;
    /// The top `bits` bits (`1 <= bits <= 24`).
    fn top(self, bits: u32) -> usize;
}

macro_rules! impl_key {
    ($t:ty) => {
        impl Key for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline(always)]
            fn to_u128(self) -> u128 {
                self as u128
            }
            #[inline(always)]
            fn from_u128(v: u128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn chunk(self, off: u32) -> usize {
                ((self << off) >> (Self::BITS - 6)) as usize
            }
            #[inline(always)]
            fn top(self, bits: u32) -> usize {
                (self >> (Self::BITS - bits)) as usize
            }
        }
    };
}

impl_key!(u32);
impl_key!(u64);
impl_key!(u128);

/// A MAC address (48-bit integer, as [`crate::decode::Mac::to_u64`] gives it) as a trie key.
pub fn mac_key(mac48: u64) -> u64 {
    mac48 << 16
}
