//! Longest-prefix match on the full bundled ASN tables (`data/asn-ipv4.csv.gz`,
//! `data/asn-ipv6.csv.gz`): cleanpath's Poptrie (`intel::lpm`, single and batched)
//! against the LPM crates a user could pick instead — `prefix-trie`,
//! `ip_network_table` (treebitmap), `iptrie` (LC-trie), `poptrie` — and `maxminddb` over
//! an `.mmdb` of the same table, written at bench start by the small MaxMind DB writer
//! below (MaxMind DB format spec 2.0). Three address streams: uniform random, drawn from
//! the table's ranges, and Zipf-skewed (s = 1) over the ranges.
//!
//! Before the timed runs the bench prints build time and memory per structure; memory is
//! the live heap growth while building, measured by a counting global allocator (the one
//! `unsafe` block of this file, see SAFETY below).
//!
//! Run: `cargo bench --bench lpm`; one group: `cargo bench --bench lpm -- ipv4/uniform`.

#![allow(unsafe_code)] // the counting allocator only
#![allow(missing_docs, clippy::unwrap_used)]

use cleanpath::intel::lpm::{Builder, mac_key, range_to_cidrs};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Builds with `f`, printing build time and heap bytes kept.
fn measure<T>(family: &str, name: &str, f: impl FnOnce() -> T) -> T {
    let before = LIVE.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let out = f();
    let took = t0.elapsed();
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    eprintln!(
        "build {family:5} {name:18} {:9.1} ms {:12} bytes ({:.2} MiB)",
        took.as_secs_f64() * 1e3,
        bytes,
        bytes as f64 / 1048576.0
    );
    out
}

/// (start, end, asn) rows of a bundled table.
fn rows(path: &str) -> Vec<(u128, u128, u32)> {
    let mut text = Vec::new();
    let f = std::fs::File::open(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut text)
        .unwrap();
    let ip = |s: &str| match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&text[..])
        .records()
        .map(|r| {
            let r = r.unwrap();
            (ip(&r[0]), ip(&r[1]), r[2].parse().unwrap())
        })
        .collect()
}

/// splitmix64.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn wide(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

const N: usize = 1 << 14;

/// The three address streams over `rows` (keys in u128; IPv4 in the low 32 bits).
fn streams(rows: &[(u128, u128, u32)], v6: bool) -> Vec<(&'static str, Vec<u128>)> {
    let mut rng = Rng(0x1f2e_3d4c);
    let in_row = |rng: &mut Rng, r: &(u128, u128, u32)| {
        let span = r.1 - r.0;
        r.0 + if span == u128::MAX {
            rng.wide()
        } else {
            rng.wide() % (span + 1)
        }
    };
    let uniform = (0..N)
        .map(|_| {
            if v6 {
                // Global unicast 2000::/3, where the table is.
                (0x2u128 << 124) | (rng.wide() >> 4)
            } else {
                u128::from(rng.next() as u32)
            }
        })
        .collect();
    let drawn = (0..N)
        .map(|_| {
            let i = (rng.next() % rows.len() as u64) as usize;
            in_row(&mut rng, &rows[i])
        })
        .collect();
    // Zipf (s = 1) over the rows in a shuffled order: a few ranges get most lookups.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let mut cdf = Vec::with_capacity(rows.len());
    let mut acc = 0.0;
    for k in 1..=rows.len() {
        acc += 1.0 / k as f64;
        cdf.push(acc);
    }
    let zipf = (0..N)
        .map(|_| {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * acc;
            let k = cdf.partition_point(|&c| c < u).min(rows.len() - 1);
            in_row(&mut rng, &rows[order[k]])
        })
        .collect();
    vec![("uniform", uniform), ("drawn", drawn), ("zipf", zipf)]
}

