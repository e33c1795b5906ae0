//! GTP-U v1 header, 3GPP TS 29.281 §5.1 (extension headers §5.2), carried over UDP/2152.
//!
//! ```text
//! octet 1   Version(3)=1 | PT=1 | spare | E | S | PN
//! octet 2   Message Type (255 = G-PDU)
//! octet 3-4 Length: octets after the mandatory 8
//! octet 5-8 TEID
//! octet 9-12 (if E|S|PN) Sequence Number(2) | N-PDU Number | Next Extension Header Type
//! ```
//! Each extension header (§5.2.1) is `Length (4-octet units, incl. itself) | content |
//! Next Extension Header Type`; length 0 is `gtpu.ext_header_zero_length`, a header running
//! past the bytes available is `gtpu.ext_header_truncated`. The PDU Session Container
//! (type 0x85, TS 38.415 §5.5.2) gives the PDU type (high nibble of its first octet:
//! 0 = DL, 1 = UL) and the QFI (low 6 bits of its second octet).
//!
//! A Length beyond the captured bytes is a sliced capture (or an IP fragment further out):
//! the header must be complete, the payload may be cut. [`Packet::is_gtpu`] is the test the
//! walker uses to tell GTP-U on port 2152 from other traffic there (version 1 and PT 1).

use super::reader::Reader;
use super::{Error, Layer, Qfi, Result, Teid, be_u16, be_u32};

mod field {
    use core::ops::Range;
    pub(super) const FLAGS: usize = 0;
    pub(super) const MSG_TYPE: usize = 1;
    pub(super) const LENGTH: Range<usize> = 2..4; // octets after the first 8
    pub(super) const TEID: Range<usize> = 4..8;
    pub(super) const SEQ: Range<usize> = 8..10; // only if E|S|PN is set
    pub(super) const NPDU: usize = 10;
    pub(super) const NEXT_EXT: usize = 11;
}

/// Size of the mandatory part of the header.
pub const HEADER_LEN: usize = field::TEID.end;
/// Size of the header with the optional sequence / N-PDU / next-extension octets.
pub const HEADER_LEN_OPT: usize = field::NEXT_EXT + 1;
/// The registered GTP-U port (TS 29.281 §4.4.2.3).
pub const PORT: u16 = 2152;
/// Extension header type of the PDU Session Container (TS 29.281 §5.2.1.3).
pub const EXT_PDU_SESSION_CONTAINER: u8 = 0x85;

/// A GTP-U message type (TS 29.281 §6.1), as a newtype so unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgType(pub u8);

impl MsgType {
    /// Echo Request.
    pub const ECHO_REQUEST: Self = Self(1);
    /// Echo Response.
    pub const ECHO_RESPONSE: Self = Self(2);
    /// Error Indication.
    pub const ERROR_INDICATION: Self = Self(26);
    /// Supported Extension Headers Notification.
    pub const SUPPORTED_EXT_HEADERS: Self = Self(31);
    /// Tunnel Status.
    pub const TUNNEL_STATUS: Self = Self(253);
    /// End Marker.
    pub const END_MARKER: Self = Self(254);
    /// G-PDU: a user-plane packet.
    pub const G_PDU: Self = Self(255);
}

