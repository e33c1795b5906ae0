//! Property tests of the Poptrie (`intel::lpm`) against the naive references: random
//! nested and overlapping prefix sets for IPv4 (u32), MAC (u64, 48 bits left-aligned)
//! and IPv6 (u128), looked up at random keys, the all-zeros and all-ones keys and every
//! prefix boundary ±1, one at a time and batched, with several direct-table widths.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cleanpath::intel::lpm::naive::{NaiveLpm, range_lookup};
use cleanpath::intel::lpm::{Builder, Key, Poptrie, range_to_cidrs};
use proptest::prelude::*;

/// Keys to probe: edges, seeds, random keys and every prefix's boundaries ±1.
fn probes<K: Key>(prefixes: &[(K, u8, u32)], extra: &[K]) -> Vec<K> {
    let max = if K::BITS == 128 {
        u128::MAX
    } else {
        (1u128 << K::BITS) - 1
    };
    let mut out = vec![
        K::from_u128(0),
        K::from_u128(max),
        K::from_u128(1),
        K::from_u128(max - 1),
    ];
    out.extend_from_slice(extra);
    for &(p, len, _) in prefixes {
        let host = if u32::from(len) >= K::BITS {
            0
        } else {
            max >> u32::from(len)
        };
        let first = p.to_u128() & !host;
        let last = first | host;
        for k in [
            first.wrapping_sub(1),
            first,
            first + (host / 2),
            last,
            last.wrapping_add(1),
        ] {
            out.push(K::from_u128(k & max));
        }
    }
    out
}

fn check<K: Key>(
    prefixes: &[(K, u8, u32)],
    extra: &[K],
    top_bits: u32,
) -> Result<(), TestCaseError> {
    let mut b = Builder::<K>::new(top_bits);
    let mut naive = NaiveLpm::new();
    for &(p, len, v) in prefixes {
        b.insert(p, len, v)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        naive.insert(p, len, v);
    }
    let trie = b.build();
    let keys = probes(prefixes, extra);
    let mut batch = vec![Some(u32::MAX); keys.len()];
    trie.lookup_batch(&keys, &mut batch);
    for (k, got_batch) in keys.iter().zip(&batch) {
        let want = naive.lookup(*k);
        prop_assert_eq!(trie.lookup(*k), want, "key {:x?}", k);
        prop_assert_eq!(*got_batch, want, "batched, key {:x?}", k);
    }
    // The arrays pass the loader's validation and give the same trie back.
    let again = Poptrie::<K>::from_parts(
        trie.top_bits(),
        trie.direct().to_vec(),
        trie.nodes().to_vec(),
        trie.leaves().to_vec(),
    );
    prop_assert_eq!(again.as_ref(), Ok(&trie));
    Ok(())
}

/// Prefixes around a few seeds, so that they nest and overlap often: each prefix is a
/// seed with one bit possibly flipped, cut to a random length.
fn prefix_set(bits: u32, max_len: u8) -> impl Strategy<Value = (Vec<(u128, u8, u32)>, Vec<u128>)> {
    let max = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    (
        proptest::collection::vec(any::<u128>(), 1..4),
        proptest::collection::vec((0usize..4, 0u32..130, 0u8..=max_len, 0u32..50), 0..60),
        proptest::collection::vec(any::<u128>(), 0..20),
    )
        .prop_map(move |(seeds, raw, randoms)| {
            let seeds: Vec<u128> = seeds.iter().map(|s| s & max).collect();
            let prefixes = raw
                .into_iter()
                .map(|(j, flip, len, v)| {
                    let s = seeds[j % seeds.len()];
                    let s = if flip < bits { s ^ (1u128 << flip) } else { s };
                    (s, len, v)
                })
                .collect();
            let mut extra: Vec<u128> = randoms.iter().map(|r| r & max).collect();
            extra.extend(&seeds);
            (prefixes, extra)
        })
}

