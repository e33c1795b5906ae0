//! `cleanpath capture` on real packets: two network namespaces joined by a veth pair, the
//! capture on one end, `cleanpath replay` sending fixture frames from the other.
//!
//! These tests need root (namespaces, packet sockets) and the `ip` tool. Without them they
//! print `SKIPPED` and pass; CI runs them as root (see `.ci/live.sh`).

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_cleanpath");

/// Captures replayed: the generated 5G demo plus real captures with GTP-U (IPv4 and IPv6
/// outer), 802.1Q, QinQ, MPLS and an SRv6 header; none holds sliced frames.
const FILES: &[&str] = &[
    "cleanpath-demo.pcapng",
    "telekom-5gtv-n3_example.pcap",
    "pcapplusplus-gtp-u.pcap",
    "zeek-gtp7_ipv6.pcap",
    "zeek-q-in-q.pcap",
    "pcapplusplus-VlanPackets.pcap",
    "zeek-mixed-vlan-mpls.pcap",
    "arkime-mpls-basic.pcap",
    "tcpdump-ipv6-srh-ext-header.pcap",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn fixtures() -> Vec<String> {
    FILES
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect()
}

/// Returns false (and says why, visibly) when the test cannot run here.
fn can_run(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    let ip = Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !ip {
        // Written to the stream directly: libtest captures only the print macros, so the
        // skip shows even when the test passes.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: needs root and iproute2 (root={root}, ip={ip}); CI runs it as root"
        );
        return false;
    }
    true
}

fn sh(args: &[&str]) {
    let o = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("command runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two namespaces `cap` and `snd` joined by a veth pair `vA` (in `cap`) – `vB` (in `snd`),
/// IPv6 off so the kernel sends nothing of its own. Deleted on drop.
struct Veth {
    cap: String,
    snd: String,
}

impl Veth {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}x{n}", std::process::id());
        let v = Veth {
            cap: format!("cpcap{id}"),
            snd: format!("cpsnd{id}"),
        };
        for ns in [&v.cap, &v.snd] {
            sh(&["ip", "netns", "add", ns]);
            sh(&[
                "ip",
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ]);
        }
        sh(&[
            "ip", "link", "add", "vA", "netns", &v.cap, "mtu", "9000", "type", "veth", "peer",
            "name", "vB", "netns", &v.snd, "mtu", "9000",
        ]);
        sh(&["ip", "-n", &v.cap, "link", "set", "vA", "up"]);
        sh(&["ip", "-n", &v.snd, "link", "set", "vB", "up"]);
        v
    }

    /// Starts `cleanpath capture -i vA ARGS` in the capture namespace and waits until it
    /// listens.
    fn capture(&self, args: &[&str]) -> Capture {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.cap, BIN, "capture", "-i", "vA"])
            .args(["--idle-timeout", "1000000000", "--stats-interval", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("capture starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let log = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let cap = Capture {
            child,
            log,
            lines: rx,
        };
        cap.wait_for("capturing on");
        cap
    }

    /// Sends `files` from the sender namespace; returns the replay report.
    fn replay(&self, files: &[String], pps: u32) -> Value {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.snd, BIN, "replay", "-i", "vB"])
            .args(["--pps", &pps.to_string()])
            .args(files)
            .output()
            .expect("replay runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("replay report")
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for ns in [&self.cap, &self.snd] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

struct Capture {
    child: Child,
    log: std::thread::JoinHandle<String>,
    lines: mpsc::Receiver<String>,
}

/// What a capture run wrote.
struct Output {
    flows: Vec<Value>,
    capture: Value,
    summary: Value,
    stderr: String,
    code: Option<i32>,
}

impl Capture {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (at most a minute) for a line on standard error containing `what`; returns it.
    fn wait_for(&self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(e) => panic!("no '{what}' from the capture: {e}"),
            }
        }
    }

    fn signal(&self, sig: &str) {
        sh(&["kill", &format!("-{sig}"), &self.pid().to_string()]);
    }

    fn wait(mut self) -> Output {
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("read stdout");
        let status = self.child.wait().expect("capture exits");
        let stderr = self.log.join().expect("stderr thread");
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let of = |t: &str| {
            lines
                .iter()
                .find(|v| v["type"] == t)
                .cloned()
                .unwrap_or_else(|| panic!("no {t} line in:\n{out}\n{stderr}"))
        };
        Output {
            flows: lines
                .iter()
                .filter(|v| v["type"] == "flow")
                .cloned()
                .collect(),
            capture: of("capture"),
            summary: of("summary"),
            stderr,
            code: status.code(),
        }
    }
}

