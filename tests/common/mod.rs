//! Shared helpers for the integration tests: the bundled tables loaded once per test
//! binary, and a function that runs the whole pipeline over a capture file.

#![allow(dead_code, unreachable_pub, missing_docs)]

use cleanpath::capture::FileReader;
use cleanpath::flow::Limits;
use cleanpath::intel::Intel;
use cleanpath::pipeline::{Analyzer, Counters, FlowResult};
use cleanpath::policy::Confidence;
use cleanpath::policy::Denylist;
use cleanpath::policy::verdict::Judge;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The bundled intel tables, parsed once.
pub fn intel() -> &'static Intel {
    static INTEL: OnceLock<Intel> = OnceLock::new();
    INTEL.get_or_init(|| Intel::bundled().expect("bundled intel loads"))
}

/// The bundled denylist, parsed once.
pub fn rules() -> &'static Denylist {
    static RULES: OnceLock<Denylist> = OnceLock::new();
    RULES.get_or_init(|| Denylist::bundled().expect("bundled denylist parses"))
}

/// Path of a file in `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// What one analysis produced.
pub struct Run {
    pub flows: Vec<FlowResult>,
    pub counters: Counters,
    pub frames_read: u64,
    pub error: Option<cleanpath::capture::Error>,
    pub table: cleanpath::flow::TableStats,
}

/// Runs capture → decode → flow → policy over one file with the bundled tables.
pub fn analyze(path: &Path) -> Run {
    let reader = FileReader::open(path).unwrap_or_else(|e| panic!("{e}"));
    analyze_reader(reader)
}

/// As [`analyze`], from an already opened reader.
pub fn analyze_reader(reader: FileReader) -> Run {
    analyze_with(reader, Limits::default())
}

/// As [`analyze_reader`], with flow-table limits.
pub fn analyze_with(mut reader: FileReader, limits: Limits) -> Run {
    let judge = Judge::new(intel(), rules(), Confidence::Medium);
    let mut a = Analyzer::new(judge, limits);
    let mut flows = Vec::new();
    let mut error = None;
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => a.frame(0, &f, &mut |r| flows.push(r)),
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let counters = a.finish(&mut |r| flows.push(r));
    flows.sort_by_key(|r| r.flow.id);
    Run {
        table: a.table_stats().clone(),
        flows,
        counters,
        frames_read: reader.stats().frames,
        error,
    }
}
