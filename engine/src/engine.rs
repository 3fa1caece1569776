//! The `Engine`: configuration and the process-wide registry of function types shared by every module it loads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::types::FuncType;

/// The Wasm proposals beyond 2.0 that modules may use; validation rejects the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub tail_call: bool,
    pub extended_const: bool,
    pub multi_memory: bool,
    pub memory64: bool,
}

impl Features {
    /// Exactly Wasm 2.0 (with SIMD).
    pub const WASM2: Features = Features {
        tail_call: false,
        extended_const: false,
        multi_memory: false,
        memory64: false,
    };

    /// Everything the engine implements.
    pub const ALL: Features = Features {
        tail_call: true,
        extended_const: true,
        multi_memory: true,
        memory64: true,
    };

    pub(crate) fn to_wasmparser(self) -> wasmparser::WasmFeatures {
        use wasmparser::WasmFeatures as W;
        let mut f = W::WASM2;
        f.set(W::TAIL_CALL, self.tail_call);
        f.set(W::EXTENDED_CONST, self.extended_const);
        f.set(W::MULTI_MEMORY, self.multi_memory);
        f.set(W::MEMORY64, self.memory64);
        f
    }
}

impl Default for Features {
    fn default() -> Self {
        Features::ALL
    }
}

/// Limits and options of an engine.
///
/// The memory and table limits hold in total over every memory (or table) of a store, imported ones included:
/// instantiating a module whose memories or tables would pass them fails with the trap
/// `TrapKind::ResourceExhausted`, and `memory.grow` or `table.grow` past them returns -1, as the spec allows. The
/// same happens when the host cannot allocate what the guest asked for: allocation is fallible, never an abort.
#[derive(Debug, Clone)]
pub struct Config {
    /// Deepest Wasm call stack before a run traps with "call stack exhausted".
    pub max_call_depth: u32,
    /// Largest value stack, in 64-bit cells, before a run traps with "call stack exhausted".
    pub max_value_stack: u32,
    /// Bytes of linear memory a store may hold, over all its memories.
    pub max_memory_bytes: u64,
    /// `memory.grow` past `max_memory_bytes` traps with `ResourceExhausted(Memory)` instead of returning -1 (what
    /// a fuzzer counts as an out-of-memory finding). Growing past a memory's own maximum, or more than the host can
    /// allocate, still returns -1.
    pub trap_at_memory_limit: bool,
    /// Largest size of any one memory, in bytes (besides `max_memory_bytes`, which bounds the total).
    pub max_bytes_per_memory: u64,
    /// Table elements a store may hold, over all its tables.
    pub max_table_elements: u64,
    /// Largest size of any one table, in elements (besides `max_table_elements`, which bounds the total).
    pub max_elements_per_table: u64,
    /// Bulk memory and table operations (`memory.fill`, `memory.copy`, `memory.init`, `memory.grow`, and their
    /// table counterparts) cost one unit of fuel plus one for every `bulk_fuel_unit` bytes or elements they write
    /// (rounded up), paid before they run. 0 charges them one unit like any other op: what a `Timeline` needs,
    /// whose positions count instructions.
    pub bulk_fuel_unit: u64,
    /// Proposals accepted beyond Wasm 2.0.
    pub features: Features,
    /// Track the 4 KiB pages that memory stores write, so `Store::reset_to` copies back only those. Chosen when
    /// modules are translated: code of an engine without it pays nothing.
    pub track_dirty_pages: bool,
    /// Count every edge (branch site x target, function entry) in a per-store map: `Store::coverage`.
    /// Chosen at translation time.
    pub coverage: bool,
    /// Log the operands of integer comparisons, `br_table` selectors and calls to the module's own
    /// `memcmp`/`bcmp`/`strcmp`/`strncmp`: `Store::cmp_log`. Chosen at translation time.
    pub cmplog: bool,
    /// Check every access to memory 0 against the sanitizer's shadow and wrap the module's allocator (see
    /// [`crate::sanitizer`]). Chosen at translation time: code of an engine without it pays nothing.
    pub sanitize: bool,
    /// Let the translator merge common sequences of Wasm instructions into single ops (see the `fused` group of
    /// `for_each_op!`). Fused code records the same edges and comparison operands as unfused code, in the same
    /// order; what differs is the fuel a run consumes (a fused op is one unit) and speed. The sanitizer translates
    /// unfused whatever this says. On by default; off gives the reference that fused code is compared against.
    pub fuse: bool,
}

/// Bytes (or table elements) a bulk operation processes per unit of fuel beyond its first, by default.
pub const BULK_FUEL_UNIT: u64 = 64;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_call_depth: 20_000,
            max_value_stack: 4 << 20,
            max_memory_bytes: 4 << 30,
            trap_at_memory_limit: false,
            max_bytes_per_memory: u64::MAX,
            max_table_elements: 10_000_000,
            max_elements_per_table: u64::MAX,
            bulk_fuel_unit: BULK_FUEL_UNIT,
            features: Features::ALL,
            track_dirty_pages: false,
            coverage: false,
            cmplog: false,
            sanitize: false,
            fuse: true,
        }
    }
}

impl Config {
    /// Fuel a bulk operation writing `n` bytes or elements costs beyond its first unit.
    pub(crate) fn bulk_fuel(&self, n: u64) -> u64 {
        match self.bulk_fuel_unit {
            0 => 0,
            unit => n.div_ceil(unit),
        }
    }
}

/// Shared configuration and type registry; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug, Default)]
struct EngineInner {
    config: Config,
    types: Mutex<TypeRegistry>,
}

#[derive(Debug, Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, u32>,
    types: Vec<Arc<FuncType>>,
}

impl Engine {
    pub fn new(config: Config) -> Self {
        Engine {
            inner: Arc::new(EngineInner {
                config,
                types: Mutex::default(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Interns a function type: equal types get equal ids, so signature checks compare integers.
    pub(crate) fn intern_type(&self, ty: &FuncType) -> (u32, Arc<FuncType>) {
        let mut reg = self.inner.types.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = reg.ids.get(ty) {
            return (id, reg.types[id as usize].clone());
        }
        let id = reg.types.len() as u32;
        let arc = Arc::new(ty.clone());
        reg.types.push(arc.clone());
        reg.ids.insert(ty.clone(), id);
        (id, arc)
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
