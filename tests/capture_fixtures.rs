//! Reads every capture in `fixtures/` through `cleanpath::capture` and checks the results
//! against capinfos (MANIFEST.md) and against values computed by hand from the bytes.

use cleanpath::capture::{Error, FileReader, Format, Interface, LinkType};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Packet counts from the `pkts` column of `fixtures/MANIFEST.md` (capinfos).
const EXPECTED_FRAMES: &[(&str, u64)] = &[
    ("arkime-80211http.pcap", 26),
    ("arkime-bigendian.pcap", 2),
    ("arkime-dot1ad.pcap", 2),
    ("arkime-fbzero-android.pcap", 44),
    ("arkime-gtp-iphone.pcap", 106),
    ("arkime-ipv6-gtp6.pcap", 1),
    ("arkime-mpls-basic.pcap", 58),
    ("arkime-sctp-www.pcap", 84),
    ("arkime-twovlan.pcap", 6),
    ("arkime-wireshark-lldp.pcap", 3),
    ("pcap-parser-err-buffertoosmall.pcapng", 27),
    ("pcap-parser-modified-format.pcap", 1),
    ("pcap-parser-test016-be.pcapng", 4),
    ("pcapplusplus-CiscoHDLC.pcap", 3),
    ("pcapplusplus-DNS_NXDomain.pcap", 1),
    ("pcapplusplus-Dns.pcap", 3),
    ("pcapplusplus-HttpMalformedResponse.pcapng", 1),
    ("pcapplusplus-MplsPackets.pcap", 2),
    ("pcapplusplus-NullLoopback.pcap", 3),
    ("pcapplusplus-QinQ_802.1_AD.pcapng", 1),
    ("pcapplusplus-Sll2Packet.pcap", 1),
    ("pcapplusplus-SllPacket.pcap", 1),
    ("pcapplusplus-TwoHttpResponses.pcap", 2),
    ("pcapplusplus-VlanPackets.pcap", 26),
    ("pcapplusplus-gtp-u.pcap", 102),
    ("pcapplusplus-gtp.pcap", 7),
    ("pcapplusplus-gtpv2.pcap", 6),
    ("pcapplusplus-ip4_bad_fragment.pcap", 1),
    ("pcapplusplus-ipv4-malformed.pcap", 2),
    ("pcapplusplus-linktype_ipv6.pcap", 1),
    ("pcapplusplus-many-protocols.pcap", 4709),
    ("pcapplusplus-many_interfaces-1.pcapng", 64),
    ("pcapplusplus-microsecs_big_endian.pcap", 13),
    ("pcapplusplus-nanosecs.pcap", 2),
    ("pcapplusplus-nanosecs_big_endian.pcap", 10),
    ("pcapplusplus-null_loopback.pcap", 3),
    ("pcapplusplus-pcapng-example.pcapng", 159),
    ("pcapplusplus-raw_ip.pcap", 100),
    ("pcapplusplus-sip_reqs.pcap", 4),
    ("pcapplusplus-sll2.pcap", 3),
    ("pcapplusplus-ssh_packets.pcap", 5),
    ("pcapplusplus-ssl-malformed1.pcap", 1),
    ("pcapplusplus-tcp-malformed.pcap", 2),
    ("pcapplusplus-tls1_3.pcap", 4),
    ("pcapplusplus-tls_server_hello.pcap", 1),
    ("pcapplusplus-too_many_interfaces.pcapng", 1),
    ("suricata-verify-decode-sctp-01-input.pcap", 1),
    ("suricata-verify-decode-sll2-01-input.pcap", 5),
    ("suricata-verify-http-multiple100-input.pcap", 48),
    ("suricata-verify-linktype-228-flow-test-01.pcap", 7),
    ("suricata-verify-snmp-v3-encrypted-SNMPv3.pcap", 8),
    ("suricata-verify-ssh-banner-only-input.pcap", 26),
    ("tcpdump-3560_CDP.pcap", 3),
    ("tcpdump-802.1ad_QinQ.pcap", 2),
    ("tcpdump-802_15_4-data.pcap", 1),
    ("tcpdump-LINKTYPE_IPV4.pcap", 1),
    ("tcpdump-LINKTYPE_IPV4_invalid.pcap", 1),
    ("tcpdump-LINKTYPE_IPV6.pcap", 1),
    ("tcpdump-LINKTYPE_IPV6_invalid.pcap", 1),
    ("tcpdump-LINKTYPE_PKTAP.pcap", 1),
    ("tcpdump-LINKTYPE_RAW_ipv4.pcap", 1),
    ("tcpdump-LINKTYPE_RAW_ipv6.pcap", 1),
    ("tcpdump-LLDP_and_CDP.pcap", 12),
    ("tcpdump-arista_ether.pcap", 16),
    ("tcpdump-bcm-li.pcap", 71),
    ("tcpdump-dns_tcp.pcap", 11),
    ("tcpdump-dns_udp.pcap", 2),
    ("tcpdump-empty.pcapng", 0),
    ("tcpdump-erspan-type-i-1.pcap", 2),
    ("tcpdump-erspan-type-ii-1.pcap", 1),
    ("tcpdump-esp_truncated.pcap", 1),
    ("tcpdump-geneve.pcap", 39),
    ("tcpdump-hdlc_slarp.pcapng", 7),
    ("tcpdump-heap-overflow-1.pcap", 1),
    ("tcpdump-ieee802.11_exthdr.pcap", 26),
    ("tcpdump-ieee802.11_rx-stbc.pcap", 3),
    ("tcpdump-ip-snmp-leftshift-unsigned.pcap", 1),
    ("tcpdump-ip6-snmp-oid-unsigned.pcap", 1),
    ("tcpdump-ipoib.pcap", 30),
    ("tcpdump-ipv4_invalid_hdr_length.pcap", 1),
    ("tcpdump-ipv4_invalid_total_length.pcap", 1),
    ("tcpdump-ipv4_tcp_http_xml.pcap", 1),
    ("tcpdump-ipv6-bad-version.pcap", 4),
    ("tcpdump-ipv6-routing-header.pcap", 4),
    ("tcpdump-ipv6-srh-ext-header.pcap", 1),
    ("tcpdump-ipv6-srh-insert-cksum.pcap", 1),
    ("tcpdump-ipv6-srh-ipproto-ether.pcap", 1),
    ("tcpdump-ipv6-srh-tlv-hmac.pcap", 1),
    ("tcpdump-ipv6-srh-tlv-pad1-padn-5-trunc.pcap", 1),
    ("tcpdump-ipv6-srh-tlv-pad1-padn-5.pcap", 1),
    ("tcpdump-ipv6_39_byte_header.pcap", 1),
    ("tcpdump-ipv6_invalid_length.pcap", 1),
    ("tcpdump-ipv6hdr-heapoverflow.pcap", 1),
    ("tcpdump-lldp-infinite-loop-1.pcap", 1),
    ("tcpdump-lldp_8023_mtu-oobr.pcap", 1),
    ("tcpdump-lldp_asan.pcap", 1),
    ("tcpdump-lldp_mgmt_addr_tlv_asan.pcap", 2),
    ("tcpdump-lldp_mudurl.pcap", 2),
    ("tcpdump-mpls-label-heapoverflow.pcap", 1),
    ("tcpdump-mpls-ldp-hello.pcap", 1),
    ("tcpdump-mpls-over-udp.pcap", 2),
    ("tcpdump-mpls-traceroute.pcap", 18),
    ("tcpdump-nflog.pcap", 4),
    ("tcpdump-pktap-heap-overflow.pcap", 2),
    ("tcpdump-ppp_ip_udp_dns.pcap", 1),
    ("tcpdump-radiotap-heapoverflow.pcap", 1),
    ("tcpdump-snmp-heapoverflow-1.pcap", 5),
    ("tcpdump-snmp-heapoverflow-2.pcap", 1),
    ("tcpdump-ssh.pcap", 54),
    ("tcpdump-tcp-handshake-nano.pcap", 3),
    ("tcpdump-tcp_header_heapoverflow.pcap", 1),
    ("tcpdump-time_2106_overflow.pcapng", 1),
    ("tcpdump-time_2107.pcapng", 1),
    ("tcpdump-timestamp_invalid_micro.pcap", 3),
    ("tcpdump-timestamp_invalid_nano.pcap", 3),
    ("tcpdump-udp-length-heapoverflow.pcap", 1),
    ("tcpdump-unsupported-link-type-160.pcap", 1),
    ("tcpdump-unsupported-link-type-dbus.pcap", 2),
    ("tcpdump-vxlan.pcap", 10),
    ("telekom-5gtv-Service_Request_Connected_205_210.pcap", 2),
    ("telekom-5gtv-free5gc.pcap", 250),
    ("telekom-5gtv-n3_example.pcap", 92),
    ("telekom-5gtv-n3_example_2.pcap", 10),
    ("telekom-5gtv-n6_example_2.pcap", 10),
    ("telekom-5gtv-one_packet.pcapng", 1),
    ("zeek-arp-who-has-radiotap.pcap", 2),
    ("zeek-cdp-v1.pcap", 1),
    ("zeek-dns-corrupt.pcap", 2),
    ("zeek-dns53.pcap", 1),
    ("zeek-ecdhe.pcap", 28),
    ("zeek-empty.pcap", 0),
    ("zeek-geneve.pcap", 6),
    ("zeek-get.pcap", 14),
    ("zeek-gtp10_not_0xff.pcap", 3),
    ("zeek-gtp1_gn_normal_incl_fragmentation.pcap", 108),
    ("zeek-gtp2_different_udp_port.pcap", 120),
    ("zeek-gtp3_false_gtp.pcap", 1),
    ("zeek-gtp4_udp_2152_inside.pcap", 1),
    ("zeek-gtp6_gtp_0x32.pcap", 31),
    ("zeek-gtp7_ipv6.pcap", 2),
    ("zeek-gtp8_teredo.pcap", 10),
    ("zeek-gtp9_unknown_or_too_short_payload.pcap", 19),
    ("zeek-gtp_control_prime.pcap", 10),
    ("zeek-gtp_create_pdp_ctx.pcap", 4),
    ("zeek-gtp_ext_header.pcap", 2),
    ("zeek-http-qinq-0.pcap", 14),
    ("zeek-http-vlan-0.pcap", 14),
    ("zeek-ieee80211.15.4.pcap", 1),
    ("zeek-igmp.pcap", 12),
    ("zeek-ip-bogus-header-len.pcap", 1),
    ("zeek-ipv6-hbh-routing0.pcap", 1),
    ("zeek-linux_dlt_sll2.pcap", 6),
    ("zeek-linuxsll-arp.pcap", 12),
    ("zeek-lldp.pcap", 1),
    ("zeek-mixed-vlan-mpls.pcap", 47),
    ("zeek-mpls-in-vlan.pcap", 3),
    ("zeek-mysql8-navicat-login-failed.pcap", 22),
    ("zeek-nflog-http.pcap", 13),
    ("zeek-pcapng-multi-interface.pcapng", 6),
    ("zeek-pdp_ctx_messages.pcapng", 14),
    ("zeek-proxy.pcap", 26),
    ("zeek-q-in-q.pcap", 5),
    ("zeek-radiotap.pcap", 3),
    ("zeek-sctp.pcap", 74),
    ("zeek-single-conn.pcap", 94),
    ("zeek-snmpv1_get.pcap", 58),
    ("zeek-snmpv1_trap.pcap", 1),
    ("zeek-snmpv2_get_bulk.pcap", 2),
    ("zeek-snmpv3_get_next.pcap", 4),
    ("zeek-ssh-on-port-80.pcap", 70),
    ("zeek-ssh1-ssh2-fingerprints.pcap", 44),
    ("zeek-ssh_version_199.pcap", 90),
    ("zeek-tls13-ech.pcap", 69),
    ("zeek-tls13_wolfssl.pcap", 21),
    ("zeek-truncated-header.pcap", 24),
    ("zeek-vlan-qinqinq.pcap", 14),
    ("zeek-vxlan.pcap", 10),
    ("zeek-wlanmon.pcap", 3),
];

