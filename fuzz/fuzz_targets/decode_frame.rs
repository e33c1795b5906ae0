//! Fuzz target: the first two bytes (big-endian) are a pcap link type, the rest is a frame;
//! `decode` must never panic, and what it fills must stay within the frame and the limits.
#![no_main]

use cleanpath::capture::LinkType;
use cleanpath::decode::{Decoded, MAX_TUNNEL_DEPTH, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((link, frame)) = data.split_first_chunk::<2>() else {
        return;
    };
    let link = LinkType(u32::from(u16::from_be_bytes(*link)));
    let mut out = Decoded::default();
    let result = decode(link, frame, &mut out);
    if result.is_ok() {
        assert!(out.payload_offset + out.payload_len <= frame.len());
    }
    if let Some(t) = out.tunnel {
        assert!((1..=MAX_TUNNEL_DEPTH).contains(&usize::from(t.depth)));
    }
    assert!(!out.vlans.is_overflowed() || result.is_err());
});
