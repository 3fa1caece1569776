//! The `translate` fuzz target: arbitrary bytes through decoding, validation and translation, which must return `Ok` or `Err` and never panic.
#![no_main]

use capicola_engine::{Engine, Module};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Either answer is fine; only a panic is a bug.
    let _ = Module::new(&Engine::default(), data);
});