/// An owned copy of a frame, so tests can collect them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    frame_no: u64,
    ts: i64,
    link: LinkType,
    iface: u32,
    orig_len: u32,
    data: Vec<u8>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture readable")
}

/// Reads frames until the end or the first error.
fn drain(r: &mut FileReader) -> (Vec<Owned>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => out.push(Owned {
                frame_no: f.frame_no,
                ts: f.ts.0,
                link: f.link,
                iface: f.iface,
                orig_len: f.orig_len_bytes,
                data: f.data.to_vec(),
            }),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// Opens a fixture and reads it completely; any error fails the test.
fn read_ok(name: &str) -> (FileReader, Vec<Owned>) {
    let mut r = FileReader::open(&fixture(name)).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(err.is_none(), "{name}: {err:?}");
    (r, frames)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn every_fixture_reads_to_the_end_with_the_capinfos_count() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixture(""))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".pcap"))
        .collect();
    let expected: BTreeMap<&str, u64> = EXPECTED_FRAMES.iter().copied().collect();
    let listed: BTreeSet<String> = expected.keys().map(|k| (*k).to_owned()).collect();
    assert_eq!(
        on_disk.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "fixtures without an expected count"
    );
    assert_eq!(
        listed.difference(&on_disk).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "expected counts without a fixture"
    );
    assert_eq!(on_disk.len(), 178);
    for name in &on_disk {
        let (r, frames) = read_ok(name);
        assert_eq!(frames.len() as u64, expected[name.as_str()], "{name}");
        assert_eq!(r.stats().frames, frames.len() as u64, "{name}");
        let numbers: Vec<u64> = frames.iter().map(|f| f.frame_no).collect();
        assert_eq!(
            numbers,
            (1..=frames.len() as u64).collect::<Vec<_>>(),
            "{name}"
        );
        let len = std::fs::metadata(fixture(name)).expect("metadata").len();
        assert_eq!(r.position(), len, "{name}: every byte consumed");
        assert!(!r.is_gzip());
        for f in &frames {
            assert!((f.iface as usize) < r.interfaces().len(), "{name}");
            assert_eq!(f.link, r.interfaces()[f.iface as usize].link, "{name}");
        }
    }
}

