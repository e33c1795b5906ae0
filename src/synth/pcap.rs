//! A streaming classic-pcap writer (nanosecond variant, magic `a1 b2 3c 4d` written
//! little-endian), for generated captures too large to build in memory.
//! Layout: draft-ietf-opsawg-pcap §4 (file header) and §5 (packet record).

use std::io::{self, Write};

/// Nanosecond-resolution pcap magic.
const MAGIC_NS: u32 = 0xa1b2_3c4d;

/// Writes a classic pcap file record by record.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header. `snaplen` 0 means unlimited (stored as 262144); frames
    /// longer than a non-zero `snaplen` are sliced, keeping their original length.
    ///
    /// # Errors
    /// Any error of `out`.
    pub fn new(mut out: W, link_type: u32, snaplen: u32) -> io::Result<Self> {
        let stored = if snaplen == 0 { 262_144 } else { snaplen };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_NS.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        h[16..20].copy_from_slice(&stored.to_le_bytes());
        h[20..24].copy_from_slice(&link_type.to_le_bytes());
        out.write_all(&h)?;
        Ok(Self {
            out,
            snaplen: if snaplen == 0 { u32::MAX } else { snaplen },
        })
    }

    /// Appends one frame captured at `ts_ns` nanoseconds after the epoch.
    ///
    /// # Errors
    /// Any error of the underlying writer.
    pub fn packet(&mut self, ts_ns: u64, frame: &[u8]) -> io::Result<()> {
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let cap = orig.min(self.snaplen);
        let mut r = [0u8; 16];
        r[0..4].copy_from_slice(&((ts_ns / 1_000_000_000) as u32).to_le_bytes());
        r[4..8].copy_from_slice(&((ts_ns % 1_000_000_000) as u32).to_le_bytes());
        r[8..12].copy_from_slice(&cap.to_le_bytes());
        r[12..16].copy_from_slice(&orig.to_le_bytes());
        self.out.write_all(&r)?;
        self.out.write_all(&frame[..cap as usize])
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// Any error of the final flush.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{FileReader, Format, LinkType};
    use std::path::Path;

    #[test]
    fn reader_reads_what_the_writer_wrote_including_sliced_frames() {
        let mut w = PcapWriter::new(Vec::new(), 1, 20).unwrap();
        let a: Vec<u8> = (0..14).collect();
        let b: Vec<u8> = (0..60).collect();
        w.packet(1_700_000_000_123_456_789, &a).unwrap();
        w.packet(1_700_000_001_000_000_001, &b).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = FileReader::from_bytes(Path::new("mem"), bytes).unwrap();
        assert_eq!(r.format(), Format::PcapNs);
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(
            (f.ts.0, f.data, f.link),
            (1_700_000_000_123_456_789, &a[..], LinkType::ETHERNET)
        );
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!((f.data, f.orig_len_bytes), (&b[..20], 60));
        assert!(r.next_frame().unwrap().is_none());
    }
}
