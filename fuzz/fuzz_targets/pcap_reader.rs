//! Placeholder so this manifest builds; the capture stage's `pcap_reader` target replaces it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});