#[test]
fn big_endian_pcap() {
    let (r, frames) = read_ok("arkime-bigendian.pcap");
    assert_eq!(r.format(), Format::Pcap);
    assert_eq!(r.interfaces()[0].snaplen_bytes, 65535);
    let ts: Vec<i64> = frames.iter().map(|f| f.ts).collect();
    assert_eq!(ts, [1_335_958_313_152_630_000, 1_335_958_317_529_201_000]);
    for f in &frames {
        assert_eq!(
            (f.link, f.orig_len, f.data.len()),
            (LinkType::ETHERNET, 98, 98)
        );
        assert_eq!(&f.data[..6], &[0x00, 0x00, 0x5e, 0x00, 0x01, 0xb1]);
    }
    let (r, frames) = read_ok("pcapplusplus-microsecs_big_endian.pcap");
    assert_eq!(r.interfaces()[0].link, LinkType(253));
    assert_eq!(frames.len(), 13);
    assert_eq!(frames[0].ts, 1_474_059_824_864_984_000);
    assert_eq!(frames[0].data.len(), 1196);
    assert_eq!(r.stats().captured_bytes, 10356);
}

#[test]
fn nanosecond_pcap() {
    let (r, frames) = read_ok("tcpdump-tcp-handshake-nano.pcap");
    assert_eq!(r.format(), Format::PcapNs);
    assert_eq!(frames[0].ts, 1_418_145_369_924_505_488);
    assert_eq!(frames[2].ts, 1_418_145_370_052_115_157);
    assert_eq!(frames[0].link, LinkType::LINUX_SLL);
    // Big-endian and nanosecond at once.
    let (r, frames) = read_ok("pcapplusplus-nanosecs_big_endian.pcap");
    assert_eq!(r.format(), Format::PcapNs);
    assert_eq!(frames.len(), 10);
    assert_eq!(frames[0].ts, 1_766_361_926_167_647_291);
    assert_eq!(frames[9].ts, 1_766_361_926_168_451_894);
    assert_eq!(r.stats().captured_bytes, 2198);
}

