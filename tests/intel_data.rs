//! The bundled reference data (`data/`, `denylists/`) loaded through the public API and
//! checked against the raw rows. Expected values were read from the files with Python's
//! `csv` module (line numbers given); the cross-checks parse the raw files again here.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cleanpath::decode::Mac;
use cleanpath::intel::{Asn, AsnTable, MacInfo, OuiRegistry, Registry};
use cleanpath::policy::{Category, Confidence, Denylist, RuleKind};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn asn_table() -> &'static AsnTable {
    static T: OnceLock<AsnTable> = OnceLock::new();
    T.get_or_init(|| AsnTable::bundled().expect("bundled ASN data loads"))
}

fn oui() -> &'static OuiRegistry {
    static R: OnceLock<OuiRegistry> = OnceLock::new();
    R.get_or_init(|| OuiRegistry::bundled().expect("bundled IEEE data loads"))
}

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

/// (asn, org, first, last) of the range covering `addr`.
fn at(addr: &str) -> Option<(u32, &'static str, IpAddr, IpAddr)> {
    asn_table()
        .lookup(ip(addr))
        .map(|m| (m.asn.0, m.org, m.first, m.last))
}

/// Raw rows of a gzip CSV file, parsed independently of the crate.
fn raw_rows(path: &str, has_headers: bool) -> Vec<csv::StringRecord> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(data(path)).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .from_reader(&text[..])
        .records()
        .map(Result::unwrap)
        .collect()
}

// ---------------------------------------------------------------- ASN

#[test]
fn asn_row_counts() {
    // README: 411,961 IPv4 and 103,197 IPv6 rows. Flattening the one overlapping pair
    // clips AS749's range but removes none, so the counts are unchanged.
    assert_eq!(raw_rows("data/asn-ipv4.csv.gz", false).len(), 411_961);
    assert_eq!(raw_rows("data/asn-ipv6.csv.gz", false).len(), 103_197);
    assert_eq!(asn_table().len(), (411_961, 103_197));
    // One org name per ASN in this build: 91,065 distinct ASNs.
    assert_eq!(asn_table().names_len(), 91_065);
}

#[test]
fn asn_known_answers() {
    // asn-ipv4.csv line 1: 1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc." (next row 1.0.4.0).
    let cf = Some((13335, "Cloudflare, Inc.", ip("1.0.0.0"), ip("1.0.0.255")));
    assert_eq!(at("1.0.0.1"), cf);
    assert_eq!(at("1.0.0.0"), cf);
    assert_eq!(at("1.0.0.255"), cf);
    assert_eq!(at("1.0.1.0"), None);
    assert_eq!(at("0.255.255.255"), None);
    // Lines 4/5: adjacent ranges of different ASes.
    assert_eq!(
        at("1.0.127.255"),
        Some((18144, "Enecom,Inc.", ip("1.0.64.0"), ip("1.0.127.255")))
    );
    assert_eq!(
        at("1.0.128.0"),
        Some((
            23969,
            "TOT Public Company Limited",
            ip("1.0.128.0"),
            ip("1.0.196.255")
        ))
    );
    // Line 180: 1.48.0.0,1.48.63.255,4134,Chinanet.
    assert_eq!(
        at("1.48.12.34"),
        Some((4134, "Chinanet", ip("1.48.0.0"), ip("1.48.63.255")))
    );
    // RFC 1918 space is in no range: 9.249.127.255 (AS5650) is followed by 11.0.0.0.
    assert_eq!(at("10.0.0.1"), None);
    assert_eq!(at("9.249.127.255").map(|m| m.0), Some(5650));
    assert_eq!(at("11.0.0.0").map(|m| m.0), Some(749));
    // RFC 4180 doubled quotes: 2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK""".
    assert_eq!(at("2.26.210.1").map(|m| m.1), Some("LLC \"SPUTNIK\""));
    // Last IPv4 row: 223.255.254.0,223.255.254.255,55415,Marina Bay Sands Pte Ltd.
    assert_eq!(at("223.255.254.255").map(|m| m.0), Some(55415));
    assert_eq!(at("223.255.255.0"), None);
    // IPv4-mapped IPv6 goes to the IPv4 table.
    assert_eq!(at("::ffff:1.48.0.1").map(|m| m.0), Some(4134));
}

