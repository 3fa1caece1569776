//! The `capicola` command: parses the command line, runs one subcommand and turns its status or error into the exit code.

/// Prints a line to stdout. A closed or full stdout (`| head -1`, `>/dev/full`) loses the line but ends nothing:
/// the command goes on to its end, write-back of `--dir-rw` directories included, and exits with its own status.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints to stdout without a newline; a closed or full stdout is ignored as by `outln!`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// Prints a line to stderr; a closed or full stderr is ignored as by `outln!`.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

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
/// Exit code when the guest ran out of fuel and the paused run was saved: above what a WASI program can exit with
/// (exit codes of 126 and above trap), and clear of the shell's 126-127 and 128 + signal codes.
const EXIT_PAUSED: u8 = 200;

/// Puts `/dev/null` on each standard stream that was closed (`>&-`): else the next file, socket or shared-memory
/// object opened would take its descriptor, and what is printed would be written into it (a multi-core campaign's
/// broker connection, a snapshot being saved). Streams that are open stay as they are.
fn fill_closed_standard_streams() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    loop {
        let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        else {
            return;
        };
        if null.as_raw_fd() > 2 {
            // Every standard descriptor is open: this one is not needed.
            return;
        }
        // It filled a closed standard descriptor, which it keeps for the life of the process.
        let _ = null.into_raw_fd();
    }
}

fn main() -> ExitCode {
    fill_closed_standard_streams();
    // libFuzzer's `-flag=value` spelling of `fuzz`, rewritten before clap reads it: clap would take `-runs=1` for
    // `-r` and say so misleadingly.
    let argv = match commands::libfuzzer::rewrite(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(error) => {
            errln!("error: {error:#}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let command = Command::parse_from(argv);
    match command.execute() {
        Ok(Status::Success) => ExitCode::from(EXIT_SUCCESS),
        Ok(Status::Trapped | Status::Failures) => ExitCode::from(EXIT_FAILURE),
        Ok(Status::OutOfFuel) => ExitCode::from(EXIT_OUT_OF_FUEL),
        Ok(Status::Exited(code)) => ExitCode::from(code),
        Ok(Status::Paused) => ExitCode::from(EXIT_PAUSED),
        Err(error) => {
            errln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