#[test]
fn invalid_timestamp_fields_are_counted_and_clamped() {
    // Frame 2 has a fraction of exactly one second, frame 3 of 2^31 units.
    for (name, format, last_unit) in [
        (
            "tcpdump-timestamp_invalid_micro.pcap",
            Format::Pcap,
            999_999_000,
        ),
        (
            "tcpdump-timestamp_invalid_nano.pcap",
            Format::PcapNs,
            999_999_999,
        ),
    ] {
        let (r, frames) = read_ok(name);
        assert_eq!(r.format(), format);
        assert_eq!(frames.len(), 3, "{name}");
        assert_eq!(r.stats().bad_timestamps, 2, "{name}");
        let ts: Vec<i64> = frames.iter().map(|f| f.ts).collect();
        let sec = 1_418_145_370_000_000_000;
        assert_eq!(
            ts,
            [
                sec - 1_000_000_000 + last_unit,
                sec + last_unit,
                sec + last_unit
            ]
        );
    }
}

#[test]
fn big_endian_pcapng_with_simple_packet_blocks() {
    // SHB, IDB, NRB, SPB, EPB, NRB, SPB, EPB, NRB: frames 1 and 3 are SPBs.
    let (r, frames) = read_ok("pcap-parser-test016-be.pcapng");
    assert_eq!(r.format(), Format::Pcapng);
    assert_eq!(
        r.interfaces(),
        &[Interface {
            name: Some("eth0".into()),
            link: LinkType::ETHERNET,
            section: 0,
            snaplen_bytes: 0,
        }]
    );
    let summary: Vec<(i64, u32, usize)> = frames
        .iter()
        .map(|f| (f.ts, f.orig_len, f.data.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (0, 314, 314), // an SPB has no timestamp and nothing precedes it
            (1_340_954_905_298_858_000, 342, 342),
            (1_340_954_905_298_858_000, 314, 314), // SPB: previous frame's time
            (1_340_954_905_300_858_000, 342, 342),
        ]
    );
    assert_eq!(r.stats().skipped_blocks, 3);
}

#[test]
fn pcapng_interfaces_with_microsecond_and_nanosecond_clocks() {
    let (r, frames) = read_ok("zeek-pcapng-multi-interface.pcapng");
    let names: Vec<Option<&str>> = r.interfaces().iter().map(|i| i.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("eth0"),
            Some("\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}")
        ]
    );
    let ifaces: Vec<u32> = frames.iter().map(|f| f.iface).collect();
    assert_eq!(ifaces, [0, 0, 1, 1, 1, 1]);
    // Interface 0 has if_tsresol 9 (ns), interface 1 the default 6 (µs).
    assert_eq!(frames[0].ts, 1_767_663_089_500_330_493);
    assert_eq!(frames[2].ts, 1_767_663_437_111_897_000);
}

