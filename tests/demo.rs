//! The demo fixture: the generator writes exactly the committed bytes, and every flow gets
//! the verdict and evidence it was built to have (see `src/synth/demo.rs`).

mod common;

use cleanpath::decode::Teid;
use cleanpath::flow::Endpoints;
use cleanpath::pipeline::FlowResult;
use cleanpath::policy::verdict::{Attribution, HopKind, Verdict};
use cleanpath::policy::{Confidence, RuleKind};
use common::{analyze, fixture};

const DEMO: &str = "cleanpath-demo.pcapng";

#[test]
fn committed_demo_equals_generator_output() {
    let committed = std::fs::read(fixture(DEMO)).expect("demo fixture is committed");
    assert_eq!(
        committed,
        cleanpath::synth::demo::pcapng(),
        "regenerate with: cargo run -- gen demo -o fixtures/{DEMO}"
    );
}

/// (hop kind, hop value, entity, rule kind) of every counted match of a flow.
fn violations(r: &FlowResult) -> Vec<(HopKind, String, String, RuleKind)> {
    let mut v: Vec<_> = r
        .judgement
        .hops
        .iter()
        .flat_map(|h| {
            h.matches
                .iter()
                .filter(|m| m.counts)
                .map(|m| (h.kind, h.value.clone(), m.entity.clone(), m.rule_kind))
        })
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

fn unattributed(r: &FlowResult) -> Vec<(HopKind, String)> {
    r.judgement
        .hops
        .iter()
        .filter(|h| h.is_unattributed())
        .map(|h| (h.kind, h.value.clone()))
        .collect()
}

#[test]
fn demo_verdicts_and_evidence_are_as_constructed() {
    let run = analyze(&fixture(DEMO));
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.frames_read, 18);
    assert_eq!(run.counters.frames, 18);
    assert!(
        run.counters.decode_errors.is_empty(),
        "{:?}",
        run.counters.decode_errors
    );
    assert_eq!(run.counters.frames_without_flow, 0);
    let verdicts: Vec<Verdict> = run.flows.iter().map(|r| r.judgement.verdict).collect();
    use Verdict::*;
    assert_eq!(
        verdicts,
        [
            Clean, Clean, Violation, Violation, Clean, Unknown, Violation, Violation, Clean
        ],
        "{:#?}",
        run.flows.iter().map(|r| &r.judgement).collect::<Vec<_>>()
    );
    let f = &run.flows;

    // 1, 2: the clean PDU session, uplink and downlink, keyed by tunnel and inner 5-tuple.
    let t1 = f[0].flow.key.tunnel.expect("flow 1 is tunnelled");
    assert_eq!((t1.teid, t1.qfi.map(|q| q.0)), (Teid(0x101), Some(9)));
    assert_eq!(f[0].flow.packets, [3, 0]);
    let ft = f[0].flow.first.tunnel.expect("first packet tunnel");
    assert_eq!(ft.outer_src.to_string(), "12.1.2.10");
    assert_eq!(ft.pdu_type, Some(1));
    assert_eq!(
        f[0].flow.first.src.map(|a| a.to_string()).as_deref(),
        Some("166.137.10.10")
    );
    assert_eq!(
        f[0].flow.first.dst.map(|a| a.to_string()).as_deref(),
        Some("8.8.8.8")
    );
    let t2 = f[1].flow.key.tunnel.expect("flow 2 is tunnelled");
    assert_eq!((t2.teid, t2.qfi.map(|q| q.0)), (Teid(0x201), Some(9)));
    assert_eq!(f[1].flow.first.tunnel.and_then(|t| t.pdu_type), Some(0));
    // Every hop of a CLEAN flow is attributed: 2 MACs, 2 tunnel endpoints, 2 endpoints.
    let kinds: Vec<HopKind> = f[0].judgement.hops.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            HopKind::L2Neighbour,
            HopKind::L2Neighbour,
            HopKind::TunnelEndpoint,
            HopKind::TunnelEndpoint,
            HopKind::Endpoint,
            HopKind::Endpoint
        ]
    );
    for h in &f[0].judgement.hops {
        assert!(
            matches!(
                h.attribution,
                Attribution::As { .. } | Attribution::Vendor { .. }
            ),
            "{h:?}"
        );
        assert!(h.matches.is_empty(), "{h:?}");
    }

    // 3: the next hop is a Huawei router.
    assert_eq!(
        violations(&f[2]),
        [(
            HopKind::L2Neighbour,
            "00:e0:fc:11:22:33".to_string(),
            "Huawei".to_string(),
            RuleKind::OuiOrgRegex
        )]
    );
    assert_eq!(f[2].flow.packets, [2, 2]);
    let huawei = f[2]
        .judgement
        .hops
        .iter()
        .find(|h| h.value == "00:e0:fc:11:22:33")
        .expect("huawei hop");
    let m = &huawei.matches[0];
    assert_eq!(m.confidence, Confidence::High);
    assert_eq!(m.date, "2021-03-12");
    assert!(m.source.contains("IEEE"), "{}", m.source);
    assert!(
        m.rule_at.starts_with("denylists/clean-path.tsv:"),
        "{}",
        m.rule_at
    );
    match &huawei.attribution {
        Attribution::Vendor {
            org, prefix_bits, ..
        } => {
            assert_eq!(
                (org.as_str(), *prefix_bits),
                ("HUAWEI TECHNOLOGIES CO.,LTD", 24)
            )
        }
        other => panic!("{other:?}"),
    }

    // 4: a subscriber reaches China Telecom (AS4134) through a clean tunnel.
    let v4 = violations(&f[3]);
    assert!(!v4.is_empty());
    assert!(
        v4.iter().all(|(k, v, e, _)| *k == HopKind::Endpoint
            && v == "202.97.33.1"
            && e == "China Telecom")
    );
    assert!(v4.iter().any(|(_, _, _, k)| *k == RuleKind::Asn));
    let ct = f[3]
        .judgement
        .hops
        .iter()
        .find(|h| h.value == "202.97.33.1")
        .expect("hop");
    assert!(
        matches!(ct.attribution, Attribution::As { asn: 4134, .. }),
        "{ct:?}"
    );
    assert_eq!(
        f[3].flow.key.tunnel.map(|t| (t.teid, t.qfi.map(|q| q.0))),
        Some((Teid(0x102), Some(5)))
    );

    // 5: clean IPv6.
    assert!(matches!(f[4].flow.key.inner, Endpoints::Ip { a, .. } if a.is_ipv6()));

    // 6: nothing attributes the private source or the locally administered MAC.
    assert_eq!(
        unattributed(&f[5]),
        [
            (HopKind::L2Neighbour, "02:00:00:aa:bb:cc".to_string()),
            (HopKind::Endpoint, "10.20.30.40".to_string())
        ]
    );

    // 7: the SRv6 segment list names a China Unicom (AS4837) waypoint.
    let v7 = violations(&f[6]);
    assert!(!v7.is_empty());
    assert!(v7.iter().all(|(k, v, e, _)| *k == HopKind::Srv6Segment
        && v == "2408:8000::1"
        && e == "China Unicom"));
    assert_eq!(f[6].flow.srv6.as_slice().len(), 2);

    // 8: a ZTE switch on VLAN 100.
    assert_eq!(
        violations(&f[7]),
        [(
            HopKind::L2Neighbour,
            "00:15:eb:01:02:03".to_string(),
            "ZTE".to_string(),
            RuleKind::OuiOrgRegex
        )]
    );
    assert_eq!(f[7].flow.vlans.as_slice(), [100]);

    // 9: LLDP from the Nokia port; the group address is not a device.
    assert!(matches!(
        f[8].flow.key.inner,
        Endpoints::L2 {
            ethertype: 0x88cc,
            ..
        }
    ));
    assert!(matches!(
        f[8].judgement.hops[1].attribution,
        Attribution::Group
    ));
}
