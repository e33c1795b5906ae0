//! The `cleanpath` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use cleanpath::cli::{Args, Outcome, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Failed(_)) => ExitCode::from(1),
        Ok(Outcome::InputError) => ExitCode::from(2),
        Err(err) => {
            // A closed pipe (`cleanpath analyze … | head`) is not an error.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("cleanpath: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
