//! The audit store: runs, judged flows, their evidence and the equipment learned from
//! them, in SQLite (one file per sensor, the embedded default) or PostgreSQL (the central
//! store many sensors write to). One logical schema for both, migrated by version; it is
//! documented in `docs/store.md`.
//!
//! Writing goes through [`StoreSink`], a [`crate::sink::Sink`]: the run row is written at
//! `begin`, flows are buffered and committed in batches (every [`BATCH_FLOWS`] flows or
//! [`BATCH_INTERVAL`] of wall time after the first buffered flow, whichever comes first)
//! by a writer thread, and `finish` flushes and marks the run finished. Every batch is one
//! transaction and idempotent on (sensor, run id, flow id), so a replayed batch never
//! duplicates a row and a crash loses at most the batch in flight.
//!
//! ```text
//!   pipeline ──flow()──► channel ──► writer thread ──batch (≤ N flows, ≤ 1 s)──► backend
//!                                                       one transaction:
//!                                                       flows  (INSERT OR IGNORE / COPY + ON CONFLICT DO NOTHING)
//!                                                       evidence (same)
//!                                                       equipment (upsert, only from newly inserted flows)
//! ```
//!
//! Reading goes through [`StoreReader`] ([`open_reader`]), which gives back the runs and
//! the original [`FlowRecord`]s, filtered by capture time, sensor, site, interface and
//! verdict.

// A build without a backend keeps the API (open_* then fail with `NotBuilt`).
#![cfg_attr(
    not(all(feature = "sqlite", feature = "postgres")),
    allow(dead_code, unused_variables, unreachable_code)
)]

#[cfg(feature = "postgres")]
mod postgres;

mod rows;
mod schema;
mod sink;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use rows::{parse_rfc3339_ns, summary_from_json};
pub use sink::{BATCH_FLOWS, BATCH_INTERVAL, StoreSink};

use crate::policy::verdict::Verdict;
use crate::report::{FlowRecord, Summary};
use crate::sink::{InputFile, RunInfo};
use std::path::PathBuf;

/// The schema version this cleanpath writes and reads (see `docs/store.md`).
pub const SCHEMA_VERSION: i64 = 1;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL is malformed, names an unsupported scheme, or carries a password.
    #[error("store URL: {0}")]
    Url(String),
    /// This build leaves the backend out.
    #[error("{0} store: this cleanpath was built without the `{1}` feature")]
    NotBuilt(&'static str, &'static str),
    /// The password file could not be read.
    #[error("reading the store password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The store's schema is not one this cleanpath knows.
    #[error("{0}")]
    Schema(String),
    /// A stored value could not be decoded.
    #[error("{what}: {source}")]
    Json {
        /// Which value.
        what: String,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored value is malformed.
    #[error("{0}")]
    Corrupt(String),
    /// The writer was used out of order (a batch before `begin`, …).
    #[error("{0}")]
    Usage(&'static str),
    /// SQLite failed.
    #[cfg(feature = "sqlite")]
    #[error("sqlite {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// Underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL failed.
    #[cfg(feature = "postgres")]
    #[error("postgres {target}: {source}")]
    Postgres {
        /// Host and database (never the password).
        target: String,
        /// Underlying error.
        #[source]
        source: ::postgres::Error,
    },
    /// The writer thread stopped unexpectedly.
    #[error("store writer thread stopped: {0}")]
    Writer(String),
}

/// Result of store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a store lives, parsed from `--store URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite:PATH` (or `sqlite://PATH`): one database file.
    Sqlite(PathBuf),
    /// `postgres://USER@HOST[:PORT]/DB` or a key=value conninfo (`host=/run/pg dbname=…`),
    /// with no password in it.
    Postgres(String),
}

impl StoreUrl {
    /// Parses a store URL.
    ///
    /// # Errors
    /// [`Error::Url`] for an unknown scheme, an empty path, or a PostgreSQL URL that
    /// contains a password (passwords come from `PGPASSWORD` or a file, never argv).
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::Url(format!(
                    "'{url}' names no file: use sqlite:PATH, e.g. sqlite:cleanpath.db"
                )));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let is_pg_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let is_conninfo = !url.contains("://") && url.contains('=');
        if is_pg_url || is_conninfo {
            if has_password(url) {
                return Err(Error::Url(
                    "the PostgreSQL URL contains a password; command lines are visible to every \
                     user of the machine (ps, /proc), so give the password in the PGPASSWORD \
                     environment variable or with --store-password-file FILE instead"
                        .into(),
                ));
            }
            return Ok(Self::Postgres(url.to_string()));
        }
        Err(Error::Url(format!(
            "'{url}': expected sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE"
        )))
    }
}

