//! VLAN tags: IEEE Std 802.1Q-2018 §9.6 (C-tag, TPID 0x8100), 802.1ad S-tag (TPID 0x88a8)
//! and the pre-standard TPID 0x9100.
//!
//! The TPID is the EtherType that precedes the tag, so a view starts at the 2-octet TCI and
//! ends with the encapsulated EtherType. At most [`MAX_VLANS`](super::MAX_VLANS) tags are
//! decoded per frame; one more is `vlan.too_many_tags`.

use super::ethernet::EtherType;
use super::{Error, Layer, Result, be_u16};

mod field {
    use core::ops::Range;
    pub(super) const TCI: Range<usize> = 0..2;
    pub(super) const ETHERTYPE: Range<usize> = 2..4;
}

/// Size of one tag after its TPID: TCI plus the inner EtherType.
pub const HEADER_LEN: usize = field::ETHERTYPE.end;

/// Read-only view of one VLAN tag. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the length, then wraps the buffer.
    ///
    /// # Errors
    /// `vlan.truncated` when fewer than 4 bytes follow the TPID.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `vlan.truncated` when fewer than 4 bytes follow the TPID.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Vlan, "truncated", HEADER_LEN, have));
        }
        Ok(())
    }
    /// Returns the priority code point (3 bits).
    pub fn pcp(&self) -> u8 {
        self.buf.as_ref()[field::TCI.start] >> 5
    }
    /// Returns the drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.buf.as_ref()[field::TCI.start] & 0x10 != 0
    }
    /// Returns the VLAN identifier (12 bits).
    pub fn vid(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::TCI]) & 0x0fff
    }
    /// Returns the EtherType of what follows the tag.
    pub fn ethertype(&self) -> EtherType {
        EtherType(be_u16(&self.buf.as_ref()[field::ETHERTYPE]))
    }
}

/// The parts of a tag later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// VLAN identifier.
    pub vid: u16,
    /// Priority code point.
    pub pcp: u8,
    /// Encapsulated EtherType.
    pub ethertype: EtherType,
}

impl Repr {
    /// Extracts the summary of a checked tag.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Self {
            vid: p.vid(),
            pcp: p.pcp(),
            ethertype: p.ethertype(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_qinq_tags() {
        // tcpdump-802.1ad_QinQ.pcap frame 1: 88a8 | 00c8 8100 | 07d1 0806
        let frame = td::TCPDUMP_QINQ_ARP;
        assert_eq!(be_u16(&frame[12..]), 0x88a8);
        let s = Repr::parse(&Packet::new_checked(&frame[14..]).unwrap());
        assert_eq!(
            s,
            Repr {
                vid: 200,
                pcp: 0,
                ethertype: EtherType::VLAN
            }
        );
        let c = Repr::parse(&Packet::new_checked(&frame[18..]).unwrap());
        assert_eq!(c.vid, 2001);
        assert_eq!(c.ethertype, EtherType::ARP);
    }

    #[test]
    fn truncated_tag() {
        let err = Packet::new_checked(&td::TCPDUMP_QINQ_ARP[14..17]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Vlan, "truncated", 4, 3));
    }

    #[test]
    fn dei_and_pcp_bits() {
        // zeek-vlan-qinqinq.pcap frame 1, first tag TCI 0x001e: VID 30, PCP 0, DEI clear.
        let p = Packet::new_checked(&td::ZEEK_VLAN_QINQINQ[14..]).unwrap();
        assert_eq!((p.vid(), p.pcp(), p.dei()), (30, 0, false));
    }
}
