//! The `execute` fuzz target: a `wasm-smith` module, which the engine must accept, run through the harness (dummy imports, start function and every export under a fuel budget); traps are fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};

#[path = "../generate.rs"]
mod generate;
#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Some(bytes) = generate::module(data) else {
        return Corpus::Reject;
    };
    let engine = harness::engine();
    let module = capicola_engine::Module::new(&engine, &bytes)
        .unwrap_or_else(|e| panic!("the engine rejected a valid wasm-smith module: {e}"));
    harness::execute(&engine, &module);
    Corpus::Keep
});
