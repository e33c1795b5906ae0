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
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum Command {
    /// Analyse capture files (pcap, pcapng, optionally gzip-compressed) and judge every flow.
    #[command(after_help = format!("{ANALYZE_EXAMPLES}\n\n{EXIT_CODES}"))]
    Analyze(AnalyzeArgs),
    /// Write a capture the project generates itself (test fixtures).
    Gen(GenArgs),
    /// Summarise analysed runs for a period: verdicts, violations with evidence, what is new,
    /// what to attribute, capture loss and provenance (text, Markdown, JSON or HTML).
    Report(super::report::ReportArgs),
    /// Capture live on network interfaces (Linux AF_PACKET) and judge every flow as it ends.
    Capture(super::capture::CaptureArgs),
    /// Send the Ethernet frames of capture files out of an interface (tests, benchmarks).
    #[command(hide = true)]
    Replay(super::replay::ReplayArgs),
    /// Compile the intel sources (AS tables, IEEE registries) into a database file, or show one.
    Db(DbArgs),
    /// Look up IP and MAC addresses: prefix, AS, organisation, vendor, matching denylist rules, snapshot.
    Lookup(LookupArgs),
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

    /// Also export every IP flow as IPFIX (RFC 7011) over UDP to this collector (nfcapd,
    /// nfacctd, goflow2, …). Repeatable. Non-IP flows are not exported (counted).
    #[arg(long, value_name = "HOST:PORT")]
    pub ipfix: Vec<String>,

    /// IPFIX Observation Domain id in the message headers.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub ipfix_domain: u32,

    /// Private Enterprise Number of cleanpath's own IPFIX elements (verdict, untrusted
    /// entity, TEID, QFI); the default 32473 is RFC 5612's documentation number.
    #[arg(long, default_value_t = crate::sink::ipfix::encode::DOCUMENTATION_PEN, value_name = "PEN")]
    pub ipfix_pen: u32,
    /// Also write the run, its flows, evidence and the equipment learned to a store:
    /// `sqlite:PATH` (one file) or `postgres://USER@HOST[:PORT]/DATABASE` (or a key=value
    /// conninfo). The password comes from PGPASSWORD or --store-password-file, never the URL.
    #[arg(long, value_name = "URL", env = "CLEANPATH_STORE")]
    pub store: Option<String>,

    /// Read the PostgreSQL store password from the first line of FILE.
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_password_file: Option<PathBuf>,

    /// Sensor name recorded with the run (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub sensor: Option<String>,

    /// Site recorded with the run, for fleet reports.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Use this compiled intel database (from `cleanpath db build`) instead of the cached one built from the sources.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["asn_table", "ieee_dir"])]
    pub intel_db: Option<PathBuf>,
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

/// Arguments of `db`.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DbCommand,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Compile the AS tables and IEEE registries (bundled, or the files given) into one database file.
    Build(DbBuildArgs),
    /// Validate a database file and print its header (sources, hashes, dates, counts, sections).
    Info {
        /// The database file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Arguments of `db build`.
#[derive(Debug, clap::Args)]
pub struct DbBuildArgs {
    /// Write the database to FILE (default: the cache file `analyze` uses, under $XDG_CACHE_HOME/cleanpath or ~/.cache/cleanpath).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Use these IP-to-ASN CSV files (start_ip,end_ip,asn,org; gzip allowed) instead of the bundled tables. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub asn_table: Vec<PathBuf>,
    /// Use the IEEE registry CSVs (oui, mam, oui36, iab; .csv or .csv.gz) in DIR instead of the bundled ones.
    #[arg(long, value_name = "DIR")]
    pub ieee_dir: Option<PathBuf>,
    /// Date of the routing data (YYYY-MM-DD), recorded in the header (default: the bundled data's date, or `unknown` with --asn-table).
    #[arg(long, value_name = "DATE")]
    pub snapshot: Option<String>,
}

/// Arguments of `lookup`.
#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// IPv4, IPv6 or MAC addresses (e.g. 1.2.3.4 2001:db8::1 00:e0:fc:12:34:56).
    #[arg(required = true, value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// One JSON object per address instead of text.
    #[arg(long)]
    pub json: bool,
    /// Use this compiled intel database instead of the cached one built from the bundled sources.
    #[arg(long, value_name = "FILE")]
    pub intel_db: Option<std::path::PathBuf>,
    /// Add the rules of a denylist file (TSV). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub denylist: Vec<std::path::PathBuf>,
    /// Do not load the bundled denylists.
    #[arg(long)]
    pub no_bundled_denylist: bool,
}