#[test]
fn asn_ipv6_known_answers() {
    // asn-ipv6.csv line 41583: 2606:4700:4700::/48 → 13335.
    assert_eq!(
        at("2606:4700:4700::1111"),
        Some((
            13335,
            "Cloudflare, Inc.",
            ip("2606:4700:4700::"),
            ip("2606:4700:4700:ffff:ffff:ffff:ffff:ffff")
        ))
    );
    // Lines 31795/31796: 240e:97d:8000::/48 is China Telecom Global (AS23764), the next
    // address starts Chinanet's 240e:97d:8001:: – 240e:fff:ffff:… (AS4134).
    let ctg = at("240e:97d:8000:ffff:ffff:ffff:ffff:ffff").unwrap();
    assert_eq!((ctg.0, ctg.1), (23764, "China Telecom Global Limited"));
    assert_eq!(
        at("240e:97d:8001::"),
        Some((
            4134,
            "Chinanet",
            ip("240e:97d:8001::"),
            ip("240e:fff:ffff:ffff:ffff:ffff:ffff:ffff")
        ))
    );
    // Line 1 starts at 2001::; documentation space 2001:db8::/32 is unrouted.
    assert_eq!(at("2001::1").map(|m| m.0), Some(6939));
    assert_eq!(at("2001:db8::1"), None);
    assert_eq!(at("::1"), None);
}

#[test]
fn asn_overlapping_pair_narrower_wins() {
    // Lines 399115/399116: 214.95.0.0–215.0.255.255 AS749 (wide) and
    // 215.0.0.0–215.1.3.255 AS721 (narrow) overlap on 215.0.0.0/16.
    let dod = "United States Department of Defense (DoD)";
    let nic = "DoD Network Information Center";
    let wide = Some((749, dod, ip("214.95.0.0"), ip("214.255.255.255")));
    let narrow = Some((721, nic, ip("215.0.0.0"), ip("215.1.3.255")));
    assert_eq!(at("214.95.0.1"), wide);
    assert_eq!(at("214.255.255.255"), wide);
    assert_eq!(at("215.0.0.0"), narrow);
    assert_eq!(at("215.0.0.1"), narrow);
    assert_eq!(at("215.0.255.255"), narrow);
    assert_eq!(at("215.1.3.255"), narrow);
    // Line 399117: 215.1.4.0/24 AS27066.
    assert_eq!(at("215.1.4.0").map(|m| m.0), Some(27066));
    // Line 399114 ends just before the wide range.
    assert_eq!(at("214.94.255.255").map(|m| m.0), Some(721));
}

