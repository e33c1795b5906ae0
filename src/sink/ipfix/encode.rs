//! IPFIX message encoding, RFC 7011 §3 (message format) with information elements from
//! RFC 7012 / the IANA "IPFIX Information Elements" registry and RFC 5103 (biflows).
//!
//! A [`Stream`] is one Transport Session from one Observation Domain: it owns the sequence
//! number, knows which templates the collector has been sent, and packs data records into
//! messages no larger than a configured size. It does no I/O and reads no clock: the caller
//! passes the export time and sends the finished messages, so the bytes are testable.
//!
//! ```text
//!  message  = header(16) { set }
//!  header   = version=10 (2) | length (2) | export time, s (4) | sequence (4) | domain id (4)
//!  set      = set id (2) | set length (2) | records        set id 2 = templates, ≥256 = data
//!  template = template id (2) | field count (2) | { IE id (2) | length (2) [| PEN (4)] }
//! ```
//!
//! Invariants: the sequence number in a message header counts the data records sent in this
//! stream before that message (RFC 7011 §3.1, modulo 2^32); a data set is always preceded,
//! in the same or an earlier message of the stream, by its template; after
//! [`Stream::refresh_templates`] the next message starts with every template used so far
//! (RFC 7011 §8.4, UDP: templates are resent periodically).

use std::net::IpAddr;

/// IPFIX version number in the message header (RFC 7011 §3.1).
pub const VERSION: u16 = 10;
/// Message header length.
pub const MESSAGE_HEADER_LEN: usize = 16;
/// Set header length.
pub const SET_HEADER_LEN: usize = 4;
/// Set id of a template set (RFC 7011 §3.3.2).
pub const TEMPLATE_SET_ID: u16 = 2;
/// The first template id; data sets use their template's id as set id.
pub const FIRST_TEMPLATE_ID: u16 = 256;
/// Variable-length field marker in a template (RFC 7011 §7).
pub const VARIABLE_LENGTH: u16 = 65_535;
/// The IPFIX enterprise number of RFC 5103 reverse information elements.
pub const REVERSE_PEN: u32 = 29_305;
/// RFC 5612's enterprise number for documentation, the default for cleanpath's own IEs.
pub const DOCUMENTATION_PEN: u32 = 32_473;
/// Longest untrusted-entity string carried (longer ones are cut at a UTF-8 boundary), so
/// that one record always fits a message.
pub const MAX_ENTITY_BYTES: usize = 256;

/// IANA information element ids used by cleanpath (RFC 7012 registry).
pub mod ie {
    /// octetDeltaCount, unsigned64.
    pub const OCTET_DELTA_COUNT: u16 = 1;
    /// packetDeltaCount, unsigned64.
    pub const PACKET_DELTA_COUNT: u16 = 2;
    /// protocolIdentifier, unsigned8.
    pub const PROTOCOL_IDENTIFIER: u16 = 4;
    /// sourceTransportPort, unsigned16.
    pub const SOURCE_TRANSPORT_PORT: u16 = 7;
    /// sourceIPv4Address, ipv4Address.
    pub const SOURCE_IPV4_ADDRESS: u16 = 8;
    /// destinationTransportPort, unsigned16.
    pub const DESTINATION_TRANSPORT_PORT: u16 = 11;
    /// destinationIPv4Address, ipv4Address.
    pub const DESTINATION_IPV4_ADDRESS: u16 = 12;
    /// bgpSourceAsNumber, unsigned32.
    pub const BGP_SOURCE_AS_NUMBER: u16 = 16;
    /// bgpDestinationAsNumber, unsigned32.
    pub const BGP_DESTINATION_AS_NUMBER: u16 = 17;
    /// sourceIPv6Address, ipv6Address.
    pub const SOURCE_IPV6_ADDRESS: u16 = 27;
    /// destinationIPv6Address, ipv6Address.
    pub const DESTINATION_IPV6_ADDRESS: u16 = 28;
    /// sourceMacAddress, macAddress.
    pub const SOURCE_MAC_ADDRESS: u16 = 56;
    /// vlanId, unsigned16.
    pub const VLAN_ID: u16 = 58;
    /// destinationMacAddress, macAddress.
    pub const DESTINATION_MAC_ADDRESS: u16 = 80;
    /// flowStartMilliseconds, dateTimeMilliseconds.
    pub const FLOW_START_MILLISECONDS: u16 = 152;
    /// flowEndMilliseconds, dateTimeMilliseconds.
    pub const FLOW_END_MILLISECONDS: u16 = 153;
}