/// Read-only view of a GTP-U packet. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Reports whether `buf` starts like a GTP-U v1 header: 8 bytes, version 1, PT 1.
    pub fn is_gtpu(buf: T) -> bool {
        let b = buf.as_ref();
        b.len() >= HEADER_LEN && b[field::FLAGS] >> 4 == 0b0011
    }
    /// Checks the fixed header, then wraps the buffer. Extension headers are checked by
    /// [`Repr::parse`].
    ///
    /// # Errors
    /// See [`Packet::check_len`].
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `gtpu.truncated` below 8 bytes (12 with E|S|PN), `gtpu.bad_version` for a version
    /// other than 1, `gtpu.not_gtp_u` for PT = 0 (GTP'), `gtpu.bad_length` when E|S|PN is
    /// set but Length is below 4.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Gtpu, "truncated", HEADER_LEN, have));
        }
        if self.version() != 1 {
            return Err(Error::invalid(Layer::Gtpu, "bad_version"));
        }
        if !self.is_gtp() {
            return Err(Error::invalid(Layer::Gtpu, "not_gtp_u"));
        }
        if self.has_optional() {
            if usize::from(self.length()) < HEADER_LEN_OPT - HEADER_LEN {
                return Err(Error::invalid(Layer::Gtpu, "bad_length"));
            }
            if have < HEADER_LEN_OPT {
                return Err(Error::truncated(
                    Layer::Gtpu,
                    "truncated",
                    HEADER_LEN_OPT,
                    have,
                ));
            }
        }
        Ok(())
    }
    fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// Returns the version field; cleanpath decodes version 1 only.
    pub fn version(&self) -> u8 {
        self.flags() >> 5
    }
    /// Reports whether PT is 1 (GTP rather than GTP').
    pub fn is_gtp(&self) -> bool {
        self.flags() & 0x10 != 0
    }
    /// Reports whether the E flag (extension header present) is set.
    pub fn has_ext(&self) -> bool {
        self.flags() & 0x04 != 0
    }
    /// Reports whether the S flag (sequence number valid) is set.
    pub fn has_seq(&self) -> bool {
        self.flags() & 0x02 != 0
    }
    /// Reports whether the PN flag (N-PDU number valid) is set.
    pub fn has_npdu(&self) -> bool {
        self.flags() & 0x01 != 0
    }
    /// Reports whether the optional 4-octet block (seq, N-PDU, next-ext) is present.
    pub fn has_optional(&self) -> bool {
        self.flags() & 0b111 != 0
    }
    /// Returns the message type.
    pub fn msg_type(&self) -> MsgType {
        MsgType(self.buf.as_ref()[field::MSG_TYPE])
    }
    /// Returns the Length field: octets after the mandatory 8.
    pub fn length(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::LENGTH])
    }
    /// Returns the tunnel endpoint identifier.
    pub fn teid(&self) -> Teid {
        Teid(be_u32(&self.buf.as_ref()[field::TEID]))
    }
    /// Returns the sequence number when S is set.
    pub fn seq(&self) -> Option<u16> {
        self.has_seq()
            .then(|| be_u16(&self.buf.as_ref()[field::SEQ]))
    }
    /// Returns the N-PDU number when PN is set.
    pub fn npdu(&self) -> Option<u8> {
        self.has_npdu().then(|| self.buf.as_ref()[field::NPDU])
    }
    /// Returns the first Next Extension Header Type when E is set.
    pub fn next_ext_type(&self) -> Option<u8> {
        self.has_ext().then(|| self.buf.as_ref()[field::NEXT_EXT])
    }
    /// Returns the bytes the Length field covers that were captured (header options,
    /// extension headers and payload).
    fn after_mandatory(&self) -> &[u8] {
        let b = self.buf.as_ref();
        &b[HEADER_LEN..(HEADER_LEN + usize::from(self.length())).min(b.len())]
    }
}

/// The parts of a GTP-U packet that flow and policy stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Tunnel endpoint identifier.
    pub teid: Teid,
    /// Message type.
    pub msg_type: MsgType,
    /// Sequence number, when S is set.
    pub seq: Option<u16>,
    /// QFI of the first PDU Session Container.
    pub qfi: Option<Qfi>,
    /// PDU type of the first PDU Session Container (0 = DL, 1 = UL).
    pub pdu_type: Option<u8>,
    /// Number of extension headers.
    pub ext_count: u8,
    /// Header length including extension headers: the payload starts here.
    pub header_len: usize,
    /// Bytes from the start of the packet to the end the Length field gives.
    pub total_len: usize,
}

