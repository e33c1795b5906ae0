//! `cleanpath report --store`: the same report from the store as from the JSON lines of
//! the same run, on SQLite and on a real PostgreSQL (`CLEANPATH_TEST_PG`; in CI a missing
//! server is a failure).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn cleanpath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .env_remove("CLEANPATH_STORE")
        .output()
        .expect("cleanpath runs")
}

fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cleanpath-demo.pcapng")
        .display()
        .to_string()
}

/// The parts of a JSON report that must not depend on where the runs were read from.
fn essence(v: &Value) -> Value {
    serde_json::json!({
        "status": v["status"],
        "totals": v["totals"],
        "violations": v["violations"],
        "unknown_hops": v["unknown_hops"],
        "top_talkers": v["top_talkers"],
        "capture_loss": v["capture_loss"],
        "inputs": v["provenance"]["runs"][0]["inputs"],
    })
}

fn same_report_from_store_and_jsonl(url: &str, sensor: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let jsonl = dir.path().join("run.jsonl").display().to_string();
    let o = cleanpath(&[
        "analyze",
        "--json",
        "-o",
        &jsonl,
        "--store",
        url,
        "--sensor",
        sensor,
        &demo(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let from_file = cleanpath(&["report", "--jsonl", &jsonl, "--format", "json"]);
    let from_store = cleanpath(&[
        "report", "--store", url, "--sensor", sensor, "--format", "json",
    ]);
    assert_eq!(from_file.status.code(), Some(1));
    assert_eq!(
        from_store.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&from_store.stderr)
    );
    let a: Value = serde_json::from_slice(&from_file.stdout).expect("json report");
    let b: Value = serde_json::from_slice(&from_store.stdout).expect("json report");
    assert_eq!(a["totals"]["violation"], 4);
    assert_eq!(essence(&a), essence(&b));
    // The text report from the store names the evidence too.
    let t = cleanpath(&["report", "--store", url, "--sensor", sensor]);
    let text = String::from_utf8_lossy(&t.stdout);
    assert!(text.contains("Huawei @ 00:e0:fc:11:22:33"), "{text}");
    // The provenance block: the denylist version (its SHA-256) and the intel snapshot.
    let rules_hash = {
        use sha2::Digest;
        let bytes =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("denylists/clean-path.tsv"))
                .expect("read");
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let judged = &b["provenance"]["runs"][0]["judged_with"];
    assert_eq!(judged["denylist_sha256"][0]["sha256"], rules_hash.as_str());
    assert_eq!(judged["intel_snapshot"], "2026-06-17");
    assert!(
        text.contains(&format!(
            "denylist denylists/clean-path.tsv, SHA-256 {rules_hash}"
        )),
        "{text}"
    );
}

#[test]
fn sqlite_store_reports_like_its_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("audit.db").display());
    same_report_from_store_and_jsonl(&url, "sensor-a");
}

#[test]
fn postgres_store_reports_like_its_json_lines() {
    let Ok(url) = std::env::var("CLEANPATH_TEST_PG") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CLEANPATH_TEST_PG is not set: in CI the PostgreSQL tests must run (source .ci/postgres.sh)"
        );
        eprintln!("SKIPPED: postgres_store_reports_like_its_json_lines (no CLEANPATH_TEST_PG)");
        return;
    };
    let sensor = format!("report-test-{}", std::process::id());
    same_report_from_store_and_jsonl(&url, &sensor);
}
