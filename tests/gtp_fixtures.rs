//! GTP-U captures from real 5G/GPRS user planes: the flows carry the TEIDs, QFIs, outer
//! and inner addresses the bytes hold. Expected values were read off the captures with an
//! independent parser (a few lines of Python over the raw pcap records) and agree with
//! the MANIFEST's tshark summary (PDU Session Container, QFI 5).

mod common;

use cleanpath::decode::Teid;
use cleanpath::flow::Endpoints;
use cleanpath::pipeline::FlowResult;
use common::{analyze, fixture};

/// (outer src, outer dst, TEID, QFI, inner src, inner dst, proto, packets fwd, packets rev)
type Expect = (
    &'static str,
    &'static str,
    u32,
    Option<u8>,
    &'static str,
    &'static str,
    u8,
    u64,
    u64,
);

fn summary(r: &FlowResult) -> Option<Expect> {
    let t = r.flow.first.tunnel?;
    let Endpoints::Ip { proto, .. } = r.flow.key.inner else {
        return None;
    };
    let s = |a: std::net::IpAddr| -> &'static str { Box::leak(a.to_string().into_boxed_str()) };
    Some((
        s(t.outer_src),
        s(t.outer_dst),
        r.flow.key.tunnel?.teid.0,
        t.qfi.map(|q| q.0),
        s(r.flow.first.src?),
        s(r.flow.first.dst?),
        proto,
        r.flow.packets[0],
        r.flow.packets[1],
    ))
}

fn tunnelled(name: &str) -> Vec<Expect> {
    let run = analyze(&fixture(name));
    assert!(run.error.is_none(), "{name}: {:?}", run.error);
    assert!(
        run.counters.decode_errors.is_empty(),
        "{name}: {:?}",
        run.counters.decode_errors
    );
    run.flows.iter().filter_map(summary).collect()
}

#[test]
fn n3_pdu_session_container_flows() {
    // Uplink gNB → UPF on TEID 0x1 and downlink on 0x40020125, both QFI 5.
    let mut flows = tunnelled("telekom-5gtv-n3_example.pcap");
    flows.sort_by_key(|e| e.2);
    assert_eq!(
        flows,
        [
            (
                "10.200.11.70",
                "172.16.12.2",
                0x1,
                Some(5),
                "172.16.11.2",
                "10.0.255.2",
                17,
                42,
                0
            ),
            (
                "172.16.12.2",
                "10.200.11.70",
                0x4002_0125,
                Some(5),
                "10.0.255.2",
                "172.16.11.2",
                17,
                50,
                0
            ),
        ]
    );
}

#[test]
fn gtp_u_icmp_both_directions_share_one_flow() {
    // Same TEID both ways: one flow of 51 packets each way. The capture starts with the
    // packet from 192.168.40.179 carrying 202.11.40.158 -> 192.168.40.178.
    let flows = tunnelled("pcapplusplus-gtp-u.pcap");
    assert_eq!(
        flows,
        [(
            "192.168.40.179",
            "192.168.40.178",
            0x1,
            None,
            "202.11.40.158",
            "192.168.40.178",
            1,
            51,
            51
        )]
    );
    let run = analyze(&fixture("pcapplusplus-gtp-u.pcap"));
    assert_eq!(run.flows[0].flow.key.tunnel.map(|t| t.teid), Some(Teid(1)));
}
