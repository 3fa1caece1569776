//! The `snapshot_decode` fuzz target: bytes decoded as a snapshot file — as they are, as a body under a valid header, or as patches to valid snapshots' bodies — and restored against a fixed module; an error is fine, and a restored store must re-capture, run with bounded fuel and re-capture again; a panic is a bug.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

// This target uses one of the two oracles in the file; the transparency oracle goes unused.
#[allow(dead_code)]
#[path = "../snapshots.rs"]
mod snapshots;

fuzz_target!(|data: &[u8]| {
    static FIXTURE: OnceLock<(
        capicola_engine::Engine,
        capicola_engine::Module,
        Vec<Vec<u8>>,
    )> = OnceLock::new();
    let (engine, module, valid) = FIXTURE.get_or_init(|| {
        let (engine, module) = snapshots::decode_module();
        (engine, module, snapshots::valid_snapshots())
    });
    snapshots::decode(engine, module, &snapshots::decode_input(data, valid), true);
});