#[test]
fn pcapng_power_of_two_tsresol() {
    // Same file with interface 0's if_tsresol byte (offset 160) set to 0x80|30: 2^-30 s units.
    let mut b = bytes("zeek-pcapng-multi-interface.pcapng");
    assert_eq!(b[160], 9);
    b[160] = 0x80 | 30;
    let mut r = FileReader::from_bytes(Path::new("pow2.pcapng"), b).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(err.is_none());
    // raw 1767663089500330493 units: (u >> 30) s + (u & (2^30-1)) * 1e9 / 2^30 ns
    assert_eq!(frames[0].ts, 1_646_264_539_566_198_823);
    assert_eq!(frames[2].ts, 1_767_663_437_111_897_000);
}

#[test]
fn pcapng_many_interfaces_and_link_types() {
    let (r, frames) = read_ok("pcapplusplus-many_interfaces-1.pcapng");
    let links: Vec<u32> = r.interfaces().iter().map(|i| i.link.0).collect();
    assert_eq!(links, [1, 1, 1, 1, 0, 1, 1, 1, 12, 1, 0]);
    assert_eq!(r.interfaces()[4].name.as_deref(), Some("utun0"));
    assert_eq!(r.interfaces()[10].name.as_deref(), Some("lo0"));
    let mut per_link = BTreeMap::new();
    for f in &frames {
        *per_link.entry(f.link).or_insert(0) += 1;
    }
    assert_eq!(
        per_link,
        BTreeMap::from([(LinkType::NULL, 2), (LinkType::ETHERNET, 62)])
    );
    assert_eq!(r.stats().skipped_blocks, 11); // one ISB per interface
}

#[test]
fn linux_cooked_link_types() {
    let (_, frames) = read_ok("zeek-linuxsll-arp.pcap");
    assert_eq!(frames.len(), 12);
    assert!(frames.iter().all(|f| f.link == LinkType::LINUX_SLL));
    assert_eq!(&frames[0].data[..2], &[0x00, 0x01]); // SLL packet type: broadcast
    let (_, frames) = read_ok("zeek-linux_dlt_sll2.pcap");
    assert_eq!(frames.len(), 6);
    assert!(frames.iter().all(|f| f.link == LinkType::LINUX_SLL2));
    // SLL2 starts with the protocol type: IPv4, IPv4, IPv6, …, ARP last.
    assert_eq!(&frames[0].data[..2], &[0x08, 0x00]);
    assert_eq!(&frames[2].data[..2], &[0x86, 0xdd]);
    assert_eq!(&frames[5].data[..2], &[0x80, 0x35]);
}

#[test]
fn modified_pcap() {
    let (r, frames) = read_ok("pcap-parser-modified-format.pcap");
    assert_eq!(r.format(), Format::PcapModified);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].ts, 1_712_763_541_734_807_000);
    assert_eq!(frames[0].data.len(), 98);
    // The 8 extra header bytes are skipped: the data is an Ethernet frame with type IPv4.
    assert_eq!(&frames[0].data[12..15], &[0x08, 0x00, 0x45]);
}

#[test]
fn block_larger_than_a_small_reader_buffer() {
    let (r, frames) = read_ok("pcap-parser-err-buffertoosmall.pcapng");
    assert_eq!(frames.len(), 27);
    let big: Vec<u64> = frames
        .iter()
        .filter(|f| f.data.len() == 1506)
        .map(|f| f.frame_no)
        .collect();
    assert_eq!(big, [8, 9, 17]);
    assert_eq!(r.stats().captured_bytes, 8687);
}

#[test]
fn pcap_names_on_pcapng_files() {
    let (r, frames) = read_ok("pcapplusplus-gtp.pcap");
    assert_eq!(r.format(), Format::Pcapng);
    assert_eq!(r.interfaces().len(), 7);
    assert_eq!(frames.len(), 7);
    let (r, frames) = read_ok("telekom-5gtv-free5gc.pcap");
    assert_eq!(r.format(), Format::Pcapng);
    assert_eq!(r.interfaces()[0].link, LinkType::LINUX_SLL);
    assert_eq!(frames.len(), 250);
}

#[test]
fn pcapng_timestamps_past_2106() {
    let (_, frames) = read_ok("tcpdump-time_2107.pcapng");
    assert_eq!(frames[0].ts, 4_323_283_200_000_000_000);
    let (_, frames) = read_ok("tcpdump-time_2106_overflow.pcapng");
    assert_eq!(frames[0].ts, 4_294_967_296_000_000_000);
}

