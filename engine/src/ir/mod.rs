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
        fused { $($fname:ident [$fl:ident $fc:ident $fll:ident $flc:ident $fto:ident $flto:ident $fcto:ident $fllto:ident $flcto:ident $ftee:ident $fltee:ident $fctee:ident $flltee:ident $flctee:ident]
            $(if [$j:ident $jl:ident $jc:ident $jll:ident $jlc:ident] else [$nj:ident $njl:ident $njc:ident $njll:ident $njlc:ident])?
            : ($fa:ty, $fb:ty) -> $fr:ty = $ff:expr;)* }
        ternary { $($tname:ident : ($ta:ty, $tb:ty, $tc:ty) -> $tr:ty = $tf:expr;)* }
        unary_trap { $($utname:ident : ($uta:ty) -> $utr:ty = $utf:expr;)* }
        binary_trap { $($btname:ident : ($bta:ty, $btb:ty) -> $btr:ty = $btf:expr;)* }
        lane_extract { $($lename:ident : ($lea:ty) -> $ler:ty = $lef:expr;)* }
        lane_replace { $($lrname:ident : ($lra:ty, $lrb:ty) -> $lrr:ty = $lrf:expr;)* }
        load { $($ldname:ident / $ldsname:ident $([$ldl:ident $ldlc:ident $ldll:ident $ldc:ident])? : $ldn:literal -> $ldr:ty = $ldf:expr;)* }
        store { $($stname:ident / $sttname:ident / $stsname:ident $([$stv:ident $stlv:ident $sttv:ident $sttlv:ident])? : ($sta:ty) -> $stn:literal = $stf:expr;)* }
    ) => {
        /// One instruction of the internal code. Generated from `for_each_op!`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Op {
            $($sname { $($sf: $sty),* },)*
            $($uname {},)*
            $($bname {},)*
            $($fname {},
              $fl { b: u32 },
              $fc { c: u32 },
              $fll { a: u32, b: u32 },
              $flc { a: u32, c: u32 },
              $fto { dst: u32 },
              $flto { b: u32, dst: u32 },
              $fcto { c: u32, dst: u32 },
              $fllto { a: u32, b: u32, dst: u32 },
              $flcto { a: u32, c: u32, dst: u32 },
              $ftee { dst: u32 },
              $fltee { b: u32, dst: u32 },
              $fctee { c: u32, dst: u32 },
              $flltee { a: u32, b: u32, dst: u32 },
              $flctee { a: u32, c: u32, dst: u32 },
              $($j { target: u32 },
                $jl { b: u32, target: u32 },
                $jc { c: u32, target: u32 },
                $jll { a: u32, b: u32, target: u32 },
                $jlc { a: u32, c: u32, target: u32 },)?
            )*
            $($tname {},)*
            $($utname {},)*
            $($btname {},)*
            $($lename { lane: u8 },)*
            $($lrname { lane: u8 },)*
            $($ldname { mem: u32, offset: u64 },
              $ldsname { mem: u32, offset: u64 },
              $($ldl { a: u32, offset: u32 },
                $ldlc { a: u32, c: u32, offset: u32 },
                $ldll { a: u32, b: u32, offset: u32 },
                $ldc { c: u32, offset: u32 },)?
            )*
            $($stname { mem: u32, offset: u64 },
              $sttname { mem: u32, offset: u64 },
              $stsname { mem: u32, offset: u64 },
              $($stv { v: u32, offset: u32 },
                $stlv { a: u32, v: u32, offset: u32 },
                $sttv { v: u32, offset: u32 },
                $sttlv { a: u32, v: u32, offset: u32 },)?
            )*
        }

        impl Op {
            /// The instruction's name as the disassembler prints it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Op::$sname { .. } => stringify!($sname),)*
                    $(Op::$uname { .. } => stringify!($uname),)*
                    $(Op::$bname { .. } => stringify!($bname),)*
                    $(Op::$fname { .. } => stringify!($fname),
                      Op::$fl { .. } => stringify!($fl),
                      Op::$fc { .. } => stringify!($fc),
                      Op::$fll { .. } => stringify!($fll),
                      Op::$flc { .. } => stringify!($flc),
                      Op::$fto { .. } => stringify!($fto),
                      Op::$flto { .. } => stringify!($flto),
                      Op::$fcto { .. } => stringify!($fcto),
                      Op::$fllto { .. } => stringify!($fllto),
                      Op::$flcto { .. } => stringify!($flcto),
                      Op::$ftee { .. } => stringify!($ftee),
                      Op::$fltee { .. } => stringify!($fltee),
                      Op::$fctee { .. } => stringify!($fctee),
                      Op::$flltee { .. } => stringify!($flltee),
                      Op::$flctee { .. } => stringify!($flctee),
                      $(Op::$j { .. } => stringify!($j),
                        Op::$jl { .. } => stringify!($jl),
                        Op::$jc { .. } => stringify!($jc),
                        Op::$jll { .. } => stringify!($jll),
                        Op::$jlc { .. } => stringify!($jlc),)?
                    )*
                    $(Op::$tname { .. } => stringify!($tname),)*
                    $(Op::$utname { .. } => stringify!($utname),)*
                    $(Op::$btname { .. } => stringify!($btname),)*
                    $(Op::$lename { .. } => stringify!($lename),)*
                    $(Op::$lrname { .. } => stringify!($lrname),)*
                    $(Op::$ldname { .. } => stringify!($ldname),
                      Op::$ldsname { .. } => stringify!($ldsname),
                      $(Op::$ldl { .. } => stringify!($ldl),
                        Op::$ldlc { .. } => stringify!($ldlc),
                        Op::$ldll { .. } => stringify!($ldll),
                        Op::$ldc { .. } => stringify!($ldc),)?
                    )*
                    $(Op::$stname { .. } => stringify!($stname),
                      Op::$sttname { .. } => stringify!($sttname),
                      Op::$stsname { .. } => stringify!($stsname),
                      $(Op::$stv { .. } => stringify!($stv),
                        Op::$stlv { .. } => stringify!($stlv),
                        Op::$sttv { .. } => stringify!($sttv),
                        Op::$sttlv { .. } => stringify!($sttlv),)?
                    )*
                }
            }

            /// The dirty-page-tracking twin of a store op; any other op is returned as it is.
            pub(crate) fn tracked(self) -> Op {
                match self {
                    $(Op::$stname { mem, offset } => Op::$sttname { mem, offset },
                      $(Op::$stv { v, offset } => Op::$sttv { v, offset },
                        Op::$stlv { a, v, offset } => Op::$sttlv { a, v, offset },)?
                    )*
                    other => other,
                }
            }

            /// The sanitizer's twin of a load or store of memory 0 (see `crate::sanitizer`): it checks the shadow of the
            /// bytes it touches first. Any other op is returned as it is.
            pub(crate) fn sanitized(self) -> Op {
                match self {
                    $(Op::$ldname { mem: 0, offset } => Op::$ldsname { mem: 0, offset },)*
                    $(Op::$stname { mem: 0, offset } | Op::$sttname { mem: 0, offset } => Op::$stsname { mem: 0, offset },)*
                    other => other,
                }
            }

            /// Translates the Wasm operators that map one-to-one onto an `Op` with the same name.
            pub(crate) fn simple(op: &Operator<'_>) -> Option<Op> {
                Some(match *op {
                    $(Operator::$uname => Op::$uname {},)*
                    $(Operator::$bname => Op::$bname {},)*
                    $(Operator::$fname => Op::$fname {},)*
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

            /// The op that does what `self` followed by `next` does, when there is one (the translator's peephole).
            pub(crate) fn fuse(self, next: Op) -> Option<Op> {
                Some(match (self, next) {
                    // `x & 0xffff_ffff` keeps the low half: what zero-extending the i32 in the cell's low half does
                    // (an i32 reads the low 32 bits of its cell). Before the generic rules, whose immediate cannot
                    // hold this constant.
                    (Op::Const64 { value: 0xffff_ffff }, Op::I64And {}) => Op::I64ExtendI32U {},
                    $(
                        (Op::LocalGet { index }, Op::$fname {}) => Op::$fl { b: index },
                        (Op::Const32 { value }, Op::$fname {}) => Op::$fc { c: <$fb as Imm>::imm(u64::from(value))? },
                        (Op::Const64 { value }, Op::$fname {}) => Op::$fc { c: <$fb as Imm>::imm(value)? },
                        (Op::LocalGet { index }, Op::$fl { b }) => Op::$fll { a: index, b },
                        (Op::LocalGet { index }, Op::$fc { c }) => Op::$flc { a: index, c },
                        (Op::$fname {}, Op::LocalSet { index }) => Op::$fto { dst: index },
                        (Op::$fl { b }, Op::LocalSet { index }) => Op::$flto { b, dst: index },
                        (Op::$fc { c }, Op::LocalSet { index }) => Op::$fcto { c, dst: index },
                        (Op::$fll { a, b }, Op::LocalSet { index }) => Op::$fllto { a, b, dst: index },
                        (Op::$flc { a, c }, Op::LocalSet { index }) => Op::$flcto { a, c, dst: index },
                        (Op::$fname {}, Op::LocalTee { index }) => Op::$ftee { dst: index },
                        (Op::$fl { b }, Op::LocalTee { index }) => Op::$fltee { b, dst: index },
                        (Op::$fc { c }, Op::LocalTee { index }) => Op::$fctee { c, dst: index },
                        (Op::$fll { a, b }, Op::LocalTee { index }) => Op::$flltee { a, b, dst: index },
                        (Op::$flc { a, c }, Op::LocalTee { index }) => Op::$flctee { a, c, dst: index },
                        $(
                            (Op::$fname {}, Op::JumpIfNez { target }) => Op::$j { target },
                            (Op::$fl { b }, Op::JumpIfNez { target }) => Op::$jl { b, target },
                            (Op::$fc { c }, Op::JumpIfNez { target }) => Op::$jc { c, target },
                            (Op::$fll { a, b }, Op::JumpIfNez { target }) => Op::$jll { a, b, target },
                            (Op::$flc { a, c }, Op::JumpIfNez { target }) => Op::$jlc { a, c, target },
                            (Op::$fname {}, Op::JumpIfEqz { target }) => Op::$nj { target },
                            (Op::$fl { b }, Op::JumpIfEqz { target }) => Op::$njl { b, target },
                            (Op::$fc { c }, Op::JumpIfEqz { target }) => Op::$njc { c, target },
                            (Op::$fll { a, b }, Op::JumpIfEqz { target }) => Op::$njll { a, b, target },
                            (Op::$flc { a, c }, Op::JumpIfEqz { target }) => Op::$njlc { a, c, target },
                        )?
                    )*
                    $($(
                        (Op::LocalGet { index }, Op::$ldname { mem: 0, offset }) => Op::$ldl {
                            a: index,
                            offset: u32::try_from(offset).ok()?,
                        },
                        (Op::I32AddLC { a, c }, Op::$ldname { mem: 0, offset }) => Op::$ldlc {
                            a,
                            c,
                            offset: u32::try_from(offset).ok()?,
                        },
                        (Op::I32AddLL { a, b }, Op::$ldname { mem: 0, offset }) => Op::$ldll {
                            a,
                            b,
                            offset: u32::try_from(offset).ok()?,
                        },
                        (Op::I32AddC { c }, Op::$ldname { mem: 0, offset }) => Op::$ldc {
                            c,
                            offset: u32::try_from(offset).ok()?,
                        },
                    )?)*
                    $($(
                        (Op::LocalGet { index }, Op::$stname { mem: 0, offset }) => Op::$stv {
                            v: index,
                            offset: u32::try_from(offset).ok()?,
                        },
                        (Op::LocalGet { index }, Op::$sttname { mem: 0, offset }) => Op::$sttv {
                            v: index,
                            offset: u32::try_from(offset).ok()?,
                        },
                        (Op::LocalGet { index }, Op::$stv { v, offset }) => Op::$stlv { a: index, v, offset },
                        (Op::LocalGet { index }, Op::$sttv { v, offset }) => Op::$sttlv { a: index, v, offset },
                    )?)*
                    (Op::LocalGet { index }, Op::LocalSet { index: dst }) => Op::LocalCopy { src: index, dst },
                    (Op::Const32 { value }, Op::LocalSet { index }) => Op::LocalSetConst32 { dst: index, value },
                    (Op::Const64 { value }, Op::LocalSet { index }) => Op::LocalSetConst64 { dst: index, value },
                    (Op::I32Eqz {}, Op::JumpIfNez { target }) => Op::JumpIfEqz { target },
                    (Op::I32Eqz {}, Op::JumpIfEqz { target }) => Op::JumpIfNez { target },
                    (Op::LocalCopy { src, dst }, Op::LocalCopy { src: src2, dst: dst2 }) => Op::LocalCopy2 {
                        src: u16::try_from(src).ok()?,
                        dst: u16::try_from(dst).ok()?,
                        src2: u16::try_from(src2).ok()?,
                        dst2: u16::try_from(dst2).ok()?,
                    },
                    (Op::LocalGet { index }, Op::I64ExtendI32U {}) => Op::I64ExtendI32UL { a: index },
                    (Op::F32LoadL { a, offset }, Op::F32Add {}) => Op::F32AddLoadL { a, offset },
                    (Op::F32LoadL { a, offset }, Op::F32Sub {}) => Op::F32SubLoadL { a, offset },
                    (Op::F32LoadL { a, offset }, Op::F32Mul {}) => Op::F32MulLoadL { a, offset },
                    (Op::F64LoadL { a, offset }, Op::F64Add {}) => Op::F64AddLoadL { a, offset },
                    (Op::F64LoadL { a, offset }, Op::F64Sub {}) => Op::F64SubLoadL { a, offset },
                    (Op::F64LoadL { a, offset }, Op::F64Mul {}) => Op::F64MulLoadL { a, offset },
                    (Op::Select {}, Op::LocalSet { index }) => Op::SelectTo { dst: index },
                    (Op::Select {}, Op::LocalTee { index }) => Op::SelectTee { dst: index },
                    (Op::LocalGet { index }, Op::JumpIfNez { target }) => Op::JumpIfLocalNez { index, target },
                    (Op::LocalGet { index }, Op::JumpIfEqz { target }) => Op::JumpIfLocalEqz { index, target },
                    // The counted loop: the tee writes back to the local it read, whose index fits 16 bits. (That
                    // field sits right after the tag, where the interpreter reads it for every op: a signed one there
                    // would cost every op a sign extension.)
                    (Op::I32AddLCTee { a, c, dst }, Op::JumpIfI32Ne { target }) if a == dst => Op::I32AddJumpIfNe {
                        local: u16::try_from(a).ok()?,
                        step: c as i32,
                        target,
                    },
                    (Op::I32AddLCTee { a, c, dst }, Op::JumpIfI32NeC { c: limit, target }) if a == dst => {
                        Op::I32AddJumpIfNeC {
                            local: u16::try_from(a).ok()?,
                            step: c as i32,
                            limit,
                            target,
                        }
                    }
                    (Op::I32AddLCTee { a, c, dst }, Op::JumpIfNez { target }) if a == dst => Op::I32AddJumpIfNeC {
                        local: u16::try_from(a).ok()?,
                        step: c as i32,
                        limit: 0,
                        target,
                    },
                    // The other operand was read before the increment: it must be another local.
                    (Op::LocalGet { index }, Op::I32AddJumpIfNe { local, step, target })
                        if index != u32::from(local) =>
                    {
                        Op::I32AddJumpIfNeL {
                            local,
                            step,
                            other: index,
                            target,
                        }
                    }
                    _ => return None,
                })
            }

            /// The comparison-logging op (of `kind`) that reads the operands of `self`, an op of the `fused` group in one
            /// of its forms that leave the result on the stack, where `self` reads them: placed right before `self`, it
            /// logs what the unfused `CmpLog` before the comparison would.
            pub(crate) fn cmp_log(&self, kind: u8) -> Option<Op> {
                Some(match *self {
                    $(Op::$fname {} => Op::CmpLog { kind },
                      Op::$fl { b } => Op::CmpLogL { kind, b },
                      Op::$fc { c } => Op::CmpLogC { kind, c },
                      Op::$fll { a, b } => Op::CmpLogLL { kind, a, b },
                      Op::$flc { a, c } => Op::CmpLogLC { kind, a, c },)*
                    _ => return None,
                })
            }

            /// The branch target of a fused op that jumps.
            pub(crate) fn fused_target_mut(&mut self) -> Option<&mut u32> {
                match self {
                    $($(
                        Op::$j { target }
                        | Op::$jl { target, .. }
                        | Op::$jc { target, .. }
                        | Op::$jll { target, .. }
                        | Op::$jlc { target, .. } => Some(target),
                    )?)*
                    Op::JumpIfLocalNez { target, .. }
                    | Op::JumpIfLocalEqz { target, .. }
                    | Op::I32AddJumpIfNe { target, .. }
                    | Op::I32AddJumpIfNeC { target, .. }
                    | Op::I32AddJumpIfNeL { target, .. } => Some(target),
                    _ => None,
                }
            }

            /// Whether the op may hand control anywhere but to the op after it (branches, calls, returns, traps
            /// that always happen), or costs more fuel than one unit (bulk ops): the last op of a fuel region. The interpreter charges a region's fuel when it
            /// enters it and settles up only where control leaves the code through one of these ops.
            pub(crate) fn ends_region(&self) -> bool {
                // Every fused op that jumps has its target patched by the translator: `fused_target_mut` knows them.
                let mut fused = *self;
                fused.fused_target_mut().is_some()
                    || matches!(
                        self,
                        Op::Unreachable {}
                            | Op::Jump { .. }
                            | Op::JumpIfNez { .. }
                            | Op::JumpIfEqz { .. }
                            | Op::Br { .. }
                            | Op::BrIfNez { .. }
                            | Op::BrTable { .. }
                            | Op::BrTableEntry { .. }
                            | Op::Return {}
                            | Op::ReturnIfNez {}
                            | Op::Call { .. }
                            | Op::CallIndirect { .. }
                            | Op::ReturnCall { .. }
                            | Op::ReturnCallIndirect { .. }
                            | Op::CallBody { .. }
                            | Op::JumpIfNezCov { .. }
                            | Op::JumpIfEqzCov { .. }
                            | Op::BrIfNezCov { .. }
                            | Op::ReturnIfNezCov {}
                            | Op::BrTableCov { .. }
                            | Op::CovJump { .. }
                            // Bulk ops pay for the bytes they write when they run (`Config::bulk_fuel_unit`).
                            | Op::MemoryGrow { .. }
                            | Op::MemoryFill { .. }
                            | Op::MemoryCopy { .. }
                            | Op::MemoryInit { .. }
                            | Op::TableGrow { .. }
                            | Op::TableFill { .. }
                            | Op::TableCopy { .. }
                            | Op::TableInit { .. }
                    )
            }
        }
    };
}

/// Values that a 32-bit immediate of a fused op can hold: the translator asks `imm` whether a constant fits, the
/// interpreter turns the immediate back into the value with `from_imm`.
pub(crate) trait Imm: Sized {
    fn imm(cell: u64) -> Option<u32>;
    fn from_imm(c: u32) -> Self;
}

impl Imm for i32 {
    fn imm(cell: u64) -> Option<u32> {
        Some(cell as u32)
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        c as i32
    }
}

impl Imm for i64 {
    fn imm(cell: u64) -> Option<u32> {
        i32::try_from(cell as i64).ok().map(|v| v as u32)
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        i64::from(c as i32)
    }
}

impl Imm for f32 {
    fn imm(cell: u64) -> Option<u32> {
        Some(cell as u32)
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        f32::from_bits(c)
    }
}

impl Imm for f64 {
    fn imm(_: u64) -> Option<u32> {
        // A 64-bit float constant does not fit.
        None
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        f64::from(f32::from_bits(c))
    }
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