/// splitmix64, for reproducible pseudo-random samples.
fn rng(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn asn_ipv4_cross_check_against_raw_rows() {
    // Reference: one merge pass over the raw rows (sorted by start, as the README says)
    // and the sorted sample, keeping the rows that cover the current address; the
    // narrowest covering row is the answer.
    struct Row {
        start: u32,
        end: u32,
        asn: u32,
        org: String,
    }
    let rows: Vec<Row> = raw_rows("data/asn-ipv4.csv.gz", false)
        .iter()
        .map(|r| Row {
            start: u32::from(r[0].parse::<Ipv4Addr>().unwrap()),
            end: u32::from(r[1].parse::<Ipv4Addr>().unwrap()),
            asn: r[2].parse().unwrap(),
            org: r[3].to_string(),
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0].start <= w[1].start));

    let mut seed = 0x5eed_c1ea_0ba7_0001_u64;
    let mut sample: Vec<u32> = Vec::with_capacity(100_200);
    for _ in 0..50_000 {
        sample.push(rng(&mut seed) as u32);
    }
    for _ in 0..12_500 {
        let r = &rows[(rng(&mut seed) % rows.len() as u64) as usize];
        sample.extend([
            r.start.wrapping_sub(1),
            r.start,
            r.end,
            r.end.wrapping_add(1),
        ]);
    }
    let dod = u32::from(Ipv4Addr::new(214, 95, 0, 0));
    sample.extend((0..200).map(|i| dod + i * 55_555));
    sample.sort_unstable();

    let table = asn_table();
    let mut next = 0;
    let mut active: Vec<usize> = Vec::new();
    let (mut hits, mut misses) = (0, 0);
    for &x in &sample {
        while next < rows.len() && rows[next].start <= x {
            active.push(next);
            next += 1;
        }
        active.retain(|&i| rows[i].end >= x);
        let want = active.iter().min_by_key(|&&i| rows[i].end - rows[i].start);
        let got = table.lookup(IpAddr::V4(Ipv4Addr::from(x)));
        match (want, got) {
            (Some(&i), Some(m)) => {
                assert_eq!(
                    (m.asn, m.org),
                    (Asn(rows[i].asn), rows[i].org.as_str()),
                    "at {}",
                    Ipv4Addr::from(x)
                );
                hits += 1;
            }
            (None, None) => misses += 1,
            (w, g) => panic!(
                "at {}: want {:?}, got {g:?}",
                Ipv4Addr::from(x),
                w.map(|&i| rows[i].asn)
            ),
        }
    }
    assert_eq!(hits + misses, 100_200);
    // Both outcomes are well represented (about 3/4 of IPv4 space is in some range).
    assert!(
        hits > 60_000 && misses > 10_000,
        "hits {hits}, misses {misses}"
    );
}

#[test]
fn asn_from_paths_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("v4.csv");
    std::fs::write(&plain, "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n").unwrap();
    let t = AsnTable::from_paths(&plain, &data("data/asn-ipv6.csv.gz")).unwrap();
    assert_eq!(t.len(), (1, 103_197));
    assert_eq!(t.lookup(ip("1.0.0.7")).unwrap().asn, Asn(13335));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "1.0.0.0,1.0.0.255,13335,a\n1.0.1.0,1.0.1.255,x,b\n").unwrap();
    let err = AsnTable::from_paths(&plain, &bad).unwrap_err().to_string();
    assert_eq!(err, format!("{}:2: bad AS number `x`", bad.display()));
    let missing = dir.path().join("missing.csv");
    let err = AsnTable::from_paths(&missing, &plain)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: ", missing.display())),
        "{err}"
    );
}

// ---------------------------------------------------------------- IEEE

#[test]
fn oui_row_counts() {
    let r = oui();
    assert_eq!(r.count(Registry::MaL), 32_530);
    assert_eq!(r.count(Registry::MaM), 4_390);
    assert_eq!(r.count(Registry::MaS), 5_029);
    assert_eq!(r.count(Registry::Iab), 4_575);
    assert_eq!(r.len(), 32_530 + 4_390 + 5_029 + 4_575);
    for (file, n) in [
        ("data/ieee/oui.csv.gz", 32_530),
        ("data/ieee/mam.csv.gz", 4_390),
        ("data/ieee/oui36.csv.gz", 5_029),
        ("data/ieee/iab.csv.gz", 4_575),
    ] {
        assert_eq!(raw_rows(file, true).len(), n, "{file}");
    }
}

fn registered(registry: Registry, prefix_bits: u8, org: &str) -> MacInfo<'_> {
    MacInfo::Registered {
        registry,
        prefix_bits,
        org,
    }
}

