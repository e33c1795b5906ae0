//! The compiled intel database (`intel::db`): the bundled sources compiled, written,
//! mapped back and compared with the parsed tables; the header's hashes against the
//! files in `data/`; and corrupt or truncated files, each with its exact error text.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cleanpath::decode::Mac;
use cleanpath::intel::db::{Db, FORMAT_VERSION, Sources};
use cleanpath::intel::{Intel, MacInfo};
use sha2::Digest;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::OnceLock;

/// (database bytes, the tables parsed from the CSVs).
fn compiled() -> &'static (Vec<u8>, Intel) {
    static C: OnceLock<(Vec<u8>, Intel)> = OnceLock::new();
    C.get_or_init(|| {
        let (bytes, db) = Db::compile(&Sources::bundled()).unwrap();
        (bytes, db.intel)
    })
}

fn rng(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn round_trip_through_a_mapped_file() {
    let (bytes, parsed) = compiled();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intel.cpdb");
    std::fs::write(&path, bytes).unwrap();
    let db = Db::load(&path).unwrap();
    let m = &db.meta;
    assert_eq!(
        (m.snapshot.as_str(), m.ieee_snapshot.as_str()),
        ("2026-06-17", "2022-08-27")
    );
    assert_eq!(
        (
            m.counts.v4_ranges,
            m.counts.v6_ranges,
            m.counts.ieee_assignments
        ),
        (
            parsed.asn.len().0 as u64,
            parsed.asn.len().1 as u64,
            parsed.oui.len() as u64
        )
    );
    assert_eq!(m.counts.v4_ranges, 411_961);
    // Source hashes are the SHA-256 of the files in data/.
    let names: Vec<&str> = m.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "data/asn-ipv4.csv.gz",
            "data/asn-ipv6.csv.gz",
            "data/ieee/oui.csv.gz",
            "data/ieee/mam.csv.gz",
            "data/ieee/oui36.csv.gz",
            "data/ieee/iab.csv.gz"
        ]
    );
    for s in &m.sources {
        let file = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(&s.name)).unwrap();
        let want: String = sha2::Sha256::digest(&file)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            (s.sha256.as_str(), s.bytes),
            (want.as_str(), file.len() as u64),
            "{}",
            s.name
        );
    }
    // Same answers as the parsed tables, at random addresses and MACs.
    let mut seed = 42;
    for _ in 0..200_000 {
        let r = rng(&mut seed);
        let v4 = IpAddr::V4(Ipv4Addr::from(r as u32));
        assert_eq!(db.intel.asn.lookup(v4), parsed.asn.lookup(v4));
        let v6 = IpAddr::V6(Ipv6Addr::from((0x2u128 << 124) | (u128::from(r) << 60)));
        assert_eq!(db.intel.asn.lookup(v6), parsed.asn.lookup(v6));
        let mac = Mac(std::array::from_fn(|i| {
            (r >> (8 * i)) as u8 & if i == 0 { 0xfc } else { 0xff }
        }));
        assert_eq!(db.intel.oui.lookup(mac), parsed.oui.lookup(mac));
    }
    let huawei: Mac = "00:e0:fc:12:34:56".parse().unwrap();
    assert!(matches!(
        db.intel.oui.lookup(huawei),
        MacInfo::Registered {
            org: "HUAWEI TECHNOLOGIES CO.,LTD",
            ..
        }
    ));
    let m = db.intel.asn.lookup("1.0.0.7".parse().unwrap()).unwrap();
    assert_eq!((m.asn.0, m.org), (13335, "Cloudflare, Inc."));
}

#[test]
fn cache_key_follows_the_sources() {
    let a = Sources::bundled();
    let mut b = Sources::bundled();
    assert_eq!(a.cache_key(), b.cache_key());
    assert_eq!(a.cache_key().len(), 16);
    let mut bytes = b.asn[1].bytes.to_vec();
    bytes.push(b'\n');
    b.asn[1].bytes = bytes.into();
    assert_ne!(a.cache_key(), b.cache_key());
}

