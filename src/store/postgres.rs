//! PostgreSQL backend: the central store many sensors write to at once. Each batch is one
//! transaction: `COPY` into session-temporary staging tables, then
//! `INSERT … SELECT … ON CONFLICT DO NOTHING` into the real ones, so a replayed batch adds
//! nothing. Migrations take a transaction-scoped advisory lock, so sensors that start
//! together do not race to create the schema.
//!
//! The connection is plain TCP or a Unix socket (`host=/run/postgresql`); TLS is not
//! built in yet (see `docs/store.md`).

use super::rows::{self, EndCols, FlowRow, Param, RunCols};
use super::schema::{self, EQUIPMENT_COLS, EVIDENCE_COLS, FLOW_COLS};
use super::{
    Backend, Credentials, EquipmentRow, Error, Filter, Result, RunEnd, RunRow, StoreReader,
    StoredFlow,
};
use crate::sink::RunInfo;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls};
use std::collections::HashSet;
use std::io::Write;
use std::str::FromStr;

/// Advisory lock key serialising migrations ("cleanpath" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x636c_6561_6e70_6174;

/// Sorts text bytewise, as SQLite does, whatever the database's collation.
const COLLATE: &str = " COLLATE \"C\"";

/// A PostgreSQL store connection.
pub(crate) struct PgStore {
    client: Client,
    target: String,
    staged: bool,
}

fn ph(n: usize) -> String {
    format!("${n}")
}

/// Wraps a driver error with the store it came from.
fn pg_err(target: &str) -> impl Fn(postgres::Error) -> Error + '_ {
    |source| Error::Postgres {
        target: target.to_string(),
        source,
    }
}

impl PgStore {
    /// Connects; for writing (`migrate`), creates or migrates the schema and the staging
    /// tables; for reading, checks the schema version.
    pub(crate) fn connect(url: &str, creds: &Credentials, migrate: bool) -> Result<Self> {
        let mut cfg = Config::from_str(url).map_err(|e| Error::Url(e.to_string()))?;
        if cfg.get_password().is_some() {
            return Err(Error::Url(
                "the PostgreSQL URL contains a password: give it in PGPASSWORD or with \
                 --store-password-file FILE instead"
                    .into(),
            ));
        }
        if let Some(pw) = creds.password()? {
            cfg.password(pw);
        }
        cfg.application_name("cleanpath");
        let hosts: Vec<String> = cfg
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(s) => s.clone(),
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        let target = format!(
            "{}/{}",
            hosts.join(","),
            cfg.get_dbname().or(cfg.get_user()).unwrap_or("")
        );
        let client = cfg.connect(NoTls).map_err(|source| Error::Postgres {
            target: target.clone(),
            source,
        })?;
        let mut s = Self {
            client,
            target,
            staged: false,
        };
        if migrate {
            s.migrate()?;
        } else {
            let v = s.version()?;
            super::check_version(v, &s.target)?;
        }
        Ok(s)
    }

    fn version(&mut self) -> Result<i64> {
        let e = |source| Error::Postgres {
            target: self.target.clone(),
            source,
        };
        let exists: bool = self
            .client
            .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
            .map_err(e)?
            .try_get(0)
            .map_err(e)?;
        if !exists {
            return Ok(0);
        }
        self.client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(e)?
            .try_get(0)
            .map_err(e)
    }

