//! Command line: `cleanpath analyze FILE…` and friends. Raw arguments live in `args.rs`;
//! [`run`] checks them, loads tables and rules and drives the pipeline.

mod args;
mod gen_mix;
mod run;

pub use args::{AnalyzeArgs, Args, Command, FailOn, GenArgs, GenWhat, MinConfidence};
pub use run::{Outcome, run};
