//! The bundled tables through the Poptrie-backed `AsnTable` and `OuiRegistry`, compared
//! with references built here from the raw rows: 1,000,000 IP addresses (random, and
//! every sampled row's boundaries ±1) and every IEEE assignment's boundaries ±1 plus
//! random MACs.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cleanpath::decode::Mac;
use cleanpath::intel::{Asn, AsnTable, MacInfo, OuiRegistry};
use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

fn raw_rows(path: &str, has_headers: bool) -> Vec<csv::StringRecord> {
    let mut text = Vec::new();
    let file = std::fs::File::open(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut text)
        .unwrap();
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .from_reader(&text[..])
        .records()
        .map(Result::unwrap)
        .collect()
}

/// splitmix64.
fn rng(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Row {
    start: u128,
    end: u128,
    asn: u32,
    org: String,
}

/// Compares `table` at `sample` keys with the narrowest raw row covering each (one merge
/// pass over rows and sorted sample); returns (hits, misses).
fn compare(
    table: &AsnTable,
    rows: &[Row],
    mut sample: Vec<u128>,
    to_ip: impl Fn(u128) -> IpAddr,
) -> (u64, u64) {
    sample.sort_unstable();
    // Rows overlapping a neighbour (one pair in the IPv4 file) are reported in pieces.
    let overlapping: Vec<usize> = (1..rows.len())
        .filter(|&i| rows[i].start <= rows[i - 1].end)
        .flat_map(|i| [i - 1, i])
        .collect();
    assert!(overlapping.len() <= 2, "{overlapping:?}");
    let (mut next, mut active, mut hits, mut misses) = (0, Vec::<usize>::new(), 0, 0);
    for &x in &sample {
        while next < rows.len() && rows[next].start <= x {
            active.push(next);
            next += 1;
        }
        active.retain(|&i| rows[i].end >= x);
        let want = active.iter().min_by_key(|&&i| rows[i].end - rows[i].start);
        let got = table.lookup(to_ip(x));
        match (want, got) {
            (Some(&i), Some(m)) => {
                let r = &rows[i];
                assert_eq!(
                    (m.asn, m.org),
                    (Asn(r.asn), r.org.as_str()),
                    "at {}",
                    to_ip(x)
                );
                // The reported range is the row itself unless a narrower row cut it.
                assert!(m.first <= to_ip(x) && to_ip(x) <= m.last);
                if !overlapping.contains(&i) {
                    assert_eq!(
                        (m.first, m.last),
                        (to_ip(r.start), to_ip(r.end)),
                        "at {}",
                        to_ip(x)
                    );
                }
                hits += 1;
            }
            (None, None) => misses += 1,
            (w, g) => panic!(
                "at {}: want {:?}, got {g:?}",
                to_ip(x),
                w.map(|&i| rows[i].asn)
            ),
        }
    }
    (hits, misses)
}

fn rows_of(path: &str) -> Vec<Row> {
    let rows: Vec<Row> = raw_rows(path, false)
        .iter()
        .map(|r| {
            let ip = |s: &str| match s.parse::<IpAddr>().unwrap() {
                IpAddr::V4(a) => u128::from(u32::from(a)),
                IpAddr::V6(a) => u128::from(a),
            };
            Row {
                start: ip(&r[0]),
                end: ip(&r[1]),
                asn: r[2].parse().unwrap(),
                org: r[3].to_string(),
            }
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0].start <= w[1].start));
    rows
}

/// Random keys (masked to `max`) and the boundaries ±1 of randomly chosen rows.
fn sample(
    rows: &[Row],
    seed: &mut u64,
    random: usize,
    bounded: usize,
    max: u128,
    wide: bool,
) -> Vec<u128> {
    let mut out = Vec::with_capacity(random + bounded * 4);
    for _ in 0..random {
        let r = if wide {
            // Bias into 2000::/3, where the IPv6 table lives.
            (0x2u128 << 124) | ((u128::from(rng(seed)) << 64 | u128::from(rng(seed))) >> 4)
        } else {
            u128::from(rng(seed))
        };
        out.push(r & max);
    }
    for _ in 0..bounded {
        let r = &rows[(rng(seed) % rows.len() as u64) as usize];
        out.extend([
            r.start.wrapping_sub(1) & max,
            r.start,
            r.end,
            r.end.wrapping_add(1) & max,
        ]);
    }
    out.extend([0, max, 1, max - 1]);
    out
}

