//! `capicola run`: invokes one exported function of a module and prints its results.

use std::path::PathBuf;

use anyhow::Context;
use capicola::program::{Program, RunOutcome};
use capicola::values::format_val;
use capicola_engine::Engine;

use super::Status;

/// Invokes an exported function of a WebAssembly module and prints its results.
///
/// FILE is a binary module (.wasm) or WebAssembly text (.wat). Only the `spectest`
/// module can be imported; its print functions do nothing. The start function, if any,
/// runs first; a trap while initializing segments or in the start function is a trap.
///
/// ARGS are parsed by the function's parameter types: `42`, `-1`, `0x7f`, `-1.5`, `inf`,
/// `nan`, `nan:0x200000`; a v128 as `0x` and 32 hex digits; `null` for references.
/// Negative numbers can be given as they are; put `--` before the arguments to pass
/// `-inf` or `-nan`.
///
/// Each result is printed on its own line with its type: `42:i32`, `-1.5:f64`,
/// `nan:0x200000:f32`, `0x…:v128`, `null:funcref`, `extern:N:externref`.
///
/// Exit codes: 0 the function returned; 1 it trapped (the message and the Wasm
/// backtrace go to stderr); 2 a usage or load error (unreadable or invalid module,
/// unknown import or export, bad arguments); 3 the fuel ran out.
#[derive(Debug, clap::Args)]
pub struct RunCommand {
    /// The module: binary (.wasm) or text (.wat).
    file: PathBuf,
    /// Name of the exported function to call.
    #[arg(long, value_name = "NAME")]
    invoke: String,
    /// Arguments of the function, one per parameter.
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Fuel budget for the whole run (start function included); stops with exit code 3 when used up.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
}

impl RunCommand {
    pub fn execute(self) -> anyhow::Result<Status> {
        let path = self.file.display();
        let bytes = std::fs::read(&self.file).with_context(|| format!("cannot read {path}"))?;
        let engine = Engine::default();
        let mut program =
            Program::load(&engine, &bytes).with_context(|| format!("cannot load {path}"))?;
        let outcome = program
            .run(&self.invoke, &self.args, self.fuel)
            .with_context(|| format!("cannot call `{}` in {path}", self.invoke))?;
        Ok(match outcome {
            RunOutcome::Finished(results) => {
                for result in results {
                    println!("{}", format_val(result));
                }
                Status::Success
            }
            RunOutcome::Trapped(trap) => {
                eprintln!("error: trap: {trap}");
                eprintln!("wasm backtrace:");
                for (depth, frame) in trap.backtrace.iter().enumerate() {
                    let name = program
                        .func_name(frame.func_index)
                        .map(|name| format!(" ({name})"))
                        .unwrap_or_default();
                    eprintln!(
                        "  {depth}: func {}{name} at offset {:#x}",
                        frame.func_index, frame.offset
                    );
                }
                Status::Trapped
            }
            RunOutcome::OutOfFuel { budget, position } => {
                let place = position.map_or_else(String::new, |p| {
                    format!(" at func {} offset {:#x}", p.func_index, p.offset)
                });
                eprintln!("out of fuel after {budget} units{place}");
                Status::OutOfFuel
            }
        })
    }
}
