//! Runs a parsed command: checks the arguments, loads tables and rules, drives the
//! pipeline over the input files and writes the report.

use super::args::{AnalyzeArgs, Args, Command, FailOn, GenArgs, GenWhat, MinConfidence};
use crate::capture::FileReader;
#[cfg(feature = "libpcap")]
use crate::capture::LinkType;
use crate::flow::Limits;
use crate::intel::Intel;
use crate::pipeline::{Engine, FlowResult};
use crate::policy::{Confidence, Denylist};
use crate::report::{
    ATTRIBUTION, FlowRecord, InputSummary, InterfaceSummary, Provenance, SourceHash, Summary,
    TextSink,
};
use crate::sink::{InputFile, JsonlSink, RunInfo, Sink};
use anyhow::{Context, Result, bail};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing failed the run.
    Clean,
    /// Flows failed the policy (VIOLATION, or UNKNOWN with `--fail-on unknown`).
    Failed(u64),
    /// An input could not be read (or, with `--strict`, was only partly read).
    InputError,
}

/// Runs the command.
///
/// # Errors
/// Bad arguments, unreadable rule or table files, or an output that cannot be written.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        Command::Analyze(a) => analyze(&a),
        Command::Gen(g) => generate(&g),
        Command::Report(r) => super::report::report(&r),
        Command::Capture(c) => super::capture::capture(&c),
        Command::Replay(r) => super::replay::replay(&r),
        Command::Db(d) => super::db::run(&d),
        Command::Lookup(l) => super::lookup::run(&l),
    }
}

