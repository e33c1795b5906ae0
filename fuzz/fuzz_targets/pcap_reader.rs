//! Fuzz target: arbitrary bytes through `FileReader::from_bytes` must never panic.
//!
//! Also checks the reader's contract on every input: frame numbers count 1, 2, 3 …, a frame's
//! interface is one the reader has declared, no frame exceeds the caplen limit, and once an
//! error is returned every later call returns `Ok(None)`.
#![no_main]

use cleanpath::capture::{FileReader, MAX_CAPLEN_BYTES};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = FileReader::from_bytes(Path::new("fuzz.pcap"), data.to_vec()) else {
        return;
    };
    let mut expected_no = 0u64;
    loop {
        let (frame_no, iface, len) = match reader.next_frame() {
            Ok(Some(f)) => (f.frame_no, f.iface, f.data.len()),
            Ok(None) => break,
            Err(_) => {
                assert!(matches!(reader.next_frame(), Ok(None)));
                break;
            }
        };
        expected_no += 1;
        assert_eq!(frame_no, expected_no);
        assert!((iface as usize) < reader.interfaces().len());
        assert!(len <= MAX_CAPLEN_BYTES as usize);
    }
    assert_eq!(reader.stats().frames, expected_no);
});
