//! `cleanpath db …`: compile the intel sources into a database file and show a file's
//! header; and the cached database that `analyze` uses (see [`crate::intel::db`]).

use super::args::{DbArgs, DbCommand};
use super::run::Outcome;
use crate::intel::Intel;
use crate::intel::db::{self, Db, Source, Sources};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Runs `cleanpath db`.
///
/// # Errors
/// Unreadable or malformed sources, or an output that cannot be written.
pub(super) fn run(a: &DbArgs) -> Result<Outcome> {
    match &a.command {
        DbCommand::Build(b) => {
            let mut sources = sources(&b.asn_table, b.ieee_dir.as_deref())?;
            if let Some(s) = &b.snapshot {
                sources.snapshot.clone_from(s);
            }
            let out = match &b.output {
                Some(p) => p.clone(),
                None => db::cache_path(&sources).context(
                    "no cache directory (neither XDG_CACHE_HOME nor HOME is set): give -o FILE",
                )?,
            };
            let t0 = std::time::Instant::now();
            let (bytes, d) = Db::compile(&sources)?;
            db::write_file(&out, &bytes)?;
            let intel = &d.intel;
            let (v4, v6) = intel.asn.len();
            println!(
                "{}: {} bytes, {v4} IPv4 + {v6} IPv6 ranges, {} IEEE assignments, snapshot {}, built in {:.0} ms",
                out.display(),
                bytes.len(),
                intel.oui.len(),
                sources.snapshot,
                t0.elapsed().as_secs_f64() * 1e3
            );
            Ok(Outcome::Clean)
        }
        DbCommand::Info { file } => {
            let t0 = std::time::Instant::now();
            let d = Db::load(file)?;
            let took = t0.elapsed();
            println!("{}", serde_json::to_string_pretty(&d.meta)?);
            eprintln!("loaded and validated in {:.1} ms", took.as_secs_f64() * 1e3);
            Ok(Outcome::Clean)
        }
    }
}

/// The sources named on the command line, or the bundled ones.
fn sources(asn_table: &[PathBuf], ieee_dir: Option<&Path>) -> Result<Sources> {
    let mut s = Sources::bundled();
    if !asn_table.is_empty() {
        s.asn = asn_table
            .iter()
            .map(|p| Source::read(p))
            .collect::<Result<_, _>>()?;
        s.snapshot = "unknown".into();
    }
    if let Some(dir) = ieee_dir {
        s.ieee = ["oui", "mam", "oui36", "iab"]
            .iter()
            .map(|stem| {
                let plain = dir.join(format!("{stem}.csv"));
                let gz = dir.join(format!("{stem}.csv.gz"));
                Source::read(if !plain.exists() && gz.exists() {
                    &gz
                } else {
                    &plain
                })
            })
            .collect::<Result<_, _>>()?;
        s.ieee_snapshot = "unknown".into();
    }
    Ok(s)
}

/// The tables `analyze` (and `lookup`) use: the database `intel_db` if given; else the
/// cached database for the sources (bundled, or `--asn-table`/`--ieee-dir`), built and
/// written to the cache when missing or unreadable. If the cache cannot be written the
/// tables parsed from the sources are used, with a warning.
///
/// # Errors
/// An unreadable or corrupt `intel_db`, or unreadable or malformed sources.
pub(super) fn load_intel(
    asn_table: &[PathBuf],
    ieee_dir: Option<&Path>,
    intel_db: Option<&Path>,
) -> Result<(Intel, db::Meta)> {
    if let Some(p) = intel_db {
        let d = Db::load(p)?;
        return Ok((d.intel, d.meta));
    }
    let sources = sources(asn_table, ieee_dir)?;
    let cache = db::cache_path(&sources);
    if let Some(path) = &cache {
        if path.exists() {
            match Db::load(path) {
                Ok(d) => return Ok((d.intel, d.meta)),
                Err(e) => eprintln!(
                    "cleanpath: warning: ignoring the cached intel database: {e}; rebuilding it"
                ),
            }
        }
    }
    let (bytes, Db { intel, meta }) = Db::compile(&sources)?;
    match &cache {
        Some(path) => {
            if let Err(e) = db::write_file(path, &bytes) {
                eprintln!(
                    "cleanpath: warning: cannot write the intel cache ({e}); using the tables parsed from the CSV sources"
                );
            }
        }
        None => eprintln!(
            "cleanpath: warning: no cache directory (XDG_CACHE_HOME and HOME unset); using the tables parsed from the CSV sources"
        ),
    }
    Ok((intel, meta))
}
