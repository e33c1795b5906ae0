//! SCTP common header and chunk walk, RFC 9260 §3.
//!
//! ```text
//! common header: Source Port | Destination Port | Verification Tag | Checksum (12 octets)
//! chunk:         Type | Flags | Length (incl. these 4 octets, excl. padding) | value…
//! DATA (type 0): … | TSN (4) | Stream Id (2) | Stream Seq (2) | Payload Protocol Id (4)
//! ```
//! Each chunk is padded to a multiple of 4 octets (§3.2); the padding of the last chunk may
//! be missing. A chunk length below 4 is `sctp.bad_chunk_length`; a chunk running past the
//! end is `sctp.chunk_truncated`; a DATA chunk shorter than 16 octets is
//! `sctp.bad_data_chunk`. The CRC32c checksum is not verified.

use super::reader::Reader;
use super::{Error, Layer, Result, be_u16, be_u32};

mod field {
    use core::ops::Range;
    pub(super) const SRC_PORT: Range<usize> = 0..2;
    pub(super) const DST_PORT: Range<usize> = 2..4;
    pub(super) const VERIFICATION_TAG: Range<usize> = 4..8;
    pub(super) const CHECKSUM: Range<usize> = 8..12;
    /// Within a DATA chunk.
    pub(super) const DATA_PPID: Range<usize> = 12..16;
}

/// Size of the common header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// Size of a chunk header.
pub const CHUNK_HEADER_LEN: usize = 4;
/// Chunk type of a DATA chunk.
pub const CHUNK_DATA: u8 = 0;

/// Read-only view of an SCTP packet. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the common header length, then wraps the buffer. Chunks are checked by
    /// [`Repr::parse`].
    ///
    /// # Errors
    /// `sctp.truncated` below 12 bytes.
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// Once this returns `Ok(())`, no accessor on `self` can panic.
    ///
    /// # Errors
    /// `sctp.truncated` below 12 bytes.
    pub fn check_len(&self) -> Result<()> {
        let have = self.buf.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::truncated(Layer::Sctp, "truncated", HEADER_LEN, have));
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
    /// Returns the verification tag.
    pub fn verification_tag(&self) -> u32 {
        be_u32(&self.buf.as_ref()[field::VERIFICATION_TAG])
    }
    /// Returns the checksum field (not verified).
    pub fn checksum(&self) -> u32 {
        be_u32(&self.buf.as_ref()[field::CHECKSUM])
    }
    /// Returns the chunks after the common header.
    pub fn chunks(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

/// The parts of an SCTP packet later stages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
    /// Number of chunks (saturating).
    pub chunks: u16,
    /// Payload protocol identifier of the first DATA chunk.
    pub data_ppid: Option<u32>,
}

impl Repr {
    /// Walks the chunks of a checked packet.
    ///
    /// # Errors
    /// `sctp.bad_chunk_length`, `sctp.chunk_truncated` or `sctp.bad_data_chunk`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self> {
        let mut r = Reader::new(p.chunks());
        let mut chunks = 0u16;
        let mut data_ppid = None;
        while r.left() > 0 {
            let hdr = r.rest();
            if hdr.len() < CHUNK_HEADER_LEN {
                return Err(Error::truncated(
                    Layer::Sctp,
                    "chunk_truncated",
                    CHUNK_HEADER_LEN,
                    hdr.len(),
                ));
            }
            let len = usize::from(be_u16(&hdr[2..4]));
            if len < CHUNK_HEADER_LEN {
                return Err(Error::invalid(Layer::Sctp, "bad_chunk_length"));
            }
            let chunk = r.take(len, Layer::Sctp, "chunk_truncated")?;
            if chunk[0] == CHUNK_DATA && data_ppid.is_none() {
                let ppid = chunk
                    .get(field::DATA_PPID)
                    .ok_or(Error::invalid(Layer::Sctp, "bad_data_chunk"))?;
                data_ppid = Some(be_u32(ppid));
            }
            chunks = chunks.saturating_add(1);
            // RFC 9260 §3.2: padding to 4 octets, not counted in the length.
            r.skip_saturating((4 - len % 4) % 4);
        }
        Ok(Self {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            verification_tag: p.verification_tag(),
            chunks,
            data_ppid,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_single_data_chunk() {
        // suricata-verify-decode-sctp-01-input.pcap: IPv4 total 560 = 20 + 12 + 528-byte DATA.
        let p = Packet::new_checked(&td::SURICATA_SCTP[34..]).unwrap();
        assert_eq!(p.checksum(), 0x3ade_fb02);
        assert_eq!(
            Repr::parse(&p),
            Ok(Repr {
                src_port: 7,
                dst_port: 7,
                verification_tag: 0x4323_2544,
                chunks: 1,
                data_ppid: Some(0),
            })
        );
    }

    #[test]
    fn deconstruct_sack_then_ngap_data() {
        // telekom-5gtv-free5gc.pcap frame 44: SLL 16 + IPv4 20; SACK (16) + DATA (82, PPID 60).
        let p = Packet::new_checked(&td::FREE5GC_SCTP_SACK_NGAP[36..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!((r.src_port, r.dst_port), (38412, 9487));
        assert_eq!((r.chunks, r.data_ppid), (2, Some(60)));
    }

    #[test]
    fn truncated_common_header_and_chunk() {
        let err = Packet::new_checked(&td::SURICATA_SCTP[34..45]).unwrap_err();
        assert_eq!(err, Error::truncated(Layer::Sctp, "truncated", 12, 11));
        // Cut the 528-byte DATA chunk after 100 bytes.
        let p = Packet::new_checked(&td::SURICATA_SCTP[34..34 + 12 + 100]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::truncated(Layer::Sctp, "chunk_truncated", 528, 100))
        );
    }

    #[test]
    fn zero_chunk_length_is_invalid() {
        // Start the view 16 bytes into the suricata SCTP packet: its "common header" is then
        // the DATA chunk's TSN..PPID, and the first "chunk" is four zero octets of user
        // data: type 0, flags 0, length 0.
        let p = Packet::new_checked(&td::SURICATA_SCTP[34 + 16..]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Err(Error::invalid(Layer::Sctp, "bad_chunk_length"))
        );
    }
}
