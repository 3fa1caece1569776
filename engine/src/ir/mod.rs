//! The engine's internal code (IR): a compact instruction set with resolved branch targets, generated from one list.

#[macro_use]
mod ops;

use wasmparser::{MemArg, MemArgTarget, Operator};

/// The memory a memory instruction addresses.
pub(crate) fn mem_index(memarg: &MemArg) -> u32 {
    match memarg.target {
        MemArgTarget::Memory(m) => m,
        // Array targets only exist with GC, which validation rejects.
        MemArgTarget::Array(_) => u32::MAX,
    }
}

/// Reads and writes typed values in the untyped 64-bit cells of the value stack.
pub(crate) trait StackValue: Sized {
    const CELLS: usize;
    fn read(stack: &[u64], at: usize) -> Self;
    fn write(self, stack: &mut [u64], at: usize);
}

macro_rules! one_cell {
    ($($t:ty: |$c:ident| $from:expr, |$v:ident| $to:expr;)*) => {$(
        impl StackValue for $t {
            const CELLS: usize = 1;
            #[inline(always)]
            fn read(stack: &[u64], at: usize) -> Self {
                let $c = stack[at];
                $from
            }
            #[inline(always)]
            fn write(self, stack: &mut [u64], at: usize) {
                let $v = self;
                stack[at] = $to;
            }
        }
    )*};
}

one_cell! {
    i32: |c| c as u32 as i32, |v| u64::from(v as u32);
    u32: |c| c as u32, |v| u64::from(v);
    i64: |c| c as i64, |v| v as u64;
    u64: |c| c, |v| v;
    f32: |c| f32::from_bits(c as u32), |v| u64::from(v.to_bits());
    f64: |c| f64::from_bits(c), |v| v.to_bits();
}

impl StackValue for u128 {
    const CELLS: usize = 2;
    #[inline(always)]
    fn read(stack: &[u64], at: usize) -> Self {
        u128::from(stack[at]) | (u128::from(stack[at + 1]) << 64)
    }
    #[inline(always)]
    fn write(self, stack: &mut [u64], at: usize) {
        stack[at] = self as u64;
        stack[at + 1] = (self >> 64) as u64;
    }
}

macro_rules! define_op_enum {
    (
        special { $($sname:ident { $($sf:ident : $sty:ty),* };)* }
        unary { $($uname:ident : ($ua:ty) -> $ur:ty = $uf:expr;)* }
        binary { $($bname:ident : ($ba:ty, $bb:ty) -> $br:ty = $bf:expr;)* }
        ternary { $($tname:ident : ($ta:ty, $tb:ty, $tc:ty) -> $tr:ty = $tf:expr;)* }
        unary_trap { $($utname:ident : ($uta:ty) -> $utr:ty = $utf:expr;)* }
        binary_trap { $($btname:ident : ($bta:ty, $btb:ty) -> $btr:ty = $btf:expr;)* }
        lane_extract { $($lename:ident : ($lea:ty) -> $ler:ty = $lef:expr;)* }
        lane_replace { $($lrname:ident : ($lra:ty, $lrb:ty) -> $lrr:ty = $lrf:expr;)* }
        load { $($ldname:ident : $ldn:literal -> $ldr:ty = $ldf:expr;)* }
        store { $($stname:ident / $sttname:ident : ($sta:ty) -> $stn:literal = $stf:expr;)* }
    ) => {
        /// One instruction of the internal code. Generated from `for_each_op!`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Op {
            $($sname { $($sf: $sty),* },)*
            $($uname {},)*
            $($bname {},)*
            $($tname {},)*
            $($utname {},)*
            $($btname {},)*
            $($lename { lane: u8 },)*
            $($lrname { lane: u8 },)*
            $($ldname { mem: u32, offset: u64 },)*
            $($stname { mem: u32, offset: u64 },)*
            $($sttname { mem: u32, offset: u64 },)*
        }

        impl Op {
            /// The instruction's name as the disassembler prints it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Op::$sname { .. } => stringify!($sname),)*
                    $(Op::$uname { .. } => stringify!($uname),)*
                    $(Op::$bname { .. } => stringify!($bname),)*
                    $(Op::$tname { .. } => stringify!($tname),)*
                    $(Op::$utname { .. } => stringify!($utname),)*
                    $(Op::$btname { .. } => stringify!($btname),)*
                    $(Op::$lename { .. } => stringify!($lename),)*
                    $(Op::$lrname { .. } => stringify!($lrname),)*
                    $(Op::$ldname { .. } => stringify!($ldname),)*
                    $(Op::$stname { .. } => stringify!($stname),)*
                    $(Op::$sttname { .. } => stringify!($sttname),)*
                }
            }

            /// The dirty-page-tracking twin of a store op; any other op is returned as it is.
            pub(crate) fn tracked(self) -> Op {
                match self {
                    $(Op::$stname { mem, offset } => Op::$sttname { mem, offset },)*
                    other => other,
                }
            }

            /// Translates the Wasm operators that map one-to-one onto an `Op` with the same name.
            pub(crate) fn simple(op: &Operator<'_>) -> Option<Op> {
                Some(match *op {
                    $(Operator::$uname => Op::$uname {},)*
                    $(Operator::$bname => Op::$bname {},)*
                    $(Operator::$tname => Op::$tname {},)*
                    $(Operator::$utname => Op::$utname {},)*
                    $(Operator::$btname => Op::$btname {},)*
                    $(Operator::$lename { lane } => Op::$lename { lane },)*
                    $(Operator::$lrname { lane } => Op::$lrname { lane },)*
                    $(Operator::$ldname { memarg } => Op::$ldname { mem: mem_index(&memarg), offset: memarg.offset },)*
                    $(Operator::$stname { memarg } => Op::$stname { mem: mem_index(&memarg), offset: memarg.offset },)*
                    _ => return None,
                })
            }
        }
    };
}

for_each_op!(define_op_enum);

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Debug form of a struct-like variant is `Name { field: value, .. }`: exactly the disassembly we want.
        let debug = format!("{self:?}");
        f.write_str(debug.trim_end_matches(" {}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stays_small() {
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "Op is {} bytes",
            std::mem::size_of::<Op>()
        );
    }

    #[test]
    fn disassembly_names_fields() {
        assert_eq!(Op::Jump { target: 3 }.to_string(), "Jump { target: 3 }");
        assert_eq!(Op::I32Add {}.to_string(), "I32Add");
    }
}
