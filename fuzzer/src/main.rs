//! The `capicola` command: parses the command line, runs one subcommand and turns its status or error into the exit code.

mod commands;

use std::process::ExitCode;

use clap::Parser;

use commands::{Command, Status};

/// Exit code of a command that ran and found nothing wrong.
const EXIT_SUCCESS: u8 = 0;
/// Exit code when the guest trapped, or a script had failures.
const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage or load error (clap uses 2 for usage errors too).
const EXIT_ERROR: u8 = 2;
/// Exit code when the guest ran out of fuel.
const EXIT_OUT_OF_FUEL: u8 = 3;

fn main() -> ExitCode {
    let command = Command::parse();
    match command.execute() {
        Ok(Status::Success) => ExitCode::from(EXIT_SUCCESS),
        Ok(Status::Trapped | Status::Failures) => ExitCode::from(EXIT_FAILURE),
        Ok(Status::OutOfFuel) => ExitCode::from(EXIT_OUT_OF_FUEL),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
