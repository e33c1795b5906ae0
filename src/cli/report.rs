//! `cleanpath report`: the nightly audit summary (issue 7, part 4) over JSON lines written
//! by `cleanpath analyze --json`, in text, Markdown, JSON or HTML, with the exit code a cron
//! job or monitoring acts on.

use super::run::Outcome;
use crate::report::summary::{
    self, Options, PeriodSpec, Previous, Report, ReportInput, SCHEMA, Scope,
};
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};

const REPORT_HELP: &str = "\
PERIOD:
  The period selects flows by CAPTURE time (the flows' first_ts/last_ts, UTC), never by
  when analyze or report ran. A flow is in the period when its capture span overlaps
  [from, to): first_ts < to and last_ts >= from. A flow straddling a boundary is in both
  periods.
  --since DUR   the DUR up to and including the newest capture time in the input
                (deterministic: a replay of the same files gives the same report)
  --since DUR --since-now
                the DUR up to now (wall clock), for a store that keeps growing
  --from T --to T
                an explicit period; T is RFC 3339 (2026-11-01T00:00:00Z, offsets allowed)
                or a date (2026-11-01 = midnight UTC). Either side may be omitted.
  (none)        every flow in the input
  A nightly job over yesterday's captures: --from \"$(date -u -d yesterday +%F)\" --to \"$(date -u +%F)\"

NEW SINCE THE PREVIOUS REPORT:
  A violation's key is `entity @ hop value` (e.g. `Huawei @ 00:e0:fc:11:22:33`). Keys absent
  from the previous report's JSON are marked NEW. --previous FILE names that JSON; with
  --state-dir DIR, every report also stores its JSON there as
  cleanpath-report-<period end>.json and the newest one with an earlier period end is the
  previous report (re-running the same night replaces that night's file).

EXAMPLES:
  cleanpath analyze --json -o flows.jsonl fixtures/cleanpath-demo.pcapng
  cleanpath report --jsonl flows.jsonl
  cleanpath report --jsonl day1.jsonl day2.jsonl.gz --since 24h --format html -o report.html
  cleanpath report --jsonl flows.jsonl --from 2026-11-01 --to 2026-11-02 --state-dir /var/lib/cleanpath/reports
  cleanpath report --jsonl flows.jsonl --sensor edge-1 --iface n3-span --format markdown

EXIT CODES:
  0  no flow in the period and scope is VIOLATION
  1  at least one flow in the period and scope is VIOLATION
  2  error: an input could not be read, a record is malformed, a bad argument";

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Plain text, for terminals and mail.
    Text,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// The stable JSON report (schema cleanpath-report/1, see docs/report.md).
    Json,
    /// One self-contained HTML file with SVG charts, no JavaScript, printable.
    Html,
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
#[command(after_help = REPORT_HELP)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["jsonl", "store"])))]
pub struct ReportArgs {
    /// JSON lines written by `cleanpath analyze --json` (plain or gzip; `-` for standard input). Repeatable.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub jsonl: Vec<PathBuf>,

    /// Read the runs and flows from this store (`sqlite:PATH` or `postgres://…`, as written
    /// by `analyze --store`) instead of JSON lines.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "jsonl",
        env = "CLEANPATH_STORE"
    )]
    pub store: Option<String>,

    /// Read the PostgreSQL store password from the first line of FILE (else PGPASSWORD).
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_password_file: Option<PathBuf>,

    /// Report the DUR (e.g. 24h, 7d, 90m) of capture time up to the newest capture in the input.
    #[arg(long, value_name = "DUR", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,

    /// With --since: count back from now (wall clock) instead of from the newest capture.
    #[arg(long, requires = "since")]
    pub since_now: bool,

    /// Start of the period (capture time, inclusive): RFC 3339 or a date (midnight UTC).
    #[arg(long, value_name = "T")]
    pub from: Option<String>,

    /// End of the period (capture time, exclusive): RFC 3339 or a date (midnight UTC).
    #[arg(long, value_name = "T")]
    pub to: Option<String>,

    /// Only runs of this sensor.
    #[arg(long, value_name = "S")]
    pub sensor: Option<String>,

    /// Only runs of this site.
    #[arg(long, value_name = "S")]
    pub site: Option<String>,

    /// Only flows captured on this interface: its name (e.g. n3-span) or its index within the capture file.
    #[arg(long, value_name = "N")]
    pub iface: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the report to FILE instead of standard output (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The previous report's JSON, for "new since the previous report".
    #[arg(long, value_name = "PREV.json", conflicts_with = "state_dir")]
    pub previous: Option<PathBuf>,

    /// Keep every report's JSON in DIR and diff against the newest earlier one.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// How many endpoint pairs to list as top talkers.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

/// Runs `cleanpath report`.
///
/// # Errors
/// Unreadable or malformed inputs, bad arguments, an output that cannot be written.
pub(super) fn report(a: &ReportArgs) -> Result<Outcome> {
    let (period, period_rule) = period(a)?;
    let mut input = ReportInput::default();
    match &a.store {
        Some(url) => read_store(url, a, &mut input)?,
        None => {
            for p in &a.jsonl {
                summary::read_jsonl(p, &mut input)?;
            }
        }
    }
    if input.runs.is_empty() {
        bail!(
            "no run in the input: expected JSON lines written by `cleanpath analyze --json`, \
             or a store written by `cleanpath analyze --store`"
        );
    }
    let opts = Options {
        period,
        period_rule,
        scope: Scope {
            sensor: a.sensor.clone(),
            site: a.site.clone(),
            iface: a.iface.clone(),
        },
        top: a.top,
    };
    if let Some(site) = &a.site {
        if !input.runs.iter().any(|r| r.site.as_ref() == Some(site)) {
            eprintln!("cleanpath: warning: no run in the input records site '{site}'");
        }
    }
    if let Some(sensor) = &a.sensor {
        if !input.runs.iter().any(|r| &r.info.sensor == sensor) {
            eprintln!("cleanpath: warning: no run in the input comes from sensor '{sensor}'");
        }
    }

    // The previous report: named, or found in the state directory. The state file's name
    // depends on the period, which only the build knows, so build once without a diff to
    // learn it when a state directory is used.
    let previous = match (&a.previous, &a.state_dir) {
        (Some(p), _) => Some(read_previous(p)?),
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the state directory {}", dir.display()))?;
            let probe = summary::build(&input, &opts, None)?;
            let name = state_name(&probe);
            newest_before(dir, &name)?
                .map(|p| read_previous(&p))
                .transpose()?
        }
        (None, None) => None,
    };
    let r = summary::build(&input, &opts, previous.as_ref())?;
    if r.totals.flows == 0 {
        eprintln!("cleanpath: warning: no flow in the period and scope");
    }

    let json = serde_json::to_string_pretty(&r).context("serialising the report")? + "\n";
    let body = match a.format {
        ReportFormat::Text => summary::text(&r),
        ReportFormat::Markdown => summary::markdown(&r),
        ReportFormat::Json => json.clone(),
        ReportFormat::Html => summary::html(&r),
    };
    match &a.output {
        Some(p) => write_atomically(p, body.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())?;
            out.flush()?;
        }
    }
    if let Some(dir) = &a.state_dir {
        write_atomically(&dir.join(state_name(&r)), json.as_bytes())?;
    }
    Ok(if r.has_violations() {
        Outcome::Failed(r.totals.violation)
    } else {
        Outcome::Clean
    })
}