#[test]
fn unusual_link_types_and_snaplen_are_delivered() {
    let (_, frames) = read_ok("tcpdump-unsupported-link-type-160.pcap");
    assert_eq!(frames[0].link, LinkType(160));
    assert_eq!(frames[0].link.name(), None);
    // snaplen 13, but the record holds 38 of 2086 bytes: tcpdump and capinfos read it.
    let (r, frames) = read_ok("tcpdump-802_15_4-data.pcap");
    assert_eq!(r.interfaces()[0].snaplen_bytes, 13);
    assert_eq!((frames[0].data.len(), frames[0].orig_len), (38, 2086));
    assert_eq!(r.stats().sliced_frames, 1);
}

#[test]
fn empty_captures() {
    for name in ["zeek-empty.pcap", "tcpdump-empty.pcapng"] {
        let mut r = FileReader::open(&fixture(name)).expect("open");
        assert!(r.next_frame().expect("clean").is_none());
        assert!(r.next_frame().expect("still clean").is_none());
        assert_eq!(r.interfaces().len(), 1);
        assert_eq!(r.interfaces()[0].link, LinkType::ETHERNET);
    }
}

#[test]
fn pcap_cut_mid_record() {
    // 10 records of 16 + 936 bytes after the 24-byte header: record k starts at 24 + 952 (k-1).
    let full = bytes("telekom-5gtv-n3_example_2.pcap");
    assert_eq!(full.len(), 24 + 10 * 952);
    let rec7 = 24 + 6 * 952;
    for cut in [rec7 + 5, rec7 + 16 + 100] {
        let mut r =
            FileReader::from_bytes(Path::new("cut.pcap"), full[..cut].to_vec()).expect("open");
        let (frames, err) = drain(&mut r);
        assert_eq!(frames.len(), 6, "cut at {cut}");
        let err = err.expect("truncated");
        let text = err.to_string();
        match err {
            Error::Truncated { offset, .. } => assert_eq!(offset, rec7 as u64),
            other => panic!("expected Truncated, got {other:?}"),
        }
        assert!(
            text.starts_with("cut.pcap: truncated at byte offset 5736:"),
            "{text}"
        );
        assert!(r.next_frame().expect("after an error").is_none());
    }
}

#[test]
fn pcapng_cut_mid_block() {
    // EPBs start at 348, 476, 724, 828, 1028, 1132.
    let full = bytes("zeek-pcapng-multi-interface.pcapng");
    let mut r =
        FileReader::from_bytes(Path::new("cut.pcapng"), full[..828 + 30].to_vec()).expect("open");
    let (frames, err) = drain(&mut r);
    assert_eq!(frames.len(), 3);
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(err, Some(Error::Truncated { offset: 828, .. })),
        "{err:?}"
    );
    assert!(
        text.starts_with("cut.pcapng: truncated at byte offset 828:"),
        "{text}"
    );
    assert!(r.next_frame().expect("after an error").is_none());
}

#[test]
fn gzip_copy_reads_the_same_frames() {
    for name in [
        "telekom-5gtv-n3_example.pcap",
        "zeek-pcapng-multi-interface.pcapng",
        "pcapplusplus-many-protocols.pcap",
    ] {
        let plain = bytes(name);
        let mut r = FileReader::from_bytes(Path::new(name), plain.clone()).expect("open");
        let (expect, err) = drain(&mut r);
        assert!(err.is_none());
        let mut gz = FileReader::from_bytes(Path::new(name), gzip(&plain)).expect("open gz");
        assert!(gz.is_gzip());
        assert_eq!(gz.format(), r.format());
        let (got, err) = drain(&mut gz);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got, expect, "{name}");
        assert_eq!(gz.position(), plain.len() as u64);
    }
    // Through `open` too, from a file whose name says nothing about gzip.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("capture.bin");
    std::fs::write(&path, gzip(&bytes("arkime-bigendian.pcap"))).expect("write");
    let mut r = FileReader::open(&path).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(err.is_none() && r.is_gzip());
    assert_eq!(frames.len(), 2);
}