#[test]
fn oui_known_answers() {
    let r = oui();
    // oui.csv: MA-L,00E0FC,"HUAWEI TECHNOLOGIES CO.,LTD".
    assert_eq!(
        r.lookup(mac("00:e0:fc:12:34:56")),
        registered(Registry::MaL, 24, "HUAWEI TECHNOLOGIES CO.,LTD")
    );
    // oui.csv: MA-L,90FFD6,"Honor Device Co., Ltd.".
    assert_eq!(
        r.lookup(mac("90:ff:d6:00:00:01")),
        registered(Registry::MaL, 24, "Honor Device Co., Ltd.")
    );
    // IAB,0050C27D5,DEUTA-WERKE GmbH inside IEEE's own MA-L 0050C2.
    assert_eq!(
        r.lookup(mac("00:50:c2:7d:5f:ff")),
        registered(Registry::Iab, 36, "DEUTA-WERKE GmbH")
    );
    // 0050C204D is not an IAB: the MA-L underneath answers.
    assert_eq!(
        r.lookup(mac("00:50:c2:04:d0:00")),
        registered(Registry::MaL, 24, "IEEE Registration Authority")
    );
    // MA-S,70B3D5F2F,TELEPLATFORMS inside IEEE's MA-L 70B3D5; 70B3D5000 is unassigned.
    assert_eq!(
        r.lookup(mac("70:b3:d5:f2:f0:01")),
        registered(Registry::MaS, 36, "TELEPLATFORMS")
    );
    assert_eq!(
        r.lookup(mac("70:b3:d5:00:00:01")),
        registered(Registry::MaL, 24, "IEEE Registration Authority")
    );
    // MA-M,208593B,IOG Products LLC inside IEEE's MA-L 208593.
    assert_eq!(
        r.lookup(mac("20:85:93:b1:23:45")),
        registered(Registry::MaM, 28, "IOG Products LLC")
    );
    // MA-M,741AE09,Private: registered, owner unpublished.
    assert_eq!(
        r.lookup(mac("74:1a:e0:9a:bc:de")),
        registered(Registry::MaM, 28, "Private")
    );
    // oui.csv lists 901234 as "Shenzhen YOUHUA Technology Co., Ltd\t": trimmed.
    assert_eq!(
        r.lookup(mac("90:12:34:00:00:00")),
        registered(Registry::MaL, 24, "Shenzhen YOUHUA Technology Co., Ltd")
    );
    // 040101 is in no registry.
    assert_eq!(r.lookup(mac("04:01:01:00:00:01")), MacInfo::Unregistered);
}

#[test]
fn oui_address_classes_before_registry() {
    let r = oui();
    // Group bit wins over everything, even on a registered OUI's bytes.
    assert_eq!(r.lookup(mac("ff:ff:ff:ff:ff:ff")), MacInfo::Group);
    assert_eq!(r.lookup(mac("01:00:5e:00:00:fb")), MacInfo::Group);
    assert_eq!(r.lookup(mac("33:33:00:00:00:01")), MacInfo::Group);
    assert_eq!(r.lookup(mac("01:e0:fc:12:34:56")), MacInfo::Group);
    // Locally administered (randomised Wi-Fi MACs): never looked up.
    assert_eq!(r.lookup(mac("02:e0:fc:12:34:56")), MacInfo::Local);
    assert_eq!(r.lookup(mac("da:a1:19:00:00:01")), MacInfo::Local);
    assert_eq!(r.lookup(mac("0a:00:27:00:00:00")), MacInfo::Local);
}

#[test]
fn oui_from_dir_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    for stem in ["oui", "mam", "oui36", "iab"] {
        std::fs::copy(
            data(&format!("data/ieee/{stem}.csv.gz")),
            dir.path().join(format!("{stem}.csv.gz")),
        )
        .unwrap();
    }
    // A plain oui.csv takes precedence over oui.csv.gz.
    std::fs::write(
        dir.path().join("oui.csv"),
        "Registry,Assignment,Organization Name,Organization Address\n\
         MA-L,00E0FC,\"HUAWEI TECHNOLOGIES CO.,LTD\",\"No.2\nShenzhen\"\n",
    )
    .unwrap();
    let r = OuiRegistry::from_dir(dir.path()).unwrap();
    assert_eq!(r.len(), 1 + 4_390 + 5_029 + 4_575);
    assert_eq!(
        r.lookup(mac("00:50:c2:7d:5f:ff")),
        registered(Registry::Iab, 36, "DEUTA-WERKE GmbH")
    );

    std::fs::write(
        dir.path().join("oui.csv"),
        "Registry,Assignment,Organization Name,Organization Address\n\
         MA-L,00E0FC,x,\"multi\nline\naddress\"\n\
         MA-L,00E0F,y,z\n",
    )
    .unwrap();
    let err = OuiRegistry::from_dir(dir.path()).unwrap_err().to_string();
    let oui_csv = dir.path().join("oui.csv");
    assert_eq!(
        err,
        format!(
            "{}:5: bad MA-L assignment `00E0F`: expected 6 hex digits",
            oui_csv.display()
        )
    );

    std::fs::remove_file(dir.path().join("iab.csv.gz")).unwrap();
    std::fs::remove_file(&oui_csv).unwrap();
    let err = OuiRegistry::from_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: ", dir.path().join("iab.csv").display())),
        "{err}"
    );
}

