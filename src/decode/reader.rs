//! A bounds-checked cursor for TLV walks (GTP-U extension headers, SCTP chunks, IPv6
//! extension headers), after rustls's `codec::Reader`: every read names what was missing.

use super::{Error, Layer, Result};

/// A forward-only cursor over a byte slice. No read can panic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Wraps `buf`, positioned at its start.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Returns the number of bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Returns the bytes not yet consumed.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Returns the number of bytes not yet consumed.
    pub(crate) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Returns the next byte without consuming it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Consumes `n` bytes.
    ///
    /// # Errors
    /// [`Error::Truncated`] naming `layer`/`what` when fewer than `n` bytes are left.
    pub(crate) fn take(&mut self, n: usize, layer: Layer, what: &'static str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(Error::truncated(layer, what, n, self.left()))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Consumes up to `n` bytes (fewer at the end of the buffer).
    pub(crate) fn skip_saturating(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_is_truncated_and_does_not_move() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.take(2, Layer::Sctp, "x"), Ok(&[1u8, 2][..]));
        assert_eq!(
            r.take(2, Layer::Sctp, "chunk_truncated"),
            Err(Error::truncated(Layer::Sctp, "chunk_truncated", 2, 1))
        );
        assert_eq!(r.pos(), 2);
        assert_eq!(r.peek(), Some(3));
        r.skip_saturating(usize::MAX);
        assert_eq!(r.left(), 0);
        assert!(r.rest().is_empty());
    }
}
