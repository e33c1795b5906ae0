//! Reading `cleanpath analyze --json` output (JSON lines: a run object, flow objects, a
//! summary object; several runs may follow each other, plain or gzip-compressed) into a
//! [`ReportInput`], hashing each file as it is read.

use super::{Error, ReportFlow, ReportInput, RunSummary, SourceFile};
use crate::report::{FlowRecord, Summary};
use crate::sink::RunInfo;
use serde_json::Value;
use sha2::Digest;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// Passes bytes through while hashing and counting them.
struct Hashing<R> {
    inner: R,
    hash: sha2::Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Reads one JSON lines file (`-` for standard input) into `into`.
///
/// Runs keep their order; a flow or summary before any run object (output of cleanpath
/// before runs were recorded) gets a run of sensor `unknown`. Blank lines are skipped.
///
/// # Errors
/// The file cannot be read, or a line is not a valid run, flow or summary object (the
/// error names the file and line).
pub fn read_jsonl(path: &Path, into: &mut ReportInput) -> Result<(), Error> {
    let name = path.display().to_string();
    let io_err = |source| Error::Io {
        path: name.clone(),
        source,
    };
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(io_err)?)
    };
    let mut hashing = Hashing {
        inner: raw,
        hash: sha2::Sha256::new(),
        bytes: 0,
    };
    {
        let mut buffered = io::BufReader::with_capacity(1 << 16, &mut hashing);
        let gzip = buffered
            .fill_buf()
            .map_err(io_err)?
            .starts_with(&[0x1f, 0x8b]);
        let lines: Box<dyn BufRead + '_> = if gzip {
            Box::new(io::BufReader::new(flate2::bufread::MultiGzDecoder::new(
                buffered,
            )))
        } else {
            Box::new(buffered)
        };
        read_lines(&name, lines, into)?;
    }
    into.sources.push(SourceFile {
        path: name,
        bytes: hashing.bytes,
        sha256: crate::digest::hex(&hashing.hash.finalize()),
    });
    Ok(())
}

fn read_lines(
    name: &str,
    lines: Box<dyn BufRead + '_>,
    into: &mut ReportInput,
) -> Result<(), Error> {
    let mut current: Option<usize> = None;
    for (i, line) in lines.lines().enumerate() {
        let line_no = i as u64 + 1;
        let rec_err = |message: String| Error::Record {
            path: name.to_string(),
            line: line_no,
            message,
        };
        let line = line.map_err(|e| rec_err(format!("cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(&line).map_err(|e| rec_err(format!("not JSON: {e}")))?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match kind.as_str() {
            "run" => {
                let site = v.get("site").and_then(Value::as_str).map(str::to_string);
                let hashes = v
                    .get("inputs")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|f| f.get("sha256").and_then(Value::as_str).map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let info: RunInfo = serde_json::from_value(v)
                    .map_err(|e| rec_err(format!("bad run object: {e}")))?;
                into.runs.push(RunSummary {
                    info,
                    summary: None,
                    site,
                    input_sha256: hashes,
                    source: format!("{name}:{line_no}"),
                });
                current = Some(into.runs.len() - 1);
            }
            "flow" => {
                let record: FlowRecord = serde_json::from_value(v)
                    .map_err(|e| rec_err(format!("bad flow object: {e}")))?;
                for (what, ts) in [("first_ts", &record.first_ts), ("last_ts", &record.last_ts)] {
                    super::parse_time(ts).map_err(|e| rec_err(format!("flow {what}: {e}")))?;
                }
                let run = match current {
                    Some(r) => r,
                    None => anonymous_run(into, name, line_no).map_err(rec_err)?,
                };
                current = Some(run);
                into.flows.push(ReportFlow { run, record });
            }
            "summary" => {
                let summary: Summary = serde_json::from_value(v)
                    .map_err(|e| rec_err(format!("bad summary object: {e}")))?;
                let run = match current {
                    Some(r) => r,
                    None => anonymous_run(into, name, line_no).map_err(rec_err)?,
                };
                if let Some(r) = into.runs.get_mut(run) {
                    r.summary = Some(summary);
                }
                current = None;
            }
            other => {
                return Err(rec_err(format!(
                    "unexpected object type '{other}' (expected run, flow or summary)"
                )));
            }
        }
    }
    Ok(())
}

/// A run for records that came without a run object.
fn anonymous_run(into: &mut ReportInput, name: &str, line: u64) -> Result<usize, String> {
    // Built from JSON so that fields added to RunInfo with serde defaults need no change here.
    let info: RunInfo = serde_json::from_value(serde_json::json!({
        "sensor": "unknown", "started_unix_ms": 0, "inputs": [], "version": "unknown"
    }))
    .map_err(|e| format!("internal: {e}"))?;
    into.runs.push(RunSummary {
        info,
        summary: None,
        site: None,
        input_sha256: Vec::new(),
        source: format!("{name}:{line} (no run object)"),
    });
    Ok(into.runs.len() - 1)
}
