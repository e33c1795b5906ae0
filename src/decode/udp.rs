//! UDP header, RFC 768.
//!
//! `udp.truncated` below 8 bytes; `udp.bad_length` when the length field is below 8 or,
//! outside fragments, above the IP payload length the IP header claims
//! ([`Packet::check_ip_len`]). A length beyond the *captured* bytes is a sliced capture.
//! The checksum is not verified: captures of locally sent traffic carry offloaded, not yet
//! computed, UDP checksums.

use super::{Error, Layer, Result, be_u16};

mod field {
    use core::ops::Range;
    pub(super) const SRC_PORT: Range<usize> = 0..2;
    pub(super) const DST_PORT: Range<usize> = 2..4;
    pub(super) const LENGTH: Range<usize> = 4..6;
    pub(super) const CHECKSUM: Range<usize> = 6..8;
}

/// Size of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// Read-only view of a UDP datagram. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length, then wraps the buffer.
    ///
    /// # Errors
    /// `udp.truncated` below 8 bytes; `udp.bad_length` when the length field is below 8.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// As [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Udp, "truncated", HEADER_LEN, have));
        }
        if usize::from(self.length()) < HEADER_LEN {
            return Err(Error::invalid(Layer::Udp, "bad_length"));
        }
        Ok(())
    }
    /// Checks the length field against the IP payload length the IP header claims
    /// (which may exceed what was captured). Skip this for IP fragments.
    ///
    /// # Errors
    /// `udp.bad_length` when the datagram claims more than the IP payload.
    pub fn check_ip_len(&self, ip_payload_len: usize) -> Result<()> {
        if usize::from(self.length()) > ip_payload_len {
            return Err(Error::invalid(Layer::Udp, "bad_length"));
        }
        Ok(())
    }
    /// Returns the source port.
    pub fn src_port(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::SRC_PORT])
    }
    /// Returns the destination port.
    pub fn dst_port(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::DST_PORT])
    }
    /// Returns the length field (header included).
    pub fn length(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::LENGTH])
    }
    /// Returns the checksum field (not verified).
    pub fn checksum(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::CHECKSUM])
    }
    /// Returns the payload, up to the length field or the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        let b = self.buf.as_ref();
        &b[HEADER_LEN..usize::from(self.length()).min(b.len())]
    }
}

/// The parts of a UDP header later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length field.
    pub len: u16,
}

impl Repr {
    /// Extracts the summary of a checked datagram.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Self {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            len: p.length(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_n3_outer_udp() {
        // telekom-5gtv-n3_example.pcap frame 1: UDP at 14 + 20.
        let p = Packet::new_checked(&td::N3_GTPU_PDU_SESSION[34..]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Repr {
                src_port: 2152,
                dst_port: 2152,
                len: 902
            }
        );
        assert_eq!(p.checksum(), 0x5d41);
        assert_eq!(p.payload().len(), 894);
        assert_eq!(p.check_ip_len(902), Ok(()));
    }

    #[test]
    fn truncated_header() {
        // tcpdump-udp-length-heapoverflow.pcap: only 4 bytes follow the IPv4 header.
        let err = Packet::new_checked(&td::TCPDUMP_UDP_LENGTH_HEAPOVERFLOW[34..]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Udp, "truncated", 8, 4));
    }

    #[test]
    fn length_beyond_ip_payload_is_invalid() {
        // tcpdump-ip-snmp-leftshift-unsigned.pcap: IP total 34817 (payload 34797), UDP 65535.
        let p = Packet::new_checked(&td::TCPDUMP_IP_SNMP_LEFTSHIFT[34..]).unwrap();
        assert_eq!(p.length(), 65535);
        assert_eq!(
            p.check_ip_len(34797),
            Err(Error::invalid(Layer::Udp, "bad_length"))
        );
    }
}