fn period(a: &ReportArgs) -> Result<(PeriodSpec, String)> {
    if let Some(s) = &a.since {
        let d = summary::parse_duration(s)?;
        if a.since_now {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?;
            let now = i64::try_from(now.as_nanos()).context("the system clock is out of range")?;
            return Ok((
                PeriodSpec::Range {
                    from: Some(now.saturating_sub(d)),
                    to: Some(now),
                },
                format!(
                    "--since {s} --since-now: the {} up to the wall clock",
                    summary::show_duration(d)
                ),
            ));
        }
        return Ok((PeriodSpec::SinceNewest(d), format!("--since {s}")));
    }
    let from = a.from.as_deref().map(summary::parse_time).transpose()?;
    let to = a.to.as_deref().map(summary::parse_time).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            bail!(
                "--from {} is not before --to {}",
                summary::show_time(f),
                summary::show_time(t)
            );
        }
    }
    let rule = match (&a.from, &a.to) {
        (None, None) => return Ok((PeriodSpec::All, "all flows in the input".into())),
        (Some(f), None) => format!("--from {f}"),
        (None, Some(t)) => format!("--to {t}"),
        (Some(f), Some(t)) => format!("--from {f} --to {t}"),
    };
    Ok((PeriodSpec::Range { from, to }, rule))
}

