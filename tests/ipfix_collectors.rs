//! IPFIX export against real collectors: nfdump's `nfcapd` (read back with `nfdump`) and
//! pmacct's `nfacctd` writing into PostgreSQL. `.ci/ipfix.sh` installs both.
//!
//! Each test runs `cleanpath analyze --json --ipfix 127.0.0.1:PORT` on real captures and
//! checks that what the collector stored equals the JSON lines, flow by flow. In CI
//! (`CI=true`) a missing collector or database fails the test; locally it is skipped with
//! a message.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: [&str; 2] = ["cleanpath-demo.pcapng", "pcapplusplus-many-protocols.pcap"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports a missing prerequisite: a failure in CI, a visible skip locally.
fn missing(msg: &str) {
    assert!(!in_ci(), "CI=true and {msg}");
    eprintln!("SKIPPED: {msg}");
}

/// Finds an executable on PATH or in /usr/sbin.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// A collector process, killed if a test fails before stopping it.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(cmd: &mut Command, log: PathBuf, ready: &str) -> Self {
        let f = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        let d = Daemon { child, log };
        d.wait_for_log(ready);
        d
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for_log(&self, needle: &str) {
        let t0 = Instant::now();
        while !self.log_text().contains(needle) {
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "collector did not log {needle:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` and waits for a clean exit.
    fn stop(mut self, signal: &str) -> String {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(ok.success());
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(
                    st.success(),
                    "collector exited with {st}:\n{}",
                    self.log_text()
                );
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "collector did not stop:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log_text()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs cleanpath with `--json --ipfix 127.0.0.1:port` and returns the flow objects and
/// the standard error.
fn analyze(port: u16, name: &str) -> (Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(["analyze", "--json", "--ipfix"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(fixture(name))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "cleanpath failed: {:?}\n{stderr}",
        out.status
    );
    let flows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "flow")
        .collect();
    (flows, stderr)
}

/// The flows an IPFIX collector should receive: those with an IP protocol.
fn ip_flows(flows: &[Value]) -> Vec<&Value> {
    flows.iter().filter(|f| f["proto"].is_u64()).collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// `2026-11-01T00:00:00.001234567Z` → `2026-11-01T00:00:00.001` (nfdump prints milliseconds).
fn ms_text(ts: &Value) -> String {
    ts.as_str().unwrap()[..23].to_string()
}

/// Origin AS of `addr` from the flow's endpoint hops, 0 if unattributed.
fn endpoint_asn(flow: &Value, addr: &Value) -> u64 {
    flow["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "endpoint" && &h["value"] == addr)
        .map_or(0, |h| u(&h["attribution"]["asn"]))
}

fn mac(flow: &Value, i: usize) -> String {
    flow["macs"][i]
        .as_str()
        .unwrap_or("00:00:00:00:00:00")
        .to_string()
}

fn check_skip_note(flows: &[Value], stderr: &str) {
    let ip = ip_flows(flows).len();
    let note = format!("{ip} flow records in ",);
    assert!(stderr.contains(&note), "{stderr}");
    let skipped = flows.len() - ip;
    assert!(
        stderr.contains(&format!("; {skipped} non-IP flows not exported")),
        "{stderr}"
    );
}

#[test]
fn nfcapd_stores_what_cleanpath_reports() {
    let (Some(nfcapd), Some(nfdump)) = (tool("nfcapd"), tool("nfdump")) else {
        return missing("nfdump's nfcapd/nfdump are not installed (run `bash .ci/ipfix.sh`)");
    };
    for name in FIXTURES {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("flows");
        std::fs::create_dir(&data).unwrap();
        let port = free_udp_port();
        let d = Daemon::start(
            Command::new(&nfcapd)
                .args(["-b", "127.0.0.1", "-p", &port.to_string(), "-t", "3600"])
                .args(["-B", "4194304"])
                .arg("-w")
                .arg(&data),
            tmp.path().join("nfcapd.log"),
            "Startup",
        );
        let (flows, stderr) = analyze(port, name);
        check_skip_note(&flows, &stderr);
        // Give the collector time to drain its socket, then stop it: it closes the file and
        // logs what it received.
        std::thread::sleep(Duration::from_millis(1000));
        let log = d.stop("-TERM");
        let ip = ip_flows(&flows).len();
        assert!(
            log.contains(&format!("Flows: {ip},")) && log.contains("Sequence Errors: 0"),
            "{name}: nfcapd did not get all {ip} records:\n{log}"
        );

        let out = Command::new(&nfdump)
            .env("TZ", "UTC")
            .arg("-R")
            .arg(&data)
            .args(["-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();

        let mut want: Vec<String> = ip_flows(&flows)
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{} > {}:{} pkts {}/{} bytes {}/{} as {}>{} mac {}>{} vlan {} {} .. {}",
                    u(&f["proto"]),
                    f["src"].as_str().unwrap(),
                    u(&f["src_port"]),
                    f["dst"].as_str().unwrap(),
                    u(&f["dst_port"]),
                    u(&f["packets"]["fwd"]),
                    u(&f["packets"]["rev"]),
                    u(&f["bytes"]["fwd"]),
                    u(&f["bytes"]["rev"]),
                    endpoint_asn(f, &f["src"]),
                    endpoint_asn(f, &f["dst"]),
                    mac(f, 0),
                    mac(f, 1),
                    f["vlans"][0].as_u64().unwrap_or(0),
                    ms_text(&f["first_ts"]),
                    ms_text(&f["last_ts"]),
                )
            })
            .collect();
        let mut have: Vec<String> = got
            .iter()
            .map(|r| {
                let addr = |k4: &str, k6: &str| {
                    r.get(k4)
                        .or_else(|| r.get(k6))
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_string()
                };
                format!(
                    "{} {}:{} > {}:{} pkts {}/{} bytes {}/{} as {}>{} mac {}>{} vlan {} {} .. {}",
                    u(&r["proto"]),
                    addr("src4_addr", "src6_addr"),
                    u(&r["src_port"]),
                    addr("dst4_addr", "dst6_addr"),
                    u(&r["dst_port"]),
                    u(&r["in_packets"]),
                    u(&r["out_packets"]),
                    u(&r["in_bytes"]),
                    u(&r["out_bytes"]),
                    u(&r["src_as"]),
                    u(&r["dst_as"]),
                    r["in_src_mac"].as_str().unwrap(),
                    r["in_dst_mac"].as_str().unwrap(),
                    u(&r["src_vlan"]),
                    r["first"].as_str().unwrap(),
                    r["last"].as_str().unwrap(),
                )
            })
            .collect();
        want.sort();
        have.sort();
        assert!(want.len() >= 8, "{name}: only {} IP flows", want.len());
        assert_eq!(
            have, want,
            "{name}: nfdump's records differ from the JSON lines"
        );
    }
}

/// The parts of a libpq URL that pmacct's `sql_*` keys take.
#[derive(Debug, Default)]
struct PgParts {
    host: String,
    port: String,
    db: String,
    user: String,
    password: Option<String>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Parses `postgres[ql]://[user[:password]@][host][:port]/db[?host=…&port=…]`.
fn parse_pg_url(url: &str) -> PgParts {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .unwrap_or_else(|| panic!("CLEANPATH_TEST_PG is not a postgres:// URL: {url}"));
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (auth_host, db) = main.split_once('/').unwrap_or((main, ""));
    let (auth, hostport) = auth_host.rsplit_once('@').unwrap_or(("", auth_host));
    let mut p = PgParts {
        db: percent_decode(db),
        port: "5432".into(),
        host: "localhost".into(),
        user: "postgres".into(),
        password: None,
    };
    if !auth.is_empty() {
        let (user, pass) = auth
            .split_once(':')
            .map_or((auth, None), |(u, p)| (u, Some(p)));
        p.user = percent_decode(user);
        p.password = pass.map(percent_decode);
    }
    if !hostport.is_empty() {
        let (h, port) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
        p.host = percent_decode(h);
        if !port.is_empty() {
            p.port = port.into();
        }
    }
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let v = percent_decode(v);
        match k {
            "host" => p.host = v,
            "port" => p.port = v,
            "user" => p.user = v,
            "password" => p.password = Some(v),
            "dbname" => p.db = v,
            _ => {}
        }
    }
    p
}

#[test]
fn pg_url_parts() {
    let p = parse_pg_url("postgresql://postgres@/cleanpath_test?host=/tmp/pg&port=55432");
    assert_eq!(
        (
            p.host.as_str(),
            p.port.as_str(),
            p.db.as_str(),
            p.user.as_str()
        ),
        ("/tmp/pg", "55432", "cleanpath_test", "postgres")
    );
    let p = parse_pg_url("postgres://u:p%40ss@db.example:6543/x");
    assert_eq!(
        (
            p.host.as_str(),
            p.port.as_str(),
            p.db.as_str(),
            p.user.as_str()
        ),
        ("db.example", "6543", "x", "u")
    );
    assert_eq!(p.password.as_deref(), Some("p@ss"));
    let p = parse_pg_url("postgresql://%2Ftmp%2Fpg/cleanpath_test");
    assert_eq!(p.host, "/tmp/pg");
}

fn psql(psql: &Path, url: &str, sql: &str) -> String {
    let out = Command::new(psql)
        .env_remove("PGTZ")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "|"])
        .arg(url)
        .arg("-c")
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// cleanpath's enterprise IEs as pmacct custom primitives (the file documented in
/// docs/deployment.md), plus the RFC 5103 reverse counters.
const PRIMITIVES: &str = "\
name=cp_verdict\tfield_type=32473:101\tlen=1\tsemantics=u_int
name=cp_entity\tfield_type=32473:102\tlen=vlen\tsemantics=str
name=cp_teid\tfield_type=32473:103\tlen=4\tsemantics=u_int
name=cp_qfi\tfield_type=32473:104\tlen=1\tsemantics=u_int
name=rev_bytes\tfield_type=29305:1\tlen=8\tsemantics=u_int
name=rev_packets\tfield_type=29305:2\tlen=8\tsemantics=u_int
";

/// Columns added to pmacct's v9 table for the timestamps and custom primitives
/// (types per pmacct's README.pgsql and README.custom_primitives).
const EXTRA_COLUMNS: &str = "
  ADD COLUMN timestamp_start timestamp without time zone NOT NULL DEFAULT '0001-01-01 00:00:00',
  ADD COLUMN timestamp_start_residual INT NOT NULL DEFAULT 0,
  ADD COLUMN timestamp_end timestamp without time zone NOT NULL DEFAULT '0001-01-01 00:00:00',
  ADD COLUMN timestamp_end_residual INT NOT NULL DEFAULT 0,
  ADD COLUMN cp_verdict SMALLINT NOT NULL DEFAULT 0,
  ADD COLUMN cp_entity VARCHAR(255) NOT NULL DEFAULT '',
  ADD COLUMN cp_teid BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN cp_qfi SMALLINT NOT NULL DEFAULT 0,
  ADD COLUMN rev_bytes BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN rev_packets BIGINT NOT NULL DEFAULT 0";

/// The `CREATE TABLE acct_v9 (…);` statement of pmacct's own schema file, renamed.
fn pmacct_v9_table(table: &str) -> String {
    let path = "/usr/share/doc/pmacct/sql/pmacct-create-table_v9.pgsql";
    let sql = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (pmacct's documented schema)"));
    let start = sql.find("CREATE TABLE acct_v9").unwrap();
    let end = start + sql[start..].find(");").unwrap() + 2;
    sql[start..end].replace("acct_v9", table)
}

#[test]
fn nfacctd_writes_cleanpath_flows_into_postgresql() {
    let Some(nfacctd) = tool("nfacctd") else {
        return missing("pmacct's nfacctd is not installed (run `bash .ci/ipfix.sh`)");
    };
    let Some(psql_bin) = tool("psql") else {
        return missing("psql is not installed (run `bash .ci/ipfix.sh`)");
    };
    let Ok(url) = std::env::var("CLEANPATH_TEST_PG") else {
        return missing("CLEANPATH_TEST_PG is not set (start PostgreSQL with .ci/postgres.sh)");
    };
    let pg = parse_pg_url(&url);
    let table = format!("ipfix_acct_{}", std::process::id());
    psql(&psql_bin, &url, &format!("DROP TABLE IF EXISTS {table}"));
    psql(&psql_bin, &url, &pmacct_v9_table(&table));
    // The v9 key has no room for the custom primitives: flows differing only in them
    // would collide. Drop it (pmacct's own cache already merges identical keys).
    psql(
        &psql_bin,
        &url,
        &format!("ALTER TABLE {table} DROP CONSTRAINT {table}_pk, {EXTRA_COLUMNS}"),
    );

    for name in FIXTURES {
        psql(&psql_bin, &url, &format!("TRUNCATE {table}"));
        let tmp = tempfile::tempdir().unwrap();
        let prims = tmp.path().join("primitives.lst");
        std::fs::write(&prims, PRIMITIVES).unwrap();
        let port = free_udp_port();
        let mut conf = format!(
            "daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: {port}
nfacctd_as: netflow
nfacctd_pipe_size: 4194304
aggregate_primitives: {prims}
plugins: pgsql[cp]
aggregate[cp]: src_host, dst_host, src_port, dst_port, proto, src_mac, dst_mac, vlan, src_as, dst_as, timestamp_start, timestamp_end, cp_verdict, cp_entity, cp_teid, cp_qfi, rev_bytes, rev_packets
sql_table[cp]: {table}
sql_table_version[cp]: 9
sql_optimize_clauses[cp]: true
sql_refresh_time[cp]: 1
sql_host[cp]: {host}
sql_port[cp]: {pgport}
sql_db[cp]: {db}
sql_user[cp]: {user}
",
            prims = prims.display(),
            host = pg.host,
            pgport = pg.port,
            db = pg.db,
            user = pg.user,
        );
        if let Some(p) = &pg.password {
            conf.push_str(&format!("sql_passwd[cp]: {p}\n"));
        }
        let conf_path = tmp.path().join("nfacctd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let d = Daemon::start(
            Command::new(&nfacctd).arg("-f").arg(&conf_path),
            tmp.path().join("nfacctd.log"),
            "waiting for NetFlow/IPFIX data",
        );
        let (flows, stderr) = analyze(port, name);
        check_skip_note(&flows, &stderr);
        // Wait until the plugin has written every packet (it purges every second), so
        // that stopping cannot cut off datagrams still queued; then SIGINT, which purges
        // and exits.
        let packets: u64 = ip_flows(&flows)
            .iter()
            .map(|f| u(&f["packets"]["fwd"]))
            .sum();
        let count = format!("SELECT coalesce(sum(packets), 0) FROM {table}");
        let t0 = Instant::now();
        while psql(&psql_bin, &url, &count).trim() != packets.to_string()
            && t0.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = d.stop("-INT");
        assert!(!log.contains("ERROR"), "{log}");

        // Expected rows: the IP flows, merged on pmacct's aggregation key.
        let mut want: BTreeMap<String, [u64; 4]> = BTreeMap::new();
        for f in ip_flows(&flows) {
            let ms = |k: &str| f[k].as_str().unwrap()[..23].replace('T', " ");
            let mut entities: Vec<String> = Vec::new();
            for h in f["hops"].as_array().unwrap() {
                for m in h["matches"].as_array().into_iter().flatten() {
                    let e = m["entity"].as_str().unwrap().to_string();
                    if m["counts"] == true && !entities.contains(&e) {
                        entities.push(e);
                    }
                }
            }
            let verdict = match f["verdict"].as_str().unwrap() {
                "CLEAN" => 0,
                "UNKNOWN" => 1,
                _ => 2,
            };
            let key = format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                f["src"].as_str().unwrap(),
                f["dst"].as_str().unwrap(),
                u(&f["src_port"]),
                u(&f["dst_port"]),
                u(&f["proto"]),
                mac(f, 0),
                mac(f, 1),
                f["vlans"][0].as_u64().unwrap_or(0),
                endpoint_asn(f, &f["src"]),
                endpoint_asn(f, &f["dst"]),
                ms("first_ts"),
                ms("last_ts"),
                verdict,
                entities.join("; "),
                u(&f["tunnel"]["teid"]),
                u(&f["tunnel"]["qfi"]),
            );
            let e = want.entry(key).or_default();
            e[0] += u(&f["packets"]["fwd"]);
            e[1] += u(&f["bytes"]["fwd"]);
            e[2] += u(&f["packets"]["rev"]);
            e[3] += u(&f["bytes"]["rev"]);
        }
        let rows = psql(
            &psql_bin,
            &url,
            &format!(
                "SELECT host(ip_src), host(ip_dst), port_src, port_dst, ip_proto, mac_src, mac_dst,
                        vlan, as_src, as_dst,
                        to_char(timestamp_start::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                          || '.' || lpad((timestamp_start_residual / 1000)::text, 3, '0'),
                        to_char(timestamp_end::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                          || '.' || lpad((timestamp_end_residual / 1000)::text, 3, '0'),
                        cp_verdict, cp_entity, cp_teid, cp_qfi,
                        packets, bytes, rev_packets, rev_bytes
                 FROM {table}"
            ),
        );
        let mut have: BTreeMap<String, [u64; 4]> = BTreeMap::new();
        for line in rows.lines() {
            let cols: Vec<&str> = line.split('|').collect();
            assert_eq!(cols.len(), 20, "{line}");
            let n = |i: usize| cols[i].parse::<u64>().unwrap();
            let e = have.entry(cols[..16].join("|")).or_default();
            e[0] += n(16);
            e[1] += n(17);
            e[2] += n(18);
            e[3] += n(19);
        }
        assert!(want.len() >= 8, "{name}: only {} IP flows", want.len());
        if have != want {
            let only_want: Vec<_> = want
                .iter()
                .filter(|(k, v)| have.get(*k) != Some(v))
                .collect();
            let only_have: Vec<_> = have
                .iter()
                .filter(|(k, v)| want.get(*k) != Some(v))
                .collect();
            panic!(
                "{name}: {} rows in PostgreSQL, {} expected\nexpected, not stored: {only_want:#?}\nstored, not expected: {only_have:#?}\nnfacctd log:\n{log}",
                have.len(),
                want.len()
            );
        }
        // The verdicts landed in their column, with the entities behind them.
        let violations = ip_flows(&flows)
            .iter()
            .filter(|f| f["verdict"] == "VIOLATION")
            .count();
        let v = psql(
            &psql_bin,
            &url,
            &format!("SELECT count(*) FROM {table} WHERE cp_verdict = 2 AND cp_entity <> ''"),
        );
        assert_eq!(v.trim(), violations.to_string(), "{name}: violating flows");
    }
    psql(&psql_bin, &url, &format!("DROP TABLE {table}"));
}