/// Reports whether a PostgreSQL URL or conninfo string carries a password.
fn has_password(url: &str) -> bool {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let query_pw = rest
            .split_once('?')
            .is_some_and(|(_, q)| q.split('&').any(|kv| kv.starts_with("password=")));
        return authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
            || query_pw;
    }
    url.split_whitespace()
        .any(|kv| kv.trim_start().starts_with("password"))
}

/// How to authenticate to a PostgreSQL store.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Read the password from this file (first line) instead of `PGPASSWORD`.
    pub password_file: Option<PathBuf>,
}

impl Credentials {
    /// Returns the password: the file's first line, else `PGPASSWORD`, else none.
    ///
    /// # Errors
    /// The password file cannot be read.
    pub fn password(&self) -> Result<Option<String>> {
        if let Some(p) = &self.password_file {
            let text = std::fs::read_to_string(p).map_err(|source| Error::PasswordFile {
                path: p.clone(),
                source,
            })?;
            return Ok(Some(text.lines().next().unwrap_or("").to_string()));
        }
        Ok(std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()))
    }
}

/// A finished run's closing values, written at `finish`.
#[derive(Debug)]
pub(crate) struct RunEnd<'a> {
    pub(crate) finished_unix_ms: i64,
    pub(crate) summary: &'a Summary,
    pub(crate) summary_json: String,
}

/// One prepared batch row per flow (see `rows.rs`).
pub(crate) use rows::FlowRow;

/// What a backend does; one implementation per database.
pub(crate) trait Backend: Send {
    /// Inserts the run row (idempotent).
    fn insert_run(&mut self, run: &RunInfo, inputs_json: &str) -> Result<()>;
    /// Writes a batch in one transaction; returns how many flows were new.
    fn write_batch(&mut self, sensor: &str, run_id: &str, rows: &[FlowRow]) -> Result<usize>;
    /// Marks the run finished and stores its summary.
    fn finish_run(&mut self, sensor: &str, run_id: &str, end: &RunEnd<'_>) -> Result<()>;
}

/// Writes one run to a store, synchronously: [`StoreSink`] drives it from its writer
/// thread; tests and tools may call it directly.
pub struct Writer {
    backend: Box<dyn Backend>,
    run: Option<(String, String)>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("run", &self.run).finish()
    }
}

/// Opens a store for writing, creating or migrating its schema as needed.
///
/// # Errors
/// A bad URL, a backend this build leaves out, a store that cannot be opened or
/// migrated, or one with a newer schema than this cleanpath knows.
pub fn open_writer(url: &str, creds: &Credentials) -> Result<Writer> {
    let backend: Box<dyn Backend> = match StoreUrl::parse(url)? {
        #[cfg(feature = "sqlite")]
        StoreUrl::Sqlite(path) => Box::new(sqlite::SqliteStore::open_rw(&path)?),
        #[cfg(not(feature = "sqlite"))]
        StoreUrl::Sqlite(_) => return Err(Error::NotBuilt("SQLite", "sqlite")),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => Box::new(postgres::PgStore::connect(&u, creds, true)?),
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => return Err(Error::NotBuilt("PostgreSQL", "postgres")),
    };
    Ok(Writer { backend, run: None })
}

impl Writer {
    /// Records the start of a run (sensor, site, run id, inputs with their hashes).
    ///
    /// # Errors
    /// The run row cannot be written.
    pub fn begin(&mut self, run: &RunInfo) -> Result<()> {
        if run.run_id.is_empty() {
            return Err(Error::Usage("a stored run needs a run id"));
        }
        let inputs_json = serde_json::to_string(&run.inputs).map_err(|source| Error::Json {
            what: "run inputs".into(),
            source,
        })?;
        self.backend.insert_run(run, &inputs_json)?;
        self.run = Some((run.sensor.clone(), run.run_id.clone()));
        Ok(())
    }

