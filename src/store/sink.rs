//! The store as a [`Sink`]: a writer thread commits flows in batches, so the pipeline
//! never waits on the database and a slow input still gets its flows committed within
//! [`BATCH_INTERVAL`].

use super::{Credentials, Error, Result, Writer, open_writer};
use crate::report::{FlowRecord, Summary};
use crate::sink::{self, RunInfo, Sink};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most flows in one batch (one transaction).
pub const BATCH_FLOWS: usize = 5_000;

/// Longest a flow waits in the buffer before its batch is committed (wall time).
pub const BATCH_INTERVAL: Duration = Duration::from_secs(1);

enum Msg {
    Flow(Box<FlowRecord>),
    Finish(Box<Summary>, i64),
}

enum State {
    Ready(Box<Writer>),
    Running {
        tx: SyncSender<Msg>,
        worker: JoinHandle<Result<()>>,
    },
    Done,
}

/// Writes a run to a store: the run row at `begin`, flows in batches of at most
/// [`BATCH_FLOWS`] committed at most [`BATCH_INTERVAL`] after the first of them arrived,
/// the summary and the finished mark at `finish`.
pub struct StoreSink {
    state: State,
    batch_flows: usize,
    interval: Duration,
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink")
            .field("batch_flows", &self.batch_flows)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

fn sink_err(e: Error) -> sink::Error {
    sink::Error::Other(format!("store: {e}"))
}

impl StoreSink {
    /// Opens the store (creating or migrating its schema) so that a bad URL, a refused
    /// connection or a newer schema fails before any work.
    ///
    /// # Errors
    /// As [`open_writer`].
    pub fn open(url: &str, creds: &Credentials) -> Result<Self> {
        Ok(Self::new(open_writer(url, creds)?))
    }

    /// Wraps an open writer.
    pub fn new(writer: Writer) -> Self {
        Self {
            state: State::Ready(Box::new(writer)),
            batch_flows: BATCH_FLOWS,
            interval: BATCH_INTERVAL,
        }
    }

    /// Sets the batch limits (tests, tuning); both are clamped to at least 1 flow / 1 ms.
    pub fn with_batch(mut self, flows: usize, interval: Duration) -> Self {
        self.batch_flows = flows.max(1);
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Stops the writer thread and returns its error, if any.
    fn join(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Running { tx, worker } => {
                drop(tx);
                worker
                    .join()
                    .map_err(|_| Error::Writer("the writer thread panicked".into()))?
            }
            State::Ready(_) | State::Done => Ok(()),
        }
    }
}

/// The writer thread: buffers flows and commits a batch when it is full or its first
/// flow has waited `interval`; on `Finish` (or when the sink goes away) commits the rest.
fn work(mut w: Writer, rx: Receiver<Msg>, max: usize, interval: Duration) -> Result<()> {
    let mut buf: Vec<FlowRecord> = Vec::with_capacity(max.min(BATCH_FLOWS));
    let mut deadline: Option<Instant> = None;
    loop {
        let msg = match deadline {
            None => rx.recv().ok(),
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => {
                    w.write_batch(&buf)?;
                    buf.clear();
                    deadline = None;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => None,
            },
        };
        match msg {
            Some(Msg::Flow(r)) => {
                if buf.is_empty() {
                    deadline = Some(Instant::now() + interval);
                }
                buf.push(*r);
                if buf.len() >= max {
                    w.write_batch(&buf)?;
                    buf.clear();
                    deadline = None;
                }
            }
            Some(Msg::Finish(summary, finished_ms)) => {
                w.write_batch(&buf)?;
                return w.finish(&summary, finished_ms);
            }
            None => {
                // The sink went away without `finish` (the run failed): keep what we
                // have; the run stays unfinished.
                w.write_batch(&buf)?;
                return Ok(());
            }
        }
    }
}

impl Sink for StoreSink {
    fn begin(&mut self, run: &RunInfo) -> Result<(), sink::Error> {
        let State::Ready(mut w) = std::mem::replace(&mut self.state, State::Done) else {
            return Err(sink_err(Error::Usage("begin called twice")));
        };
        w.begin(run).map_err(sink_err)?;
        let (tx, rx) = sync_channel(self.batch_flows.saturating_mul(2).min(65_536));
        let (max, interval) = (self.batch_flows, self.interval);
        let worker = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || work(*w, rx, max, interval))
            .map_err(|e| sink_err(Error::Writer(e.to_string())))?;
        self.state = State::Running { tx, worker };
        Ok(())
    }

    fn flow(&mut self, rec: &FlowRecord) -> Result<(), sink::Error> {
        let State::Running { tx, .. } = &self.state else {
            return Err(sink_err(Error::Usage("flow outside begin … finish")));
        };
        if tx.send(Msg::Flow(Box::new(rec.clone()))).is_err() {
            // The writer stopped: report why.
            self.join().map_err(sink_err)?;
            return Err(sink_err(Error::Writer("stopped without an error".into())));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> Result<(), sink::Error> {
        let State::Running { tx, .. } = &self.state else {
            return Err(sink_err(Error::Usage("finish without begin")));
        };
        // A failed send means the writer already stopped; join() reports why.
        let _ = tx.send(Msg::Finish(Box::new(summary.clone()), super::now_ms()));
        self.join().map_err(sink_err)
    }
}

impl Drop for StoreSink {
    fn drop(&mut self) {
        // Commit what was buffered before the run failed; the error that ended the run
        // has already been reported.
        let _ = self.join();
    }
}