/// cleanpath's enterprise-specific information elements (under the configured PEN).
///
/// The ids start at 101, not 1: pmacct 1.7.7's `nfacctd` matches an enterprise IE by its
/// id alone when the template also holds an RFC 5103 reverse IE with that id, so ids 1
/// and 2 would read the reverse octet and packet counters.
pub mod cp {
    /// Verdict, unsigned8: 0 CLEAN, 1 UNKNOWN, 2 VIOLATION.
    pub const VERDICT: u16 = 101;
    /// Untrusted entities the flow matched, string (variable length, `; `-separated).
    pub const UNTRUSTED_ENTITY: u16 = 102;
    /// GTP-U TEID of the outer tunnel, unsigned32 (tunnelled templates only).
    pub const TEID: u16 = 103;
    /// 5G QoS flow identifier, unsigned8 (templates with a QFI only).
    pub const QFI: u16 = 104;
}

/// One field specifier of a template (RFC 7011 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Information element id (without the enterprise bit).
    pub id: u16,
    /// Field length in octets, or [`VARIABLE_LENGTH`].
    pub len: u16,
    /// Enterprise number for enterprise-specific elements.
    pub pen: Option<u32>,
}

impl Field {
    const fn iana(id: u16, len: u16) -> Self {
        Self { id, len, pen: None }
    }
    const fn enterprise(pen: u32, id: u16, len: u16) -> Self {
        Self {
            id,
            len,
            pen: Some(pen),
        }
    }
    /// Returns the specifier's size in a template: 4 octets, 8 with an enterprise number.
    pub fn spec_len(&self) -> usize {
        if self.pen.is_some() { 8 } else { 4 }
    }
}

/// Which of the record layouts a flow needs: one template per shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    /// IPv6 addresses rather than IPv4.
    pub v6: bool,
    /// GTP-U tunnelled: carries the TEID.
    pub tunnel: bool,
    /// Carries a QFI (only with `tunnel`).
    pub qfi: bool,
}

impl Shape {
    /// Every shape, in template-id order.
    pub const ALL: [Shape; 6] = [
        Shape::new(false, false, false),
        Shape::new(true, false, false),
        Shape::new(false, true, false),
        Shape::new(true, true, false),
        Shape::new(false, true, true),
        Shape::new(true, true, true),
    ];

    const fn new(v6: bool, tunnel: bool, qfi: bool) -> Self {
        Self { v6, tunnel, qfi }
    }

    /// Returns the shape's index (0..6) and so its template id minus 256.
    pub fn index(&self) -> u16 {
        u16::from(self.v6) + 2 * u16::from(self.tunnel) + 2 * u16::from(self.qfi)
    }

    /// Returns the template id: 256 IPv4, 257 IPv6, 258/259 with TEID, 260/261 with TEID and QFI.
    pub fn template_id(&self) -> u16 {
        FIRST_TEMPLATE_ID + self.index()
    }

    fn bit(&self) -> u8 {
        1 << self.index()
    }