    fn migrate(&mut self) -> Result<()> {
        let target = self.target.clone();
        let e = |source| Error::Postgres {
            target: target.clone(),
            source,
        };
        let mut tx = self.client.transaction().map_err(e)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(e)?;
        tx.batch_execute(schema::VERSION_TABLE).map_err(e)?;
        let current: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .map_err(e)?
            .try_get(0)
            .map_err(e)?;
        if current > super::SCHEMA_VERSION {
            super::check_version(current, &target)?;
        }
        for &(v, ddl) in schema::MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.batch_execute(ddl).map_err(e)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_unix_ms) VALUES ($1, $2)",
                &[&v, &super::now_ms()],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Creates this session's staging tables (once per connection).
    fn stage(&mut self) -> Result<()> {
        if self.staged {
            return Ok(());
        }
        self.client
            .batch_execute(
                "CREATE TEMP TABLE flows_stage (LIKE flows) ON COMMIT DELETE ROWS;
                 CREATE TEMP TABLE evidence_stage (LIKE evidence) ON COMMIT DELETE ROWS;
                 CREATE TEMP TABLE equipment_stage (LIKE equipment) ON COMMIT DELETE ROWS;",
            )
            .map_err(pg_err(&self.target))?;
        self.staged = true;
        Ok(())
    }
}

/// Appends one field in COPY text format: `\N` for NULL, backslash escapes otherwise.
fn field(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => buf.extend_from_slice(b"\\N"),
        Some(s) => {
            for &b in s.as_bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
}

/// A row of COPY text fields.
struct CopyRow<'a>(&'a mut Vec<u8>, bool);

impl CopyRow<'_> {
    fn s(&mut self, v: Option<&str>) -> &mut Self {
        if self.1 {
            self.0.push(b'\t');
        }
        self.1 = true;
        field(self.0, v);
        self
    }
    fn t(&mut self, v: &str) -> &mut Self {
        self.s(Some(v))
    }
    fn i(&mut self, v: Option<i64>) -> &mut Self {
        self.s(v.map(|n| n.to_string()).as_deref())
    }
    fn n(&mut self, v: i64) -> &mut Self {
        self.i(Some(v))
    }
    fn b(&mut self, v: bool) -> &mut Self {
        self.t(if v { "t" } else { "f" })
    }
    fn end(&mut self) {
        self.0.push(b'\n');
    }
}

fn copy_in(tx: &mut postgres::Transaction<'_>, table: &str, cols: &str, data: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Corrupt(format!("COPY into {table}: {e}"));
    let mut w = tx
        .copy_in(&format!("COPY {table} ({cols}) FROM STDIN"))
        .map_err(|source| Error::Postgres {
            target: table.into(),
            source,
        })?;
    w.write_all(data).map_err(io)?;
    w.finish().map_err(|source| Error::Postgres {
        target: table.into(),
        source,
    })?;
    Ok(())
}

impl Backend for PgStore {
    fn insert_run(&mut self, run: &RunInfo, inputs_json: &str) -> Result<()> {
        self.client
            .execute(
                &schema::run_insert(&ph),
                &[
                    &run.sensor,
                    &run.run_id,
                    &run.site,
                    &run.version,
                    &run.started_unix_ms,
                    &inputs_json,
                ],
            )
            .map(drop)
            .map_err(pg_err(&self.target))
    }

