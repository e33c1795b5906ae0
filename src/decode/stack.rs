//! The layer walker (stub: filled in by the decode stage).

use super::{Decoded, Result};
use crate::capture::LinkType;

/// Decodes one frame of link type `link` into `out`, which is reset first.
///
/// # Errors
/// The first malformed or unsupported layer; `out` keeps what was decoded before it.
pub fn decode(link: LinkType, data: &[u8], out: &mut Decoded) -> Result<()> {
    let _ = (link, data);
    *out = Decoded::default();
    unimplemented!()
}