fn cidrs(rows: &[(u128, u128, u32)], v6: bool) -> Vec<(u128, u8, u32)> {
    let mut out = Vec::new();
    for &(s, e, asn) in rows {
        if v6 {
            out.extend(range_to_cidrs(s, e).into_iter().map(|(p, l)| (p, l, asn)));
        } else {
            out.extend(
                range_to_cidrs(s as u32, e as u32)
                    .into_iter()
                    .map(|(p, l)| (u128::from(p), l, asn)),
            );
        }
    }
    // Shorter prefixes first, so that nested ones override (the bundled IPv4 file has
    // one overlapping pair).
    out.sort_by_key(|&(p, l, _)| (l, p));
    out
}

/// A minimal MaxMind DB writer: record size 32, one `{autonomous_system_number}` map per
/// AS, IPv4 (ip_version 4) or IPv6 tree.
mod mmdb {
    const EMPTY: u32 = u32::MAX;
    const DATA: u32 = 1 << 31;

    fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
        let (t, ext) = if ty > 7 {
            (0u8, Some(ty - 7))
        } else {
            (ty, None)
        };
        assert!(size < 29);
        out.push((t << 5) | size as u8);
        out.extend(ext);
    }
    fn string(out: &mut Vec<u8>, s: &str) {
        ctrl(out, 2, s.len());
        out.extend_from_slice(s.as_bytes());
    }
    fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
        let b = v.to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        ctrl(out, ty, 8 - skip);
        out.extend_from_slice(&b[skip..]);
    }

    pub(super) fn write(prefixes: &[(u128, u8, u32)], bits: u32) -> Vec<u8> {
        let mut nodes: Vec<[u32; 2]> = vec![[EMPTY, EMPTY]];
        let mut data = Vec::new();
        let mut at: std::collections::HashMap<u32, u32> = Default::default();
        for &(p, len, asn) in prefixes {
            let off = *at.entry(asn).or_insert_with(|| {
                let o = data.len() as u32;
                ctrl(&mut data, 7, 1);
                string(&mut data, "autonomous_system_number");
                uint(&mut data, 6, u64::from(asn));
                o
            });
            let mut n = 0usize;
            for d in 0..u32::from(len) {
                let bit = ((p >> (bits - 1 - d)) & 1) as usize;
                if d + 1 == u32::from(len) {
                    nodes[n][bit] = DATA | off;
                    break;
                }
                let r = nodes[n][bit];
                if r == EMPTY || r & DATA != 0 {
                    nodes.push([r, r]); // split a shorter prefix's leaf
                    let id = nodes.len() as u32 - 1;
                    nodes[n][bit] = id;
                }
                n = nodes[n][bit] as usize;
            }
        }
        let count = nodes.len() as u32;
        let mut out = Vec::with_capacity(nodes.len() * 8 + data.len() + 256);
        for n in &nodes {
            for &r in n {
                let v = if r == EMPTY {
                    count
                } else if r & DATA != 0 {
                    count + 16 + (r & !DATA)
                } else {
                    r
                };
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
        ctrl(&mut out, 7, 9);
        string(&mut out, "binary_format_major_version");
        uint(&mut out, 5, 2);
        string(&mut out, "binary_format_minor_version");
        uint(&mut out, 5, 0);
        string(&mut out, "build_epoch");
        uint(&mut out, 9, 1_700_000_000);
        string(&mut out, "database_type");
        string(&mut out, "cleanpath-bench-ASN");
        string(&mut out, "description");
        ctrl(&mut out, 7, 0);
        string(&mut out, "ip_version");
        uint(&mut out, 5, if bits == 32 { 4 } else { 6 });
        string(&mut out, "languages");
        ctrl(&mut out, 11, 0);
        string(&mut out, "node_count");
        uint(&mut out, 6, u64::from(count));
        string(&mut out, "record_size");
        uint(&mut out, 5, 32);
        out
    }
}

#[derive(serde::Deserialize)]
struct AsRec {
    autonomous_system_number: u32,
}

fn configure(c: &mut Criterion) -> &mut Criterion {
    c
}

fn bench_family(c: &mut Criterion, v6: bool) {
    let family = if v6 { "ipv6" } else { "ipv4" };
    let path = if v6 {
        "data/asn-ipv6.csv.gz"
    } else {
        "data/asn-ipv4.csv.gz"
    };
    let rows = rows(path);
    let pfx = cidrs(&rows, v6);
    eprintln!("{family}: {} rows, {} CIDR prefixes", rows.len(), pfx.len());
    let bits = if v6 { 128 } else { 32 };

    // Ours: from the raw ranges (split into CIDRs inside), value = row index.
    let ours4 = (!v6).then(|| {
        measure(family, "cleanpath", || {
            let mut b = Builder::<u32>::new(18);
            for (i, &(s, e, _)) in rows.iter().enumerate() {
                b.insert_range(s as u32, e as u32, i as u32).unwrap();
            }
            b.build()
        })
    });
    let ours6 = v6.then(|| {
        measure(family, "cleanpath", || {
            let mut b = Builder::<u128>::new(16);
            for (i, &(s, e, _)) in rows.iter().enumerate() {
                b.insert_range(s, e, i as u32).unwrap();
            }
            b.build()
        })
    });
    if let Some(t) = &ours4 {
        eprintln!("      cleanpath arrays: {} bytes", t.memory_bytes());
    }
    if let Some(t) = &ours6 {
        eprintln!("      cleanpath arrays: {} bytes", t.memory_bytes());
    }
    let ptrie = measure(family, "prefix-trie", || {
        let mut m4 = prefix_trie::PrefixMap::<ipnet::Ipv4Net, u32>::new();
        let mut m6 = prefix_trie::PrefixMap::<ipnet::Ipv6Net, u32>::new();
        for &(p, l, v) in &pfx {
            if v6 {
                m6.insert(ipnet::Ipv6Net::new(Ipv6Addr::from(p), l).unwrap(), v);
            } else {
                m4.insert(ipnet::Ipv4Net::new(Ipv4Addr::from(p as u32), l).unwrap(), v);
            }
        }
        (m4, m6)
    });
    let tbm = measure(family, "ip_network_table", || {
        let mut t = ip_network_table::IpNetworkTable::<u32>::new();
        for &(p, l, v) in &pfx {
            if v6 {
                t.insert(
                    ip_network::Ipv6Network::new(Ipv6Addr::from(p), l).unwrap(),
                    v,
                );
            } else {
                t.insert(
                    ip_network::Ipv4Network::new(Ipv4Addr::from(p as u32), l).unwrap(),
                    v,
                );
            }
        }
        t
    });
    let lct = measure(family, "iptrie (LC-trie)", || {
        let mut m4 = iptrie::Ipv4RTrieMap::<u32>::with_root(0);
        let mut m6 = iptrie::Ipv6RTrieMap::<u32>::with_root(0);
        for &(p, l, v) in &pfx {
            if v6 {
                m6.insert(iptrie::Ipv6Prefix::new(Ipv6Addr::from(p), l).unwrap(), v);
            } else {
                m4.insert(
                    iptrie::Ipv4Prefix::new(Ipv4Addr::from(p as u32), l).unwrap(),
                    v,
                );
            }
        }
        (m4.compress(), m6.compress())
    });
    let pop4 = (!v6).then(|| {
        measure(family, "poptrie (crate)", || {
            pfx.iter()
                .map(|&(p, l, v)| ((p as u32, l), v))
                .collect::<poptrie::Poptrie<(u32, u8), u32>>()
        })
    });
    let pop6 = v6.then(|| {
        measure(family, "poptrie (crate)", || {
            pfx.iter()
                .map(|&(p, l, v)| ((p, l), v))
                .collect::<poptrie::Poptrie<(u128, u8), u32>>()
        })
    });
    let t0 = Instant::now();
    let mmdb_bytes = mmdb::write(&pfx, bits);
    eprintln!(
        "build {family:5} {:18} {:9.1} ms {:12} bytes (.mmdb file, written by the bench)",
        "maxminddb",
        t0.elapsed().as_secs_f64() * 1e3,
        mmdb_bytes.len()
    );
    let mmdb = maxminddb::Reader::from_source(mmdb_bytes).unwrap();

    for (stream, keys) in streams(&rows, v6) {
        let mut g = c.benchmark_group(format!("{family}/{stream}"));
        g.throughput(Throughput::Elements(N as u64));
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
        g.sample_size(20);
        let k4: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
        let a4: Vec<Ipv4Addr> = k4.iter().map(|&k| Ipv4Addr::from(k)).collect();
        let a6: Vec<Ipv6Addr> = keys.iter().map(|&k| Ipv6Addr::from(k)).collect();
        let ips: Vec<IpAddr> = if v6 {
            a6.iter().map(|&a| IpAddr::V6(a)).collect()
        } else {
            a4.iter().map(|&a| IpAddr::V4(a)).collect()
        };
        // Cross-check: every structure answers the same AS for every key.
        let truth: Vec<Option<u32>> = if v6 {
            keys.iter()
                .map(|&k| {
                    ours6
                        .as_ref()
                        .unwrap()
                        .lookup(k)
                        .map(|i| rows[i as usize].2)
                })
                .collect()
        } else {
            k4.iter()
                .map(|&k| {
                    ours4
                        .as_ref()
                        .unwrap()
                        .lookup(k)
                        .map(|i| rows[i as usize].2)
                })
                .collect()
        };
        for (i, ip) in ips.iter().enumerate() {
            let m: Option<AsRec> = mmdb.lookup(*ip).unwrap().decode().unwrap();
            assert_eq!(
                m.map(|r| r.autonomous_system_number),
                truth[i],
                "mmdb at {ip}"
            );
            let p = match ip {
                IpAddr::V4(a) => ptrie.0.get_lpm(&ipnet::Ipv4Net::from(*a)).map(|x| *x.1),
                IpAddr::V6(a) => ptrie.1.get_lpm(&ipnet::Ipv6Net::from(*a)).map(|x| *x.1),
            };
            assert_eq!(p, truth[i], "prefix-trie at {ip}");
        }

        if let Some(t) = &ours4 {
            g.bench_function(BenchmarkId::new("cleanpath", "single"), |b| {
                b.iter(|| {
                    let mut acc = 0u32;
                    for &k in &k4 {
                        acc = acc.wrapping_add(t.lookup(black_box(k)).unwrap_or(0));
                    }
                    acc
                })
            });
            let mut out = vec![None; N];
            g.bench_function(BenchmarkId::new("cleanpath", "batch"), |b| {
                b.iter(|| {
                    t.lookup_batch(black_box(&k4), &mut out);
                    out[N - 1]
                })
            });
        }
        if let Some(t) = &ours6 {
            g.bench_function(BenchmarkId::new("cleanpath", "single"), |b| {
                b.iter(|| {
                    let mut acc = 0u32;
                    for &k in &keys {
                        acc = acc.wrapping_add(t.lookup(black_box(k)).unwrap_or(0));
                    }
                    acc
                })
            });
            let mut out = vec![None; N];
            g.bench_function(BenchmarkId::new("cleanpath", "batch"), |b| {
                b.iter(|| {
                    t.lookup_batch(black_box(&keys), &mut out);
                    out[N - 1]
                })
            });
        }
        g.bench_function("prefix-trie", |b| {
            b.iter(|| {
                let mut acc = 0u32;
                if v6 {
                    for &a in &a6 {
                        acc = acc.wrapping_add(
                            ptrie
                                .1
                                .get_lpm(&ipnet::Ipv6Net::from(black_box(a)))
                                .map_or(0, |x| *x.1),
                        );
                    }
                } else {
                    for &a in &a4 {
                        acc = acc.wrapping_add(
                            ptrie
                                .0
                                .get_lpm(&ipnet::Ipv4Net::from(black_box(a)))
                                .map_or(0, |x| *x.1),
                        );
                    }
                }
                acc
            })
        });
        g.bench_function("ip_network_table", |b| {
            b.iter(|| {
                let mut acc = 0u32;
                if v6 {
                    for &a in &a6 {
                        acc = acc
                            .wrapping_add(tbm.longest_match_ipv6(black_box(a)).map_or(0, |x| *x.1));
                    }
                } else {
                    for &a in &a4 {
                        acc = acc
                            .wrapping_add(tbm.longest_match_ipv4(black_box(a)).map_or(0, |x| *x.1));
                    }
                }
                acc
            })
        });
        g.bench_function("iptrie (LC-trie)", |b| {
            b.iter(|| {
                let mut acc = 0u32;
                if v6 {
                    for &a in &a6 {
                        acc = acc.wrapping_add(*lct.1.lookup(&black_box(a)).1);
                    }
                } else {
                    for &a in &a4 {
                        acc = acc.wrapping_add(*lct.0.lookup(&black_box(a)).1);
                    }
                }
                acc
            })
        });
        g.bench_function("poptrie (crate)", |b| {
            b.iter(|| {
                let mut acc = 0u32;
                if let Some(t) = &pop6 {
                    for &k in &keys {
                        acc = acc.wrapping_add(t.lookup(black_box(k)).copied().unwrap_or(0));
                    }
                }
                if let Some(t) = &pop4 {
                    for &k in &k4 {
                        acc = acc.wrapping_add(t.lookup(black_box(k)).copied().unwrap_or(0));
                    }
                }
                acc
            })
        });
        g.bench_function("maxminddb", |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &ip in &ips {
                    let r: Option<AsRec> = mmdb.lookup(black_box(ip)).unwrap().decode().unwrap();
                    acc = acc.wrapping_add(r.map_or(0, |r| r.autonomous_system_number));
                }
                acc
            })
        });
        g.finish();
    }
}