    /// Returns the template's field specifiers, in data-record order.
    pub fn fields(&self, pen: u32) -> Vec<Field> {
        let addr_len = if self.v6 { 16 } else { 4 };
        let (src, dst) = if self.v6 {
            (ie::SOURCE_IPV6_ADDRESS, ie::DESTINATION_IPV6_ADDRESS)
        } else {
            (ie::SOURCE_IPV4_ADDRESS, ie::DESTINATION_IPV4_ADDRESS)
        };
        let mut f = vec![
            Field::iana(src, addr_len),
            Field::iana(dst, addr_len),
            Field::iana(ie::SOURCE_TRANSPORT_PORT, 2),
            Field::iana(ie::DESTINATION_TRANSPORT_PORT, 2),
            Field::iana(ie::PROTOCOL_IDENTIFIER, 1),
            Field::iana(ie::OCTET_DELTA_COUNT, 8),
            Field::iana(ie::PACKET_DELTA_COUNT, 8),
            // RFC 5103 §6.1: the reverse counterpart of IE n is IE n under PEN 29305.
            Field::enterprise(REVERSE_PEN, ie::OCTET_DELTA_COUNT, 8),
            Field::enterprise(REVERSE_PEN, ie::PACKET_DELTA_COUNT, 8),
            Field::iana(ie::FLOW_START_MILLISECONDS, 8),
            Field::iana(ie::FLOW_END_MILLISECONDS, 8),
            Field::iana(ie::SOURCE_MAC_ADDRESS, 6),
            Field::iana(ie::DESTINATION_MAC_ADDRESS, 6),
            Field::iana(ie::VLAN_ID, 2),
            Field::iana(ie::BGP_SOURCE_AS_NUMBER, 4),
            Field::iana(ie::BGP_DESTINATION_AS_NUMBER, 4),
            Field::enterprise(pen, cp::VERDICT, 1),
            Field::enterprise(pen, cp::UNTRUSTED_ENTITY, VARIABLE_LENGTH),
        ];
        if self.tunnel {
            f.push(Field::enterprise(pen, cp::TEID, 4));
        }
        if self.qfi {
            f.push(Field::enterprise(pen, cp::QFI, 1));
        }
        f
    }

    /// Encodes this shape's template record (RFC 7011 §3.4.1) onto `out`.
    pub fn encode_template(&self, pen: u32, out: &mut Vec<u8>) {
        let fields = self.fields(pen);
        out.extend_from_slice(&self.template_id().to_be_bytes());
        // At most 20 fields: the cast cannot truncate.
        out.extend_from_slice(&(fields.len() as u16).to_be_bytes());
        for f in &fields {
            match f.pen {
                None => {
                    out.extend_from_slice(&f.id.to_be_bytes());
                    out.extend_from_slice(&f.len.to_be_bytes());
                }
                Some(pen) => {
                    // RFC 7011 §3.2: the enterprise bit is the top bit of the IE id.
                    out.extend_from_slice(&(f.id | 0x8000).to_be_bytes());
                    out.extend_from_slice(&f.len.to_be_bytes());
                    out.extend_from_slice(&pen.to_be_bytes());
                }
            }
        }
    }

    /// Returns the length of this shape's template record.
    pub fn template_len(&self, pen: u32) -> usize {
        4 + self.fields(pen).iter().map(Field::spec_len).sum::<usize>()
    }
}

/// A flow verdict as carried in the verdict IE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum VerdictCode {
    /// CLEAN.
    Clean = 0,
    /// UNKNOWN.
    Unknown = 1,
    /// VIOLATION.
    Violation = 2,
}