#[test]
fn gzip_truncation_reports_decompressed_offsets() {
    let full = bytes("telekom-5gtv-n3_example_2.pcap");
    let rec7 = 24 + 6 * 952;
    let mut r =
        FileReader::from_bytes(Path::new("cut.pcap.gz"), gzip(&full[..rec7 + 100])).expect("open");
    let (frames, err) = drain(&mut r);
    assert_eq!(frames.len(), 6);
    let err = err.expect("truncated");
    assert!(
        matches!(err, Error::Truncated { offset: 5736, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("(decompressed offset)"), "{err}");
    // The compressed stream itself cut short: all complete frames, then Truncated.
    let gz = gzip(&full);
    let mut r =
        FileReader::from_bytes(Path::new("short.gz"), gz[..gz.len() - 8].to_vec()).expect("open");
    let (frames, err) = drain(&mut r);
    assert_eq!(frames.len(), 10);
    assert!(matches!(err, Some(Error::Truncated { .. })), "{err:?}");
}

#[test]
fn unknown_magic() {
    let err = FileReader::open(&fixture("MANIFEST.md")).err();
    match err {
        Some(Error::BadMagic { ref magic, .. }) => assert_eq!(magic.as_slice(), b"# Sh"),
        other => panic!("expected BadMagic, got {other:?}"),
    }
    let err = FileReader::from_bytes(Path::new("e.pcap"), Vec::new()).err();
    assert!(
        matches!(err, Some(Error::Truncated { offset: 0, .. })),
        "{err:?}"
    );
    let err = FileReader::open(&fixture("no-such-file.pcap")).err();
    assert!(matches!(err, Some(Error::Io { .. })), "{err:?}");
}

#[test]
fn absurd_captured_lengths_are_corrupt() {
    // pcap: caplen of record 1 (offset 24, field at +8) set to 2^31.
    let mut b = bytes("tcpdump-LINKTYPE_IPV4.pcap");
    b[32..36].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let mut r = FileReader::from_bytes(Path::new("big.pcap"), b).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(Error::Corrupt { offset: 24, .. })),
        "{err:?}"
    );
    // pcapng: caplen of the EPB at 348 (field at +20) set to 2^31.
    let mut b = bytes("zeek-pcapng-multi-interface.pcapng");
    b[368..372].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let mut r = FileReader::from_bytes(Path::new("big.pcapng"), b).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(frames.is_empty());
    assert!(
        matches!(err, Some(Error::Corrupt { offset: 348, .. })),
        "{err:?}"
    );
}

#[test]
fn epb_on_an_undeclared_interface_is_corrupt() {
    // The third EPB (offset 724) names interface 1; make it interface 2 of a 2-IDB section.
    let mut b = bytes("zeek-pcapng-multi-interface.pcapng");
    assert_eq!(b[732], 1);
    b[732] = 2;
    let mut r = FileReader::from_bytes(Path::new("if.pcapng"), b).expect("open");
    let (frames, err) = drain(&mut r);
    assert_eq!(frames.len(), 2);
    let err = err.expect("corrupt");
    assert!(err.to_string().contains("interface 2"), "{err}");
    assert!(matches!(err, Error::Corrupt { offset: 724, .. }), "{err:?}");
}

#[test]
fn pcapng_sections_restart_interface_numbering() {
    // Two files back to back form one valid pcapng with two sections, here of opposite byte
    // orders: big-endian test016 (1 IDB), then little-endian zeek multi-interface (2 IDBs).
    let mut b = bytes("pcap-parser-test016-be.pcapng");
    let first_len = b.len() as u64;
    b.extend(bytes("zeek-pcapng-multi-interface.pcapng"));
    let mut r = FileReader::from_bytes(Path::new("two.pcapng"), b).expect("open");
    let (frames, err) = drain(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 10);
    let sections: Vec<(u32, Option<&str>)> = r
        .interfaces()
        .iter()
        .map(|i| (i.section, i.name.as_deref()))
        .collect();
    assert_eq!(sections[..2], [(0, Some("eth0")), (1, Some("eth0"))]);
    assert_eq!(sections[2].0, 1);
    let ifaces: Vec<u32> = frames.iter().map(|f| f.iface).collect();
    assert_eq!(ifaces, [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]);
    assert_eq!(frames[4].ts, 1_767_663_089_500_330_493);
    assert_eq!(frames[6].ts, 1_767_663_437_111_897_000);
    assert_eq!(r.position(), first_len + 1348);
}