fn narrow<K: Key>(set: &(Vec<(u128, u8, u32)>, Vec<u128>)) -> (Vec<(K, u8, u32)>, Vec<K>) {
    (
        set.0
            .iter()
            .map(|&(p, l, v)| (K::from_u128(p), l, v))
            .collect(),
        set.1.iter().map(|&k| K::from_u128(k)).collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ipv4_matches_naive(set in prefix_set(32, 32), top in prop_oneof![Just(8u32), Just(16), Just(18)]) {
        let (p, e) = narrow::<u32>(&set);
        check(&p, &e, top)?;
    }

    #[test]
    fn ipv6_matches_naive(set in prefix_set(128, 128), top in prop_oneof![Just(16u32), Just(20)]) {
        let (p, e) = narrow::<u128>(&set);
        check(&p, &e, top)?;
    }

    #[test]
    fn mac_matches_naive(set in prefix_set(48, 48), top in prop_oneof![Just(12u32), Just(16)]) {
        // 48-bit MACs left-aligned in u64, as OuiRegistry keys them.
        let p: Vec<(u64, u8, u32)> = set.0.iter().map(|&(p, l, v)| ((p as u64) << 16, l, v)).collect();
        let e: Vec<u64> = set.1.iter().map(|&k| (k as u64) << 16).collect();
        check(&p, &e, top)?;
    }

    #[test]
    fn cidr_split_is_exact(a in any::<u32>(), b in any::<u32>()) {
        let (s, e) = (a.min(b), a.max(b));
        let cidrs = range_to_cidrs(s, e);
        let mut next = u64::from(s);
        for &(p, len) in &cidrs {
            prop_assert_eq!(u64::from(p), next, "contiguous, in order");
            let size = 1u64 << (32 - u32::from(len));
            prop_assert_eq!(u64::from(p) % size, 0, "aligned");
            next += size;
        }
        prop_assert_eq!(next, u64::from(e) + 1);
        prop_assert!(cidrs.len() <= 62, "at most 2 per bit");
    }

    #[test]
    fn ranges_via_cidrs_match_naive(raw in proptest::collection::vec((any::<u32>(), 0u32..5000, 0u32..9), 0..30)) {
        // Disjoint ranges inserted with insert_range (CIDR split) and with from_disjoint.
        let mut ranges: Vec<(u32, u32, u32)> = Vec::new();
        let mut sorted: Vec<(u32, u32, u32)> = raw.iter().map(|&(s, w, v)| (s, s.saturating_add(w), v)).collect();
        sorted.sort_unstable();
        for r in sorted {
            if ranges.last().is_none_or(|l| l.1 < r.0) {
                ranges.push(r);
            }
        }
        let mut b = Builder::<u32>::new(16);
        for &(s, e, v) in &ranges {
            b.insert_range(s, e, v).unwrap();
        }
        let t1 = b.build();
        let t2 = Poptrie::from_disjoint(16, ranges.iter().copied()).unwrap();
        for &(s, e, _) in &ranges {
            for k in [s.wrapping_sub(1), s, s / 2 + e / 2, e, e.wrapping_add(1), 0, u32::MAX] {
                let want = range_lookup(&ranges, k);
                prop_assert_eq!(t1.lookup(k), want);
                prop_assert_eq!(t2.lookup(k), want);
            }
        }
    }

    #[test]
    fn corrupt_parts_never_panic(set in prefix_set(32, 32), idx in any::<usize>(), word in any::<u64>(), which in 0u8..4) {
        // A flipped word in any array: from_parts rejects it, or lookups stay in bounds.
        let (p, e) = narrow::<u32>(&set);
        let mut b = Builder::<u32>::new(8);
        for &(pp, l, v) in &p { b.insert(pp, l, v).unwrap(); }
        let t = b.build();
        let (mut d, mut n, mut l) = (t.direct().to_vec(), t.nodes().to_vec(), t.leaves().to_vec());
        match which {
            0 => { let i = idx % d.len(); d[i] = word as u32; }
            1 if !n.is_empty() => { let i = idx % n.len(); n[i].vector = word; }
            2 if !n.is_empty() => { let i = idx % n.len(); n[i].base1 = word as u32; n[i].base0 = (word >> 32) as u32; }
            3 if !l.is_empty() => { let i = idx % l.len(); l[i] = word as u32; }
            _ => {}
        }
        if let Ok(bad) = Poptrie::<u32>::from_parts(8, d, n, l) {
            let keys = probes(&p, &e);
            let mut out = vec![None; keys.len()];
            bad.lookup_batch(&keys, &mut out);
            for k in keys { let _ = bad.lookup(k); }
        }
    }
}

#[test]
fn whole_space_and_host_routes() {
    let mut b = Builder::<u128>::new(16);
    b.insert(0, 0, 7).unwrap();
    b.insert(u128::MAX, 128, 9).unwrap();
    b.insert(0x2001_0db8 << 96, 32, 8).unwrap();
    b.insert(0x2001_0db8 << 96, 32, 10).unwrap(); // the same prefix again: later wins
    let t = b.build();
    assert_eq!(t.lookup(0), Some(7));
    assert_eq!(t.lookup(u128::MAX), Some(9));
    assert_eq!(t.lookup(u128::MAX - 1), Some(7));
    assert_eq!(t.lookup((0x2001_0db8 << 96) | 1), Some(10));
    assert_eq!(t.lookup(0x2001_0db9 << 96), Some(7));
    assert_eq!(range_to_cidrs(0u128, u128::MAX), vec![(0, 0)]);
    assert_eq!(range_to_cidrs(0u32, u32::MAX), vec![(0, 0)]);
    assert_eq!(range_to_cidrs(5u32, 5), vec![(5, 32)]);
    assert_eq!(
        range_to_cidrs(0x0a00_0001u32, 0x0a00_0006),
        vec![
            (0x0a00_0001, 32),
            (0x0a00_0002, 31),
            (0x0a00_0004, 31),
            (0x0a00_0006, 32)
        ]
    );
}

#[test]
fn from_parts_rejects_with_reasons() {
    let mut b = Builder::<u32>::new(8);
    b.insert(0x0a00_0000, 24, 1).unwrap();
    let t = b.build();
    let err = |d: Vec<u32>, n, l| {
        Poptrie::<u32>::from_parts(8, d, n, l)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(vec![0; 10], t.nodes().to_vec(), t.leaves().to_vec()),
        "direct table has 10 entries, expected 2^8"
    );
    let mut n = t.nodes().to_vec();
    n[0].base1 = 1000;
    assert_eq!(
        err(t.direct().to_vec(), n, t.leaves().to_vec()),
        format!(
            "child base {} points past the end ({} entries)",
            1000 + t.nodes()[0].vector.count_ones(),
            t.nodes().len()
        )
    );
    let mut d = t.direct().to_vec();
    d[10] = 5000;
    assert_eq!(
        err(d, t.nodes().to_vec(), t.leaves().to_vec()),
        format!(
            "direct entry 5001 points past the end ({} entries)",
            t.nodes().len()
        )
    );
}
