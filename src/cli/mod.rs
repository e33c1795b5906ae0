//! Command line: `cleanpath analyze FILE…` and friends. Raw arguments live in `args.rs`;
//! [`run`] checks them, loads tables and rules and drives the pipeline.

mod args;
mod capture;
mod db;
mod gen_mix;
mod lookup;
mod replay;
mod report;
mod run;

pub use args::{
    AnalyzeArgs, Args, Command, DbArgs, DbBuildArgs, DbCommand, FailOn, GenArgs, GenWhat,
    LookupArgs, MinConfidence,
};
pub use capture::{CaptureArgs, CaptureLine, InterfaceCounters};
pub use replay::{ReplayArgs, ReplayReport};
pub use report::{ReportArgs, ReportFormat};
pub use run::{Outcome, run};
