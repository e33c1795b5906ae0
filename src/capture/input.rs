//! Buffered byte stream under [`FileReader`](super::FileReader): a window over the file that
//! remembers the stream offset of its first byte.
//!
//! ```text
//!   buf: [ consumed … | start ─ available ─ end | free … ]
//!                       ▲ stream offset `pos`
//! ```
//!
//! `fill(n)` makes `n` bytes available (compacting, then growing the buffer only when one
//! record is larger than it); callers bound `n` before asking, so a corrupt length field can
//! never make it allocate more than the reader's block limit. Reads that return fewer bytes
//! than asked (gzip decoders do) are retried until the stream reports end of file.

use std::io::{self, Read};

/// Default buffer size: 1 MiB holds hundreds of typical records between refills.
pub(super) const DEFAULT_CAPACITY: usize = 1 << 20;

/// A read-ahead window over a byte stream.
pub(super) struct Input {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// First unconsumed byte in `buf`.
    start: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// Stream offset of `buf[start]`.
    pos: u64,
    /// The source has reported end of stream.
    eof: bool,
}

impl Input {
    /// Wraps `src` with an (initially) `capacity`-byte buffer.
    pub(super) fn new(src: Box<dyn Read + Send>, capacity: usize) -> Self {
        Self {
            src,
            buf: vec![0; capacity.max(64)],
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    /// Returns the bytes read but not consumed yet.
    pub(super) fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Returns the stream offset of the first available byte.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// Tries to make `n` bytes available; returns how many are (fewer than `n` only at end of stream).
    ///
    /// # Errors
    /// The source's read error, other than `Interrupted`.
    pub(super) fn fill(&mut self, n: usize) -> io::Result<usize> {
        if self.end - self.start >= n || self.eof {
            return Ok(self.end - self.start);
        }
        if self.start + n > self.buf.len() {
            // Not enough room after `start`: move the partial record to the front …
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            // … and grow only when the record itself is larger than the buffer.
            if n > self.buf.len() {
                let new_len = n.max(self.buf.len().saturating_mul(2));
                self.buf.resize(new_len, 0);
            }
        }
        while self.end - self.start < n {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    /// Marks `n` available bytes as used.
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }

    /// Returns the current buffer size (for tests of the growth rule).
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A reader that hands out at most 3 bytes per call, like a slow decompressor.
    struct Trickle(Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let k = buf.len().min(3);
            self.0.read(&mut buf[..k])
        }
    }

    // The 24-byte file header of zeek-empty.pcap (a real capture with zero packets).
    const ZEEK_EMPTY: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn short_reads_are_retried_and_offsets_tracked() {
        let mut inp = Input::new(Box::new(Trickle(Cursor::new(ZEEK_EMPTY.to_vec()))), 64);
        assert_eq!(inp.fill(20).unwrap_or(0), 21); // 7 reads of 3 bytes
        assert_eq!(&inp.available()[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        inp.consume(16);
        assert_eq!(inp.pos(), 16);
        assert_eq!(inp.fill(100).unwrap_or(0), 8); // end of stream: only 8 left
        assert_eq!(inp.available(), &ZEEK_EMPTY[16..]);
    }

    #[test]
    fn grows_only_for_a_record_larger_than_the_buffer() {
        let data: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        let mut inp = Input::new(Box::new(Cursor::new(data.clone())), 64);
        inp.fill(10).unwrap_or(0);
        inp.consume(50);
        assert_eq!(inp.capacity(), 64);
        assert_eq!(inp.fill(200).unwrap_or(0), 200);
        assert!(inp.capacity() >= 200);
        assert_eq!(&inp.available()[..200], &data[50..250]);
        assert_eq!(inp.pos(), 50);
    }
}
