//! Runtime values and the handles that name the entities a `Store` owns.

use crate::types::ValType;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The index of this entity inside its store.
            pub fn index(self) -> u32 {
                self.0
            }
        }
    };
}

handle!(
    /// A function in a store.
    Func
);
handle!(
    /// A table in a store.
    Table
);
handle!(
    /// A linear memory in a store.
    Memory
);
handle!(
    /// A global variable in a store.
    Global
);
handle!(
    /// A module instance in a store.
    Instance
);

/// Anything that can be imported or exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
}

/// A Wasm value. Floats are kept as raw bits so that NaN payloads survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<u32>),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero value (or null reference) of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// Encodes the value into its raw 128-bit form (low cell first for v128).
    pub(crate) fn to_raw(self) -> u128 {
        match self {
            Val::I32(v) => u128::from(v as u32),
            Val::I64(v) => u128::from(v as u64),
            Val::F32(v) => u128::from(v),
            Val::F64(v) => u128::from(v),
            Val::V128(v) => v,
            Val::FuncRef(f) => u128::from(f.map_or(0, |f| u64::from(f.0) + 1)),
            Val::ExternRef(e) => u128::from(e.map_or(0, |e| u64::from(e) + 1)),
        }
    }

    /// Decodes a raw value of the given type.
    pub(crate) fn from_raw(ty: ValType, raw: u128) -> Val {
        let lo = raw as u64;
        match ty {
            ValType::I32 => Val::I32(lo as u32 as i32),
            ValType::I64 => Val::I64(lo as i64),
            ValType::F32 => Val::F32(lo as u32),
            ValType::F64 => Val::F64(lo),
            ValType::V128 => Val::V128(raw),
            ValType::FuncRef => Val::FuncRef(ref_index(lo).map(Func)),
            ValType::ExternRef => Val::ExternRef(ref_index(lo)),
        }
    }
}

/// A reference cell holds 0 for null and index + 1 otherwise.
pub(crate) fn ref_index(cell: u64) -> Option<u32> {
    cell.checked_sub(1).map(|i| i as u32)
}