fn read_previous(p: &Path) -> Result<Previous> {
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("reading the previous report {}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("previous report {}: not JSON", p.display()))?;
    let schema = v.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema != SCHEMA {
        bail!(
            "previous report {}: schema '{schema}', expected '{SCHEMA}' (give the JSON format of a report)",
            p.display()
        );
    }
    let report: Report =
        serde_json::from_value(v).with_context(|| format!("previous report {}", p.display()))?;
    Ok(Previous {
        path: p.display().to_string(),
        report,
    })
}

/// The state file of a report: named after its period end (or last capture), with fixed
/// width so that names sort in time order.
fn state_name(r: &Report) -> String {
    let end = r
        .period
        .to
        .as_deref()
        .or(r.period.last_capture.as_deref())
        .and_then(|t| summary::parse_time(t).ok())
        .map_or_else(
            || "00000000T000000.000000000Z".to_string(),
            |t| crate::report::rfc3339(crate::capture::Timestamp(t)).replace(['-', ':'], ""),
        );
    format!("cleanpath-report-{end}.json")
}

/// The state file with the greatest name below `name`.
fn newest_before(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let mut best: Option<String> = None;
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let e = e.with_context(|| format!("reading {}", dir.display()))?;
        let Some(n) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if n.starts_with("cleanpath-report-")
            && n.ends_with(".json")
            && n.as_str() < name
            && best.as_ref().is_none_or(|b| n > *b)
        {
            best = Some(n);
        }
    }
    Ok(best.map(|b| dir.join(b)))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(name);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Loads the runs and flows of a store (sensor and site scope applied in the query; the
/// period is applied by the report like for JSON lines).
fn read_store(url: &str, a: &ReportArgs, input: &mut ReportInput) -> Result<()> {
    use crate::report::summary::{ReportFlow, RunSummary};
    use std::collections::HashMap;
    let creds = crate::store::Credentials {
        password_file: a.store_password_file.clone(),
    };
    let mut reader =
        crate::store::open_reader(url, &creds).context("opening the store (--store)")?;
    let filter = crate::store::Filter {
        sensor: a.sensor.clone(),
        site: a.site.clone(),
        ..Default::default()
    };
    let runs = reader
        .runs(&filter)
        .context("reading runs from the store")?;
    let mut index = HashMap::new();
    for row in runs {
        index.insert(
            (row.info.sensor.clone(), row.info.run_id.clone()),
            input.runs.len(),
        );
        input.runs.push(RunSummary {
            site: row.info.site.clone(),
            input_sha256: row.info.inputs.iter().map(|i| i.sha256.clone()).collect(),
            source: format!("{url} run {}/{}", row.info.sensor, row.info.run_id),
            summary: row.summary,
            info: row.info,
        });
    }
    let flows = reader
        .flows_by_run(&filter)
        .context("reading flows from the store")?;
    for f in flows {
        if let Some(&run) = index.get(&(f.sensor, f.run_id)) {
            input.flows.push(ReportFlow {
                run,
                record: f.record,
            });
        }
    }
    Ok(())
}
