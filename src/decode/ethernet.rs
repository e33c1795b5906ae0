//! Ethernet II / IEEE 802.3 MAC header, IEEE Std 802.3-2018 §3.2.
//!
//! A type/length value below 0x0600 (§3.2.6) is an 802.3 length: the frame carries an
//! LLC header (CDP, STP, …), which cleanpath does not decode. [`Packet::ethertype`] returns
//! `None` for such frames and the walker stops there without an error.

use super::{Error, Layer, Mac, Result, be_u16};

mod field {
    use core::ops::Range;
    pub(super) const DST: Range<usize> = 0..6;
    pub(super) const SRC: Range<usize> = 6..12;
    pub(super) const ETHERTYPE: Range<usize> = 12..14;
}

/// Size of the Ethernet header (no 802.1Q tag).
pub const HEADER_LEN: usize = field::ETHERTYPE.end;

/// An EtherType (IEEE 802 numbers), as a newtype so unknown values survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EtherType(pub u16);

impl EtherType {
    /// Internet Protocol version 4.
    pub const IPV4: Self = Self(0x0800);
    /// Address Resolution Protocol.
    pub const ARP: Self = Self(0x0806);
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: Self = Self(0x8100);
    /// Internet Protocol version 6.
    pub const IPV6: Self = Self(0x86dd);
    /// MPLS unicast.
    pub const MPLS: Self = Self(0x8847);
    /// MPLS multicast.
    pub const MPLS_MULTICAST: Self = Self(0x8848);
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const QINQ: Self = Self(0x88a8);
    /// Link Layer Discovery Protocol.
    pub const LLDP: Self = Self(0x88cc);
    /// Pre-standard QinQ tag used by some vendors.
    pub const QINQ_9100: Self = Self(0x9100);
    /// Values below this are IEEE 802.3 lengths, not EtherTypes (§3.2.6).
    pub const MIN: u16 = 0x0600;

    /// Reports whether this EtherType introduces a VLAN tag (802.1Q, 802.1ad or 0x9100).
    pub fn is_vlan(self) -> bool {
        matches!(self, Self::VLAN | Self::QINQ | Self::QINQ_9100)
    }
    /// Reports whether this EtherType introduces an MPLS label stack.
    pub fn is_mpls(self) -> bool {
        matches!(self, Self::MPLS | Self::MPLS_MULTICAST)
    }
}

/// Read-only view of an Ethernet frame. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length, then wraps the buffer.
    ///
    /// # Errors
    /// `link.truncated` when the buffer is shorter than 14 bytes.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `link.truncated` when the buffer is shorter than 14 bytes.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Link, "truncated", HEADER_LEN, have));
        }
        Ok(())
    }
    /// Returns the destination address.
    pub fn dst(&self) -> Mac {
        mac(&self.buf.as_ref()[field::DST])
    }
    /// Returns the source address.
    pub fn src(&self) -> Mac {
        mac(&self.buf.as_ref()[field::SRC])
    }
    /// Returns the raw type/length field.
    pub fn type_or_len(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::ETHERTYPE])
    }
    /// Returns the EtherType, or `None` when the field is an 802.3 length.
    pub fn ethertype(&self) -> Option<EtherType> {
        let v = self.type_or_len();
        (v >= EtherType::MIN).then_some(EtherType(v))
    }
    /// Returns the bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

/// Copies six bytes into a [`Mac`]. The caller passes a 6-byte slice.
pub(crate) fn mac(b: &[u8]) -> Mac {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[..6]);
    Mac(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_lldp_frame() {
        let p = Packet::new_checked(td::ZEEK_LLDP).unwrap();
        assert_eq!(p.dst().to_string(), "01:80:c2:00:00:0e");
        assert_eq!(p.src().to_string(), "00:22:2d:81:db:10");
        assert_eq!(p.ethertype(), Some(EtherType::LLDP));
        assert_eq!(p.payload().len(), 118 - 14);
    }

    #[test]
    fn cdp_frame_has_an_8023_length_not_an_ethertype() {
        let p = Packet::new_checked(td::ZEEK_CDP).unwrap();
        assert_eq!(p.type_or_len(), 0x011e); // 286 bytes of LLC/SNAP + CDP
        assert_eq!(p.ethertype(), None);
        assert_eq!(&p.payload()[..3], &[0xaa, 0xaa, 0x03]); // LLC SNAP
    }

    #[test]
    fn truncated_header() {
        let err = Packet::new_checked(&td::ZEEK_LLDP[..13]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Link, "truncated", 14, 13));
    }
}
