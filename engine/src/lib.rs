//! capicola's engine: a validated WebAssembly interpreter whose whole execution state is plain data, so a run can pause at any instruction boundary and continue later.
#![deny(unsafe_code)]
#![recursion_limit = "256"]

#[macro_use]
mod ir;
mod access;
mod drive;
mod engine;
mod error;
// Unchecked stack and code accesses on the hot path, each with its SAFETY argument.
#[allow(unsafe_code)]
mod exec;
mod linker;
mod module;
mod num;
pub mod sanitizer;
mod simd;
mod snapshot;
pub mod spectest;
mod store;
pub mod timeline;
mod translate;
mod types;
mod value;
pub mod wasi;

pub use access::Access;
pub use drive::{Halt, HostAnswer, HostHandler, Pilot, Slicer, Whole};
pub use engine::{BULK_FUEL_UNIT, Config, Engine, Features};
pub use error::{Error, FrameInfo, Resource, Trap, TrapKind};
pub use ir::{Flow, Op};
pub use linker::Linker;
pub use module::{EdgeCode, Import, Module};
pub use snapshot::{
    DecodeLimits, FORMAT_VERSION, FilePart, MAGIC, SNAPSHOT_PAGE, Snapshot, SnapshotDamage,
    SnapshotHeader,
};
pub use store::{
    CMP_LOG_LIMIT, CmpValues, FrameView, HostCall, Outcome, PAGE_SIZE, Position, Store,
};
pub use types::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType};
pub use value::{Extern, Func, Global, Instance, Memory, Table, Val};
