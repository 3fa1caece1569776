//! capicola's library side of the command line: loading and running programs, running spec-test scripts, and the values they exchange.

pub mod cov;
pub mod debug;
pub mod diff;
pub mod files;
pub mod fuzz;
pub mod program;
pub mod run;
pub mod snapshot_file;
pub mod values;
pub mod wasi_program;
pub mod wast;