/// Walks record boundaries independently of the reader: returns `(start, end, is_frame)` per
/// record after the file header (pcap) or per block (pcapng), from the length fields alone.
fn records(b: &[u8]) -> Vec<(usize, usize, bool)> {
    let u32_at = |o: usize, be: bool| {
        let x = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if be {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        }
    };
    let mut out = Vec::new();
    if b[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let (mut off, mut be) = (0, false);
        while off < b.len() {
            if b[off..off + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                be = b[off + 8..off + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
            }
            let (kind, len) = (u32_at(off, be), u32_at(off + 4, be) as usize);
            out.push((off, off + len, kind == 3 || kind == 6));
            off += len;
        }
    } else {
        let be = b[0] == 0xa1;
        let hdr = if b[..4] == [0x34, 0xcd, 0xb2, 0xa1] {
            24
        } else {
            16
        };
        let mut off = 24;
        while off < b.len() {
            let end = off + hdr + u32_at(off + 8, be) as usize;
            out.push((off, end, true));
            off = end;
        }
    }
    out
}

#[test]
fn every_prefix_gives_complete_frames_then_truncated_at_the_cut_record() {
    for name in [
        "arkime-bigendian.pcap",
        "pcap-parser-modified-format.pcap",
        "tcpdump-tcp-handshake-nano.pcap",
        "zeek-pcapng-multi-interface.pcapng",
        "pcap-parser-test016-be.pcapng",
    ] {
        let full = bytes(name);
        let recs = records(&full);
        assert_eq!(recs.last().map(|r| r.1), Some(full.len()), "{name}");
        let first = recs[0].0; // 24 for pcap, 0 for pcapng
        for cut in 0..=full.len() {
            let opened = FileReader::from_bytes(Path::new(name), full[..cut].to_vec());
            if cut < first.max(4) {
                assert!(
                    matches!(opened, Err(Error::Truncated { offset: 0, .. })),
                    "{name} cut {cut}: {:?}",
                    opened.err()
                );
                continue;
            }
            let mut r = opened.expect("header complete");
            let (frames, err) = drain(&mut r);
            let complete = recs.iter().filter(|r| r.2 && r.1 <= cut).count();
            assert_eq!(frames.len(), complete, "{name} cut {cut}");
            match recs.iter().find(|r| r.0 < cut && cut < r.1) {
                None => assert!(err.is_none(), "{name} cut {cut}: {err:?}"),
                Some(&(start, ..)) => assert!(
                    matches!(err, Some(Error::Truncated { offset, .. }) if offset == start as u64),
                    "{name} cut {cut}: {err:?}"
                ),
            }
            assert!(r.next_frame().expect("finished").is_none());
        }
    }
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const SMALL: [&str; 6] = [
        "arkime-bigendian.pcap",
        "pcap-parser-modified-format.pcap",
        "pcapplusplus-nanosecs_big_endian.pcap",
        "zeek-pcapng-multi-interface.pcapng",
        "pcap-parser-test016-be.pcapng",
        "pcapplusplus-many_interfaces-1.pcapng",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Damaged real captures: never a panic, numbering stays consecutive, and an error
        /// is final. (The same contract as `fuzz/fuzz_targets/pcap_reader.rs`.)
        #[test]
        fn damaged_captures_never_panic(
            which in 0..SMALL.len(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            compress in any::<bool>(),
        ) {
            let mut b = bytes(SMALL[which]);
            for (at, v) in edits {
                let i = at.index(b.len());
                b[i] = v;
            }
            b.truncate(cut.index(b.len() + 1));
            if compress {
                b = gzip(&b);
            }
            if let Ok(mut r) = FileReader::from_bytes(Path::new("damaged"), b) {
                let mut n = 0;
                loop {
                    match r.next_frame() {
                        Ok(Some(f)) => {
                            n += 1;
                            prop_assert_eq!(f.frame_no, n);
                        }
                        Ok(None) => break,
                        Err(_) => {
                            prop_assert!(matches!(r.next_frame(), Ok(None)));
                            break;
                        }
                    }
                }
                prop_assert_eq!(r.stats().frames, n);
            }
        }
    }
}

/// BPF filters; expected counts come from walking the fixtures' headers by hand
/// (link header, IPv4/IPv6 protocol, first-fragment UDP ports).
#[cfg(feature = "libpcap")]
mod bpf {
    use super::*;
    use cleanpath::capture::BpfFilter;

    /// Counts the frames of `name` that `expr` (compiled for the first interface) matches.
    fn count(name: &str, expr: &str) -> (usize, u64) {
        let mut r = FileReader::open(&fixture(name)).expect("open");
        let mut filter = None;
        let mut hits = 0;
        while let Some(f) = r.next_frame().expect("valid fixture") {
            let filter = filter.get_or_insert_with(|| {
                BpfFilter::compile(expr, f.link, 262_144).expect("compiles")
            });
            hits += usize::from(filter.matches(&f));
        }
        (hits, r.stats().frames)
    }

    #[test]
    fn udp_port_2152_selects_the_gtp_u_frames() {
        // free5GC: NGAP, PFCP, and two GTP-U frames, on Linux SLL.
        assert_eq!(
            count("telekom-5gtv-free5gc.pcap", "udp port 2152"),
            (2, 250)
        );
        // Ethernet; the 42 others are TCP/HTTP and GTP on other ports.
        assert_eq!(
            count("zeek-gtp2_different_udp_port.pcap", "udp port 2152"),
            (78, 120)
        );
    }

    #[test]
    fn one_program_per_link_type() {
        // 62 Ethernet frames and 2 BSD-loopback (NULL) frames, all IPv4; 32 of them TCP.
        // The NULL frames only match if `ip` is recompiled for link type 0.
        assert_eq!(
            count("pcapplusplus-many_interfaces-1.pcapng", "ip"),
            (64, 64)
        );
        assert_eq!(
            count("pcapplusplus-many_interfaces-1.pcapng", "tcp"),
            (32, 64)
        );
    }
}