    fn write_batch(&mut self, sensor: &str, run_id: &str, rows: &[FlowRow]) -> Result<usize> {
        self.stage()?;
        let target = self.target.clone();
        let e = |source| Error::Postgres {
            target: target.clone(),
            source,
        };
        let mut tx = self.client.transaction().map_err(e)?;

        let mut buf = Vec::with_capacity(rows.len() * 1024);
        for r in rows {
            CopyRow(&mut buf, false)
                .t(sensor)
                .t(run_id)
                .n(r.flow_id)
                .t(&r.verdict)
                .t(&r.file)
                .n(r.iface)
                .n(r.first_ns)
                .n(r.last_ns)
                .i(r.proto.map(i64::from))
                .s(r.src.as_deref())
                .s(r.dst.as_deref())
                .i(r.src_port.map(i64::from))
                .i(r.dst_port.map(i64::from))
                .i(r.teid)
                .n(r.packets_fwd)
                .n(r.packets_rev)
                .n(r.bytes_fwd)
                .n(r.bytes_rev)
                .t(&r.record)
                .end();
        }
        copy_in(&mut tx, "flows_stage", FLOW_COLS, &buf)?;
        let inserted: HashSet<i64> = tx
            .query(
                &format!(
                    "INSERT INTO flows ({FLOW_COLS}) SELECT {FLOW_COLS} FROM flows_stage \
                     ON CONFLICT (sensor, run_id, flow_id) DO NOTHING RETURNING flow_id"
                ),
                &[],
            )
            .map_err(e)?
            .iter()
            .map(|r| r.try_get::<_, i64>(0).map_err(e))
            .collect::<Result<_>>()?;
        let new: Vec<&FlowRow> = rows
            .iter()
            .filter(|r| inserted.contains(&r.flow_id))
            .collect();

        buf.clear();
        for r in &new {
            for x in &r.evidence {
                CopyRow(&mut buf, false)
                    .t(sensor)
                    .t(run_id)
                    .n(r.flow_id)
                    .n(i64::from(x.seq))
                    .t(&x.hop_kind)
                    .t(&x.hop_value)
                    .t(&x.entity)
                    .t(&x.category)
                    .t(&x.confidence)
                    .b(x.counts)
                    .t(&x.rule_kind)
                    .t(&x.rule_value)
                    .t(&x.source)
                    .t(&x.date)
                    .t(&x.rule_at)
                    .end();
            }
        }
        if !buf.is_empty() {
            copy_in(&mut tx, "evidence_stage", EVIDENCE_COLS, &buf)?;
            tx.execute(
                &format!(
                    "INSERT INTO evidence ({EVIDENCE_COLS}) SELECT {EVIDENCE_COLS} FROM evidence_stage \
                     ON CONFLICT (sensor, run_id, flow_id, seq) DO NOTHING"
                ),
                &[],
            )
            .map_err(e)?;
        }

        buf.clear();
        for a in rows::equipment_of(new.iter().copied()) {
            CopyRow(&mut buf, false)
                .t(sensor)
                .t(&a.hop.hop_kind)
                .t(&a.hop.hop_value)
                .t(&a.hop.attribution)
                .s(a.hop.org.as_deref())
                .i(a.hop.asn)
                .s(a.hop.entity.as_deref())
                .n(a.first_ns)
                .n(a.last_ns)
                .n(a.flows)
                .end();
        }
        if !buf.is_empty() {
            copy_in(&mut tx, "equipment_stage", EQUIPMENT_COLS, &buf)?;
            // Key order, so concurrent writers take row locks in the same order.
            tx.execute(
                &format!(
                    "INSERT INTO equipment ({EQUIPMENT_COLS}) SELECT {EQUIPMENT_COLS} FROM equipment_stage \
                     ORDER BY sensor{COLLATE}, hop_kind{COLLATE}, hop_value{COLLATE} {}",
                    schema::equipment_upsert("LEAST", "GREATEST")
                ),
                &[],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(new.len())
    }

    fn finish_run(&mut self, sensor: &str, run_id: &str, end: &RunEnd<'_>) -> Result<()> {
        let c = EndCols::new(end);
        self.client
            .execute(
                &schema::finish_update(&ph),
                &[
                    &c.finished_unix_ms,
                    &c.inputs_complete,
                    &c.frames,
                    &c.flows,
                    &c.clean,
                    &c.unknown,
                    &c.violation,
                    &c.frames_without_flow,
                    &c.decode_errors,
                    &c.rules,
                    &c.denylists,
                    &c.min_confidence,
                    &c.asn_v4_ranges,
                    &c.asn_v6_ranges,
                    &c.oui_assignments,
                    &c.summary,
                    &sensor,
                    &run_id,
                ],
            )
            .map(drop)
            .map_err(pg_err(&self.target))
    }
}

fn bind(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Param::Int(i) => i as &(dyn ToSql + Sync),
            Param::Text(s) => s as &(dyn ToSql + Sync),
        })
        .collect()
}