/// `cleanpath analyze --json` on the same files.
fn analyze(files: &[String]) -> Vec<Value> {
    let o = Command::new(BIN)
        .args(["analyze", "--json", "--idle-timeout", "1000000000"])
        .args(files)
        .output()
        .expect("analyze runs");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|v| v["type"] == "flow")
        .collect()
}

/// Flow records without the fields that name where and when a frame was read.
fn comparable(flows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = flows
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(o) = f.as_object_mut() {
                for k in ["id", "file", "iface", "first_frame", "first_ts", "last_ts"] {
                    o.remove(k);
                }
            }
            f.to_string()
        })
        .collect();
    v.sort();
    v
}

fn verdicts(flows: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in flows {
        *m.entry(f["verdict"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    m
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Replays every file through the veth into a capture with `workers`, stopping at the
/// number of frames sent, and checks: nothing dropped, every frame counted, and the same
/// flows and verdicts as `analyze`.
fn equal_to_analyze(workers: &str) -> Output {
    let files = fixtures();
    let expected = analyze(&files);
    assert!(expected.len() >= 30, "{} flows", expected.len());
    let sent_expected: u64 = 18 + 92 + 102 + 2 + 5 + 26 + 47 + 58 + 1;
    let veth = Veth::new();
    let cap = veth.capture(&[
        "--workers",
        workers,
        "--count",
        &sent_expected.to_string(),
        "--duration",
        "60",
    ]);
    let rep = veth.replay(&files, 2000);
    assert_eq!(u(&rep["sent"]), sent_expected, "{rep}");
    assert_eq!(u(&rep["refused"]), 0, "{rep}");
    let out = cap.wait();
    assert_eq!(out.code, Some(1), "demo has VIOLATIONs: {}", out.stderr);
    assert_eq!(out.capture["stopped_by"], "count", "{}", out.capture);
    assert_eq!(u(&out.capture["kernel_drops"]), 0, "{}", out.capture);
    assert_eq!(
        u(&out.capture["interfaces"][0]["received"]),
        sent_expected,
        "{}",
        out.capture
    );
    assert_eq!(u(&out.summary["frames"]), sent_expected);
    assert_eq!(out.summary["complete"], true, "{}", out.summary);
    assert_eq!(verdicts(&out.flows), verdicts(&expected));
    assert_eq!(comparable(&out.flows), comparable(&expected));
    out
}

#[test]
fn capture_equals_analyze_on_veth_with_zero_drops() {
    if !can_run("capture_equals_analyze_on_veth_with_zero_drops") {
        return;
    }
    let out = equal_to_analyze("1");
    let v = verdicts(&out.flows);
    assert_eq!(v.get("VIOLATION"), Some(&4), "{v:?}");
}

#[test]
fn two_workers_give_the_same_flows_as_one() {
    if !can_run("two_workers_give_the_same_flows_as_one") {
        return;
    }
    let out = equal_to_analyze("2");
    let per: Vec<u64> = out.capture["worker_packets"]
        .as_array()
        .expect("array")
        .iter()
        .map(u)
        .collect();
    assert_eq!(per.len(), 2);
    assert!(
        per.iter().all(|&n| n > 0),
        "both workers got packets: {per:?}"
    );
}

#[test]
fn sigterm_mid_stream_flushes_every_flow() {
    if !can_run("sigterm_mid_stream_flushes_every_flow") {
        return;
    }
    let veth = Veth::new();
    let cap = veth.capture(&["--workers", "1", "--duration", "60"]);
    let files = fixtures();
    // 351 frames at 200/s take ~1.8 s; stop the capture after ~0.8 s.
    let sender = {
        let snd = veth.snd.clone();
        std::thread::spawn(move || {
            Command::new("ip")
                .args([
                    "netns", "exec", &snd, BIN, "replay", "-i", "vB", "--pps", "200",
                ])
                .args(&files)
                .output()
                .expect("replay runs")
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    cap.signal("TERM");
    let out = cap.wait();
    let rep = sender.join().expect("sender");
    assert!(rep.status.success());
    assert_eq!(out.capture["stopped_by"], "signal", "{}", out.capture);
    let received = u(&out.capture["interfaces"][0]["received"]);
    assert!(
        received > 20 && received < 351,
        "mid-stream: {received} frames"
    );
    assert_eq!(u(&out.capture["kernel_drops"]), 0);
    // Every received frame was analysed and every flow it opened was written.
    assert_eq!(u(&out.summary["frames"]), received);
    assert_eq!(u(&out.capture["unanalysed"]), 0);
    assert_eq!(
        out.flows.len() as u64,
        u(&out.summary["flow_table"]["flows"])
    );
    let in_flows: u64 = out
        .flows
        .iter()
        .map(|f| u(&f["packets"]["fwd"]) + u(&f["packets"]["rev"]))
        .sum();
    assert_eq!(in_flows, received - u(&out.summary["frames_without_flow"]));
    assert!(out.flows.iter().all(|f| f["end"] == "end_of_input"));
}

#[test]
fn privileges_are_dropped_before_parsing() {
    if !can_run("privileges_are_dropped_before_parsing") {
        return;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("passwd");
    let nobody: Vec<u32> = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("a nobody user")
        .split(':')
        .skip(2)
        .take(2)
        .map(|n| n.parse().expect("id"))
        .collect();
    let veth = Veth::new();
    let cap = veth.capture(&["--workers", "2", "--user", "nobody", "--duration", "60"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", cap.pid())).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {status}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let uid = nobody[0].to_string();
    let gid = nobody[1].to_string();
    assert_eq!(field("Uid:"), vec![uid.as_str(); 4], "{status}");
    assert_eq!(field("Gid:"), vec![gid.as_str(); 4], "{status}");
    assert!(field("Groups:").is_empty(), "{status}");
    assert_eq!(field("CapEff:"), vec!["0000000000000000"], "{status}");
    assert_eq!(field("CapPrm:"), vec!["0000000000000000"], "{status}");
    assert_eq!(field("NoNewPrivs:"), vec!["1"], "{status}");
    // The sockets opened as root still capture after the drop.
    let demo = vec![fixture("cleanpath-demo.pcapng").display().to_string()];
    veth.replay(&demo, 1000);
    std::thread::sleep(Duration::from_millis(300));
    cap.signal("INT");
    let out = cap.wait();
    assert_eq!(u(&out.capture["interfaces"][0]["received"]), 18);
    assert_eq!(comparable(&out.flows), comparable(&analyze(&demo)));
    assert_eq!(out.capture["credentials"]["uid"][0], nobody[0]);
}

#[test]
fn sighup_swaps_the_denylist_without_losing_packets() {
    if !can_run("sighup_swaps_the_denylist_without_losing_packets") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Readable by the unprivileged user the capture drops to.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let rules = dir.path().join("ours.tsv");
    let header = "kind\tvalue\tentity\tcategory\tconfidence\tsource\tdate\tnote\n";
    std::fs::write(
        &rules,
        format!("{header}asn\tAS64500\tExample\tuntrusted_carrier\thigh\tRFC 5398 documentation ASN\t2026-01-01\ttest\n"),
    )
    .expect("write rules");
    let rules_arg = rules.display().to_string();
    let veth = Veth::new();
    let cap = veth.capture(&[
        "--workers",
        "2",
        "--user",
        "nobody",
        "--duration",
        "120",
        "--no-bundled-denylist",
        "--denylist",
        &rules_arg,
    ]);
    let demo = vec![fixture("cleanpath-demo.pcapng").display().to_string()];
    // Packets keep flowing during the reload.
    let sender = {
        let snd = veth.snd.clone();
        let files = fixtures();
        std::thread::spawn(move || {
            Command::new("ip")
                .args([
                    "netns", "exec", &snd, BIN, "replay", "-i", "vB", "--pps", "300",
                ])
                .args(&files)
                .output()
                .expect("replay runs")
        })
    };
    // Swap in the Clean Path list, then reload.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("denylists/clean-path.tsv"),
        &rules,
    )
    .expect("copy");
    cap.signal("HUP");
    let msg = cap.wait_for("SIGHUP");
    assert!(msg.contains("reloaded 296 rules"), "{msg}");
    assert!(sender.join().expect("sender").status.success());
    // Flows judged from now on (all of them: none has ended yet) use the new list.
    veth.replay(&demo, 1000);
    std::thread::sleep(Duration::from_millis(300));
    cap.signal("TERM");
    let out = cap.wait();
    assert_eq!(u(&out.capture["kernel_drops"]), 0);
    assert_eq!(u(&out.capture["interfaces"][0]["received"]), 351 + 18);
    assert_eq!(u(&out.summary["provenance"]["rules"]), 296);
    let v = verdicts(&out.flows);
    assert_eq!(v.get("VIOLATION"), Some(&4), "{v:?}");
    let by_as64500 = out
        .flows
        .iter()
        .filter(|f| f.to_string().contains("AS64500"))
        .count();
    assert_eq!(by_as64500, 0);
}

#[test]
fn sighup_with_a_broken_denylist_keeps_the_rules_in_force() {
    if !can_run("sighup_with_a_broken_denylist_keeps_the_rules_in_force") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("ours.tsv");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("denylists/clean-path.tsv"),
        &rules,
    )
    .expect("copy");
    let rules_arg = rules.display().to_string();
    let veth = Veth::new();
    let cap = veth.capture(&[
        "--workers",
        "1",
        "--duration",
        "120",
        "--no-bundled-denylist",
        "--denylist",
        &rules_arg,
    ]);
    std::fs::write(&rules, "not a denylist\n").expect("write");
    cap.signal("HUP");
    let msg = cap.wait_for("SIGHUP");
    assert!(msg.contains("reload failed"), "{msg}");
    assert!(msg.contains("ours.tsv"), "names the file: {msg}");
    let demo = vec![fixture("cleanpath-demo.pcapng").display().to_string()];
    veth.replay(&demo, 1000);
    std::thread::sleep(Duration::from_millis(300));
    cap.signal("TERM");
    let out = cap.wait();
    assert_eq!(verdicts(&out.flows).get("VIOLATION"), Some(&4));
}

#[test]
fn interface_down_and_up_is_reported_and_capture_resumes() {
    if !can_run("interface_down_and_up_is_reported_and_capture_resumes") {
        return;
    }
    let veth = Veth::new();
    let cap = veth.capture(&["--workers", "2", "--duration", "60"]);
    sh(&["ip", "-n", &veth.cap, "link", "set", "vA", "down"]);
    cap.wait_for("interface vA is down");
    sh(&["ip", "-n", &veth.cap, "link", "set", "vA", "up"]);
    cap.wait_for("interface vA is up");
    let demo = vec![fixture("cleanpath-demo.pcapng").display().to_string()];
    veth.replay(&demo, 1000);
    std::thread::sleep(Duration::from_millis(300));
    cap.signal("TERM");
    let out = cap.wait();
    assert_eq!(u(&out.capture["interfaces"][0]["received"]), 18);
    assert_eq!(comparable(&out.flows), comparable(&analyze(&demo)));
}

#[test]
fn capture_writes_every_flow_to_the_store() {
    if !can_run("capture_writes_every_flow_to_the_store") {
        return;
    }
    use cleanpath::store::{Credentials, Filter, open_reader};
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let files = vec![fixture("cleanpath-demo.pcapng").display().to_string()];
    let veth = Veth::new();
    let cap = veth.capture(&[
        "--workers",
        "1",
        "--count",
        "18",
        "--duration",
        "60",
        "--findings-only",
        "--store",
        &url,
        "--sensor",
        "live-test",
    ]);
    let rep = veth.replay(&files, 2000);
    assert_eq!(u(&rep["sent"]), 18, "{rep}");
    let out = cap.wait();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    // JSON lines carry the findings only; the store holds every flow of the run.
    assert_eq!(out.flows.len(), 5, "4 VIOLATION + 1 UNKNOWN");
    let mut reader = open_reader(&url, &Credentials::default()).expect("store opens");
    let stored = reader.flows(&Filter::default()).expect("flows");
    assert_eq!(stored.len(), 9);
    let mut by_verdict = BTreeMap::new();
    for f in &stored {
        *by_verdict
            .entry(format!("{:?}", f.verdict))
            .or_insert(0usize) += 1;
    }
    assert_eq!(
        by_verdict,
        BTreeMap::from([
            ("Clean".to_string(), 4),
            ("Unknown".to_string(), 1),
            ("Violation".to_string(), 4)
        ])
    );
    let runs = reader.runs(&Filter::default()).expect("runs");
    assert_eq!(runs.len(), 1);
    assert!(runs[0].finished);
    assert_eq!(runs[0].info.sensor, "live-test");
    assert_eq!(reader.check().expect("check"), Vec::<String>::new());
}
