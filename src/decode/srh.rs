//! IPv6 Segment Routing Header (SRH), RFC 8754 §2: routing header type 4.
//!
//! ```text
//!  0: Next Header | Hdr Ext Len | Routing Type (4) | Segments Left
//!  4: Last Entry  | Flags       | Tag (16)
//!  8: Segment List[0] (128 bits) … Segment List[Last Entry], then optional TLVs
//! ```
//! The IPv6 walker has already checked that `(Hdr Ext Len + 1) · 8` bytes are present; the
//! view checks that the `Last Entry + 1` segments fit inside them (`srh.bad_last_entry`)
//! and that Segments Left ≤ Last Entry + 1 (`srh.bad_segments_left`, §4.3.1.1). More than
//! [`MAX_SEGMENTS`] segments is `srh.too_many_segments`.

use super::{Error, Layer, MAX_SEGMENTS, Result, Stack, be_u16};

/// The routing type that identifies an SRH.
pub const ROUTING_TYPE: u8 = 4;

mod field {
    use core::ops::Range;
    pub(super) const NXT_HDR: usize = 0;
    pub(super) const HDR_EXT_LEN: usize = 1;
    pub(super) const ROUTING_TYPE: usize = 2;
    pub(super) const SEGMENTS_LEFT: usize = 3;
    pub(super) const LAST_ENTRY: usize = 4;
    pub(super) const FLAGS: usize = 5;
    pub(super) const TAG: Range<usize> = 6..8;
    pub(super) const SEGMENTS: usize = 8;
}

/// Size of the fixed part.
pub const HEADER_LEN: usize = field::SEGMENTS;
/// Size of one segment.
pub const SEGMENT_LEN: usize = 16;

/// Read-only view of an SRH. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks lengths and the segment counters, then wraps the buffer.
    ///
    /// # Errors
    /// `srh.truncated`, `srh.bad_last_entry`, `srh.bad_segments_left` or
    /// `srh.too_many_segments`.
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
            return Err(Error::truncated(Layer::Srh, "truncated", HEADER_LEN, have));
        }
        let len = self.header_len();
        if have < len {
            return Err(Error::truncated(Layer::Srh, "truncated", len, have));
        }
        if HEADER_LEN + self.segment_count() * SEGMENT_LEN > len {
            return Err(Error::invalid(Layer::Srh, "bad_last_entry"));
        }
        if usize::from(self.segments_left()) > self.segment_count() {
            return Err(Error::invalid(Layer::Srh, "bad_segments_left"));
        }
        if self.segment_count() > MAX_SEGMENTS {
            return Err(Error::invalid(Layer::Srh, "too_many_segments"));
        }
        Ok(())
    }
    /// Returns the Next Header field.
    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[field::NXT_HDR]
    }
    /// Returns the header length in bytes: `(Hdr Ext Len + 1) · 8`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buf.as_ref()[field::HDR_EXT_LEN]) + 1) * 8
    }
    /// Returns the routing type (4 for an SRH).
    pub fn routing_type(&self) -> u8 {
        self.buf.as_ref()[field::ROUTING_TYPE]
    }
    /// Returns Segments Left.
    pub fn segments_left(&self) -> u8 {
        self.buf.as_ref()[field::SEGMENTS_LEFT]
    }
    /// Returns Last Entry (index of the last element of the segment list).
    pub fn last_entry(&self) -> u8 {
        self.buf.as_ref()[field::LAST_ENTRY]
    }
    /// Returns the number of segments (`Last Entry + 1`).
    pub fn segment_count(&self) -> usize {
        usize::from(self.last_entry()) + 1
    }
    /// Returns the flags octet.
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// Returns the tag.
    pub fn tag(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::TAG])
    }
    /// Returns the segment list in wire order (`Segment List[0]` first), as integers.
    pub fn segments(&self) -> impl Iterator<Item = u128> + '_ {
        let end = HEADER_LEN + self.segment_count() * SEGMENT_LEN;
        self.buf.as_ref()[HEADER_LEN..end]
            .chunks_exact(SEGMENT_LEN)
            .map(|s| {
                let mut a = [0u8; SEGMENT_LEN];
                a.copy_from_slice(s);
                u128::from_be_bytes(a)
            })
    }
}

/// The parts of an SRH later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Segment list in wire order.
    pub segments: Stack<u128, MAX_SEGMENTS>,
    /// Segments Left.
    pub segments_left: u8,
}

impl Repr {
    /// Extracts the segment list of a checked SRH.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        let mut segments = Stack::default();
        for s in p.segments() {
            segments.push(s);
        }
        Self {
            segments,
            segments_left: p.segments_left(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::net::Ipv6Addr;

    use super::super::testdata as td;
    use super::*;

    /// The SRH of tcpdump-ipv6-srh-ext-header.pcap: Ethernet 14 + IPv6 40.
    fn srh_bytes() -> &'static [u8] {
        &td::TCPDUMP_SRH[54..94]
    }

    #[test]
    fn deconstruct_segment_list() {
        let p = Packet::new_checked(srh_bytes()).unwrap();
        assert_eq!(
            (p.next_header(), p.header_len(), p.routing_type()),
            (41, 40, 4)
        );
        assert_eq!(
            (p.segments_left(), p.last_entry(), p.flags(), p.tag()),
            (1, 1, 0, 0)
        );
        let r = Repr::parse(&p);
        let segs: Vec<Ipv6Addr> = r.segments.as_slice().iter().map(|&s| s.into()).collect();
        assert_eq!(
            segs,
            [
                "a:b:c:3::d6".parse::<Ipv6Addr>().unwrap(),
                "a:b:c:2::f1:0".parse::<Ipv6Addr>().unwrap()
            ]
        );
        assert_eq!(r.segments_left, 1);
    }

    #[test]
    fn truncated_segment_list() {
        let err = Packet::new_checked(&srh_bytes()[..39]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Srh, "truncated", 40, 39));
    }

    #[test]
    fn segments_left_beyond_the_list_is_invalid() {
        // zeek-ipv6-hbh-routing0.pcap: a routing header of type 0 (after IPv6 + 8-byte HBH)
        // read as an SRH: Segments Left 2, but byte 4 (Last Entry) is 0, so one segment.
        let rh0 = &td::ZEEK_IPV6_HBH_ROUTING0[14 + 40 + 8..14 + 40 + 48];
        assert_eq!((rh0[2], rh0[3], rh0[4]), (0, 2, 0));
        let err = Packet::new_checked(rh0).unwrap_err();
        assert_eq!(err, Error::invalid(Layer::Srh, "bad_segments_left"));
    }
}