/// One flow as exported: the values of a data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    /// Source address of the first packet.
    pub src: IpAddr,
    /// Destination address of the first packet (same family as `src`).
    pub dst: IpAddr,
    /// Source port (0 without ports).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Wire octets in the first packet's direction and the reverse.
    pub octets: [u64; 2],
    /// Packets in the first packet's direction and the reverse.
    pub packets: [u64; 2],
    /// First packet, milliseconds since the Unix epoch (capture time).
    pub start_ms: u64,
    /// Last packet, milliseconds since the Unix epoch.
    pub end_ms: u64,
    /// Source MAC of the first packet (zero when unknown).
    pub src_mac: [u8; 6],
    /// Destination MAC of the first packet (zero when unknown).
    pub dst_mac: [u8; 6],
    /// Outermost VLAN id (0 for none).
    pub vlan: u16,
    /// Origin AS of the source address (0 when unattributed).
    pub src_as: u32,
    /// Origin AS of the destination address.
    pub dst_as: u32,
    /// The verdict.
    pub verdict: VerdictCode,
    /// Untrusted entities matched (empty when none).
    pub entity: String,
    /// GTP-U TEID and QFI of the outer tunnel.
    pub tunnel: Option<(u32, Option<u8>)>,
}

impl ExportRecord {
    /// Returns the template shape the record needs, or `None` when source and destination
    /// are of different address families (which a flow never is).
    pub fn shape(&self) -> Option<Shape> {
        let v6 = match (self.src, self.dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => false,
            (IpAddr::V6(_), IpAddr::V6(_)) => true,
            _ => return None,
        };
        Some(Shape {
            v6,
            tunnel: self.tunnel.is_some(),
            qfi: matches!(self.tunnel, Some((_, Some(_)))),
        })
    }