#[test]
fn asn_one_million_addresses_match_raw_rows() {
    let table = AsnTable::bundled().unwrap();
    let mut seed = 0x1b3_u64;
    let v4 = rows_of("data/asn-ipv4.csv.gz");
    let s4 = sample(
        &v4,
        &mut seed,
        400_000,
        100_000,
        u128::from(u32::MAX),
        false,
    );
    let n4 = s4.len() as u64;
    let (h4, m4) = compare(&table, &v4, s4, |x| IpAddr::V4(Ipv4Addr::from(x as u32)));
    let v6 = rows_of("data/asn-ipv6.csv.gz");
    let s6 = sample(&v6, &mut seed, 100_000, 25_000, u128::MAX, true);
    let n6 = s6.len() as u64;
    let (h6, m6) = compare(&table, &v6, s6, |x| IpAddr::V6(Ipv6Addr::from(x)));
    assert_eq!(n4 + n6, 1_000_008);
    assert_eq!((h4 + m4, h6 + m6), (n4, n6));
    assert!(h4 > 500_000 && m4 > 80_000, "IPv4 hits {h4} misses {m4}");
    assert!(h6 > 50_000 && m6 > 100_000, "IPv6 hits {h6} misses {m6}");
}

#[test]
fn oui_every_assignment_boundary_matches_raw_rows() {
    let reg = OuiRegistry::bundled().unwrap();
    // Reference: per prefix length a map from prefix to the first row's org; longest first.
    let mut by_len: [HashMap<u64, String>; 3] = Default::default();
    let mut keys: Vec<u64> = Vec::new();
    for file in ["oui", "mam", "oui36", "iab"] {
        for r in raw_rows(&format!("data/ieee/{file}.csv.gz"), true) {
            let bits = r[1].trim().len() as u32 * 4;
            let p = u64::from_str_radix(r[1].trim(), 16).unwrap();
            let slot = match bits {
                24 => 0,
                28 => 1,
                _ => 2,
            };
            by_len[slot]
                .entry(p)
                .or_insert_with(|| r[2].trim().to_string());
            let first = p << (48 - bits);
            let last = first | ((1 << (48 - bits)) - 1);
            keys.extend([
                first.wrapping_sub(1),
                first,
                first + 1,
                last - 1,
                last,
                last + 1,
            ]);
        }
    }
    let mut seed = 0x0_u64;
    keys.extend((0..200_000).map(|_| rng(&mut seed)));
    let (mut registered, mut other) = (0, 0);
    for k in keys {
        let k = k & 0xffff_ffff_ffff & !(0x03 << 40); // universal, unicast
        let mac = Mac(std::array::from_fn(|i| (k >> (40 - 8 * i)) as u8));
        let want = [(2usize, 36u8), (1, 28), (0, 24)]
            .into_iter()
            .find_map(|(slot, bits)| {
                by_len[slot]
                    .get(&(k >> (48 - bits)))
                    .map(|o| (bits, o.as_str()))
            });
        match (reg.lookup(mac), want) {
            (
                MacInfo::Registered {
                    prefix_bits, org, ..
                },
                Some((bits, o)),
            ) => {
                assert_eq!((prefix_bits, org), (bits, o), "at {mac}");
                registered += 1;
            }
            (MacInfo::Unregistered, None) => other += 1,
            (got, want) => panic!("at {mac}: got {got:?}, want {want:?}"),
        }
    }
    assert!(
        registered > 200_000 && other > 150_000,
        "{registered} {other}"
    );
}
