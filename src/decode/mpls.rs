//! MPLS label stack, RFC 3032 §2.1 (EtherTypes 0x8847 and 0x8848).
//!
//! Each 4-octet entry is `label(20) | TC(3) | S(1) | TTL(8)`; the entry with S set is the
//! bottom of the stack. RFC 3032 carries no payload type, so, like every practical decoder,
//! cleanpath looks at the first nibble after the bottom entry: 4 is IPv4, 6 is IPv6 and
//! anything else (a pseudowire control word, RFC 4385, is nibble 0) is
//! `mpls.non_ip_payload` (unsupported). A stack whose bottom entry is not within the frame
//! is `mpls.no_bottom_of_stack`.

use super::{Error, Layer, MAX_MPLS_LABELS, Result, be_u32};

/// Size of one label stack entry.
pub const ENTRY_LEN: usize = 4;

/// One label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelEntry {
    /// The 20-bit label value.
    pub label: u32,
    /// Traffic class (3 bits, formerly EXP).
    pub tc: u8,
    /// Bottom-of-stack flag.
    pub bottom: bool,
    /// Time to live.
    pub ttl: u8,
}

impl LabelEntry {
    /// Decodes one entry from its four octets. The caller passes at least 4 bytes.
    fn from_bytes(b: &[u8]) -> Self {
        let v = be_u32(b);
        Self {
            label: v >> 12,
            tc: ((v >> 9) & 0b111) as u8,
            bottom: v & 0x100 != 0,
            ttl: (v & 0xff) as u8,
        }
    }
}

/// What follows the bottom of the stack, guessed from the first nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// An IPv4 packet.
    Ipv4,
    /// An IPv6 packet.
    Ipv6,
}

/// Read-only view of a label stack and what follows it. Construct with [`Packet::new_checked`].
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
    /// Number of entries up to and including the bottom one (set by `check_len`).
    depth: usize,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Finds the bottom of the stack, then wraps the buffer.
    ///
    /// # Errors
    /// `mpls.no_bottom_of_stack` (truncated) when the buffer ends before an entry with S set;
    /// `mpls.too_many_labels` when more than [`MAX_MPLS_LABELS`] entries precede it.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        let mut depth = 0;
        loop {
            let start = depth * ENTRY_LEN;
            let Some(entry) = b.get(start..start + ENTRY_LEN) else {
                return Err(Error::truncated(
                    Layer::Mpls,
                    "no_bottom_of_stack",
                    start + ENTRY_LEN,
                    b.len(),
                ));
            };
            depth += 1;
            if depth > MAX_MPLS_LABELS {
                return Err(Error::invalid(Layer::Mpls, "too_many_labels"));
            }
            if LabelEntry::from_bytes(entry).bottom {
                break;
            }
        }
        Ok(Self { buf, depth })
    }
    /// Returns the number of label stack entries.
    pub fn depth(&self) -> usize {
        self.depth
    }
    /// Returns the entries, outermost first.
    pub fn entries(&self) -> impl Iterator<Item = LabelEntry> + '_ {
        self.buf.as_ref()[..self.depth * ENTRY_LEN]
            .chunks_exact(ENTRY_LEN)
            .map(LabelEntry::from_bytes)
    }
    /// Returns the bytes after the bottom of the stack.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[self.depth * ENTRY_LEN..]
    }
    /// Returns the protocol after the stack, from the first payload nibble.
    ///
    /// # Errors
    /// `mpls.payload_truncated` when nothing follows the stack; `mpls.non_ip_payload`
    /// (unsupported) when the nibble is neither 4 nor 6.
    pub fn next_protocol(&self) -> Result<Payload> {
        match self.payload().first().map(|b| b >> 4) {
            None => Err(Error::truncated(Layer::Mpls, "payload_truncated", 1, 0)),
            Some(4) => Ok(Payload::Ipv4),
            Some(6) => Ok(Payload::Ipv6),
            Some(_) => Err(Error::unsupported(Layer::Mpls, "non_ip_payload")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::testdata as td;
    use super::*;

    #[test]
    fn deconstruct_single_label_over_vlans() {
        // pcapplusplus-MplsPackets.pcap frame 1: 2 VLAN tags, then 8847 at 20, entry 03e8017e.
        let p = Packet::new_checked(&td::PCPP_MPLS_VLAN_IPV4[22..]).unwrap();
        let e: Vec<_> = p.entries().collect();
        assert_eq!(
            e,
            [LabelEntry {
                label: 16000,
                tc: 0,
                bottom: true,
                ttl: 126
            }]
        );
        assert_eq!(p.next_protocol(), Ok(Payload::Ipv4));
        assert_eq!(p.payload()[0], 0x45);
    }

    #[test]
    fn two_labels_then_pseudowire_is_unsupported() {
        // frame 2: 000120fe 000101ff, then the PW control word 00000000.
        let p = Packet::new_checked(&td::PCPP_MPLS_PW_ETHERNET[14..]).unwrap();
        let labels: Vec<_> = p.entries().map(|e| (e.label, e.bottom, e.ttl)).collect();
        assert_eq!(labels, [(18, false, 254), (16, true, 255)]);
        assert_eq!(
            p.next_protocol(),
            Err(Error::unsupported(Layer::Mpls, "non_ip_payload"))
        );
    }

    #[test]
    fn truncated_stack_without_bottom() {
        // Frame 2's first entry has S clear; cut the second entry one byte short.
        let err = Packet::new_checked(&td::PCPP_MPLS_PW_ETHERNET[14..21]).unwrap_err();
        assert_eq!(
            err,
            Error::truncated(Layer::Mpls, "no_bottom_of_stack", 8, 7)
        );
    }

    #[test]
    fn heapoverflow_reproducer_has_nothing_after_the_stack() {
        // tcpdump-mpls-label-heapoverflow.pcap: 8848, entries 30303030 (S clear) and
        // 3030bb30 (S set), then the frame ends.
        let p = Packet::new_checked(&td::TCPDUMP_MPLS_LABEL_HEAPOVERFLOW[14..]).unwrap();
        assert_eq!(p.depth(), 2);
        assert_eq!(
            p.next_protocol(),
            Err(Error::truncated(Layer::Mpls, "payload_truncated", 1, 0))
        );
    }
}
