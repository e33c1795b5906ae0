//! SQLite backend: one file in WAL mode, `synchronous = FULL` (a committed batch survives
//! a crash of the process or the machine), each batch one `BEGIN IMMEDIATE` transaction
//! of `INSERT OR IGNORE`s.

use super::rows::{self, EndCols, FlowRow, Param, RunCols};
use super::schema::{self, EQUIPMENT_COLS, EVIDENCE_COLS, FLOW_COLS};
use super::{
    Backend, EquipmentRow, Error, Filter, Result, RunEnd, RunRow, StoreReader, StoredFlow,
};
use crate::sink::RunInfo;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params, params_from_iter};
use std::path::Path;
use std::time::Duration;

/// A SQLite store, open for writing or reading.
pub(crate) struct SqliteStore {
    conn: Connection,
    path: String,
}

fn ph(n: usize) -> String {
    format!("?{n}")
}

impl SqliteStore {
    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Opens (creating if needed) and migrates a store for writing.
    pub(crate) fn open_rw(path: &Path) -> Result<Self> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| Error::Sqlite {
            path: p.clone(),
            source,
        })?;
        let mut s = Self { conn, path: p };
        s.pragmas()?;
        s.migrate()?;
        Ok(s)
    }

    /// Opens an existing store for reading.
    pub(crate) fn open_ro(path: &Path) -> Result<Self> {
        let p = path.display().to_string();
        if !path.exists() {
            return Err(Error::Schema(format!("{p}: no such store")));
        }
        // Read-write without create: a WAL reader needs to write the -shm index.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| Error::Sqlite {
            path: p.clone(),
            source,
        })?;
        let s = Self { conn, path: p };
        s.conn
            .busy_timeout(Duration::from_secs(30))
            .map_err(s.err())?;
        s.conn
            .pragma_update(None, "query_only", true)
            .map_err(s.err())?;
        let has_table: bool = s
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_version')",
                [],
                |r| r.get(0),
            )
            .map_err(s.err())?;
        let v = if has_table { s.version()? } else { 0 };
        super::check_version(v, &s.path)?;
        Ok(s)
    }

    fn pragmas(&mut self) -> Result<()> {
        let e = |source| Error::Sqlite {
            path: self.path.clone(),
            source,
        };
        self.conn.busy_timeout(Duration::from_secs(30)).map_err(e)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Schema(format!(
                "{}: cannot switch to WAL journaling (got {mode})",
                self.path
            )));
        }
        self.conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(e)
    }

    fn version(&self) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let e = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        tx.execute_batch(schema::VERSION_TABLE).map_err(e)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        if current > super::SCHEMA_VERSION {
            super::check_version(current, &path)?;
        }
        for &(v, ddl) in schema::MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.execute_batch(ddl).map_err(e)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_unix_ms) VALUES (?1, ?2)",
                params![v, super::now_ms()],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Runs `PRAGMA integrity_check` and `foreign_key_check`; returns the problems.
    fn engine_check(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(self.err())?;
        let mut out: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        if out == ["ok"] {
            out.clear();
        }
        let mut st = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .map_err(self.err())?;
        let fk = st
            .query_map([], |r| {
                Ok(format!(
                    "foreign key: row {} of {} has no parent in {}",
                    r.get::<_, Option<i64>>(1)?.unwrap_or(-1),
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(2)?
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        out.extend(fk);
        Ok(out)
    }

    fn scalar(&self, sql: &str) -> Result<i64> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(self.err())
    }
}

impl Backend for SqliteStore {
    fn insert_run(&mut self, run: &RunInfo, inputs_json: &str) -> Result<()> {
        self.conn
            .execute(
                &schema::run_insert(&ph),
                params![
                    run.sensor,
                    run.run_id,
                    run.site,
                    run.version,
                    run.started_unix_ms,
                    inputs_json
                ],
            )
            .map(drop)
            .map_err(self.err())
    }

    fn write_batch(&mut self, sensor: &str, run_id: &str, rows: &[FlowRow]) -> Result<usize> {
        let path = self.path.clone();
        let e = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let mut new: Vec<&FlowRow> = Vec::with_capacity(rows.len());
        {
            let mut ins = tx
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO flows ({FLOW_COLS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
                ))
                .map_err(e)?;
            for r in rows {
                let n = ins
                    .execute(params![
                        sensor,
                        run_id,
                        r.flow_id,
                        r.verdict,
                        r.file,
                        r.iface,
                        r.first_ns,
                        r.last_ns,
                        r.proto,
                        r.src,
                        r.dst,
                        r.src_port,
                        r.dst_port,
                        r.teid,
                        r.packets_fwd,
                        r.packets_rev,
                        r.bytes_fwd,
                        r.bytes_rev,
                        r.record
                    ])
                    .map_err(e)?;
                if n == 1 {
                    new.push(r);
                }
            }
            let mut ev = tx
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO evidence ({EVIDENCE_COLS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ))
                .map_err(e)?;
            for r in &new {
                for x in &r.evidence {
                    ev.execute(params![
                        sensor,
                        run_id,
                        r.flow_id,
                        x.seq,
                        x.hop_kind,
                        x.hop_value,
                        x.entity,
                        x.category,
                        x.confidence,
                        x.counts,
                        x.rule_kind,
                        x.rule_value,
                        x.source,
                        x.date,
                        x.rule_at
                    ])
                    .map_err(e)?;
                }
            }
            let mut eq = tx
                .prepare_cached(&format!(
                    "INSERT INTO equipment ({EQUIPMENT_COLS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) {}",
                    schema::equipment_upsert("min", "max")
                ))
                .map_err(e)?;
            for a in rows::equipment_of(new.iter().copied()) {
                eq.execute(params![
                    sensor,
                    a.hop.hop_kind,
                    a.hop.hop_value,
                    a.hop.attribution,
                    a.hop.org,
                    a.hop.asn,
                    a.hop.entity,
                    a.first_ns,
                    a.last_ns,
                    a.flows
                ])
                .map_err(e)?;
            }
        }
        let n = new.len();
        tx.commit().map_err(e)?;
        Ok(n)
    }

    fn finish_run(&mut self, sensor: &str, run_id: &str, end: &RunEnd<'_>) -> Result<()> {
        let c = EndCols::new(end);
        self.conn
            .execute(
                &schema::finish_update(&ph),
                params![
                    c.finished_unix_ms,
                    c.inputs_complete,
                    c.frames,
                    c.flows,
                    c.clean,
                    c.unknown,
                    c.violation,
                    c.frames_without_flow,
                    c.decode_errors,
                    c.rules,
                    c.denylists,
                    c.min_confidence,
                    c.asn_v4_ranges,
                    c.asn_v6_ranges,
                    c.oui_assignments,
                    c.summary,
                    sensor,
                    run_id
                ],
            )
            .map(drop)
            .map_err(self.err())
    }
}

fn bind(params: Vec<Param>) -> Vec<rusqlite::types::Value> {
    params
        .into_iter()
        .map(|p| match p {
            Param::Int(i) => rusqlite::types::Value::Integer(i),
            Param::Text(s) => rusqlite::types::Value::Text(s),
        })
        .collect()
}

impl StoreReader for SqliteStore {
    fn runs(&mut self, filter: &Filter) -> Result<Vec<RunRow>> {
        let (sql, p) = rows::runs_query(filter, &ph, "");
        let mut st = self.conn.prepare(&sql).map_err(self.err())?;
        let cols = st
            .query_map(params_from_iter(bind(p)), |r| {
                Ok(RunCols {
                    sensor: r.get(0)?,
                    run_id: r.get(1)?,
                    site: r.get(2)?,
                    version: r.get(3)?,
                    started_unix_ms: r.get(4)?,
                    inputs: r.get(5)?,
                    finished_unix_ms: r.get(6)?,
                    finished: r.get(7)?,
                    summary: r.get(8)?,
                })
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        cols.into_iter().map(RunCols::decode).collect()
    }

    fn flows_by_run(&mut self, filter: &Filter) -> Result<Vec<StoredFlow>> {
        let (sql, p) = rows::flows_query(filter, &ph, "");
        let mut st = self.conn.prepare(&sql).map_err(self.err())?;
        let mut q = st.query(params_from_iter(bind(p))).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(r) = q.next().map_err(self.err())? {
            let json: String = r.get(0).map_err(self.err())?;
            out.push(StoredFlow {
                record: rows::decode_record(&json)?,
                sensor: r.get(1).map_err(self.err())?,
                run_id: r.get(2).map_err(self.err())?,
            });
        }
        Ok(out)
    }

    fn equipment(&mut self, sensor: Option<&str>) -> Result<Vec<EquipmentRow>> {
        let sql = rows::equipment_query("?1", "", sensor.is_some());
        let mut st = self.conn.prepare(&sql).map_err(self.err())?;
        let p: Vec<&str> = sensor.into_iter().collect();
        st.query_map(params_from_iter(p), |r| {
            Ok(EquipmentRow {
                sensor: r.get(0)?,
                hop_kind: r.get(1)?,
                hop_value: r.get(2)?,
                attribution: r.get(3)?,
                org: r.get(4)?,
                asn: r.get(5)?,
                entity: r.get(6)?,
                first_seen_ns: r.get(7)?,
                last_seen_ns: r.get(8)?,
                flows: r.get(9)?,
            })
        })
        .map_err(self.err())?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(self.err())
    }

    fn check(&mut self) -> Result<Vec<String>> {
        let mut problems = self.engine_check()?;
        let mut st = self
            .conn
            .prepare(super::RUN_COUNT_CHECK)
            .map_err(self.err())?;
        let bad = st
            .query_map([], |r| {
                Ok(super::run_count_problem(
                    &r.get::<_, String>(0)?,
                    &r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        drop(st);
        problems.extend(bad);
        let ev = self.scalar("SELECT COUNT(*) FROM evidence")?;
        let eq = self.scalar("SELECT COALESCE(SUM(flows), 0) FROM equipment")?;
        let flows = self.flows(&Filter::default())?;
        problems.extend(super::check_totals(&flows, ev, eq));
        Ok(problems)
    }
}
