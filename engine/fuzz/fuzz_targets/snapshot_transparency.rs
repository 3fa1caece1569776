//! The `snapshot_transparency` fuzz target: a `wasm-smith` module's start function and exports run straight and again paused at input-chosen instruction boundaries (and host calls), each pause a full trip through snapshot bytes into a fresh store; results, traps, memories, globals, tables and fuel must be equal.
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};

#[path = "../generate.rs"]
mod generate;
// This target uses one of the two oracles in the file; the decode oracle goes unused.
#[allow(dead_code)]
#[path = "../snapshots.rs"]
mod snapshots;

fuzz_target!(|data: &[u8]| -> Corpus {
    // The first byte says how many of the next bytes are the pause schedule; the rest makes the module.
    let Some((&len, rest)) = data.split_first() else {
        return Corpus::Reject;
    };
    let (schedule, smith) = rest.split_at(usize::from(len).min(rest.len()));
    let Some(bytes) = generate::module(smith) else {
        return Corpus::Reject;
    };
    let engine = snapshots::engine();
    let module = capicola_engine::Module::new(&engine, &bytes)
        .unwrap_or_else(|e| panic!("the engine rejected a valid wasm-smith module: {e}"));
    snapshots::transparency(&engine, &module, &mut snapshots::Schedule::new(schedule));
    Corpus::Keep
});
