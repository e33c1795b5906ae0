//! BPF capture filters (`--filter`), compiled by libpcap (`pcap_compile`, pcap-filter(7)) and
//! run on frames read from files (`pcap_offline_filter`). Only built with the `libpcap` feature.
//!
//! A BPF program is specific to a link type: `udp port 2152` compiles to different offsets for
//! Ethernet, Linux SLL or raw IP. A pcapng file can mix link types, so a [`BpfFilter`] keeps one
//! program per link type, compiling the expression again the first time it meets a new one.

use super::{Frame, LinkType};
use pcap::{BpfProgram, Capture, Linktype};
use std::collections::HashMap;
use std::sync::Mutex;

/// A filter expression with its compiled program for each link type met so far.
pub struct BpfFilter {
    expr: String,
    /// `None` records a link type the expression cannot be compiled for (it never matches there).
    programs: Mutex<HashMap<LinkType, Option<BpfProgram>>>,
}

impl BpfFilter {
    /// Compiles `expr` for `link`. `snaplen` is accepted for the CLI's sake, but the `pcap`
    /// crate's dead handle always uses 65535; it only sets the accept value, not what matches.
    ///
    /// # Errors
    /// libpcap's message when `expr` does not compile for `link` (syntax, or a primitive the
    /// link type lacks such as `ether host` on raw IP).
    pub fn compile(expr: &str, link: LinkType, snaplen: u32) -> Result<Self, String> {
        let _ = snaplen;
        let program = compile_for(expr, link)?;
        Ok(Self {
            expr: expr.to_owned(),
            programs: Mutex::new(HashMap::from([(link, Some(program))])),
        })
    }

    /// Returns the expression as given.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Reports whether `frame` passes the filter, compiling for its link type if needed.
    ///
    /// Like libpcap, this sees only the captured bytes: for a sliced frame, length tests
    /// (`greater`, `len`) use the captured length.
    pub fn matches(&self, frame: &Frame<'_>) -> bool {
        let mut programs = self
            .programs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        programs
            .entry(frame.link)
            .or_insert_with(|| compile_for(&self.expr, frame.link).ok())
            .as_ref()
            .is_some_and(|p| p.filter(frame.data))
    }
}

impl std::fmt::Debug for BpfFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpfFilter")
            .field("expr", &self.expr)
            .finish()
    }
}

/// Compiles `expr` (optimized) for one link type.
fn compile_for(expr: &str, link: LinkType) -> Result<BpfProgram, String> {
    let dlt = i32::try_from(link.0).map_err(|_| format!("link type {} out of range", link.0))?;
    let dead = Capture::dead(Linktype(dlt)).map_err(|e| e.to_string())?;
    dead.compile(expr, true)
        .map_err(|e| format!("filter {expr:?} for {link}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_expression_is_an_error_naming_it() {
        let err = BpfFilter::compile("udp port", LinkType::ETHERNET, 65535)
            .err()
            .unwrap_or_default();
        assert!(err.contains("\"udp port\""), "{err}");
    }

    #[test]
    fn link_type_without_the_primitive() {
        // Raw IP has no Ethernet header: libpcap refuses `ether host` there.
        assert!(BpfFilter::compile("ether host 00:25:9e:81:b3:54", LinkType::RAW, 65535).is_err());
        assert!(
            BpfFilter::compile("ether host 00:25:9e:81:b3:54", LinkType::ETHERNET, 65535).is_ok()
        );
    }
}