impl Repr {
    /// Validates the extension header chain of a checked packet and extracts the summary.
    ///
    /// # Errors
    /// `gtpu.ext_header_truncated` or `gtpu.ext_header_zero_length`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        let mut r = Reader::new(p.after_mandatory());
        let mut qfi = None;
        let mut pdu_type = None;
        let mut ext_count = 0u8;
        if p.has_optional() {
            r.take(4, Layer::Gtpu, "truncated")?;
            let mut next = p.next_ext_type().unwrap_or(0);
            while next != 0 {
                let units =
                    r.peek()
                        .ok_or(Error::truncated(Layer::Gtpu, "ext_header_truncated", 1, 0))?;
                if units == 0 {
                    return Err(Error::invalid(Layer::Gtpu, "ext_header_zero_length"));
                }
                let ext = r.take(usize::from(units) * 4, Layer::Gtpu, "ext_header_truncated")?;
                // ext = [length, content…, next type]; length ≥ 1 so ext.len() ≥ 4.
                if next == EXT_PDU_SESSION_CONTAINER && qfi.is_none() {
                    // TS 38.415 §5.5.2.1/§5.5.2.2: PDU type in the high nibble of octet 1,
                    // QFI in the low 6 bits of octet 2 (DL and UL alike).
                    pdu_type = Some(ext[1] >> 4);
                    qfi = Some(Qfi(ext[2] & 0x3f));
                }
                ext_count = ext_count.saturating_add(1);
                next = ext[ext.len() - 1];
            }
        }
        Ok(Self {
            teid: p.teid(),
            msg_type: p.msg_type(),
            seq: p.seq(),
            qfi,
            pdu_type,
            ext_count,
            header_len: HEADER_LEN + r.pos(),
            total_len: HEADER_LEN + usize::from(p.length()),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    /// Ethernet 14 + IPv4 20 + UDP 8.
    const GTP_AT: usize = 42;

    #[test]
    fn deconstruct_pdu_session_container() {
        // telekom-5gtv-n3_example.pcap frame 1: 34 ff 0376 40020125 0000 00 85 | 01 10 05 00.
        let p = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[GTP_AT..]).unwrap();
        assert!(Packet::is_gtpu(&td::N3_GTPU_PDU_SESSION[GTP_AT..]));
        assert_eq!(
            (p.has_ext(), p.has_seq(), p.has_npdu()),
            (true, false, false)
        );
        assert_eq!(p.next_ext_type(), Some(0x85));
        assert_eq!(
            Repr::parse(&p),
            Ok(Repr {
                teid: Teid(0x4002_0125),
                msg_type: MsgType::G_PDU,
                seq: None,
                qfi: Some(Qfi(5)),
                pdu_type: Some(1),
                ext_count: 1,
                header_len: 16,
                total_len: 8 + 886,
            })
        );
    }

    #[test]
    fn deconstruct_pdcp_pdu_number_extension() {
        // zeek-gtp_ext_header.pcap frame 1: 36 ff 05e4 00100657 0005 00 c0 | 01 09 04 00.
        let p = Packet::new_checked(&td::ZEEK_GTP_EXT_C0[GTP_AT..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.teid, Teid(0x0010_0657));
        assert_eq!((r.seq, r.qfi, r.pdu_type), (Some(5), None, None));
        assert_eq!((r.ext_count, r.header_len, r.total_len), (1, 16, 8 + 1508));
        assert_eq!(p.npdu(), None);
    }

    #[test]
    fn echo_request_has_only_a_sequence_number() {
        // zeek-gtp10_not_0xff.pcap frame 2: 32 01 0004 00000000 fe69 00 00.
        let p = Packet::new_checked(&td::ZEEK_GTP10_ECHO_REQ[GTP_AT..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            (r.msg_type, r.teid, r.seq, r.ext_count, r.header_len),
            (MsgType::ECHO_REQUEST, Teid(0), Some(0xfe69), 0, 12)
        );
    }

    #[test]
    fn truncated_extension_header() {
        // The PDU Session Container of the n3 frame cut after 2 of its 4 octets.
        let p = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[GTP_AT..GTP_AT + 14]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::truncated(Layer::Gtpu, "ext_header_truncated", 4, 2))
        );
        let err = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[GTP_AT..GTP_AT + 7]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Gtpu, "truncated", 8, 7));
    }

    #[test]
    fn dns_on_port_2152_is_not_gtp_version_1() {
        // zeek-gtp3_false_gtp.pcap: Ethernet 14 + VLAN 4 + IPv4 20 + UDP 8, DNS id 0x6bcb.
        let dns = &td::ZEEK_GTP3_FALSE_GTP[46..];
        assert!(!Packet::is_gtpu(dns));
        assert_eq!(
            Packet::new_checked(dns).unwrap_err(),
            Error::invalid(Layer::Gtpu, "bad_version")
        );
    }
}
