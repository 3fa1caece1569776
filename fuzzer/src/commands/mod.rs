//! The subcommands of `capicola`, one per file: each parses its arguments and delegates to the library.

mod cmin;
mod common;
mod cov;
mod debug;
mod diff;
mod fuzz;
pub mod libfuzzer;
mod replay;
mod resume;
mod run;
mod snapshot;
mod tmin;
mod wast;

use clap::Parser;

/// Runs and tests WebAssembly programs on the capicola engine.
///
/// Exit codes: 0 success; 1 the guest trapped or a script had failures; 2 a usage
/// or load error (bad arguments, unreadable or invalid module); 3 out of fuel; 200 out
/// of fuel and the paused run saved (`run`/`resume --save-snapshot`). A WASI program
/// run by `run` or `resume` exits with its own exit code (134 when it trapped).
#[derive(Debug, Parser)]
#[command(name = "capicola", version)]
pub enum Command {
    Run(run::RunCommand),
    Resume(resume::ResumeCommand),
    Snapshot(snapshot::SnapshotCommand),
    Wast(wast::WastCommand),
    Fuzz(fuzz::FuzzCommand),
    Replay(replay::ReplayCommand),
    Tmin(tmin::TminCommand),
    Cmin(cmin::CminCommand),
    Cov(cov::CovCommand),
    Diff(diff::DiffCommand),
    Debug(debug::DebugCommand),
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
    /// A WASI program ended with this exit code.
    Exited(u8),
    /// The guest used up its fuel and the paused run was saved.
    Paused,
}

impl Command {
    /// Runs the chosen subcommand.
    pub fn execute(self) -> anyhow::Result<Status> {
        match self {
            Command::Run(command) => command.execute(),
            Command::Resume(command) => command.execute(),
            Command::Snapshot(command) => command.execute(),
            Command::Wast(command) => command.execute(),
            Command::Fuzz(command) => command.execute(),
            Command::Replay(command) => command.execute(),
            Command::Tmin(command) => command.execute(),
            Command::Cmin(command) => command.execute(),
            Command::Cov(command) => command.execute(),
            Command::Diff(command) => command.execute(),
            Command::Debug(command) => command.execute(),
        }
    }
}
