//! JSON lines: a run object, one object per flow, then the summary object.

use super::{Error, RunInfo, Sink};
use crate::report::{FlowRecord, Summary};
use std::io::Write;

/// Writes JSON lines to any writer.
#[derive(Debug)]
pub struct JsonlSink<W: Write> {
    w: W,
}

impl<W: Write> JsonlSink<W> {
    /// Wraps a writer (buffer it: one write per line otherwise).
    pub fn new(w: W) -> Self {
        Self { w }
    }

    /// Returns the writer.
    pub fn into_inner(self) -> W {
        self.w
    }

    fn line<T: serde::Serialize>(&mut self, v: &T) -> Result<(), Error> {
        let io = |source| Error::Io {
            what: "writing JSON lines".into(),
            source,
        };
        serde_json::to_writer(&mut self.w, v).map_err(|e| io(e.into()))?;
        self.w.write_all(b"\n").map_err(io)
    }
}

/// The first line of a run: `{"type":"run", …RunInfo}`.
#[derive(serde::Serialize)]
struct RunLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    run: &'a RunInfo,
}

impl<W: Write> Sink for JsonlSink<W> {
    fn begin(&mut self, run: &RunInfo) -> Result<(), Error> {
        self.line(&RunLine { kind: "run", run })
    }

    fn flow(&mut self, rec: &FlowRecord) -> Result<(), Error> {
        self.line(rec)
    }

    fn finish(&mut self, summary: &Summary) -> Result<(), Error> {
        self.line(summary)?;
        self.w.flush().map_err(|source| Error::Io {
            what: "flushing JSON lines".into(),
            source,
        })
    }
}