    /// Writes flows as one transaction. Flows already stored for this run (same flow id)
    /// are left as they are, so a replayed batch changes nothing. Returns how many flows
    /// were new.
    ///
    /// # Errors
    /// Called before [`Writer::begin`], or the transaction failed (nothing of it is kept).
    pub fn write_batch(&mut self, flows: &[FlowRecord]) -> Result<usize> {
        let (sensor, run_id) = self
            .run
            .as_ref()
            .ok_or(Error::Usage("write_batch before begin"))?;
        let rows = flows.iter().map(FlowRow::new).collect::<Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(0);
        }
        self.backend.write_batch(sensor, run_id, &rows)
    }

    /// Stores the summary and marks the run finished.
    ///
    /// # Errors
    /// Called before [`Writer::begin`], or the update failed.
    pub fn finish(&mut self, summary: &Summary, finished_unix_ms: i64) -> Result<()> {
        let (sensor, run_id) = self
            .run
            .as_ref()
            .ok_or(Error::Usage("finish before begin"))?;
        let summary_json = serde_json::to_string(summary).map_err(|source| Error::Json {
            what: "run summary".into(),
            source,
        })?;
        self.backend.finish_run(
            sensor,
            run_id,
            &RunEnd {
                finished_unix_ms,
                summary,
                summary_json,
            },
        )
    }
}

/// Which stored flows and runs a reader returns. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Flows whose last packet is at or after this capture time (ns since the epoch).
    pub from_ns: Option<i64>,
    /// Flows whose first packet is before this capture time (ns since the epoch).
    pub to_ns: Option<i64>,
    /// Only this sensor.
    pub sensor: Option<String>,
    /// Only runs of this site.
    pub site: Option<String>,
    /// Only flows whose first packet came from this interface index (within its file).
    pub iface: Option<u32>,
    /// Only flows with this verdict.
    pub verdict: Option<Verdict>,
}

/// One stored run.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Sensor, site, run id, start, inputs (with SHA-256) and version, as at `begin`.
    pub info: RunInfo,
    /// Wall-clock end of the run (ms since the epoch), once finished.
    pub finished_unix_ms: Option<i64>,
    /// Whether `finish` ran: every flow of the run is in the store.
    pub finished: bool,
    /// The run's summary (counters, provenance), once finished.
    pub summary: Option<Summary>,
}

impl RunRow {
    /// The inputs, for convenience.
    pub fn inputs(&self) -> &[InputFile] {
        &self.info.inputs
    }
}

/// Reads a store.
pub trait StoreReader {
    /// Returns the runs matching the filter's sensor and site (the time, interface and
    /// verdict fields apply to flows only), oldest first.
    ///
    /// # Errors
    /// The query failed or a stored value is malformed.
    fn runs(&mut self, filter: &Filter) -> Result<Vec<RunRow>>;

    /// Returns the flows matching the filter, ordered by first packet time, then sensor,
    /// run id and flow id, exactly as they were written.
    ///
    /// # Errors
    /// The query failed or a stored record is malformed.
    fn flows(&mut self, filter: &Filter) -> Result<Vec<FlowRecord>> {
        Ok(self
            .flows_by_run(filter)?
            .into_iter()
            .map(|f| f.record)
            .collect())
    }

    /// As [`StoreReader::flows`], each with the sensor and run it belongs to.
    ///
    /// # Errors
    /// The query failed or a stored record is malformed.
    fn flows_by_run(&mut self, filter: &Filter) -> Result<Vec<StoredFlow>>;

    /// Returns the learned equipment, ordered by sensor, hop kind and value.
    ///
    /// # Errors
    /// The query failed.
    fn equipment(&mut self, sensor: Option<&str>) -> Result<Vec<EquipmentRow>>;

    /// Checks the store's consistency: the engine's own check (SQLite
    /// `PRAGMA integrity_check` and `foreign_key_check`), every finished run holding
    /// as many flows as its summary counted, and the evidence and equipment tables
    /// agreeing with the stored flow records. Returns the problems (empty when sound).
    ///
    /// # Errors
    /// A query failed.
    fn check(&mut self) -> Result<Vec<String>>;
}

/// A stored flow with the run it belongs to.
#[derive(Debug, Clone)]
pub struct StoredFlow {
    /// Sensor of the run.
    pub sensor: String,
    /// Run id.
    pub run_id: String,
    /// The flow as written.
    pub record: FlowRecord,
}

/// One piece of equipment (a hop other than an inner endpoint) as learned from flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentRow {
    /// Sensor that saw it.
    pub sensor: String,
    /// Hop kind (`l2_neighbour`, `tunnel_endpoint`, `srv6_segment`).
    pub hop_kind: String,
    /// MAC or IP address.
    pub hop_value: String,
    /// Attribution as JSON (as in the flow records).
    pub attribution: String,
    /// Registrant or AS organisation, if attributed.
    pub org: Option<String>,
    /// Origin AS, for addresses.
    pub asn: Option<i64>,
    /// Denylist entity it matched (a counted match first), if any.
    pub entity: Option<String>,
    /// First capture time it was seen (ns).
    pub first_seen_ns: i64,
    /// Last capture time it was seen (ns).
    pub last_seen_ns: i64,
    /// Flows it was a hop of.
    pub flows: i64,
}

