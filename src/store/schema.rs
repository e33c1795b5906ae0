//! The store schema, one text for both backends (SQLite reads `BIGINT` as INTEGER and
//! `BOOLEAN` as NUMERIC affinity, storing 0/1), applied by version. `docs/store.md`
//! documents every column.

/// Creates the version table; run before reading the version.
pub(crate) const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version BIGINT PRIMARY KEY,
    applied_unix_ms BIGINT NOT NULL
)";

/// Migrations in order: (version, statements). A store at version `v` gets every
/// migration above `v`, each in the same transaction as its version row.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[(1, V1)];

const V1: &str = r#"
CREATE TABLE runs (
    sensor              TEXT    NOT NULL,
    run_id              TEXT    NOT NULL,
    site                TEXT,
    version             TEXT    NOT NULL,
    started_unix_ms     BIGINT  NOT NULL,
    inputs              TEXT    NOT NULL,
    finished_unix_ms    BIGINT,
    finished            BOOLEAN NOT NULL DEFAULT FALSE,
    inputs_complete     BOOLEAN,
    frames              BIGINT,
    flows               BIGINT,
    clean               BIGINT,
    unknown             BIGINT,
    violation           BIGINT,
    frames_without_flow BIGINT,
    decode_errors       BIGINT,
    rules               BIGINT,
    denylists           TEXT,
    min_confidence      TEXT,
    asn_v4_ranges       BIGINT,
    asn_v6_ranges       BIGINT,
    oui_assignments     BIGINT,
    summary             TEXT,
    PRIMARY KEY (sensor, run_id)
);
CREATE INDEX runs_site ON runs (site);
CREATE INDEX runs_started ON runs (started_unix_ms);

CREATE TABLE flows (
    sensor      TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    flow_id     BIGINT  NOT NULL,
    verdict     TEXT    NOT NULL,
    file        TEXT    NOT NULL,
    iface       BIGINT  NOT NULL,
    first_ns    BIGINT  NOT NULL,
    last_ns     BIGINT  NOT NULL,
    proto       INTEGER,
    src         TEXT,
    dst         TEXT,
    src_port    INTEGER,
    dst_port    INTEGER,
    teid        BIGINT,
    packets_fwd BIGINT  NOT NULL,
    packets_rev BIGINT  NOT NULL,
    bytes_fwd   BIGINT  NOT NULL,
    bytes_rev   BIGINT  NOT NULL,
    record      TEXT    NOT NULL,
    PRIMARY KEY (sensor, run_id, flow_id),
    FOREIGN KEY (sensor, run_id) REFERENCES runs (sensor, run_id)
);
CREATE INDEX flows_first_ns ON flows (first_ns);
CREATE INDEX flows_verdict ON flows (verdict, first_ns);
CREATE INDEX flows_sensor ON flows (sensor, first_ns);

CREATE TABLE evidence (
    sensor     TEXT    NOT NULL,
    run_id     TEXT    NOT NULL,
    flow_id    BIGINT  NOT NULL,
    seq        INTEGER NOT NULL,
    hop_kind   TEXT    NOT NULL,
    hop_value  TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    confidence TEXT    NOT NULL,
    counts     BOOLEAN NOT NULL,
    rule_kind  TEXT    NOT NULL,
    rule_value TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    date       TEXT    NOT NULL,
    rule_at    TEXT    NOT NULL,
    PRIMARY KEY (sensor, run_id, flow_id, seq),
    FOREIGN KEY (sensor, run_id, flow_id) REFERENCES flows (sensor, run_id, flow_id)
);
CREATE INDEX evidence_entity ON evidence (entity);

CREATE TABLE equipment (
    sensor        TEXT   NOT NULL,
    hop_kind      TEXT   NOT NULL,
    hop_value     TEXT   NOT NULL,
    attribution   TEXT   NOT NULL,
    org           TEXT,
    asn           BIGINT,
    entity        TEXT,
    first_seen_ns BIGINT NOT NULL,
    last_seen_ns  BIGINT NOT NULL,
    flows         BIGINT NOT NULL,
    PRIMARY KEY (sensor, hop_kind, hop_value)
);
CREATE INDEX equipment_value ON equipment (hop_value);
"#;

/// Column list of `flows`, in table order (COPY and INSERT use it).
pub(crate) const FLOW_COLS: &str = "sensor, run_id, flow_id, verdict, file, iface, first_ns, \
    last_ns, proto, src, dst, src_port, dst_port, teid, packets_fwd, packets_rev, bytes_fwd, \
    bytes_rev, record";

/// Column list of `evidence`.
pub(crate) const EVIDENCE_COLS: &str = "sensor, run_id, flow_id, seq, hop_kind, hop_value, \
    entity, category, confidence, counts, rule_kind, rule_value, source, date, rule_at";

/// Column list of `equipment`.
pub(crate) const EQUIPMENT_COLS: &str = "sensor, hop_kind, hop_value, attribution, org, asn, \
    entity, first_seen_ns, last_seen_ns, flows";

/// The update half of the equipment upsert; `least`/`greatest` are the backend's
/// two-argument min/max (`min`/`max` in SQLite, `LEAST`/`GREATEST` in PostgreSQL).
pub(crate) fn equipment_upsert(least: &str, greatest: &str) -> String {
    format!(
        "ON CONFLICT (sensor, hop_kind, hop_value) DO UPDATE SET \
         attribution = excluded.attribution, org = excluded.org, asn = excluded.asn, \
         entity = excluded.entity, \
         first_seen_ns = {least}(equipment.first_seen_ns, excluded.first_seen_ns), \
         last_seen_ns = {greatest}(equipment.last_seen_ns, excluded.last_seen_ns), \
         flows = equipment.flows + excluded.flows"
    )
}

/// The `UPDATE runs` at finish; placeholders 1–16 are the [`super::rows::EndCols`]
/// fields in order, 17 and 18 the sensor and run id.
pub(crate) fn finish_update(ph: &dyn Fn(usize) -> String) -> String {
    let cols = [
        "finished_unix_ms",
        "inputs_complete",
        "frames",
        "flows",
        "clean",
        "unknown",
        "violation",
        "frames_without_flow",
        "decode_errors",
        "rules",
        "denylists",
        "min_confidence",
        "asn_v4_ranges",
        "asn_v6_ranges",
        "oui_assignments",
        "summary",
    ];
    let sets: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = {}", ph(i + 1)))
        .collect();
    format!(
        "UPDATE runs SET finished = TRUE, {} WHERE sensor = {} AND run_id = {}",
        sets.join(", "),
        ph(17),
        ph(18)
    )
}

/// The run insert at begin (idempotent).
pub(crate) fn run_insert(ph: &dyn Fn(usize) -> String) -> String {
    format!(
        "INSERT INTO runs (sensor, run_id, site, version, started_unix_ms, inputs) \
         VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (sensor, run_id) DO NOTHING",
        ph(1),
        ph(2),
        ph(3),
        ph(4),
        ph(5),
        ph(6)
    )
}
