//! ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1): type and code, the first two octets.
//!
//! Only the 4-octet common header is checked (`icmp.truncated` / `icmpv6.truncated`); the
//! message body and checksum are not interpreted. No field value is invalid at this depth.

use super::{Error, Layer, Result, be_u16};

mod field {
    use core::ops::Range;
    pub(super) const TYPE: usize = 0;
    pub(super) const CODE: usize = 1;
    pub(super) const CHECKSUM: Range<usize> = 2..4;
}

/// Size of the common header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// Read-only view of an ICMP or ICMPv6 message. Construct with [`Packet::new_checked`]
/// or [`Packet::new_checked_v6`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
    layer: Layer,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length of an ICMP (IPv4) message, then wraps the buffer.
    ///
    /// # Errors
    /// `icmp.truncated` below 4 bytes.
    pub fn new_checked(buf: T) -> Result<Self> {
        Self::checked(buf, Layer::Icmp)
    }
    /// Checks the length of an ICMPv6 message, then wraps the buffer.
    ///
    /// # Errors
    /// `icmpv6.truncated` below 4 bytes.
    pub fn new_checked_v6(buf: T) -> Result<Self> {
        Self::checked(buf, Layer::Icmpv6)
    }
    fn checked(buf: T, layer: Layer) -> Result<Self> {
        let p = Self { buf, layer };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `icmp.truncated` or `icmpv6.truncated` below 4 bytes.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(self.layer, "truncated", HEADER_LEN, have));
        }
        Ok(())
    }
    /// Returns the message type.
    pub fn msg_type(&self) -> u8 {
        self.buf.as_ref()[field::TYPE]
    }
    /// Returns the message code.
    pub fn msg_code(&self) -> u8 {
        self.buf.as_ref()[field::CODE]
    }
    /// Returns the checksum field (not verified).
    pub fn checksum(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::CHECKSUM])
    }
    /// Returns the message body after the common header.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

/// The parts of an ICMP header later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Message type.
    pub ty: u8,
    /// Message code.
    pub code: u8,
}

impl Repr {
    /// Extracts type and code of a checked message.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Self {
            ty: p.msg_type(),
            code: p.msg_code(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_echo_request() {
        // zeek-linux_dlt_sll2.pcap frame 1: SLL2 20 + IPv4 20, ICMP echo request.
        let p = Packet::new_checked(&td::ZEEK_SLL2_ICMP[40..]).unwrap();
        assert_eq!(Repr::parse(&p), Repr { ty: 8, code: 0 });
        assert_eq!(p.checksum(), 0x66b4);
        assert_eq!(p.payload().len(), 60);
    }

    #[test]
    fn deconstruct_icmpv6_echo_request() {
        // zeek-linux_dlt_sll2.pcap frame 3: SLL2 20 + IPv6 40, ICMPv6 echo request (128).
        let p = Packet::new_checked_v6(&td::ZEEK_SLL2_ICMPV6[60..]).unwrap();
        assert_eq!(Repr::parse(&p), Repr { ty: 128, code: 0 });
    }

    #[test]
    fn truncated_header() {
        let err = Packet::new_checked(&td::ZEEK_SLL2_ICMP[40..43]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Icmp, "truncated", 4, 3));
        let err = Packet::new_checked_v6(&td::ZEEK_SLL2_ICMPV6[60..61]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Icmpv6, "truncated", 4, 1));
    }
}
