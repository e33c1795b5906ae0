//! TCP header, RFC 9293 §3.1.
//!
//! `tcp.truncated` below 20 bytes; `tcp.bad_data_offset` when Data Offset < 5;
//! `tcp.options_truncated` when the options run past the bytes available (captured, and
//! bounded by the IP length). The checksum is not verified (offload, see `udp.rs`).

use super::{Error, Layer, Result, be_u16, be_u32};

mod field {
    use core::ops::Range;
    pub(super) const SRC_PORT: Range<usize> = 0..2;
    pub(super) const DST_PORT: Range<usize> = 2..4;
    pub(super) const SEQ_NUM: Range<usize> = 4..8;
    pub(super) const ACK_NUM: Range<usize> = 8..12;
    pub(super) const DATA_OFF: usize = 12;
    pub(super) const FLAGS: usize = 13;
    pub(super) const WIN_SIZE: Range<usize> = 14..16;
    pub(super) const URGENT: Range<usize> = 18..20;
}

/// Size of a header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Read-only view of a TCP segment. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the lengths, then wraps the buffer.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// See the module documentation.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Tcp, "truncated", HEADER_LEN, have));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::invalid(Layer::Tcp, "bad_data_offset"));
        }
        if have < hl {
            return Err(Error::truncated(Layer::Tcp, "options_truncated", hl, have));
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
    /// Returns the sequence number.
    pub fn seq_number(&self) -> u32 {
        be_u32(&self.buf.as_ref()[field::SEQ_NUM])
    }
    /// Returns the acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        be_u32(&self.buf.as_ref()[field::ACK_NUM])
    }
    /// Returns the header length in bytes (Data Offset · 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buf.as_ref()[field::DATA_OFF] >> 4) * 4
    }
    /// Returns the flags octet (CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// Returns the window size.
    pub fn window_len(&self) -> u16 {
        be_u16(&self.buf.as_ref()[field::WIN_SIZE])
    }
    /// Returns the payload after the options.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[self.header_len()..]
    }
}

/// The parts of a TCP header later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Flags octet.
    pub flags: u8,
    /// Header length in bytes.
    pub header_len: usize,
}

impl Repr {
    /// Extracts the summary of a checked segment.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Self {
        Self {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            flags: p.flags(),
            header_len: p.header_len(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_sll2_tcp() {
        // pcapplusplus-Sll2Packet.pcap: SLL2 20 + IPv4 20, then TCP 57292 -> 443, ACK.
        let p = Packet::new_checked(&td::PCPP_SLL2_TCP[40..]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Repr {
                src_port: 57292,
                dst_port: 443,
                flags: 0x10,
                header_len: 20
            }
        );
        assert_eq!(p.seq_number(), 0xa7ab_9fbf);
        assert_eq!(p.ack_number(), 0xaace_b5e9);
        assert_eq!(p.window_len(), 0x0422);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn truncated_fixed_header() {
        // tcpdump-tcp_header_heapoverflow.pcap: 12 bytes of TCP after the IPv4 header.
        let err = Packet::new_checked(&td::TCPDUMP_TCP_HEADER_HEAPOVERFLOW[34..]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Tcp, "truncated", 20, 12));
    }

    #[test]
    fn truncated_options() {
        // zeek-truncated-header.pcap frame 1: Data Offset 10 (40 bytes), 34 captured.
        let err = Packet::new_checked(&td::ZEEK_TRUNCATED_TCP_HEADER[34..]).unwrap_err();
        assert_eq!(
            err,
            Error::truncated(Layer::Tcp, "options_truncated", 40, 34)
        );
    }

    #[test]
    fn options_beyond_the_ip_length() {
        // pcapplusplus-tcp-malformed.pcap frame 1: IP total length 40 leaves 20 bytes of
        // TCP, whose Data Offset says 28.
        let err = Packet::new_checked(&td::PCPP_TCP_MALFORMED[34..54]).unwrap_err();
        assert_eq!(
            err,
            Error::truncated(Layer::Tcp, "options_truncated", 28, 20)
        );
    }
}
