//! `cleanpath db build|info` and `analyze` with the compiled intel database: the cache
//! under `$XDG_CACHE_HOME/cleanpath/`, `--intel-db FILE`, a corrupt file, and an
//! unwritable cache directory.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Output};

fn cleanpath(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("cleanpath runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cleanpath-demo.pcapng")
        .display()
        .to_string()
}

/// The flow objects of a JSON-lines run (the run object, with its clock, dropped).
fn flows(o: &Output) -> Vec<String> {
    text(&o.stdout)
        .lines()
        .filter(|l| !l.contains("\"type\":\"run\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn analyze_builds_then_reuses_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let first = cleanpath(&["analyze", "-q", "--json", &demo()], cache.path());
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert_eq!(text(&first.stderr), "");
    let files: Vec<_> = std::fs::read_dir(cache.path().join("cleanpath"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("intel-") && name.ends_with(".cpdb") && name.len() == 6 + 16 + 5,
        "{name}"
    );
    let mtime = std::fs::metadata(&files[0]).unwrap().modified().unwrap();

    let second = cleanpath(&["analyze", "-q", "--json", &demo()], cache.path());
    assert_eq!(flows(&second), flows(&first));
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().modified().unwrap(),
        mtime,
        "cache reused, not rewritten"
    );
    // Verdicts are real: the demo has 9 flows, 4 of them VIOLATION.
    let f = flows(&first);
    assert_eq!(
        f.iter()
            .filter(|l| l.contains("\"verdict\":\"VIOLATION\""))
            .count(),
        4,
        "{f:?}"
    );

    // A corrupt cache file is rebuilt, with a warning.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0xff;
    std::fs::write(&files[0], &bytes).unwrap();
    let third = cleanpath(&["analyze", "-q", "--json", &demo()], cache.path());
    assert_eq!(flows(&third), flows(&first));
    let err = text(&third.stderr);
    assert!(
        err.starts_with(&format!(
            "cleanpath: warning: ignoring the cached intel database: {}: section `oui.trie` checksum mismatch",
            files[0].display()
        )),
        "{err}"
    );
    assert!(err.trim_end().ends_with("; rebuilding it"), "{err}");
    let fourth = cleanpath(&["analyze", "-q", "--json", &demo()], cache.path());
    assert_eq!(text(&fourth.stderr), "", "the rebuilt cache is valid");
}

#[test]
fn db_build_info_and_intel_db_flag() {
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join("my.cpdb");
    let f = file.display().to_string();
    let o = cleanpath(&["db", "build", "-o", &f], cache.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with(&format!("{f}: "))
            && out.contains("411961 IPv4 + 103197 IPv6 ranges")
            && out.contains("snapshot 2026-06-17"),
        "{out}"
    );
    let info = cleanpath(&["db", "info", &f], cache.path());
    assert_eq!(info.status.code(), Some(0), "{}", text(&info.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(meta["counts"]["v6_ranges"], 103_197);
    assert_eq!(meta["sources"][0]["name"], "data/asn-ipv4.csv.gz");

    let with_db = cleanpath(
        &["analyze", "-q", "--json", "--intel-db", &f, &demo()],
        cache.path(),
    );
    let plain = cleanpath(&["analyze", "-q", "--json", &demo()], cache.path());
    assert_eq!(with_db.status.code(), Some(1));
    assert_eq!(flows(&with_db), flows(&plain));

    // A truncated database named with --intel-db is an error (exit 2), not a fallback.
    let bytes = std::fs::read(&file).unwrap();
    let bad = cache.path().join("bad.cpdb");
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = cleanpath(
        &[
            "analyze",
            "-q",
            "--intel-db",
            &bad.display().to_string(),
            &demo(),
        ],
        cache.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("{}: truncated: section `", bad.display()))
            && err.contains(&format!("file has {} bytes", bytes.len() / 2)),
        "{err}"
    );
    let o = cleanpath(
        &["analyze", "-q", "--intel-db", &demo(), &demo()],
        cache.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!(
            "{}: not a cleanpath intel database (bad magic)",
            demo()
        )),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn unwritable_cache_falls_back_with_a_warning() {
    // XDG_CACHE_HOME names a regular file: the cache directory cannot be created, even as root.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let o = cleanpath(&["analyze", "-q", "--json", &demo()], &blocker);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.starts_with(&format!(
            "cleanpath: warning: cannot write the intel cache ({}/cleanpath: ",
            blocker.display()
        )) && err.contains("using the tables parsed from the CSV sources"),
        "{err}"
    );
    assert_eq!(
        flows(&o)
            .iter()
            .filter(|l| l.contains("\"verdict\":\"VIOLATION\""))
            .count(),
        4
    );
}

#[test]
fn lookup_prints_prefix_as_vendor_rules_and_snapshot() {
    let cache = tempfile::tempdir().unwrap();
    let o = cleanpath(
        &[
            "lookup",
            "1.0.0.7",
            "2001:4860::8888",
            "00:e0:fc:12:34:56",
            "10.1.2.3",
        ],
        cache.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with(
        "1.0.0.7\n  prefix    1.0.0.0/24 (range 1.0.0.0-1.0.0.255)\n  AS        AS13335 Cloudflare, Inc.\n  rules     none match\n  snapshot  2026-06-17\n"
    ), "{out}");
    assert!(out.contains("2001:4860::8888\n  prefix    2001:4860::/34 (range 2001:4860::-2001:4860:4804:ffff:ffff:ffff:ffff:ffff)\n  AS        AS15169 Google LLC\n"), "{out}");
    assert!(out.contains("00:e0:fc:12:34:56\n  vendor    HUAWEI TECHNOLOGIES CO.,LTD (MA-L, /24)\n  rule      Huawei ("), "{out}");
    assert!(out.contains("[denylists/clean-path.tsv:"), "{out}");
    assert!(out.contains("  snapshot  2022-08-27\n"), "{out}");
    assert!(
        out.contains("10.1.2.3\n  unknown   private address (RFC 1918), no origin AS\n"),
        "{out}"
    );

    let o = cleanpath(
        &["lookup", "--json", "1.0.0.7", "00:e0:fc:12:34:56"],
        cache.path(),
    );
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["prefix"], "1.0.0.0/24");
    assert_eq!(lines[0]["attribution"]["asn"], 13335);
    assert_eq!(lines[0]["snapshot"], "2026-06-17");
    assert_eq!(
        lines[1]["attribution"]["org"],
        "HUAWEI TECHNOLOGIES CO.,LTD"
    );
    assert_eq!(lines[1]["matches"][0]["entity"], "Huawei");
    assert_eq!(lines[1]["matches"][0]["confidence"], "high");

    let o = cleanpath(&["lookup", "1.2.3", "::1"], cache.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("`1.2.3`: not an IPv4, IPv6 or MAC address"),
        "{}",
        text(&o.stderr)
    );
}