/// Opens a store for reading. The store must exist and have a known schema version.
///
/// # Errors
/// A bad URL, a backend this build leaves out, a missing store, or an unknown schema.
pub fn open_reader(url: &str, creds: &Credentials) -> Result<Box<dyn StoreReader>> {
    match StoreUrl::parse(url)? {
        #[cfg(feature = "sqlite")]
        StoreUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open_ro(&path)?)),
        #[cfg(not(feature = "sqlite"))]
        StoreUrl::Sqlite(_) => Err(Error::NotBuilt("SQLite", "sqlite")),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => Ok(Box::new(postgres::PgStore::connect(&u, creds, false)?)),
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => Err(Error::NotBuilt("PostgreSQL", "postgres")),
    }
}

/// Problems with the evidence and equipment totals, given the totals the tables hold.
pub(crate) fn check_totals(
    flows: &[FlowRecord],
    evidence_rows: i64,
    equipment_flows: i64,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut want_ev = 0i64;
    let mut want_eq = 0i64;
    for f in flows {
        match rows::FlowRow::new(f) {
            Ok(r) => {
                want_ev += i64::try_from(r.evidence.len()).unwrap_or(i64::MAX);
                want_eq += i64::try_from(r.equipment.len()).unwrap_or(i64::MAX);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if want_ev != evidence_rows {
        problems.push(format!(
            "evidence holds {evidence_rows} rows, the flow records have {want_ev} matches"
        ));
    }
    if want_eq != equipment_flows {
        problems.push(format!(
            "equipment counts {equipment_flows} flow hops, the flow records have {want_eq}"
        ));
    }
    problems
}

/// Finished runs whose flow count differs from the flows stored for them.
pub(crate) const RUN_COUNT_CHECK: &str = "SELECT r.sensor, r.run_id, r.flows, COUNT(f.flow_id) \
    FROM runs r LEFT JOIN flows f ON f.sensor = r.sensor AND f.run_id = r.run_id \
    WHERE r.finished GROUP BY r.sensor, r.run_id, r.flows HAVING COUNT(f.flow_id) <> r.flows";

/// Formats a [`RUN_COUNT_CHECK`] row.
pub(crate) fn run_count_problem(sensor: &str, run_id: &str, want: i64, have: i64) -> String {
    format!(
        "finished run {sensor}/{run_id}: its summary counts {want} flows, the store holds {have}"
    )
}

/// Wall-clock now in ms since the epoch (run end, migration log).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Checks a store's schema version against [`SCHEMA_VERSION`].
pub(crate) fn check_version(found: i64, what: &str) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(Error::Schema(format!(
            "{what}: store schema version {found} is newer than this cleanpath understands \
             ({SCHEMA_VERSION}); upgrade cleanpath"
        )));
    }
    if found < 1 {
        return Err(Error::Schema(format!(
            "{what}: not a cleanpath store (no schema version); write to it once with \
             `cleanpath analyze --store …` to create it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            StoreUrl::parse("sqlite:cleanpath.db").unwrap(),
            StoreUrl::Sqlite("cleanpath.db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/cp.db").unwrap(),
            StoreUrl::Sqlite("/var/lib/cp.db".into())
        );
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert_eq!(
            StoreUrl::parse("postgres://audit@db.example:5433/cleanpath").unwrap(),
            StoreUrl::Postgres("postgres://audit@db.example:5433/cleanpath".into())
        );
        assert!(matches!(
            StoreUrl::parse("host=/tmp/pg dbname=x user=postgres").unwrap(),
            StoreUrl::Postgres(_)
        ));
        assert!(StoreUrl::parse("mysql://x@y/z").is_err());
        assert!(StoreUrl::parse("cleanpath.db").is_err());
    }

    #[test]
    fn passwords_in_urls_are_refused() {
        for bad in [
            "postgres://audit:s3cret@db.example/cleanpath",
            "postgresql://audit:@db/cp",
            "postgres://audit@db/cp?password=x",
            "host=db user=audit password=x dbname=cp",
        ] {
            let e = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("PGPASSWORD"), "{bad}: {e}");
        }
        // A colon in the host part (port) is not a password.
        assert!(StoreUrl::parse("postgres://audit@db:5432/cp").is_ok());
    }
}
