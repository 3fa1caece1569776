//! The subcommands of `capicola`, one per file: each parses its arguments and delegates to the library.

mod run;
mod wast;

use clap::Parser;

/// Runs and tests WebAssembly programs on the capicola engine.
///
/// Exit codes: 0 success; 1 the guest trapped or a script had failures; 2 a usage
/// or load error (bad arguments, unreadable or invalid module); 3 out of fuel.
#[derive(Debug, Parser)]
#[command(name = "capicola", version)]
pub enum Command {
    Run(run::RunCommand),
    Wast(wast::WastCommand),
}

/// How a command ended when it did not fail; `main` maps it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything ran and passed.
    Success,
    /// The guest trapped.
    Trapped,
    /// The guest used up its fuel.
    OutOfFuel,
    /// A script had failed assertions.
    Failures,
}

impl Command {
    /// Runs the chosen subcommand.
    pub fn execute(self) -> anyhow::Result<Status> {
        match self {
            Command::Run(command) => command.execute(),
            Command::Wast(command) => command.execute(),
        }
    }
}