fn generate(g: &GenArgs) -> Result<Outcome> {
    let bytes = match g.what {
        GenWhat::Demo => crate::synth::demo::pcapng(),
        GenWhat::Mix => return super::gen_mix::run(g),
    };
    write_atomically(&g.output, &bytes)?;
    Ok(Outcome::Clean)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

pub(super) fn load_intel(a: &AnalyzeArgs) -> Result<(Intel, crate::intel::db::Meta)> {
    super::db::load_intel(&a.asn_table, a.ieee_dir.as_deref(), a.intel_db.as_deref())
}

pub(super) fn load_rules(a: &AnalyzeArgs) -> Result<(Denylist, Vec<String>, Vec<SourceHash>)> {
    let mut names = Vec::new();
    let mut hashes = Vec::new();
    let mut rules = if a.no_bundled_denylist {
        Denylist::default()
    } else {
        let (name, text) = Denylist::bundled_text();
        names.push(format!("bundled {name}"));
        hashes.push(SourceHash {
            name: name.to_string(),
            sha256: crate::digest::sha256_hex(text.as_bytes()),
        });
        Denylist::bundled()?
    };
    for p in &a.denylist {
        let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
        rules.extend(Denylist::load_file(p)?);
        names.push(p.display().to_string());
        hashes.push(SourceHash {
            name: p.display().to_string(),
            sha256: crate::digest::sha256_hex(&bytes),
        });
    }
    if rules.rules().is_empty() {
        bail!("no denylist rules: --no-bundled-denylist needs at least one --denylist FILE");
    }
    Ok((rules, names, hashes))
}

/// The provenance block of a summary.
pub(super) fn provenance(
    intel: &Intel,
    meta: &crate::intel::db::Meta,
    rules: &Denylist,
    denylists: Vec<String>,
    denylist_sha256: Vec<SourceHash>,
    min_confidence: Confidence,
) -> Provenance {
    Provenance {
        cleanpath: env!("CARGO_PKG_VERSION").to_string(),
        asn_v4_ranges: intel.asn.len().0,
        asn_v6_ranges: intel.asn.len().1,
        oui_assignments: intel.oui.len(),
        denylists,
        rules: rules.rules().len(),
        min_confidence,
        attribution: ATTRIBUTION.into(),
        intel_snapshot: meta.snapshot.clone(),
        ieee_snapshot: meta.ieee_snapshot.clone(),
        intel_sources: meta
            .sources
            .iter()
            .map(|s| SourceHash {
                name: s.name.clone(),
                sha256: s.sha256.clone(),
            })
            .collect(),
        denylist_sha256,
    }
}

/// The `--filter` expression, compiled by libpcap (per link type, on first use).
struct Filter {
    #[cfg(feature = "libpcap")]
    bpf: crate::capture::BpfFilter,
}

impl Filter {
    fn new(expr: &str) -> Result<Self> {
        #[cfg(feature = "libpcap")]
        {
            // Compile once up front so a bad expression fails before any work.
            let bpf = crate::capture::BpfFilter::compile(expr, LinkType::ETHERNET, 65_535)
                .map_err(|e| anyhow::anyhow!("--filter '{expr}': {e}"))?;
            Ok(Self { bpf })
        }
        #[cfg(not(feature = "libpcap"))]
        {
            bail!(
                "--filter '{expr}' needs libpcap's BPF compiler, and this cleanpath was built without it. \
                 Rebuild with `cargo build --release --features libpcap` (needs the libpcap headers, \
                 e.g. `apt-get install libpcap0.8-dev`)."
            )
        }
    }

    fn matches(&self, _frame: &crate::capture::Frame<'_>) -> bool {
        #[cfg(feature = "libpcap")]
        return self.bpf.matches(_frame);
        #[cfg(not(feature = "libpcap"))]
        true
    }
}

fn analyze(a: &AnalyzeArgs) -> Result<Outcome> {
    let filter = a.filter.as_deref().map(Filter::new).transpose()?;
    for f in &a.files {
        if !f.exists() {
            bail!("{}: no such file", f.display());
        }
    }
    let (rules, denylist_names, denylist_sha256) = load_rules(a)?;
    let rules = std::sync::Arc::new(rules);
    let (intel, intel_meta) = load_intel(a)?;
    let intel = std::sync::Arc::new(intel);
    let min_confidence = match a.min_confidence {
        MinConfidence::Low => Confidence::Low,
        MinConfidence::Medium => Confidence::Medium,
        MinConfidence::High => Confidence::High,
    };
    let limits = Limits {
        max_flows: a.max_flows,
        idle_timeout_ns: i64::try_from(a.idle_timeout)
            .unwrap_or(i64::MAX / 1_000_000_000)
            .saturating_mul(1_000_000_000),
    };
    let mut analyzer = Engine::new(
        &intel,
        &rules,
        min_confidence,
        limits,
        usize::from(a.threads),
    );

    let out = Output::open(a.output.as_deref())?;
    let mut sinks: Vec<Box<dyn Sink + '_>> = Vec::new();
    if a.json {
        sinks.push(Box::new(JsonlSink::new(out.writer()?)));
    } else {
        sinks.push(Box::new(TextSink::new(out.writer()?)));
    }
    if !a.ipfix.is_empty() {
        sinks.push(Box::new(ipfix_sink(a)?));
    }
    if let Some(url) = &a.store {
        let creds = crate::store::Credentials {
            password_file: a.store_password_file.clone(),
        };
        let store =
            crate::store::StoreSink::open(url, &creds).context("opening the store (--store)")?;
        sinks.push(Box::new(store));
    }
    let run = RunInfo {
        sensor: a.sensor.clone().unwrap_or_else(sensor_name),
        site: a.site.clone(),
        run_id: crate::sink::new_run_id(),
        started_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        inputs: a
            .files
            .iter()
            .map(|p| InputFile::of(p).with_context(|| format!("hashing {}", p.display())))
            .collect::<Result<_>>()?,
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    for s in &mut sinks {
        s.begin(&run)?;
    }
    let names: Vec<String> = a.files.iter().map(|p| p.display().to_string()).collect();
    let mut sink_err: Option<crate::sink::Error> = None;
    let mut emit = |r: FlowResult| {
        if sink_err.is_some() {
            return;
        }
        let file = names
            .get(usize::from(r.flow.file))
            .map_or("?", String::as_str);
        let rec = FlowRecord::new(&r, file);
        for s in &mut sinks {
            if let Err(e) = s.flow(&rec) {
                sink_err = Some(e);
                return;
            }
        }
    };

    let mut inputs = Vec::new();
    let progress = !a.quiet && io::stderr().is_terminal();
    for (i, path) in a.files.iter().enumerate() {
        let file_no = u16::try_from(i).context("too many input files (at most 65535)")?;
        let mut input = InputSummary {
            path: path.display().to_string(),
            format: None,
            gzip: false,
            read: Default::default(),
            interfaces: Vec::new(),
            complete: false,
            error: None,
        };
        let mut reader = match FileReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cleanpath: error: {e}");
                input.error = Some(e.to_string());
                inputs.push(input);
                continue;
            }
        };
        let bar = progress.then(|| progress_bar(path, reader.is_gzip()));
        let mut n: u64 = 0;
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    n += 1;
                    let keep = filter.as_ref().is_none_or(|f| f.matches(&frame));
                    if keep {
                        analyzer.frame(file_no, &frame, &mut emit);
                    } else {
                        analyzer.filtered();
                    }
                    if n % 8192 == 0 {
                        if let Some(b) = &bar {
                            b.set_position(reader.position());
                        }
                    }
                }
                Ok(None) => {
                    input.complete = true;
                    break;
                }
                Err(e) => {
                    eprintln!(
                        "cleanpath: warning: {e} ({} frames before it were analysed)",
                        reader.stats().frames
                    );
                    input.error = Some(e.to_string());
                    break;
                }
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        input.format = Some(reader.format());
        input.gzip = reader.is_gzip();
        input.read = reader.stats().clone();
        input.interfaces = reader
            .interfaces()
            .iter()
            .map(|i| InterfaceSummary {
                name: i.name.clone(),
                link_type: i.link.to_string(),
            })
            .collect();
        inputs.push(input);
    }
    let counters = analyzer.finish(&mut emit);
    if let Some(e) = sink_err {
        return Err(e.into());
    }
    let unreadable = inputs.iter().filter(|i| i.format.is_none()).count();
    let partial = inputs.iter().filter(|i| !i.complete).count();
    let summary = Summary {
        kind: "summary".into(),
        complete: partial == 0 && counters.frames_without_flow == 0,
        files: inputs,
        flow_table: analyzer.table_stats().clone(),
        provenance: provenance(
            &intel,
            &intel_meta,
            &rules,
            denylist_names,
            denylist_sha256,
            min_confidence,
        ),
        counters,
    };
    for s in &mut sinks {
        s.finish(&summary)?;
    }
    drop(sinks);
    out.commit()?;

    let v = summary.counters.verdicts;
    let failing = v.violation
        + if a.fail_on == FailOn::Unknown {
            v.unknown
        } else {
            0
        };
    Ok(if unreadable > 0 || (a.strict && partial > 0) {
        Outcome::InputError
    } else if failing > 0 {
        Outcome::Failed(failing)
    } else {
        Outcome::Clean
    })
}

