//! The generator: raw bytes turned into a `wasm-smith` module that uses only the proposals the engine implements, so the engine must accept every module it produces.
//!
//! Shared by source inclusion like `harness.rs`; the including crate depends on `wasm-smith` and
//! `arbitrary`.

use arbitrary::Unstructured;

/// The `wasm-smith` configuration matching `capicola_engine::Features::ALL`, with memories and
/// tables kept small.
pub fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        // Wasm 2.0, SIMD included.
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        simd_enabled: true,
        // The proposals beyond 2.0 the engine implements (multi-memory: more than one memory).
        tail_call_enabled: true,
        extended_const_enabled: true,
        memory64_enabled: true,
        max_memories: 4,
        max_tables: 4,
        // The proposals it does not.
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        relaxed_simd_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        acquire_release_atomics_enabled: false,
        multibyte_array_access_enabled: false,
        // Small memories and tables: at most 16 pages and 1000 elements to start with.
        max_memory32_bytes: 1 << 20,
        max_memory64_bytes: 1 << 20,
        max_table_elements: 1_000,
        // Every function is exported, so the harness calls every one.
        export_everything: true,
        ..wasm_smith::Config::default()
    }
}

/// The module `wasm-smith` builds from `data` with [`config`], encoded; `None` when the bytes do
/// not describe one (which `wasm-smith` reports only for inputs it cannot use at all).
pub fn module(data: &[u8]) -> Option<Vec<u8>> {
    module_with(config(), data)
}

/// Like [`module`], with another configuration (one derived from [`config`]: the engine must
/// still implement everything it enables).
pub fn module_with(config: wasm_smith::Config, data: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    wasm_smith::Module::new(config, &mut u)
        .ok()
        .map(|m| m.to_bytes())
}
