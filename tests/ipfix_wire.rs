//! `cleanpath analyze --ipfix` seen from a bare UDP socket: message framing, sizes,
//! sequence numbers and templates per RFC 7011, and the errors of bad or dead collectors.
//! Needs no collector installed (tests/ipfix_collectors.rs uses real ones).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn cleanpath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleanpath"))
        .args(args)
        .output()
        .unwrap()
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A minimal IPFIX reader: learns templates, counts data records per message.
#[derive(Default)]
struct Collector {
    /// Template id → (field id, enterprise, length) list.
    templates: HashMap<u16, Vec<(u16, Option<u32>, u16)>>,
    template_records: usize,
}

impl Collector {
    /// Returns the number of data records in `m`, checking every length on the way.
    fn message(&mut self, m: &[u8]) -> u32 {
        assert_eq!(be16(m, 0), 10, "version");
        assert_eq!(usize::from(be16(m, 2)), m.len(), "message length");
        let mut at = 16;
        let mut records = 0;
        while at < m.len() {
            let (id, len) = (be16(m, at), usize::from(be16(m, at + 2)));
            assert!(len >= 4 && at + len <= m.len(), "set length {len} at {at}");
            let end = at + len;
            let mut p = at + 4;
            if id == 2 {
                while p < end {
                    let (tid, n) = (be16(m, p), be16(m, p + 2));
                    p += 4;
                    let mut fields = Vec::new();
                    for _ in 0..n {
                        let (fid, flen) = (be16(m, p), be16(m, p + 2));
                        p += 4;
                        let pen = (fid & 0x8000 != 0).then(|| {
                            p += 4;
                            be32(m, p - 4)
                        });
                        fields.push((fid & 0x7fff, pen, flen));
                    }
                    self.templates.insert(tid, fields);
                    self.template_records += 1;
                }
            } else {
                let fields = self
                    .templates
                    .get(&id)
                    .unwrap_or_else(|| panic!("data set {id} before its template"));
                while p < end {
                    for &(_, _, flen) in fields {
                        p += if flen == 0xffff {
                            match m[p] {
                                255 => 3 + usize::from(be16(m, p + 1)),
                                n => 1 + usize::from(n),
                            }
                        } else {
                            usize::from(flen)
                        };
                    }
                    records += 1;
                }
            }
            assert_eq!(p, end, "records end with their set");
            at = end;
        }
        records
    }
}

#[test]
fn messages_are_framed_sized_and_sequenced() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let target = sock.local_addr().unwrap().to_string();
    let out = cleanpath(&[
        "analyze",
        "--json",
        "--ipfix",
        &target,
        "--ipfix-domain",
        "4242",
        fixture("pcapplusplus-many-protocols.pcap")
            .to_str()
            .unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)));
    let ip_flows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(r#"{"type":"flow""#) && l.contains(r#""proto":"#))
        .count() as u32;

    let mut c = Collector::default();
    let mut buf = [0u8; 65_536];
    let (mut seq, mut messages) = (0u32, 0);
    while seq < ip_flows {
        let n = sock.recv(&mut buf).expect("all records arrive on loopback");
        let m = &buf[..n];
        assert!(n <= 1400, "message of {n} bytes");
        assert_eq!(be32(m, 12), 4242, "observation domain");
        assert_eq!(be32(m, 8), seq, "sequence = data records sent before");
        seq += c.message(m);
        messages += 1;
    }
    assert_eq!(seq, ip_flows);
    assert!(messages > 10, "{messages} messages");
    // Four shapes occur (IPv4/IPv6 without tunnel …); templates were resent every 10
    // messages: more template records than templates.
    assert!(c.templates.len() >= 2, "{:?}", c.templates.keys());
    assert!(c.template_records > c.templates.len());
    let t256 = &c.templates[&256];
    assert_eq!(t256[0], (8, None, 4), "sourceIPv4Address first");
    assert!(t256.contains(&(1, Some(29_305), 8)), "reverse octets");
    assert!(
        t256.contains(&(101, Some(32_473), 1)),
        "verdict under the default PEN"
    );
}

#[test]
fn bad_targets_fail_before_any_work() {
    let demo = fixture("cleanpath-demo.pcapng");
    for bad in ["127.0.0.1", "no-such-host.invalid:2055", "127.0.0.1:99999"] {
        let out = cleanpath(&["analyze", "-q", "--ipfix", bad, demo.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("--ipfix {bad}")), "{err}");
        assert!(out.stdout.is_empty(), "no report for a bad target");
    }
}

#[test]
fn dead_collector_warns_and_keeps_the_report() {
    // A port nobody listens on: bind one, then close it.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let demo = fixture("cleanpath-demo.pcapng");
    let out = cleanpath(&[
        "analyze",
        "-q",
        "--json",
        "--ipfix",
        &format!("127.0.0.1:{port}"),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "the demo has violations");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "warning: IPFIX collector 127.0.0.1:{port}: Connection refused"
        )),
        "{err}"
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report
            .lines()
            .last()
            .unwrap()
            .contains(r#""type":"summary""#)
    );
}