    /// Encodes the data record (RFC 7011 §3.4.3) in the order of [`Shape::fields`].
    pub fn encode(&self, out: &mut Vec<u8>) {
        for a in [self.src, self.dst] {
            match a {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.push(self.proto);
        out.extend_from_slice(&self.octets[0].to_be_bytes());
        out.extend_from_slice(&self.packets[0].to_be_bytes());
        out.extend_from_slice(&self.octets[1].to_be_bytes());
        out.extend_from_slice(&self.packets[1].to_be_bytes());
        out.extend_from_slice(&self.start_ms.to_be_bytes());
        out.extend_from_slice(&self.end_ms.to_be_bytes());
        out.extend_from_slice(&self.src_mac);
        out.extend_from_slice(&self.dst_mac);
        out.extend_from_slice(&self.vlan.to_be_bytes());
        out.extend_from_slice(&self.src_as.to_be_bytes());
        out.extend_from_slice(&self.dst_as.to_be_bytes());
        out.push(self.verdict as u8);
        let entity = truncate_utf8(&self.entity, MAX_ENTITY_BYTES);
        // RFC 7011 §7: lengths below 255 take one octet; MAX_ENTITY_BYTES keeps the
        // three-octet form (255, u16) for 255 and 256.
        match u8::try_from(entity.len()) {
            Ok(n) if n < 255 => out.push(n),
            _ => {
                out.push(255);
                out.extend_from_slice(&(entity.len() as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(entity.as_bytes());
        if let Some((teid, qfi)) = self.tunnel {
            out.extend_from_slice(&teid.to_be_bytes());
            if let Some(q) = qfi {
                out.push(q);
            }
        }
    }
}

/// Returns the longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Settings of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Observation Domain id in every message header.
    pub domain: u32,
    /// Enterprise number of cleanpath's own IEs.
    pub pen: u32,
    /// Largest message, octets (RFC 7011 §10.3.3: fit the path MTU; 1400 by default).
    pub max_message: usize,
    /// Resend the templates every this many messages (0: only when asked).
    pub template_every_messages: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            domain: 0,
            pen: DOCUMENTATION_PEN,
            max_message: 1400,
            template_every_messages: 10,
        }
    }
}

/// One IPFIX Transport Session: packs records into messages. See the module docs.
#[derive(Debug)]
pub struct Stream {
    cfg: StreamConfig,
    /// Data records sent in finished messages (the next header's sequence number).
    seq: u32,
    /// Shapes whose templates were ever sent.
    used: u8,
    /// Shapes whose templates were sent since the last refresh.
    announced: u8,
    refresh_due: bool,
    /// The message being filled (empty: none started).
    msg: Vec<u8>,
    /// Set id and start offset of the open set in `msg`.
    open_set: Option<(u16, usize)>,
    records_in_msg: u32,
    messages_since_refresh: u32,
    scratch: Vec<u8>,
}

impl Stream {
    /// Starts a stream; its first message will carry the templates it needs.
    pub fn new(cfg: StreamConfig) -> Self {
        Self {
            cfg,
            seq: 0,
            used: 0,
            announced: 0,
            refresh_due: false,
            msg: Vec::with_capacity(cfg.max_message),
            open_set: None,
            records_in_msg: 0,
            messages_since_refresh: 0,
            scratch: Vec::with_capacity(512),
        }
    }

    /// Returns the sequence number the next message will carry.
    pub fn sequence(&self) -> u32 {
        self.seq
    }

    /// Makes the next message start with every template used so far (RFC 7011 §8.4).
    pub fn refresh_templates(&mut self) {
        self.refresh_due = true;
    }

    /// Reports whether records are waiting in an unfinished message.
    pub fn has_pending(&self) -> bool {
        self.records_in_msg > 0
    }

    /// Adds a record; returns a finished message when the record did not fit the open one
    /// (the record then starts the next message). `export_time` (seconds since the epoch)
    /// goes into the header of a message finished by this call.
    ///
    /// Records whose addresses mix families are not encodable; they return `Err(())`.
    #[allow(clippy::result_unit_err)]
    pub fn push(&mut self, rec: &ExportRecord, export_time: u32) -> Result<Option<Vec<u8>>, ()> {
        let shape = rec.shape().ok_or(())?;
        let mut data = std::mem::take(&mut self.scratch);
        data.clear();
        rec.encode(&mut data);
        let mut done = None;
        if !self.msg.is_empty()
            && self.msg.len() + self.cost(shape, data.len()) > self.cfg.max_message
        {
            done = self.finish(export_time);
        }
        self.append(shape, &data);
        self.scratch = data;
        Ok(done)
    }

    /// Finishes the open message, if it holds any record, and returns it.
    pub fn flush(&mut self, export_time: u32) -> Option<Vec<u8>> {
        self.finish(export_time)
    }

    /// Octets that appending a record of `shape` and `data_len` would add to the open message.
    fn cost(&self, shape: Shape, data_len: usize) -> usize {
        let mut n = data_len;
        if self.open_set.map(|(id, _)| id) != Some(shape.template_id()) {
            n += SET_HEADER_LEN;
        }
        if self.announced & shape.bit() == 0 {
            n += SET_HEADER_LEN + shape.template_len(self.cfg.pen);
        }
        n
    }

    fn start_message(&mut self) {
        self.msg.clear();
        self.msg.resize(MESSAGE_HEADER_LEN, 0);
        self.open_set = None;
        self.records_in_msg = 0;
        let every = self.cfg.template_every_messages;
        if every > 0 && self.messages_since_refresh >= every {
            self.refresh_due = true;
        }
        if self.refresh_due {
            self.refresh_due = false;
            self.messages_since_refresh = 0;
            self.announced = 0;
            let used = self.used;
            if used != 0 {
                self.write_templates(used);
            }
        }
    }

    /// Writes one template set holding the templates of the shapes in `mask`.
    fn write_templates(&mut self, mask: u8) {
        self.close_set();
        let start = self.msg.len();
        self.msg.extend_from_slice(&TEMPLATE_SET_ID.to_be_bytes());
        self.msg.extend_from_slice(&[0, 0]);
        for s in Shape::ALL {
            if mask & s.bit() != 0 {
                s.encode_template(self.cfg.pen, &mut self.msg);
            }
        }
        self.set_length(start);
        self.announced |= mask;
        self.used |= mask;
    }

    fn append(&mut self, shape: Shape, data: &[u8]) {
        if self.msg.is_empty() {
            self.start_message();
        }
        if self.announced & shape.bit() == 0 {
            self.write_templates(shape.bit());
        }
        let id = shape.template_id();
        if self.open_set.map(|(s, _)| s) != Some(id) {
            self.close_set();
            let start = self.msg.len();
            self.msg.extend_from_slice(&id.to_be_bytes());
            self.msg.extend_from_slice(&[0, 0]);
            self.open_set = Some((id, start));
        }
        self.msg.extend_from_slice(data);
        self.records_in_msg += 1;
    }

    fn close_set(&mut self) {
        if let Some((_, start)) = self.open_set.take() {
            self.set_length(start);
        }
    }

    /// Writes the length of the set starting at `start` (it runs to the end of `msg`).
    fn set_length(&mut self, start: usize) {
        // Messages are capped far below 64 KiB: the cast cannot truncate.
        let len = (self.msg.len() - start) as u16;
        self.msg[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn finish(&mut self, export_time: u32) -> Option<Vec<u8>> {
        if self.msg.is_empty() || self.records_in_msg == 0 {
            return None;
        }
        self.close_set();
        let len = self.msg.len() as u16;
        let mut h = [0u8; MESSAGE_HEADER_LEN];
        h[0..2].copy_from_slice(&VERSION.to_be_bytes());
        h[2..4].copy_from_slice(&len.to_be_bytes());
        h[4..8].copy_from_slice(&export_time.to_be_bytes());
        h[8..12].copy_from_slice(&self.seq.to_be_bytes());
        h[12..16].copy_from_slice(&self.cfg.domain.to_be_bytes());
        self.msg[..MESSAGE_HEADER_LEN].copy_from_slice(&h);
        self.seq = self.seq.wrapping_add(self.records_in_msg);
        self.records_in_msg = 0;
        self.messages_since_refresh += 1;
        let out = std::mem::replace(&mut self.msg, Vec::with_capacity(self.cfg.max_message));
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// Parses hex with spaces and `|` separators (as laid out in the RFC figures).
    fn hex(s: &str) -> Vec<u8> {
        let digits: String = s.chars().filter(char::is_ascii_hexdigit).collect();
        (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
            .collect()
    }

    fn record() -> ExportRecord {
        ExportRecord {
            src: IpAddr::V4(Ipv4Addr::new(166, 137, 10, 10)),
            dst: IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
            src_port: 40_000,
            dst_port: 443,
            proto: 6,
            octets: [414, 148],
            packets: [3, 2],
            start_ms: 1_793_491_200_001,
            end_ms: 1_793_491_200_005,
            src_mac: [0x00, 0xd0, 0xf6, 0x01, 0x02, 0x03],
            dst_mac: [0x00, 0x05, 0x85, 0x0a, 0x0b, 0x0c],
            vlan: 100,
            src_as: 20_057,
            dst_as: 15_169,
            verdict: VerdictCode::Violation,
            entity: "Huawei".into(),
            tunnel: None,
        }
    }

    // RFC 7011 §3.4.1 template record: id, field count, then per field IE id | length
    // (| PEN when the enterprise bit 0x8000 is set). 29305 = 0x7279, 32473 = 0x7ed9;
    // cleanpath's ids 101..104 = 0x65..0x68.
    const TEMPLATE_256: &str = "
        0100 0012
        0008 0004  000c 0004  0007 0002  000b 0002  0004 0001
        0001 0008  0002 0008
        8001 0008 00007279  8002 0008 00007279
        0098 0008  0099 0008  0038 0006  0050 0006  003a 0002
        0010 0004  0011 0004
        8065 0001 00007ed9  8066 ffff 00007ed9";

    // RFC 7011 §3.4.3 data record, fields in template order.
    const DATA_256: &str = "
        a6890a0a 08080808  9c40 01bb  06
        000000000000019e  0000000000000003
        0000000000000094  0000000000000002
        000001a19467e801  000001a19467e805
        00d0f6010203  0005850a0b0c  0064
        00004e59 00003b41
        02  06 487561776569";

    #[test]
    fn template_record_bytes() {
        let mut out = Vec::new();
        Shape::ALL[0].encode_template(DOCUMENTATION_PEN, &mut out);
        assert_eq!(out, hex(TEMPLATE_256));
        assert_eq!(out.len(), Shape::ALL[0].template_len(DOCUMENTATION_PEN));
        assert_eq!(out.len(), 92);
    }

    #[test]
    fn data_record_bytes() {
        let mut out = Vec::new();
        record().encode(&mut out);
        assert_eq!(out, hex(DATA_256));
        // 4+4 addresses, 2+2 ports, 1 proto, 4×8 counters, 2×8 times, 2×6 MACs, 2 VLAN,
        // 2×4 ASNs, 1 verdict, 1+6 entity.
        assert_eq!(out.len(), 91);
    }

    #[test]
    fn first_message_carries_template_then_data() {
        let mut s = Stream::new(StreamConfig {
            domain: 7,
            ..StreamConfig::default()
        });
        assert_eq!(s.push(&record(), 1).unwrap(), None, "one record fits");
        let msg = s.flush(0x6543_2100).unwrap();
        // Header: version 10, length 16 + 96 + 4 + 91 = 207 (0xcf), export time,
        // sequence 0 (no record sent before), domain 7. Then the template set (id 2,
        // length 4 + 92 = 96) and the data set (id 256, length 4 + 91 = 95).
        let want = [
            hex("000a 00cf 65432100 00000000 00000007"),
            hex("0002 0060"),
            hex(TEMPLATE_256),
            hex("0100 005f"),
            hex(DATA_256),
        ]
        .concat();
        assert_eq!(msg, want);
        assert_eq!(s.sequence(), 1);
        assert_eq!(s.flush(0), None, "nothing pending");
    }

    #[test]
    fn messages_stay_small_and_sequence_counts_records() {
        let mut s = Stream::new(StreamConfig {
            template_every_messages: 0,
            ..StreamConfig::default()
        });
        let mut msgs = Vec::new();
        for i in 0..100u16 {
            let mut r = record();
            r.src_port = i;
            if i % 3 == 0 {
                r.src = IpAddr::V6(Ipv6Addr::LOCALHOST);
                r.dst = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
            }
            if i % 5 == 0 {
                r.tunnel = Some((u32::from(i), (i % 2 == 0).then_some(9)));
            }
            msgs.extend(s.push(&r, 0).unwrap());
        }
        msgs.extend(s.flush(0));
        assert!(msgs.len() > 5, "{} messages", msgs.len());
        let mut seq = 0u32;
        let mut records = 0;
        for m in &msgs {
            assert!(m.len() <= 1400, "message of {} octets", m.len());
            assert_eq!(u16::from_be_bytes([m[2], m[3]]) as usize, m.len());
            assert_eq!(u32::from_be_bytes([m[8], m[9], m[10], m[11]]), seq);
            let n = walk(m);
            seq += n;
            records += n;
        }
        assert_eq!(records, 100);
        // Templates only before first use: exactly 6 template records in all.
        let templates: usize = msgs.iter().map(|m| count_templates(m)).sum();
        assert_eq!(templates, 6);
    }

    #[test]
    fn templates_are_resent_every_n_messages_and_on_request() {
        let mut s = Stream::new(StreamConfig {
            template_every_messages: 3,
            ..StreamConfig::default()
        });
        let mut msgs = Vec::new();
        for _ in 0..200 {
            msgs.extend(s.push(&record(), 0).unwrap());
        }
        let with: Vec<bool> = msgs.iter().map(|m| count_templates(m) > 0).collect();
        assert!(with.len() >= 10);
        for (i, w) in with.iter().enumerate() {
            assert_eq!(*w, i % 3 == 0, "message {i}: {with:?}");
        }
        s.refresh_templates();
        let next = loop {
            if let Some(m) = s.push(&record(), 0).unwrap() {
                break m;
            }
        };
        // The message that was open when asked had no templates; the one after does.
        let after = loop {
            if let Some(m) = s.push(&record(), 0).unwrap() {
                break m;
            }
        };
        assert_eq!(count_templates(&after), 1, "{next:?}");
    }

    #[test]
    fn long_entity_uses_three_octet_length() {
        let mut r = record();
        r.entity = "é".repeat(200); // 400 bytes, cut to 256 on a char boundary
        let mut out = Vec::new();
        r.encode(&mut out);
        let at = 4 + 4 + 2 + 2 + 1 + 4 * 8 + 2 * 8 + 2 * 6 + 2 + 2 * 4 + 1;
        assert_eq!(&out[at..at + 3], &[255, 1, 0]);
        assert_eq!(out.len(), at + 3 + 256);
        r.entity = "x".repeat(254);
        out.clear();
        r.encode(&mut out);
        assert_eq!(out[at], 254);
        assert_eq!(out.len(), at + 1 + 254);
    }

    #[test]
    fn tunnel_fields_follow_the_entity() {
        let mut r = record();
        r.tunnel = Some((0x0102_0304, Some(9)));
        let shape = r.shape().unwrap();
        assert_eq!(shape.template_id(), 260);
        let mut out = Vec::new();
        r.encode(&mut out);
        assert_eq!(&out[out.len() - 5..], &hex("01020304 09")[..]);
        let mut t = Vec::new();
        shape.encode_template(1234, &mut t);
        assert_eq!(
            &t[t.len() - 16..],
            &hex("8067 0004 000004d2 8068 0001 000004d2")[..]
        );
        r.src = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(r.shape(), None, "mixed families");
        assert_eq!(
            Shape::ALL.map(|s| s.template_id()),
            [256, 257, 258, 259, 260, 261]
        );
    }

    /// Walks a message's sets; returns the number of data records (checks set lengths).
    fn walk(m: &[u8]) -> u32 {
        let mut at = MESSAGE_HEADER_LEN;
        let mut n = 0;
        let shapes: Vec<(u16, Vec<Field>)> = Shape::ALL
            .iter()
            .map(|s| (s.template_id(), s.fields(DOCUMENTATION_PEN)))
            .collect();
        while at < m.len() {
            let id = u16::from_be_bytes([m[at], m[at + 1]]);
            let len = usize::from(u16::from_be_bytes([m[at + 2], m[at + 3]]));
            let end = at + len;
            if id >= FIRST_TEMPLATE_ID {
                let fields = &shapes.iter().find(|(t, _)| *t == id).unwrap().1;
                let mut p = at + 4;
                while p < end {
                    for f in fields {
                        if f.len == VARIABLE_LENGTH {
                            let l = usize::from(m[p]);
                            p += if l == 255 {
                                3 + usize::from(u16::from_be_bytes([m[p + 1], m[p + 2]]))
                            } else {
                                1 + l
                            };
                        } else {
                            p += usize::from(f.len);
                        }
                    }
                    n += 1;
                }
                assert_eq!(p, end, "records fill the set exactly");
            }
            at = end;
        }
        assert_eq!(at, m.len());
        n
    }

    fn count_templates(m: &[u8]) -> usize {
        let mut at = MESSAGE_HEADER_LEN;
        let mut n = 0;
        while at < m.len() {
            let id = u16::from_be_bytes([m[at], m[at + 1]]);
            let len = usize::from(u16::from_be_bytes([m[at + 2], m[at + 3]]));
            if id == TEMPLATE_SET_ID {
                let mut p = at + 4;
                while p < at + len {
                    let tid = u16::from_be_bytes([m[p], m[p + 1]]);
                    let shape = Shape::ALL.iter().find(|s| s.template_id() == tid).unwrap();
                    p += shape.template_len(DOCUMENTATION_PEN);
                    n += 1;
                }
            }
            at += len;
        }
        n
    }
}
