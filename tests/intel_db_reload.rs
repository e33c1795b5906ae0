//! Hot reload: `intel::SharedIntel` swapped between two tables while reader threads look
//! addresses up without pause; every answer comes whole from one table or the other.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use cleanpath::intel::{AsnTable, Intel, OuiRegistry, SharedIntel};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const HEADER: &str = "Registry,Assignment,Organization Name,Organization Address\n";

/// A table where 10.0.0.0/8 (split in 256 /16 rows) belongs to `asn`, and MAC block
/// 00:E0:FC to `org`.
fn tables(asn: u32, org: &str) -> Intel {
    let mut csv = String::new();
    for b in 0..256 {
        csv.push_str(&format!("10.{b}.0.0,10.{b}.255.255,{asn},Org{asn}\n"));
    }
    let mut t = AsnTable::default();
    t.add_csv("gen.csv", csv.as_bytes()).unwrap();
    let mut o = OuiRegistry::default();
    o.add_csv(
        "oui.csv",
        format!("{HEADER}MA-L,00E0FC,{org},x\n").as_bytes(),
    )
    .unwrap();
    Intel { asn: t, oui: o }
}

#[test]
fn lookups_continue_while_tables_are_swapped() {
    let shared = Arc::new(SharedIntel::new(tables(1, "A")));
    let stop = Arc::new(AtomicBool::new(false));
    let lookups = Arc::new(AtomicU64::new(0));
    let seen = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let readers: Vec<_> = (0..3)
        .map(|t| {
            let (shared, stop, lookups, seen) =
                (shared.clone(), stop.clone(), lookups.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut i: u32 = t;
                while !stop.load(Ordering::Relaxed) {
                    let snap = shared.load();
                    i = i.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let ip = IpAddr::from([10, (i >> 24) as u8, (i >> 16) as u8, (i >> 8) as u8]);
                    let m = snap.asn.lookup(ip).expect("10/8 is covered in both tables");
                    // The AS and the MAC vendor come from the same snapshot.
                    let vendor = match snap.oui.lookup("00:e0:fc:01:02:03".parse().unwrap()) {
                        cleanpath::intel::MacInfo::Registered { org, .. } => org.to_string(),
                        other => panic!("{other:?}"),
                    };
                    match (m.asn.0, vendor.as_str()) {
                        (1, "A") => seen[0].fetch_add(1, Ordering::Relaxed),
                        (2, "B") => seen[1].fetch_add(1, Ordering::Relaxed),
                        other => panic!("mixed or wrong answer {other:?}"),
                    };
                    assert_eq!(m.org, format!("Org{}", m.asn.0));
                    lookups.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let prebuilt: Vec<Intel> = (0..40)
        .map(|k| {
            if k % 2 == 0 {
                tables(2, "B")
            } else {
                tables(1, "A")
            }
        })
        .collect();
    let mut last = lookups.load(Ordering::Relaxed);
    let mut progressed = 0;
    for t in prebuilt {
        shared.store(t);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let now = lookups.load(Ordering::Relaxed);
        if now > last {
            progressed += 1;
        }
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    // Readers made progress between most swaps and saw both tables.
    assert!(
        progressed >= 30,
        "lookups progressed in only {progressed} of 40 intervals"
    );
    assert!(seen[0].load(Ordering::Relaxed) > 0 && seen[1].load(Ordering::Relaxed) > 0);
}