/// The IPFIX exporter of `--ipfix`.
fn ipfix_sink(a: &AnalyzeArgs) -> Result<crate::sink::IpfixSink> {
    let mut cfg = crate::sink::IpfixConfig::default();
    cfg.stream.domain = a.ipfix_domain;
    cfg.stream.pen = a.ipfix_pen;
    Ok(crate::sink::IpfixSink::connect(&a.ipfix, cfg)?.quiet(a.quiet))
}

fn progress_bar(path: &Path, gzip: bool) -> indicatif::ProgressBar {
    let len = if gzip {
        None
    } else {
        std::fs::metadata(path).ok().map(|m| m.len())
    };
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(path.display().to_string());
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// The host name, used as the sensor name.
pub(super) fn sensor_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Standard output, or a file replaced atomically when the run succeeds.
struct Output {
    target: Target,
}

/// Where output goes.
enum Target {
    Stdout,
    /// A regular file (or a new one): written to `tmp`, renamed over `path` at the end.
    Replace {
        tmp: PathBuf,
        path: PathBuf,
    },
    /// Something that is not a regular file (`/dev/null`, a FIFO, a terminal): written
    /// directly, never replaced.
    Direct(PathBuf),
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Self> {
        let target = match path {
            None => Target::Stdout,
            Some(p) => match std::fs::metadata(p) {
                Ok(m) if !m.is_file() => Target::Direct(p.to_path_buf()),
                _ => Target::Replace {
                    tmp: temp_path(p),
                    path: p.to_path_buf(),
                },
            },
        };
        Ok(Self { target })
    }

    /// Returns a buffered writer to the output (the temporary file, for a regular file).
    fn writer(&self) -> Result<Box<dyn Write>> {
        let create = |p: &Path| {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(p)
                .with_context(|| format!("creating {}", p.display()))
        };
        Ok(match &self.target {
            Target::Stdout => Box::new(io::BufWriter::new(io::stdout().lock())),
            Target::Replace { tmp, .. } => Box::new(io::BufWriter::new(create(tmp)?)),
            Target::Direct(p) => Box::new(io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .with_context(|| format!("opening {}", p.display()))?,
            )),
        })
    }

    /// Moves a finished output file into place.
    fn commit(self) -> Result<()> {
        if let Target::Replace { tmp, path } = &self.target {
            std::fs::rename(tmp, path)
                .with_context(|| format!("renaming to {}", path.display()))?;
        }
        Ok(())
    }
}