// ---------------------------------------------------------------- denylist

fn denylist() -> &'static Denylist {
    static D: OnceLock<Denylist> = OnceLock::new();
    D.get_or_init(|| Denylist::bundled().expect("bundled denylist parses"))
}

#[test]
fn denylist_bundled_matches_reference_rows() {
    let d = denylist();
    assert_eq!(d.rules().len(), 296);
    // Same (kind, value) sequence as the generator's input, via the generated file.
    let text = std::fs::read_to_string(data("denylists/clean-path.tsv")).unwrap();
    let data_lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .collect();
    assert_eq!(data_lines.len(), 296);
    for (rule, line) in d.rules().iter().zip(&data_lines) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(rule.value, cols[1]);
        assert_eq!(rule.date, cols[6]);
        assert_eq!(rule.file, "denylists/clean-path.tsv");
    }
    let n = |k: RuleKind| d.rules().iter().filter(|r| r.kind == k).count();
    assert_eq!(n(RuleKind::Asn), 213);
    assert_eq!(n(RuleKind::OrgRegex), 14);
    assert_eq!(n(RuleKind::OuiOrgRegex), 15);
    assert_eq!(n(RuleKind::SnmpPen), 22);
}

#[test]
fn denylist_as_matches() {
    let d = denylist();
    let mut out = Vec::new();
    // The org string the bundled ASN data gives for AS4134.
    let m = asn_table().lookup(ip("1.48.0.1")).unwrap();
    d.match_as(m.asn, m.org, &mut out);
    let rules: Vec<_> = out.iter().map(|&id| d.rule(id)).collect();
    let asn_rule = rules
        .iter()
        .find(|r| r.kind == RuleKind::Asn)
        .expect("AS4134 rule");
    assert_eq!(asn_rule.value, "AS4134");
    assert_eq!(asn_rule.entity, "China Telecom");
    assert_eq!(asn_rule.category, Category::UntrustedCarrier);
    assert_eq!(asn_rule.confidence, Confidence::High);
    assert_eq!(asn_rule.date, "2020-08-05");
    assert!(
        asn_rule.source.contains("Clean Carrier"),
        "{}",
        asn_rule.source
    );
    // "Chinanet" also hits the China Telecom org regex.
    assert!(
        rules
            .iter()
            .any(|r| r.kind == RuleKind::OrgRegex && r.entity == "China Telecom")
    );
    assert_eq!(rules.len(), 2);

    out.clear();
    d.match_as(Asn(64_512), "Huawei Technologies Co., Ltd.", &mut out);
    let ents: Vec<_> = out
        .iter()
        .map(|&id| (d.rule(id).kind, d.rule(id).entity.as_str()))
        .collect();
    assert_eq!(ents, vec![(RuleKind::OrgRegex, "Huawei")]);
    assert_eq!(d.rule(out[0]).date, "2021-03-12");

    // AS21859 is Zenlayer, not ZTE: nothing.
    out.clear();
    let z = asn_table().lookup(ip("2.27.161.1")).unwrap();
    assert_eq!((z.asn, z.org), (Asn(21859), "Zenlayer Inc"));
    d.match_as(z.asn, z.org, &mut out);
    assert!(out.is_empty(), "{out:?}");
    // Cloudflare: nothing.
    d.match_as(Asn(13335), "Cloudflare, Inc.", &mut out);
    assert!(out.is_empty());
}

