//! Raw command-line arguments (clap derive). Validation happens in [`super::run`].

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
EXIT CODES:
  0  no flow is VIOLATION (UNKNOWN flows are listed, not failed)
  1  at least one flow is VIOLATION (or UNKNOWN, with --fail-on unknown)
  2  error: an input could not be read, a rule or table file is malformed,
     or (with --strict) an input was only partly readable";

const ANALYZE_EXAMPLES: &str = "\
EXAMPLES:
  cleanpath analyze fixtures/cleanpath-demo.pcapng
  cleanpath analyze --json -o flows.jsonl capture1.pcapng capture2.pcap.gz
  cleanpath analyze --denylist our-rules.tsv --min-confidence high span.pcapng
  cleanpath analyze --fail-on unknown nightly/*.pcapng      # strict audit";

/// cleanpath: prove from traffic that 5G data crosses only trusted equipment.
///
/// Every flow in a capture gets a verdict, CLEAN, VIOLATION or UNKNOWN, with the
/// evidence behind it: which hop (MAC neighbour, GTP-U tunnel endpoint, SRv6 segment,
/// endpoint AS) matched which denylist rule from which source.
#[derive(Debug, Parser)]
#[command(name = "cleanpath", version, after_help = EXIT_CODES)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse capture files (pcap, pcapng, optionally gzip-compressed) and judge every flow.
    #[command(after_help = format!("{ANALYZE_EXAMPLES}\n\n{EXIT_CODES}"))]
    Analyze(AnalyzeArgs),
    /// Write a capture the project generates itself (test fixtures).
    Gen(GenArgs),
}

/// Which verdicts fail the run (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on VIOLATION only.
    Violation,
    /// Fail on VIOLATION or UNKNOWN: every hop must be attributed.
    Unknown,
}

/// Minimum rule confidence that makes a flow VIOLATION.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MinConfidence {
    /// Every match fails the flow.
    Low,
    /// Medium and high matches fail; low ones are warnings (default).
    Medium,
    /// Only high-confidence matches fail.
    High,
}

/// Arguments of `analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Capture files to analyse, in order (format detected from the content, not the name).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Write JSON lines (one object per flow, then a summary object) instead of the text summary.
    #[arg(long)]
    pub json: bool,

    /// Write the output to FILE instead of standard output (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Add the rules of a denylist file (TSV, see denylists/README.md). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub denylist: Vec<PathBuf>,

    /// Do not load the bundled denylists (use only --denylist files).
    #[arg(long)]
    pub no_bundled_denylist: bool,

    /// Use these IP-to-ASN CSV files (start_ip,end_ip,asn,org; gzip allowed) instead of the bundled tables. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub asn_table: Vec<PathBuf>,

    /// Use the IEEE registry CSVs (oui, mam, oui36, iab; .csv or .csv.gz) in DIR instead of the bundled ones.
    #[arg(long, value_name = "DIR")]
    pub ieee_dir: Option<PathBuf>,

    /// Minimum rule confidence that makes a flow VIOLATION; weaker matches are listed as warnings.
    #[arg(long, value_enum, default_value_t = MinConfidence::Medium)]
    pub min_confidence: MinConfidence,

    /// Which verdicts make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Violation)]
    pub fail_on: FailOn,

    /// Only analyse frames matching this BPF expression (needs the `libpcap` build feature).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Most flows held in memory at once; older flows are finished (and judged) early.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_flows: usize,

    /// Finish a flow after this many seconds (capture time) without a packet.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub idle_timeout: u64,

    /// Treat a partly readable input (truncated or corrupt file) as an error (exit 2).
    #[arg(long)]
    pub strict: bool,

    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,

    /// Worker threads: packets are sharded by flow across N workers behind one reader.
    /// Verdicts and flow numbers equal a one-thread run (the `--max-flows` cap is split
    /// between workers). 1 runs everything on the calling thread.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
}

/// Arguments of `gen`.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// What to generate.
    #[arg(value_enum)]
    pub what: GenWhat,
    /// Output file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// `mix`: frames to write.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub packets: u64,
    /// `mix`: flows (at most one per frame).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub flows: u64,
    /// `mix`: random seed; the same arguments write the same bytes.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// `mix`: share of flows touching a denylisted AS or vendor (0 to 1).
    #[arg(long, default_value_t = 0.05, value_name = "F")]
    pub violation_share: f64,
    /// `mix`: share of flows with an unattributable hop (0 to 1).
    #[arg(long, default_value_t = 0.05, value_name = "F")]
    pub unknown_share: f64,
    /// `mix`: share of GTP-U sessions with IPv6 outer addresses (0 to 1).
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub ipv6_outer_share: f64,
    /// `mix`: slice frames to this many bytes (0 keeps whole frames).
    #[arg(long, default_value_t = 0, value_name = "BYTES")]
    pub snaplen: u32,
    /// `mix`: write the expected verdict of every flow here (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
}

/// Generated captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenWhat {
    /// The demo: clean and violating 5G and plain flows with known verdicts.
    Demo,
    /// A 5G traffic mix of any size (classic pcap) with its ground truth (`--truth`).
    Mix,
}