impl StoreReader for PgStore {
    fn runs(&mut self, filter: &Filter) -> Result<Vec<RunRow>> {
        let (sql, p) = rows::runs_query(filter, &ph, COLLATE);
        let target = self.target.clone();
        let e = |source| Error::Postgres {
            target: target.clone(),
            source,
        };
        self.client
            .query(&sql, &bind(&p))
            .map_err(e)?
            .iter()
            .map(|r| {
                RunCols {
                    sensor: r.try_get(0).map_err(e)?,
                    run_id: r.try_get(1).map_err(e)?,
                    site: r.try_get(2).map_err(e)?,
                    version: r.try_get(3).map_err(e)?,
                    started_unix_ms: r.try_get(4).map_err(e)?,
                    inputs: r.try_get(5).map_err(e)?,
                    finished_unix_ms: r.try_get(6).map_err(e)?,
                    finished: r.try_get(7).map_err(e)?,
                    summary: r.try_get(8).map_err(e)?,
                }
                .decode()
            })
            .collect()
    }

    fn flows_by_run(&mut self, filter: &Filter) -> Result<Vec<StoredFlow>> {
        let (sql, p) = rows::flows_query(filter, &ph, COLLATE);
        let rows = self
            .client
            .query(&sql, &bind(&p))
            .map_err(pg_err(&self.target))?;
        let err = pg_err(&self.target);
        rows.iter()
            .map(|r| {
                Ok(StoredFlow {
                    record: rows::decode_record(r.try_get::<_, &str>(0).map_err(&err)?)?,
                    sensor: r.try_get(1).map_err(&err)?,
                    run_id: r.try_get(2).map_err(&err)?,
                })
            })
            .collect()
    }

    fn equipment(&mut self, sensor: Option<&str>) -> Result<Vec<EquipmentRow>> {
        let sql = rows::equipment_query("$1", COLLATE, sensor.is_some());
        let p: Vec<&(dyn ToSql + Sync)> = match &sensor {
            Some(s) => vec![s],
            None => Vec::new(),
        };
        let e = pg_err(&self.target);
        self.client
            .query(&sql, &p)
            .map_err(&e)?
            .iter()
            .map(|r| {
                Ok(EquipmentRow {
                    sensor: r.try_get(0).map_err(&e)?,
                    hop_kind: r.try_get(1).map_err(&e)?,
                    hop_value: r.try_get(2).map_err(&e)?,
                    attribution: r.try_get(3).map_err(&e)?,
                    org: r.try_get(4).map_err(&e)?,
                    asn: r.try_get(5).map_err(&e)?,
                    entity: r.try_get(6).map_err(&e)?,
                    first_seen_ns: r.try_get(7).map_err(&e)?,
                    last_seen_ns: r.try_get(8).map_err(&e)?,
                    flows: r.try_get(9).map_err(&e)?,
                })
            })
            .collect()
    }

    fn check(&mut self) -> Result<Vec<String>> {
        let e = pg_err(&self.target);
        let mut problems = Vec::new();
        for r in self.client.query(super::RUN_COUNT_CHECK, &[]).map_err(&e)? {
            problems.push(super::run_count_problem(
                r.try_get(0).map_err(&e)?,
                r.try_get(1).map_err(&e)?,
                r.try_get(2).map_err(&e)?,
                r.try_get(3).map_err(&e)?,
            ));
        }
        let ev: i64 = self
            .client
            .query_one("SELECT COUNT(*) FROM evidence", &[])
            .map_err(&e)?
            .try_get(0)
            .map_err(&e)?;
        let eq: i64 = self
            .client
            .query_one("SELECT COALESCE(SUM(flows), 0)::BIGINT FROM equipment", &[])
            .map_err(&e)?
            .try_get(0)
            .map_err(&e)?;
        drop(e);
        let flows = self.flows(&Filter::default())?;
        problems.extend(super::check_totals(&flows, ev, eq));
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes() {
        let mut b = Vec::new();
        CopyRow(&mut b, false)
            .t("a\tb\\c\nd\re")
            .s(None)
            .n(-5)
            .b(true)
            .end();
        assert_eq!(b, b"a\\tb\\\\c\\nd\\re\t\\N\t-5\tt\n");
    }
}