fn ipv4(c: &mut Criterion) {
    bench_family(configure(c), false);
}

fn ipv6(c: &mut Criterion) {
    bench_family(configure(c), true);
}

/// MAC → IEEE assignment over the bundled MA-L/MA-M/MA-S/IAB registries.
fn mac(c: &mut Criterion) {
    let mut prefixes: Vec<(u64, u8)> = Vec::new();
    for file in ["oui", "mam", "oui36", "iab"] {
        let mut text = Vec::new();
        let f = std::fs::File::open(format!(
            "{}/data/ieee/{file}.csv.gz",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut text)
            .unwrap();
        for r in csv::Reader::from_reader(&text[..]).records() {
            let r = r.unwrap();
            let hex = r[1].trim();
            let bits = hex.len() as u32 * 4;
            let v = u64::from_str_radix(hex, 16).unwrap();
            prefixes.push((v << (48 - bits), bits as u8));
        }
    }
    let trie = measure("mac", "cleanpath", || {
        let mut seen = HashMap::new();
        let mut b = Builder::<u64>::new(16);
        for (i, &(p, l)) in prefixes.iter().enumerate() {
            if seen.insert((p, l), i).is_none() {
                b.insert(mac_key(p), l, i as u32).unwrap();
            }
        }
        b.build()
    });
    eprintln!("      cleanpath arrays: {} bytes", trie.memory_bytes());
    let mut rng = Rng(7);
    let drawn: Vec<u64> = (0..N)
        .map(|_| {
            let (p, l) = prefixes[(rng.next() % prefixes.len() as u64) as usize];
            mac_key(p | (rng.next() & ((1 << (48 - l)) - 1)))
        })
        .collect();
    let uniform: Vec<u64> = (0..N)
        .map(|_| mac_key(rng.next() & 0xfcff_ffff_ffff))
        .collect();
    let mut g = c.benchmark_group("mac");
    g.throughput(Throughput::Elements(N as u64));
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);
    for (name, keys) in [("drawn", &drawn), ("uniform", &uniform)] {
        g.bench_function(BenchmarkId::new("cleanpath single", name), |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &k in keys.iter() {
                    acc = acc.wrapping_add(trie.lookup(black_box(k)).unwrap_or(0));
                }
                acc
            })
        });
        let mut out = vec![None; N];
        g.bench_function(BenchmarkId::new("cleanpath batch", name), |b| {
            b.iter(|| {
                trie.lookup_batch(black_box(keys), &mut out);
                out[N - 1]
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ipv4, ipv6, mac);
criterion_main!(benches);
