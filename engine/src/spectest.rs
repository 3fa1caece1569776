//! The `spectest` module that the WebAssembly spec test suite imports from: print functions, globals, a table and a memory.

use crate::{
    Error, Extern, FuncType, GlobalType, Limits, Linker, MemoryType, Store, TableType, Val, ValType,
};

/// The name the spec test suite imports these definitions under.
pub const MODULE: &str = "spectest";

/// Host id of `spectest.print`; the other print functions follow it in the order of [`PRINT_FUNCS`].
///
/// The embedder answers a host call with any id in [`PRINT_HOST_IDS`] with no results
/// (printing the arguments is optional).
pub const PRINT_HOST_ID_BASE: u32 = 0x5350_0000;

/// The print functions: name and parameter types. None of them has results.
pub const PRINT_FUNCS: [(&str, &[ValType]); 7] = [
    ("print", &[]),
    ("print_i32", &[ValType::I32]),
    ("print_i64", &[ValType::I64]),
    ("print_f32", &[ValType::F32]),
    ("print_f64", &[ValType::F64]),
    ("print_i32_f32", &[ValType::I32, ValType::F32]),
    ("print_f64_f64", &[ValType::F64, ValType::F64]),
];

/// The host ids of all print functions.
pub const PRINT_HOST_IDS: std::ops::Range<u32> =
    PRINT_HOST_ID_BASE..PRINT_HOST_ID_BASE + PRINT_FUNCS.len() as u32;

/// Whether a host call with this id is one of the `spectest` print functions.
pub fn is_print(host_id: u32) -> bool {
    PRINT_HOST_IDS.contains(&host_id)
}

/// Defines the `spectest` module in `linker`, allocating its entities in `store`.
///
/// Globals `global_i32`, `global_i64` (666), `global_f32`, `global_f64` (666.6) are immutable;
/// `table` is a funcref table of 10 to 20 elements and `memory` has 1 to 2 pages.
pub fn define(linker: &mut Linker, store: &mut Store) -> Result<(), Error> {
    for (host_id, (name, params)) in (PRINT_HOST_ID_BASE..).zip(PRINT_FUNCS) {
        let func = store.new_host_func(FuncType::new(params, []), host_id);
        linker.define(MODULE, name, Extern::Func(func));
    }

    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6_f32.to_bits())),
        ("global_f64", Val::F64(666.6_f64.to_bits())),
    ];
    for (name, value) in globals {
        let ty = GlobalType {
            content: value.ty(),
            mutable: false,
        };
        let global = store.new_global(ty, value)?;
        linker.define(MODULE, name, Extern::Global(global));
    }

    let table = store.new_table(
        TableType {
            element: ValType::FuncRef,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
            table64: false,
        },
        Val::FuncRef(None),
    )?;
    linker.define(MODULE, "table", Extern::Table(table));

    let memory = store.new_memory(MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
        memory64: false,
    })?;
    linker.define(MODULE, "memory", Extern::Memory(memory));
    Ok(())
}