/// Offset, length and CRC of `name` from the header JSON.
fn section(bytes: &[u8], name: &str) -> (usize, usize) {
    let meta_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let meta: serde_json::Value = serde_json::from_slice(&bytes[24..24 + meta_len]).unwrap();
    let s = meta["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap();
    (
        s["offset"].as_u64().unwrap() as usize,
        s["len"].as_u64().unwrap() as usize,
    )
}

/// Rewrites the header so that section checksums match the (modified) bytes again.
fn reseal(bytes: &mut [u8]) {
    let meta_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut meta: serde_json::Value = serde_json::from_slice(&bytes[24..24 + meta_len]).unwrap();
    for s in meta["sections"].as_array_mut().unwrap() {
        let (o, l) = (
            s["offset"].as_u64().unwrap() as usize,
            s["len"].as_u64().unwrap() as usize,
        );
        s["crc32"] = crc32fast::hash(&bytes[o..o + l]).into();
    }
    let mut json = serde_json::to_vec(&meta).unwrap();
    assert!(json.len() <= meta_len);
    json.resize(meta_len, b' ');
    bytes[24..24 + meta_len].copy_from_slice(&json);
    let crc = crc32fast::hash(&json);
    bytes[16..20].copy_from_slice(&crc.to_le_bytes());
}

fn load_err(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.cpdb");
    std::fs::write(&path, bytes).unwrap();
    let err = Db::load(&path).unwrap_err().to_string();
    err.replace(&path.display().to_string(), "FILE")
}

#[test]
fn corrupt_and_truncated_files_are_clear_errors() {
    let (good, _) = compiled();
    let len = good.len();
    assert_eq!(
        load_err(b""),
        "FILE: not a cleanpath intel database (bad magic)"
    );
    assert_eq!(
        load_err(b"PK\x03\x04 not ours"),
        "FILE: not a cleanpath intel database (bad magic)"
    );
    assert_eq!(
        load_err(&good[..5]),
        "FILE: truncated: the fixed header ends at byte 24, file has 5 bytes"
    );

    let mut v = good.clone();
    v[8] = 2;
    assert_eq!(
        load_err(&v),
        format!(
            "FILE: unsupported database format version 2 (this cleanpath reads {FORMAT_VERSION}); rebuild it with `cleanpath db build`"
        )
    );

    let meta_len = u32::from_le_bytes(good[12..16].try_into().unwrap()) as usize;
    assert_eq!(
        load_err(&good[..100]),
        format!(
            "FILE: truncated: the header ends at byte {}, file has 100 bytes",
            24 + meta_len
        )
    );

    let (o, l) = section(good, "asn.v4.trie");
    assert_eq!(
        load_err(&good[..o + 1000]),
        format!(
            "FILE: truncated: section `asn.v4.trie` ends at byte {}, file has {} bytes",
            o + l,
            o + 1000
        )
    );
    assert!(o + l < len);

    let mut v = good.clone();
    v[o + 5000] ^= 0x40;
    let stored = crc32fast::hash(&good[o..o + l]);
    let computed = crc32fast::hash(&v[o..o + l]);
    assert_eq!(
        load_err(&v),
        format!(
            "FILE: section `asn.v4.trie` checksum mismatch (stored {stored:08x}, computed {computed:08x})"
        )
    );

    let mut v = good.clone();
    v[30] ^= 0x01;
    let stored = u32::from_le_bytes(good[16..20].try_into().unwrap());
    let computed = crc32fast::hash(&v[24..24 + meta_len]);
    assert_eq!(
        load_err(&v),
        format!("FILE: header checksum mismatch (stored {stored:08x}, computed {computed:08x})")
    );

    // Intact checksums over inconsistent content: the trie's own validation.
    let mut v = good.clone();
    let nodes = u32::from_le_bytes(v[o + 8..o + 12].try_into().unwrap());
    let direct = u32::from_le_bytes(v[o + 4..o + 8].try_into().unwrap()) as usize;
    let first_node = o + 16 + direct * 4;
    v[first_node + 20..first_node + 24].copy_from_slice(&(nodes + 7).to_le_bytes()); // base1
    reseal(&mut v);
    let kids =
        u64::from_le_bytes(good[first_node..first_node + 8].try_into().unwrap()).count_ones();
    assert_eq!(
        load_err(&v),
        format!(
            "FILE: section `asn.v4.trie` is corrupt: child base {} points past the end ({nodes} entries)",
            u64::from(nodes) + 7 + u64::from(kids)
        )
    );

    let mut v = good.clone();
    let (so, _) = section(good, "asn.v4.spans");
    v[so + 8..so + 12].copy_from_slice(&u32::MAX.to_le_bytes()); // first span's name
    reseal(&mut v);
    assert_eq!(
        load_err(&v),
        "FILE: section `asn.v4.spans` is corrupt: spans unsorted, overlapping, or naming a missing AS"
    );
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_not_a_crash() {
    // Cut at many points and flip bytes all over: each load fails with a message (or, for
    // flips in padding, succeeds) — never panics.
    let (good, _) = compiled();
    let mut seed = 7;
    for _ in 0..60 {
        let cut = (rng(&mut seed) % good.len() as u64) as usize;
        assert!(Db::from_bytes("x", &good[..cut]).is_err(), "cut at {cut}");
    }
    for _ in 0..60 {
        let mut v = good.clone();
        let at = (rng(&mut seed) % good.len() as u64) as usize;
        v[at] ^= 1 << (rng(&mut seed) % 8);
        let _ = Db::from_bytes("x", &v);
    }
}
