//! Command line: `cleanpath analyze FILE…` and friends. Raw arguments live in `args.rs`;
//! [`run`] checks them, loads tables and rules and drives the pipeline.

mod args;
mod db;
mod lookup;
mod run;

pub use args::{
    AnalyzeArgs, Args, Command, DbArgs, DbBuildArgs, DbCommand, FailOn, GenArgs, GenWhat,
    LookupArgs, MinConfidence,
};
pub use run::{Outcome, run};