#[test]
fn denylist_mac_matches() {
    let d = denylist();
    let reg = oui();
    let who = |m: &str| match reg.lookup(mac(m)) {
        MacInfo::Registered { org, .. } => Some(org),
        _ => None,
    };
    let mut out = Vec::new();
    let huawei = who("00:e0:fc:01:02:03");
    assert_eq!(huawei, Some("HUAWEI TECHNOLOGIES CO.,LTD"));
    d.match_mac(mac("00:e0:fc:01:02:03"), huawei, &mut out);
    assert_eq!(out.len(), 1);
    let r = d.rule(out[0]);
    assert_eq!(
        (r.kind, r.entity.as_str(), r.confidence),
        (RuleKind::OuiOrgRegex, "Huawei", Confidence::High)
    );

    out.clear();
    let honor = who("90:ff:d6:00:00:01");
    d.match_mac(mac("90:ff:d6:00:00:01"), honor, &mut out);
    assert_eq!(out.len(), 1);
    let r = d.rule(out[0]);
    assert_eq!(r.entity, "Honor (Huawei spin-off)");
    assert_eq!(r.confidence, Confidence::Low);

    out.clear();
    d.match_mac(
        mac("00:00:00:00:00:01"),
        Some("Wuxi Zhongxing Optoelectronics Technology Co., Ltd."),
        &mut out,
    );
    assert!(out.is_empty());
    d.match_mac(mac("00:e0:fc:01:02:03"), None, &mut out);
    assert!(out.is_empty(), "no mac_prefix rules are bundled");
}

/// Load times of the bundled tables. Run in release for meaningful figures:
/// `cargo test --release --test intel_data -- --ignored --nocapture load_time`.
#[test]
#[ignore = "timing report, not a check"]
fn load_time() {
    use std::time::Instant;
    let t = Instant::now();
    let asn = AsnTable::bundled().unwrap();
    let asn_time = t.elapsed();
    let t = Instant::now();
    let reg = OuiRegistry::bundled().unwrap();
    let oui_time = t.elapsed();
    let t = Instant::now();
    let d = Denylist::bundled().unwrap();
    let deny_time = t.elapsed();
    let t = Instant::now();
    let mut seed = 1u64;
    let mut found = 0u32;
    for _ in 0..1_000_000 {
        let x = rng(&mut seed) as u32;
        found += u32::from(asn.lookup(IpAddr::V4(Ipv4Addr::from(x))).is_some());
    }
    let lookup_time = t.elapsed();
    println!(
        "AsnTable::bundled {asn_time:?} ({:?} ranges), OuiRegistry::bundled {oui_time:?} ({} rows), \
         Denylist::bundled {deny_time:?} ({} rules), 1M random IPv4 lookups {lookup_time:?} ({found} hits)",
        asn.len(),
        reg.len(),
        d.len()
    );
}

#[test]
fn denylist_readme_example() {
    // The example file in denylists/README.md parses, matches, and fails as documented.
    let readme = std::fs::read_to_string(data("denylists/README.md")).unwrap();
    let start = readme.find("# my-site.tsv").expect("example present");
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let d = Denylist::parse("my-site.tsv", example).unwrap();
    assert_eq!(d.len(), 2);
    let mut out = Vec::new();
    d.match_ip(ip("198.51.100.7"), &mut out);
    d.match_ip(ip("198.51.101.0"), &mut out);
    d.match_mac(mac("00:e0:fc:aa:bb:cc"), None, &mut out);
    let got: Vec<_> = out
        .iter()
        .map(|&id| (d.rule(id).kind, d.rule(id).line))
        .collect();
    assert_eq!(got, vec![(RuleKind::Prefix, 3), (RuleKind::MacPrefix, 4)]);

    let broken = example.replace("198.51.100.0/24", "198.51.100.0/33");
    let err = Denylist::parse("my-site.tsv", &broken)
        .unwrap_err()
        .to_string();
    assert!(
        readme.contains(&format!("``{err}``")),
        "README shows: {err}"
    );
}
