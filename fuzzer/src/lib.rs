//! capicola's library side of the command line: loading and running programs, running spec-test scripts, and the values they exchange.

pub mod program;
pub mod values;
pub mod wast;
