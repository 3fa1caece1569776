//! The one list of the engine's internal instructions: the `Op` enum, the translator's simple cases, the interpreter's dispatch and the disassembler are all generated from `for_each_op!`.
//!
//! Groups:
//! - `special`: control flow, variables, calls, tables, bulk memory — semantics written by hand in the interpreter.
//!   Each entry declares in brackets how control leaves it (`flow`: `next`, `bulk` — falls through but costs more
//!   than one unit of fuel —, `branch(field)`, `jump(field)`, `table`, `ret`, `ret_if`, `call`, `tail`, `trap`; the
//!   field, if any, is the branch target the translator patches), the guest memory it reads and writes (`access`:
//!   `read`/`write`, memory, length, address), and the Wasm instructions it stands for (`wat`);
//! - `unary`, `binary`, `ternary`: pure operations on stack values, named like the Wasm operator they translate;
//! - `fused`: binary operations that also have register forms reading their operands from locals (`L`) or an
//!   immediate (`C`) instead of the stack, or writing their result to a local (`To`): `I32AddLC { a, c }` is
//!   `local.get a; i32.const c; i32.add`, `I32AddLTo { b, dst }` is `local.get b; i32.add; local.set dst`.
//!   Integer comparisons also have branching forms (`JumpIf...`, `if [own] else [negation's]`) that take the place
//!   of the comparison and the conditional jump after it. A fused op is one instruction (one unit of fuel);
//! - `unary_trap`, `binary_trap`: like above, returning `Result<_, TrapKind>`;
//! - `lane_extract`, `lane_replace`: SIMD lane operations with a `lane` immediate;
//! - `load`, `store`: memory accesses of N bytes with a `mem` index and a constant `offset`; a scalar (and the plain
//!   `v128`) load has forms `[..L ..LC ..LL ..C]` on memory 0 with an offset below 2^32 whose address is a local
//!   (`L`), a local plus an i32 immediate (`LC`, `local.get a; i32.const c; i32.add; load`), the sum of two locals
//!   (`LL`, `local.get a; local.get b; i32.add; load`) or the stack operand plus an immediate (`C`, `i32.const c;
//!   i32.add; load`), the sums wrapping like `i32.add`. Every store has a `Tracked` twin, emitted when the engine
//!   tracks dirty pages, that also marks the pages it writes; a scalar store also has forms on memory 0 (offset
//!   below 2^32) that take the value from a local (`V`, `local.get v; store`) or the address and the value from
//!   locals (`LV`, `local.get a; local.get v; store`), each with its own `Tracked` twin. Every load and store also
//!   has a `San` twin, which the sanitizer puts in place of accesses to memory 0: it checks the shadow of the bytes
//!   first (and a store twin marks dirty pages like a `Tracked` one);
//! - `load_lane`, `store_lane`: the SIMD lane accesses of N bytes (`v128.load8_lane` ...), with a `lane` immediate
//!   and the same `San` and `Tracked` twins.
//!
//! Consumers read the list flattened by `for_each_op_flat!`: one uniform entry per `Op` variant.

/// Calls `$m!` with the whole instruction list.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_op {
    ($m:ident $($args:tt)*) => {
        $m! {
            $($args)*
            special {
                Unreachable {} [trap() access[] wat[("unreachable")]];
                Jump { target: u32 } [jump(target) access[] wat[("br" (target target))]];
                JumpIfNez { target: u32 } [branch(target) access[] wat[("br_if" (target target))]];
                JumpIfEqz { target: u32 } [branch(target) access[] wat[("i32.eqz") ("br_if" (target target))]];
                Br { target: u32, drop: u32, keep: u32 } [jump(target) access[] wat[("br" (target target))]];
                BrIfNez { target: u32, drop: u32, keep: u32 } [branch(target) access[] wat[("br_if" (target target))]];
                BrTable { len: u32 } [table() access[] wat[("br_table")]];
                BrTableEntry { target: u32, drop: u32, keep: u32 } [jump(target) access[] wat[("br" (target target))]];
                Return {} [ret() access[] wat[("return")]];
                ReturnIfNez {} [ret_if() access[] wat[("if") ("return") ("end")]];
                Call { func: u32 } [call() access[] wat[("call" (func))]];
                CallIndirect { type_index: u32, table: u32 } [call() access[] wat[("call_indirect" (table) (type_use type_index))]];
                ReturnCall { func: u32 } [tail() access[] wat[("return_call" (func))]];
                ReturnCallIndirect { type_index: u32, table: u32 } [tail() access[] wat[("return_call_indirect" (table) (type_use type_index))]];
                Drop { cells: u32 } [next() access[] wat[("drop")]];
                Select {} [next() access[] wat[("select")]];
                SelectV128 {} [next() access[] wat[("select")]];
                LocalGet { index: u32 } [next() access[] wat[("local.get" (local index))]];
                LocalSet { index: u32 } [next() access[] wat[("local.set" (local index))]];
                LocalTee { index: u32 } [next() access[] wat[("local.tee" (local index))]];
                LocalGetV128 { index: u32 } [next() access[] wat[("local.get" (local index))]];
                LocalSetV128 { index: u32 } [next() access[] wat[("local.set" (local index))]];
                LocalTeeV128 { index: u32 } [next() access[] wat[("local.tee" (local index))]];
                LocalCopy { src: u32, dst: u32 } [next() access[] wat[("local.get" (local src)) ("local.set" (local dst))]];
                LocalSetConst32 { dst: u32, value: u32 } [next() access[] wat[("i32.const" (value)) ("local.set" (local dst))]];
                LocalSetConst64 { dst: u32, value: u64 } [next() access[] wat[("i64.const" (value)) ("local.set" (local dst))]];
                // Fused forms written by hand: two `LocalCopy`s in a row; `select` whose result goes to a local
                // (`select; local.set dst`, `select; local.tee dst`); `local.get x; br_if` and `local.get x;
                // i32.eqz; br_if`; and the counted loop's `local.get i; i32.const step; i32.add; local.tee i`
                // followed by a jump if `i` differs from the operand below it, from an immediate (`br_if` alone:
                // from 0) or from another local; `local.get a; i64.extend_i32_u` (also `local.get a; i64.const
                // 0xffff_ffff; i64.and`); float arithmetic whose second operand is loaded from the address in a local
                // (`local.get a; f32.load offset; f32.add`, the first operand on the stack; memory 0, offset below
                // 2^32). Their translation rules are in `Op::fuse`.
                LocalCopy2 { src: u16, dst: u16, src2: u16, dst2: u16 } [next() access[] wat[("local.get" (local src)) ("local.set" (local dst)) ("local.get" (local src2)) ("local.set" (local dst2))]];
                SelectTo { dst: u32 } [next() access[] wat[("select") ("local.set" (local dst))]];
                SelectTee { dst: u32 } [next() access[] wat[("select") ("local.tee" (local dst))]];
                JumpIfLocalNez { index: u32, target: u32 } [branch(target) access[] wat[("local.get" (local index)) ("br_if" (target target))]];
                JumpIfLocalEqz { index: u32, target: u32 } [branch(target) access[] wat[("local.get" (local index)) ("i32.eqz") ("br_if" (target target))]];
                I32AddJumpIfNe { local: u16, step: i32, target: u32 } [branch(target) access[] wat[("local.get" (local local)) ("i32.const" (step)) ("i32.add") ("local.tee" (local local)) ("i32.ne") ("br_if" (target target))]];
                I32AddJumpIfNeC { local: u16, step: i32, limit: u32, target: u32 } [branch(target) access[] wat[("local.get" (local local)) ("i32.const" (step)) ("i32.add") ("local.tee" (local local)) ("i32.const" (signed limit)) ("i32.ne") ("br_if" (target target))]];
                I32AddJumpIfNeL { local: u16, step: i32, other: u32, target: u32 } [branch(target) access[] wat[("local.get" (local other)) ("local.get" (local local)) ("i32.const" (step)) ("i32.add") ("local.tee" (local local)) ("i32.ne") ("br_if" (target target))]];
                I64ExtendI32UL { a: u32 } [next() access[] wat[("local.get" (local a)) ("i64.extend_i32_u")]];
                F32AddLoadL { a: u32, offset: u32 } [next() access[read 0 4 (local a offset)] wat[("local.get" (local a)) ("f32.load" (memarg offset)) ("f32.add")]];
                F32SubLoadL { a: u32, offset: u32 } [next() access[read 0 4 (local a offset)] wat[("local.get" (local a)) ("f32.load" (memarg offset)) ("f32.sub")]];
                F32MulLoadL { a: u32, offset: u32 } [next() access[read 0 4 (local a offset)] wat[("local.get" (local a)) ("f32.load" (memarg offset)) ("f32.mul")]];
                F64AddLoadL { a: u32, offset: u32 } [next() access[read 0 8 (local a offset)] wat[("local.get" (local a)) ("f64.load" (memarg offset)) ("f64.add")]];
                F64SubLoadL { a: u32, offset: u32 } [next() access[read 0 8 (local a offset)] wat[("local.get" (local a)) ("f64.load" (memarg offset)) ("f64.sub")]];
                F64MulLoadL { a: u32, offset: u32 } [next() access[read 0 8 (local a offset)] wat[("local.get" (local a)) ("f64.load" (memarg offset)) ("f64.mul")]];
                GlobalGet { index: u32 } [next() access[] wat[("global.get" (index))]];
                GlobalSet { index: u32 } [next() access[] wat[("global.set" (index))]];
                GlobalGetV128 { index: u32 } [next() access[] wat[("global.get" (index))]];
                GlobalSetV128 { index: u32 } [next() access[] wat[("global.set" (index))]];
                Const32 { value: u32 } [next() access[] wat[("i32.const" (signed value))]];
                Const64 { value: u64 } [next() access[] wat[("i64.const" (signed value))]];
                ConstV128 { index: u32 } [next() access[] wat[("v128.const" (pool index))]];
                MemorySize { mem: u32 } [next() access[] wat[("memory.size" (mem))]];
                MemoryGrow { mem: u32 } [bulk() access[] wat[("memory.grow" (mem))]];
                MemoryFill { mem: u32 } [bulk() access[write mem (stack 1) (stack 3)] wat[("memory.fill" (mem))]];
                MemoryCopy { dst: u32, src: u32 } [bulk() access[read src (stack 1) (stack 2), write dst (stack 1) (stack 3)] wat[("memory.copy" (dst) (src))]];
                MemoryInit { data: u32, mem: u32 } [bulk() access[write mem (stack32 1) (stack 3)] wat[("memory.init" (mem) (data))]];
                DataDrop { data: u32 } [next() access[] wat[("data.drop" (data))]];
                TableGet { table: u32 } [next() access[] wat[("table.get" (table))]];
                TableSet { table: u32 } [next() access[] wat[("table.set" (table))]];
                TableSize { table: u32 } [next() access[] wat[("table.size" (table))]];
                TableGrow { table: u32 } [bulk() access[] wat[("table.grow" (table))]];
                TableFill { table: u32 } [bulk() access[] wat[("table.fill" (table))]];
                TableCopy { dst: u32, src: u32 } [bulk() access[] wat[("table.copy" (dst) (src))]];
                TableInit { elem: u32, table: u32 } [bulk() access[] wat[("table.init" (table) (elem))]];
                ElemDrop { elem: u32 } [next() access[] wat[("elem.drop" (elem))]];
                RefNull {} [next() access[] wat[("ref.null" "func")]];
                RefIsNull {} [next() access[] wat[("ref.is_null")]];
                RefFunc { func: u32 } [next() access[] wat[("ref.func" (func))]];
                I8x16Shuffle { index: u32 } [next() access[] wat[("i8x16.shuffle" (pool index))]];
                Cov { edge: u32 } [next() access[] wat[]];
                JumpIfNezCov { target: u32 } [branch(target) access[] wat[("br_if" (target target))]];
                JumpIfEqzCov { target: u32 } [branch(target) access[] wat[("i32.eqz") ("br_if" (target target))]];
                BrIfNezCov { target: u32, drop: u32, keep: u32 } [branch(target) access[] wat[("br_if" (target target))]];
                ReturnIfNezCov {} [ret_if() access[] wat[("if") ("return") ("end")]];
                BrTableCov { len: u32 } [table() access[] wat[("br_table")]];
                CmpLog { kind: u8 } [next() access[] wat[]];
                // Comparison logging of a fused comparison (`kind` `CMP_I32` or `CMP_I64`), placed right before it and
                // reading its operands where it reads them: `L` the second from a local `b` (the first from the
                // stack), `C` the second from an immediate, `LL` both from locals, `LC` the first from a local and
                // the second from an immediate (see `Op::cmp_log`).
                CmpLogL { kind: u8, b: u32 } [next() access[] wat[]];
                CmpLogC { kind: u8, c: u32 } [next() access[] wat[]];
                CmpLogLL { kind: u8, a: u32, b: u32 } [next() access[] wat[]];
                CmpLogLC { kind: u8, a: u32, c: u32 } [next() access[] wat[]];
                // With coverage, the taken branch of a fused op that jumps goes through one of these, placed after
                // the body's last op: it counts `edge` and jumps on to the branch's target.
                CovJump { edge: u32, target: u32 } [jump(target) access[] wat[("br" (target target))]];
                CmpLogCall { func: u32 } [next() access[] wat[]];
                Break {} [next() access[] wat[]];
                // The sanitizer's wrappers around the allocator (`crate::sanitizer`): a call of another body of the
                // running module (the real allocator function), and the steps of a wrapper, `kind` an `AllocFn`.
                CallBody { body: u32 } [call() access[] wat[("call" "body" (body))]];
                SanEnter { kind: u8 } [next() access[] wat[]];
                SanSize { kind: u8 } [next() access[] wat[]];
                SanAllocated { kind: u8 } [next() access[] wat[]];
                SanRelease {} [next() access[] wat[]];
                SanExit {} [next() access[] wat[]];
                SanUsableSize {} [next() access[] wat[]];
                // `global.set` of the shadow stack pointer, which the sanitizer watches.
                StackPointerSet { index: u32 } [next() access[] wat[("global.set" (index))]];
            }
            unary {
                I32Eqz: (i32) -> i32 = |a| (a == 0) as i32;
                I64Eqz: (i64) -> i32 = |a| (a == 0) as i32;
                I32Clz: (i32) -> i32 = |a| a.leading_zeros() as i32;
                I32Ctz: (i32) -> i32 = |a| a.trailing_zeros() as i32;
                I32Popcnt: (i32) -> i32 = |a| a.count_ones() as i32;
                I64Clz: (i64) -> i64 = |a| i64::from(a.leading_zeros());
                I64Ctz: (i64) -> i64 = |a| i64::from(a.trailing_zeros());
                I64Popcnt: (i64) -> i64 = |a| i64::from(a.count_ones());
                F32Abs: (f32) -> f32 = num::f32_abs;
                F32Neg: (f32) -> f32 = num::f32_neg;
                F32Ceil: (f32) -> f32 = num::f32_ceil;
                F32Floor: (f32) -> f32 = num::f32_floor;
                F32Trunc: (f32) -> f32 = num::f32_trunc;
                F32Nearest: (f32) -> f32 = num::f32_nearest;
                F32Sqrt: (f32) -> f32 = num::f32_sqrt;
                F64Abs: (f64) -> f64 = num::f64_abs;
                F64Neg: (f64) -> f64 = num::f64_neg;
                F64Ceil: (f64) -> f64 = num::f64_ceil;
                F64Floor: (f64) -> f64 = num::f64_floor;
                F64Trunc: (f64) -> f64 = num::f64_trunc;
                F64Nearest: (f64) -> f64 = num::f64_nearest;
                F64Sqrt: (f64) -> f64 = num::f64_sqrt;
                I32WrapI64: (i64) -> i32 = |a| a as i32;
                I64ExtendI32S: (i32) -> i64 = i64::from;
                I64ExtendI32U: (i32) -> i64 = |a| i64::from(a as u32);
                F32ConvertI32S: (i32) -> f32 = |a| a as f32;
                F32ConvertI32U: (i32) -> f32 = |a| a as u32 as f32;
                F32ConvertI64S: (i64) -> f32 = |a| a as f32;
                F32ConvertI64U: (i64) -> f32 = |a| a as u64 as f32;
                F32DemoteF64: (f64) -> f32 = |a| a as f32;
                F64ConvertI32S: (i32) -> f64 = f64::from;
                F64ConvertI32U: (i32) -> f64 = |a| f64::from(a as u32);
                F64ConvertI64S: (i64) -> f64 = |a| a as f64;
                F64ConvertI64U: (i64) -> f64 = |a| a as u64 as f64;
                F64PromoteF32: (f32) -> f64 = f64::from;
                I32ReinterpretF32: (u32) -> u32 = |a| a;
                I64ReinterpretF64: (u64) -> u64 = |a| a;
                F32ReinterpretI32: (u32) -> u32 = |a| a;
                F64ReinterpretI64: (u64) -> u64 = |a| a;
                I32Extend8S: (i32) -> i32 = |a| i32::from(a as i8);
                I32Extend16S: (i32) -> i32 = |a| i32::from(a as i16);
                I64Extend8S: (i64) -> i64 = |a| i64::from(a as i8);
                I64Extend16S: (i64) -> i64 = |a| i64::from(a as i16);
                I64Extend32S: (i64) -> i64 = |a| i64::from(a as i32);
                I32TruncSatF32S: (f32) -> i32 = |a| a as i32;
                I32TruncSatF32U: (f32) -> i32 = |a| a as u32 as i32;
                I32TruncSatF64S: (f64) -> i32 = |a| a as i32;
                I32TruncSatF64U: (f64) -> i32 = |a| a as u32 as i32;
                I64TruncSatF32S: (f32) -> i64 = |a| a as i64;
                I64TruncSatF32U: (f32) -> i64 = |a| a as u64 as i64;
                I64TruncSatF64S: (f64) -> i64 = |a| a as i64;
                I64TruncSatF64U: (f64) -> i64 = |a| a as u64 as i64;
                I8x16Splat: (i32) -> u128 = simd::i8x16_splat;
                I16x8Splat: (i32) -> u128 = simd::i16x8_splat;
                I32x4Splat: (i32) -> u128 = simd::i32x4_splat;
                I64x2Splat: (i64) -> u128 = simd::i64x2_splat;
                F32x4Splat: (f32) -> u128 = simd::f32x4_splat;
                F64x2Splat: (f64) -> u128 = simd::f64x2_splat;
                V128Not: (u128) -> u128 = simd::v128_not;
                V128AnyTrue: (u128) -> i32 = simd::v128_any_true;
                I8x16Abs: (u128) -> u128 = simd::i8x16_abs;
                I8x16Neg: (u128) -> u128 = simd::i8x16_neg;
                I8x16Popcnt: (u128) -> u128 = simd::i8x16_popcnt;
                I8x16AllTrue: (u128) -> i32 = simd::i8x16_all_true;
                I8x16Bitmask: (u128) -> i32 = simd::i8x16_bitmask;
                I16x8ExtAddPairwiseI8x16S: (u128) -> u128 = simd::i16x8_ext_add_pairwise_i8x16_s;
                I16x8ExtAddPairwiseI8x16U: (u128) -> u128 = simd::i16x8_ext_add_pairwise_i8x16_u;
                I16x8Abs: (u128) -> u128 = simd::i16x8_abs;
                I16x8Neg: (u128) -> u128 = simd::i16x8_neg;
                I16x8AllTrue: (u128) -> i32 = simd::i16x8_all_true;
                I16x8Bitmask: (u128) -> i32 = simd::i16x8_bitmask;
                I16x8ExtendLowI8x16S: (u128) -> u128 = simd::i16x8_extend_low_i8x16_s;
                I16x8ExtendHighI8x16S: (u128) -> u128 = simd::i16x8_extend_high_i8x16_s;
                I16x8ExtendLowI8x16U: (u128) -> u128 = simd::i16x8_extend_low_i8x16_u;
                I16x8ExtendHighI8x16U: (u128) -> u128 = simd::i16x8_extend_high_i8x16_u;
                I32x4ExtAddPairwiseI16x8S: (u128) -> u128 = simd::i32x4_ext_add_pairwise_i16x8_s;
                I32x4ExtAddPairwiseI16x8U: (u128) -> u128 = simd::i32x4_ext_add_pairwise_i16x8_u;
                I32x4Abs: (u128) -> u128 = simd::i32x4_abs;
                I32x4Neg: (u128) -> u128 = simd::i32x4_neg;
                I32x4AllTrue: (u128) -> i32 = simd::i32x4_all_true;
                I32x4Bitmask: (u128) -> i32 = simd::i32x4_bitmask;
                I32x4ExtendLowI16x8S: (u128) -> u128 = simd::i32x4_extend_low_i16x8_s;
                I32x4ExtendHighI16x8S: (u128) -> u128 = simd::i32x4_extend_high_i16x8_s;
                I32x4ExtendLowI16x8U: (u128) -> u128 = simd::i32x4_extend_low_i16x8_u;
                I32x4ExtendHighI16x8U: (u128) -> u128 = simd::i32x4_extend_high_i16x8_u;
                I64x2Abs: (u128) -> u128 = simd::i64x2_abs;
                I64x2Neg: (u128) -> u128 = simd::i64x2_neg;
                I64x2AllTrue: (u128) -> i32 = simd::i64x2_all_true;
                I64x2Bitmask: (u128) -> i32 = simd::i64x2_bitmask;
                I64x2ExtendLowI32x4S: (u128) -> u128 = simd::i64x2_extend_low_i32x4_s;
                I64x2ExtendHighI32x4S: (u128) -> u128 = simd::i64x2_extend_high_i32x4_s;
                I64x2ExtendLowI32x4U: (u128) -> u128 = simd::i64x2_extend_low_i32x4_u;
                I64x2ExtendHighI32x4U: (u128) -> u128 = simd::i64x2_extend_high_i32x4_u;
                F32x4Ceil: (u128) -> u128 = simd::f32x4_ceil;
                F32x4Floor: (u128) -> u128 = simd::f32x4_floor;
                F32x4Trunc: (u128) -> u128 = simd::f32x4_trunc;
                F32x4Nearest: (u128) -> u128 = simd::f32x4_nearest;
                F32x4Abs: (u128) -> u128 = simd::f32x4_abs;
                F32x4Neg: (u128) -> u128 = simd::f32x4_neg;
                F32x4Sqrt: (u128) -> u128 = simd::f32x4_sqrt;
                F64x2Ceil: (u128) -> u128 = simd::f64x2_ceil;
                F64x2Floor: (u128) -> u128 = simd::f64x2_floor;
                F64x2Trunc: (u128) -> u128 = simd::f64x2_trunc;
                F64x2Nearest: (u128) -> u128 = simd::f64x2_nearest;
                F64x2Abs: (u128) -> u128 = simd::f64x2_abs;
                F64x2Neg: (u128) -> u128 = simd::f64x2_neg;
                F64x2Sqrt: (u128) -> u128 = simd::f64x2_sqrt;
                I32x4TruncSatF32x4S: (u128) -> u128 = simd::i32x4_trunc_sat_f32x4_s;
                I32x4TruncSatF32x4U: (u128) -> u128 = simd::i32x4_trunc_sat_f32x4_u;
                F32x4ConvertI32x4S: (u128) -> u128 = simd::f32x4_convert_i32x4_s;
                F32x4ConvertI32x4U: (u128) -> u128 = simd::f32x4_convert_i32x4_u;
                F64x2ConvertLowI32x4S: (u128) -> u128 = simd::f64x2_convert_low_i32x4_s;
                F64x2ConvertLowI32x4U: (u128) -> u128 = simd::f64x2_convert_low_i32x4_u;
                F32x4DemoteF64x2Zero: (u128) -> u128 = simd::f32x4_demote_f64x2_zero;
                F64x2PromoteLowF32x4: (u128) -> u128 = simd::f64x2_promote_low_f32x4;
                I32x4TruncSatF64x2SZero: (u128) -> u128 = simd::i32x4_trunc_sat_f64x2_s_zero;
                I32x4TruncSatF64x2UZero: (u128) -> u128 = simd::i32x4_trunc_sat_f64x2_u_zero;
            }
            binary {
                F32Min: (f32, f32) -> f32 = num::f32_min;
                F32Max: (f32, f32) -> f32 = num::f32_max;
                F32Copysign: (f32, f32) -> f32 = num::f32_copysign;
                F64Min: (f64, f64) -> f64 = num::f64_min;
                F64Max: (f64, f64) -> f64 = num::f64_max;
                F64Copysign: (f64, f64) -> f64 = num::f64_copysign;
                I8x16Swizzle: (u128, u128) -> u128 = simd::i8x16_swizzle;
                I8x16Eq: (u128, u128) -> u128 = simd::i8x16_eq;
                I8x16Ne: (u128, u128) -> u128 = simd::i8x16_ne;
                I8x16LtS: (u128, u128) -> u128 = simd::i8x16_lt_s;
                I8x16LtU: (u128, u128) -> u128 = simd::i8x16_lt_u;
                I8x16GtS: (u128, u128) -> u128 = simd::i8x16_gt_s;
                I8x16GtU: (u128, u128) -> u128 = simd::i8x16_gt_u;
                I8x16LeS: (u128, u128) -> u128 = simd::i8x16_le_s;
                I8x16LeU: (u128, u128) -> u128 = simd::i8x16_le_u;
                I8x16GeS: (u128, u128) -> u128 = simd::i8x16_ge_s;
                I8x16GeU: (u128, u128) -> u128 = simd::i8x16_ge_u;
                I16x8Eq: (u128, u128) -> u128 = simd::i16x8_eq;
                I16x8Ne: (u128, u128) -> u128 = simd::i16x8_ne;
                I16x8LtS: (u128, u128) -> u128 = simd::i16x8_lt_s;
                I16x8LtU: (u128, u128) -> u128 = simd::i16x8_lt_u;
                I16x8GtS: (u128, u128) -> u128 = simd::i16x8_gt_s;
                I16x8GtU: (u128, u128) -> u128 = simd::i16x8_gt_u;
                I16x8LeS: (u128, u128) -> u128 = simd::i16x8_le_s;
                I16x8LeU: (u128, u128) -> u128 = simd::i16x8_le_u;
                I16x8GeS: (u128, u128) -> u128 = simd::i16x8_ge_s;
                I16x8GeU: (u128, u128) -> u128 = simd::i16x8_ge_u;
                I32x4Eq: (u128, u128) -> u128 = simd::i32x4_eq;
                I32x4Ne: (u128, u128) -> u128 = simd::i32x4_ne;
                I32x4LtS: (u128, u128) -> u128 = simd::i32x4_lt_s;
                I32x4LtU: (u128, u128) -> u128 = simd::i32x4_lt_u;
                I32x4GtS: (u128, u128) -> u128 = simd::i32x4_gt_s;
                I32x4GtU: (u128, u128) -> u128 = simd::i32x4_gt_u;
                I32x4LeS: (u128, u128) -> u128 = simd::i32x4_le_s;
                I32x4LeU: (u128, u128) -> u128 = simd::i32x4_le_u;
                I32x4GeS: (u128, u128) -> u128 = simd::i32x4_ge_s;
                I32x4GeU: (u128, u128) -> u128 = simd::i32x4_ge_u;
                I64x2Eq: (u128, u128) -> u128 = simd::i64x2_eq;
                I64x2Ne: (u128, u128) -> u128 = simd::i64x2_ne;
                I64x2LtS: (u128, u128) -> u128 = simd::i64x2_lt_s;
                I64x2GtS: (u128, u128) -> u128 = simd::i64x2_gt_s;
                I64x2LeS: (u128, u128) -> u128 = simd::i64x2_le_s;
                I64x2GeS: (u128, u128) -> u128 = simd::i64x2_ge_s;
                F32x4Eq: (u128, u128) -> u128 = simd::f32x4_eq;
                F32x4Ne: (u128, u128) -> u128 = simd::f32x4_ne;
                F32x4Lt: (u128, u128) -> u128 = simd::f32x4_lt;
                F32x4Gt: (u128, u128) -> u128 = simd::f32x4_gt;
                F32x4Le: (u128, u128) -> u128 = simd::f32x4_le;
                F32x4Ge: (u128, u128) -> u128 = simd::f32x4_ge;
                F64x2Eq: (u128, u128) -> u128 = simd::f64x2_eq;
                F64x2Ne: (u128, u128) -> u128 = simd::f64x2_ne;
                F64x2Lt: (u128, u128) -> u128 = simd::f64x2_lt;
                F64x2Gt: (u128, u128) -> u128 = simd::f64x2_gt;
                F64x2Le: (u128, u128) -> u128 = simd::f64x2_le;
                F64x2Ge: (u128, u128) -> u128 = simd::f64x2_ge;
                V128And: (u128, u128) -> u128 = simd::v128_and;
                V128AndNot: (u128, u128) -> u128 = simd::v128_and_not;
                V128Or: (u128, u128) -> u128 = simd::v128_or;
                V128Xor: (u128, u128) -> u128 = simd::v128_xor;
                I8x16NarrowI16x8S: (u128, u128) -> u128 = simd::i8x16_narrow_i16x8_s;
                I8x16NarrowI16x8U: (u128, u128) -> u128 = simd::i8x16_narrow_i16x8_u;
                I8x16Shl: (u128, i32) -> u128 = simd::i8x16_shl;
                I8x16ShrS: (u128, i32) -> u128 = simd::i8x16_shr_s;
                I8x16ShrU: (u128, i32) -> u128 = simd::i8x16_shr_u;
                I8x16Add: (u128, u128) -> u128 = simd::i8x16_add;
                I8x16AddSatS: (u128, u128) -> u128 = simd::i8x16_add_sat_s;
                I8x16AddSatU: (u128, u128) -> u128 = simd::i8x16_add_sat_u;
                I8x16Sub: (u128, u128) -> u128 = simd::i8x16_sub;
                I8x16SubSatS: (u128, u128) -> u128 = simd::i8x16_sub_sat_s;
                I8x16SubSatU: (u128, u128) -> u128 = simd::i8x16_sub_sat_u;
                I8x16MinS: (u128, u128) -> u128 = simd::i8x16_min_s;
                I8x16MinU: (u128, u128) -> u128 = simd::i8x16_min_u;
                I8x16MaxS: (u128, u128) -> u128 = simd::i8x16_max_s;
                I8x16MaxU: (u128, u128) -> u128 = simd::i8x16_max_u;
                I8x16AvgrU: (u128, u128) -> u128 = simd::i8x16_avgr_u;
                I16x8Q15MulrSatS: (u128, u128) -> u128 = simd::i16x8_q15_mulr_sat_s;
                I16x8NarrowI32x4S: (u128, u128) -> u128 = simd::i16x8_narrow_i32x4_s;
                I16x8NarrowI32x4U: (u128, u128) -> u128 = simd::i16x8_narrow_i32x4_u;
                I16x8Shl: (u128, i32) -> u128 = simd::i16x8_shl;
                I16x8ShrS: (u128, i32) -> u128 = simd::i16x8_shr_s;
                I16x8ShrU: (u128, i32) -> u128 = simd::i16x8_shr_u;
                I16x8Add: (u128, u128) -> u128 = simd::i16x8_add;
                I16x8AddSatS: (u128, u128) -> u128 = simd::i16x8_add_sat_s;
                I16x8AddSatU: (u128, u128) -> u128 = simd::i16x8_add_sat_u;
                I16x8Sub: (u128, u128) -> u128 = simd::i16x8_sub;
                I16x8SubSatS: (u128, u128) -> u128 = simd::i16x8_sub_sat_s;
                I16x8SubSatU: (u128, u128) -> u128 = simd::i16x8_sub_sat_u;
                I16x8Mul: (u128, u128) -> u128 = simd::i16x8_mul;
                I16x8MinS: (u128, u128) -> u128 = simd::i16x8_min_s;
                I16x8MinU: (u128, u128) -> u128 = simd::i16x8_min_u;
                I16x8MaxS: (u128, u128) -> u128 = simd::i16x8_max_s;
                I16x8MaxU: (u128, u128) -> u128 = simd::i16x8_max_u;
                I16x8AvgrU: (u128, u128) -> u128 = simd::i16x8_avgr_u;
                I16x8ExtMulLowI8x16S: (u128, u128) -> u128 = simd::i16x8_ext_mul_low_i8x16_s;
                I16x8ExtMulHighI8x16S: (u128, u128) -> u128 = simd::i16x8_ext_mul_high_i8x16_s;
                I16x8ExtMulLowI8x16U: (u128, u128) -> u128 = simd::i16x8_ext_mul_low_i8x16_u;
                I16x8ExtMulHighI8x16U: (u128, u128) -> u128 = simd::i16x8_ext_mul_high_i8x16_u;
                I32x4Shl: (u128, i32) -> u128 = simd::i32x4_shl;
                I32x4ShrS: (u128, i32) -> u128 = simd::i32x4_shr_s;
                I32x4ShrU: (u128, i32) -> u128 = simd::i32x4_shr_u;
                I32x4Add: (u128, u128) -> u128 = simd::i32x4_add;
                I32x4Sub: (u128, u128) -> u128 = simd::i32x4_sub;
                I32x4Mul: (u128, u128) -> u128 = simd::i32x4_mul;
                I32x4MinS: (u128, u128) -> u128 = simd::i32x4_min_s;
                I32x4MinU: (u128, u128) -> u128 = simd::i32x4_min_u;
                I32x4MaxS: (u128, u128) -> u128 = simd::i32x4_max_s;
                I32x4MaxU: (u128, u128) -> u128 = simd::i32x4_max_u;
                I32x4DotI16x8S: (u128, u128) -> u128 = simd::i32x4_dot_i16x8_s;
                I32x4ExtMulLowI16x8S: (u128, u128) -> u128 = simd::i32x4_ext_mul_low_i16x8_s;
                I32x4ExtMulHighI16x8S: (u128, u128) -> u128 = simd::i32x4_ext_mul_high_i16x8_s;
                I32x4ExtMulLowI16x8U: (u128, u128) -> u128 = simd::i32x4_ext_mul_low_i16x8_u;
                I32x4ExtMulHighI16x8U: (u128, u128) -> u128 = simd::i32x4_ext_mul_high_i16x8_u;
                I64x2Shl: (u128, i32) -> u128 = simd::i64x2_shl;
                I64x2ShrS: (u128, i32) -> u128 = simd::i64x2_shr_s;
                I64x2ShrU: (u128, i32) -> u128 = simd::i64x2_shr_u;
                I64x2Add: (u128, u128) -> u128 = simd::i64x2_add;
                I64x2Sub: (u128, u128) -> u128 = simd::i64x2_sub;
                I64x2Mul: (u128, u128) -> u128 = simd::i64x2_mul;
                I64x2ExtMulLowI32x4S: (u128, u128) -> u128 = simd::i64x2_ext_mul_low_i32x4_s;
                I64x2ExtMulHighI32x4S: (u128, u128) -> u128 = simd::i64x2_ext_mul_high_i32x4_s;
                I64x2ExtMulLowI32x4U: (u128, u128) -> u128 = simd::i64x2_ext_mul_low_i32x4_u;
                I64x2ExtMulHighI32x4U: (u128, u128) -> u128 = simd::i64x2_ext_mul_high_i32x4_u;
                F32x4Add: (u128, u128) -> u128 = simd::f32x4_add;
                F32x4Sub: (u128, u128) -> u128 = simd::f32x4_sub;
                F32x4Mul: (u128, u128) -> u128 = simd::f32x4_mul;
                F32x4Div: (u128, u128) -> u128 = simd::f32x4_div;
                F32x4Min: (u128, u128) -> u128 = simd::f32x4_min;
                F32x4Max: (u128, u128) -> u128 = simd::f32x4_max;
                F64x2Add: (u128, u128) -> u128 = simd::f64x2_add;
                F64x2Sub: (u128, u128) -> u128 = simd::f64x2_sub;
                F64x2Mul: (u128, u128) -> u128 = simd::f64x2_mul;
                F64x2Div: (u128, u128) -> u128 = simd::f64x2_div;
                F64x2Min: (u128, u128) -> u128 = simd::f64x2_min;
                F64x2Max: (u128, u128) -> u128 = simd::f64x2_max;
                F32x4PMin: (u128, u128) -> u128 = simd::f32x4_p_min;
                F32x4PMax: (u128, u128) -> u128 = simd::f32x4_p_max;
                F64x2PMin: (u128, u128) -> u128 = simd::f64x2_p_min;
                F64x2PMax: (u128, u128) -> u128 = simd::f64x2_p_max;
            }
            fused {
                I32Eq [I32EqL I32EqC I32EqLL I32EqLC I32EqTo I32EqLTo I32EqCTo I32EqLLTo I32EqLCTo I32EqTee I32EqLTee I32EqCTee I32EqLLTee I32EqLCTee]
                    if [JumpIfI32Eq JumpIfI32EqL JumpIfI32EqC JumpIfI32EqLL JumpIfI32EqLC] else [JumpIfI32Ne JumpIfI32NeL JumpIfI32NeC JumpIfI32NeLL JumpIfI32NeLC]
                    : (i32, i32) -> i32 = |a, b| (a == b) as i32;
                I32Ne [I32NeL I32NeC I32NeLL I32NeLC I32NeTo I32NeLTo I32NeCTo I32NeLLTo I32NeLCTo I32NeTee I32NeLTee I32NeCTee I32NeLLTee I32NeLCTee]
                    if [JumpIfI32Ne JumpIfI32NeL JumpIfI32NeC JumpIfI32NeLL JumpIfI32NeLC] else [JumpIfI32Eq JumpIfI32EqL JumpIfI32EqC JumpIfI32EqLL JumpIfI32EqLC]
                    : (i32, i32) -> i32 = |a, b| (a != b) as i32;
                I32LtS [I32LtSL I32LtSC I32LtSLL I32LtSLC I32LtSTo I32LtSLTo I32LtSCTo I32LtSLLTo I32LtSLCTo I32LtSTee I32LtSLTee I32LtSCTee I32LtSLLTee I32LtSLCTee]
                    if [JumpIfI32LtS JumpIfI32LtSL JumpIfI32LtSC JumpIfI32LtSLL JumpIfI32LtSLC] else [JumpIfI32GeS JumpIfI32GeSL JumpIfI32GeSC JumpIfI32GeSLL JumpIfI32GeSLC]
                    : (i32, i32) -> i32 = |a, b| (a < b) as i32;
                I32LtU [I32LtUL I32LtUC I32LtULL I32LtULC I32LtUTo I32LtULTo I32LtUCTo I32LtULLTo I32LtULCTo I32LtUTee I32LtULTee I32LtUCTee I32LtULLTee I32LtULCTee]
                    if [JumpIfI32LtU JumpIfI32LtUL JumpIfI32LtUC JumpIfI32LtULL JumpIfI32LtULC] else [JumpIfI32GeU JumpIfI32GeUL JumpIfI32GeUC JumpIfI32GeULL JumpIfI32GeULC]
                    : (i32, i32) -> i32 = |a, b| ((a as u32) < (b as u32)) as i32;
                I32GtS [I32GtSL I32GtSC I32GtSLL I32GtSLC I32GtSTo I32GtSLTo I32GtSCTo I32GtSLLTo I32GtSLCTo I32GtSTee I32GtSLTee I32GtSCTee I32GtSLLTee I32GtSLCTee]
                    if [JumpIfI32GtS JumpIfI32GtSL JumpIfI32GtSC JumpIfI32GtSLL JumpIfI32GtSLC] else [JumpIfI32LeS JumpIfI32LeSL JumpIfI32LeSC JumpIfI32LeSLL JumpIfI32LeSLC]
                    : (i32, i32) -> i32 = |a, b| (a > b) as i32;
                I32GtU [I32GtUL I32GtUC I32GtULL I32GtULC I32GtUTo I32GtULTo I32GtUCTo I32GtULLTo I32GtULCTo I32GtUTee I32GtULTee I32GtUCTee I32GtULLTee I32GtULCTee]
                    if [JumpIfI32GtU JumpIfI32GtUL JumpIfI32GtUC JumpIfI32GtULL JumpIfI32GtULC] else [JumpIfI32LeU JumpIfI32LeUL JumpIfI32LeUC JumpIfI32LeULL JumpIfI32LeULC]
                    : (i32, i32) -> i32 = |a, b| ((a as u32) > (b as u32)) as i32;
                I32LeS [I32LeSL I32LeSC I32LeSLL I32LeSLC I32LeSTo I32LeSLTo I32LeSCTo I32LeSLLTo I32LeSLCTo I32LeSTee I32LeSLTee I32LeSCTee I32LeSLLTee I32LeSLCTee]
                    if [JumpIfI32LeS JumpIfI32LeSL JumpIfI32LeSC JumpIfI32LeSLL JumpIfI32LeSLC] else [JumpIfI32GtS JumpIfI32GtSL JumpIfI32GtSC JumpIfI32GtSLL JumpIfI32GtSLC]
                    : (i32, i32) -> i32 = |a, b| (a <= b) as i32;
                I32LeU [I32LeUL I32LeUC I32LeULL I32LeULC I32LeUTo I32LeULTo I32LeUCTo I32LeULLTo I32LeULCTo I32LeUTee I32LeULTee I32LeUCTee I32LeULLTee I32LeULCTee]
                    if [JumpIfI32LeU JumpIfI32LeUL JumpIfI32LeUC JumpIfI32LeULL JumpIfI32LeULC] else [JumpIfI32GtU JumpIfI32GtUL JumpIfI32GtUC JumpIfI32GtULL JumpIfI32GtULC]
                    : (i32, i32) -> i32 = |a, b| ((a as u32) <= (b as u32)) as i32;
                I32GeS [I32GeSL I32GeSC I32GeSLL I32GeSLC I32GeSTo I32GeSLTo I32GeSCTo I32GeSLLTo I32GeSLCTo I32GeSTee I32GeSLTee I32GeSCTee I32GeSLLTee I32GeSLCTee]
                    if [JumpIfI32GeS JumpIfI32GeSL JumpIfI32GeSC JumpIfI32GeSLL JumpIfI32GeSLC] else [JumpIfI32LtS JumpIfI32LtSL JumpIfI32LtSC JumpIfI32LtSLL JumpIfI32LtSLC]
                    : (i32, i32) -> i32 = |a, b| (a >= b) as i32;
                I32GeU [I32GeUL I32GeUC I32GeULL I32GeULC I32GeUTo I32GeULTo I32GeUCTo I32GeULLTo I32GeULCTo I32GeUTee I32GeULTee I32GeUCTee I32GeULLTee I32GeULCTee]
                    if [JumpIfI32GeU JumpIfI32GeUL JumpIfI32GeUC JumpIfI32GeULL JumpIfI32GeULC] else [JumpIfI32LtU JumpIfI32LtUL JumpIfI32LtUC JumpIfI32LtULL JumpIfI32LtULC]
                    : (i32, i32) -> i32 = |a, b| ((a as u32) >= (b as u32)) as i32;
                I64Eq [I64EqL I64EqC I64EqLL I64EqLC I64EqTo I64EqLTo I64EqCTo I64EqLLTo I64EqLCTo I64EqTee I64EqLTee I64EqCTee I64EqLLTee I64EqLCTee]
                    if [JumpIfI64Eq JumpIfI64EqL JumpIfI64EqC JumpIfI64EqLL JumpIfI64EqLC] else [JumpIfI64Ne JumpIfI64NeL JumpIfI64NeC JumpIfI64NeLL JumpIfI64NeLC]
                    : (i64, i64) -> i32 = |a, b| (a == b) as i32;
                I64Ne [I64NeL I64NeC I64NeLL I64NeLC I64NeTo I64NeLTo I64NeCTo I64NeLLTo I64NeLCTo I64NeTee I64NeLTee I64NeCTee I64NeLLTee I64NeLCTee]
                    if [JumpIfI64Ne JumpIfI64NeL JumpIfI64NeC JumpIfI64NeLL JumpIfI64NeLC] else [JumpIfI64Eq JumpIfI64EqL JumpIfI64EqC JumpIfI64EqLL JumpIfI64EqLC]
                    : (i64, i64) -> i32 = |a, b| (a != b) as i32;
                I64LtS [I64LtSL I64LtSC I64LtSLL I64LtSLC I64LtSTo I64LtSLTo I64LtSCTo I64LtSLLTo I64LtSLCTo I64LtSTee I64LtSLTee I64LtSCTee I64LtSLLTee I64LtSLCTee]
                    if [JumpIfI64LtS JumpIfI64LtSL JumpIfI64LtSC JumpIfI64LtSLL JumpIfI64LtSLC] else [JumpIfI64GeS JumpIfI64GeSL JumpIfI64GeSC JumpIfI64GeSLL JumpIfI64GeSLC]
                    : (i64, i64) -> i32 = |a, b| (a < b) as i32;
                I64LtU [I64LtUL I64LtUC I64LtULL I64LtULC I64LtUTo I64LtULTo I64LtUCTo I64LtULLTo I64LtULCTo I64LtUTee I64LtULTee I64LtUCTee I64LtULLTee I64LtULCTee]
                    if [JumpIfI64LtU JumpIfI64LtUL JumpIfI64LtUC JumpIfI64LtULL JumpIfI64LtULC] else [JumpIfI64GeU JumpIfI64GeUL JumpIfI64GeUC JumpIfI64GeULL JumpIfI64GeULC]
                    : (i64, i64) -> i32 = |a, b| ((a as u64) < (b as u64)) as i32;
                I64GtS [I64GtSL I64GtSC I64GtSLL I64GtSLC I64GtSTo I64GtSLTo I64GtSCTo I64GtSLLTo I64GtSLCTo I64GtSTee I64GtSLTee I64GtSCTee I64GtSLLTee I64GtSLCTee]
                    if [JumpIfI64GtS JumpIfI64GtSL JumpIfI64GtSC JumpIfI64GtSLL JumpIfI64GtSLC] else [JumpIfI64LeS JumpIfI64LeSL JumpIfI64LeSC JumpIfI64LeSLL JumpIfI64LeSLC]
                    : (i64, i64) -> i32 = |a, b| (a > b) as i32;
                I64GtU [I64GtUL I64GtUC I64GtULL I64GtULC I64GtUTo I64GtULTo I64GtUCTo I64GtULLTo I64GtULCTo I64GtUTee I64GtULTee I64GtUCTee I64GtULLTee I64GtULCTee]
                    if [JumpIfI64GtU JumpIfI64GtUL JumpIfI64GtUC JumpIfI64GtULL JumpIfI64GtULC] else [JumpIfI64LeU JumpIfI64LeUL JumpIfI64LeUC JumpIfI64LeULL JumpIfI64LeULC]
                    : (i64, i64) -> i32 = |a, b| ((a as u64) > (b as u64)) as i32;
                I64LeS [I64LeSL I64LeSC I64LeSLL I64LeSLC I64LeSTo I64LeSLTo I64LeSCTo I64LeSLLTo I64LeSLCTo I64LeSTee I64LeSLTee I64LeSCTee I64LeSLLTee I64LeSLCTee]
                    if [JumpIfI64LeS JumpIfI64LeSL JumpIfI64LeSC JumpIfI64LeSLL JumpIfI64LeSLC] else [JumpIfI64GtS JumpIfI64GtSL JumpIfI64GtSC JumpIfI64GtSLL JumpIfI64GtSLC]
                    : (i64, i64) -> i32 = |a, b| (a <= b) as i32;
                I64LeU [I64LeUL I64LeUC I64LeULL I64LeULC I64LeUTo I64LeULTo I64LeUCTo I64LeULLTo I64LeULCTo I64LeUTee I64LeULTee I64LeUCTee I64LeULLTee I64LeULCTee]
                    if [JumpIfI64LeU JumpIfI64LeUL JumpIfI64LeUC JumpIfI64LeULL JumpIfI64LeULC] else [JumpIfI64GtU JumpIfI64GtUL JumpIfI64GtUC JumpIfI64GtULL JumpIfI64GtULC]
                    : (i64, i64) -> i32 = |a, b| ((a as u64) <= (b as u64)) as i32;
                I64GeS [I64GeSL I64GeSC I64GeSLL I64GeSLC I64GeSTo I64GeSLTo I64GeSCTo I64GeSLLTo I64GeSLCTo I64GeSTee I64GeSLTee I64GeSCTee I64GeSLLTee I64GeSLCTee]
                    if [JumpIfI64GeS JumpIfI64GeSL JumpIfI64GeSC JumpIfI64GeSLL JumpIfI64GeSLC] else [JumpIfI64LtS JumpIfI64LtSL JumpIfI64LtSC JumpIfI64LtSLL JumpIfI64LtSLC]
                    : (i64, i64) -> i32 = |a, b| (a >= b) as i32;
                I64GeU [I64GeUL I64GeUC I64GeULL I64GeULC I64GeUTo I64GeULTo I64GeUCTo I64GeULLTo I64GeULCTo I64GeUTee I64GeULTee I64GeUCTee I64GeULLTee I64GeULCTee]
                    if [JumpIfI64GeU JumpIfI64GeUL JumpIfI64GeUC JumpIfI64GeULL JumpIfI64GeULC] else [JumpIfI64LtU JumpIfI64LtUL JumpIfI64LtUC JumpIfI64LtULL JumpIfI64LtULC]
                    : (i64, i64) -> i32 = |a, b| ((a as u64) >= (b as u64)) as i32;
                F32Eq [F32EqL F32EqC F32EqLL F32EqLC F32EqTo F32EqLTo F32EqCTo F32EqLLTo F32EqLCTo F32EqTee F32EqLTee F32EqCTee F32EqLLTee F32EqLCTee]
                    : (f32, f32) -> i32 = |a, b| (a == b) as i32;
                F32Ne [F32NeL F32NeC F32NeLL F32NeLC F32NeTo F32NeLTo F32NeCTo F32NeLLTo F32NeLCTo F32NeTee F32NeLTee F32NeCTee F32NeLLTee F32NeLCTee]
                    : (f32, f32) -> i32 = |a, b| (a != b) as i32;
                F32Lt [F32LtL F32LtC F32LtLL F32LtLC F32LtTo F32LtLTo F32LtCTo F32LtLLTo F32LtLCTo F32LtTee F32LtLTee F32LtCTee F32LtLLTee F32LtLCTee]
                    : (f32, f32) -> i32 = |a, b| (a < b) as i32;
                F32Gt [F32GtL F32GtC F32GtLL F32GtLC F32GtTo F32GtLTo F32GtCTo F32GtLLTo F32GtLCTo F32GtTee F32GtLTee F32GtCTee F32GtLLTee F32GtLCTee]
                    : (f32, f32) -> i32 = |a, b| (a > b) as i32;
                F32Le [F32LeL F32LeC F32LeLL F32LeLC F32LeTo F32LeLTo F32LeCTo F32LeLLTo F32LeLCTo F32LeTee F32LeLTee F32LeCTee F32LeLLTee F32LeLCTee]
                    : (f32, f32) -> i32 = |a, b| (a <= b) as i32;
                F32Ge [F32GeL F32GeC F32GeLL F32GeLC F32GeTo F32GeLTo F32GeCTo F32GeLLTo F32GeLCTo F32GeTee F32GeLTee F32GeCTee F32GeLLTee F32GeLCTee]
                    : (f32, f32) -> i32 = |a, b| (a >= b) as i32;
                F64Eq [F64EqL F64EqC F64EqLL F64EqLC F64EqTo F64EqLTo F64EqCTo F64EqLLTo F64EqLCTo F64EqTee F64EqLTee F64EqCTee F64EqLLTee F64EqLCTee]
                    : (f64, f64) -> i32 = |a, b| (a == b) as i32;
                F64Ne [F64NeL F64NeC F64NeLL F64NeLC F64NeTo F64NeLTo F64NeCTo F64NeLLTo F64NeLCTo F64NeTee F64NeLTee F64NeCTee F64NeLLTee F64NeLCTee]
                    : (f64, f64) -> i32 = |a, b| (a != b) as i32;
                F64Lt [F64LtL F64LtC F64LtLL F64LtLC F64LtTo F64LtLTo F64LtCTo F64LtLLTo F64LtLCTo F64LtTee F64LtLTee F64LtCTee F64LtLLTee F64LtLCTee]
                    : (f64, f64) -> i32 = |a, b| (a < b) as i32;
                F64Gt [F64GtL F64GtC F64GtLL F64GtLC F64GtTo F64GtLTo F64GtCTo F64GtLLTo F64GtLCTo F64GtTee F64GtLTee F64GtCTee F64GtLLTee F64GtLCTee]
                    : (f64, f64) -> i32 = |a, b| (a > b) as i32;
                F64Le [F64LeL F64LeC F64LeLL F64LeLC F64LeTo F64LeLTo F64LeCTo F64LeLLTo F64LeLCTo F64LeTee F64LeLTee F64LeCTee F64LeLLTee F64LeLCTee]
                    : (f64, f64) -> i32 = |a, b| (a <= b) as i32;
                F64Ge [F64GeL F64GeC F64GeLL F64GeLC F64GeTo F64GeLTo F64GeCTo F64GeLLTo F64GeLCTo F64GeTee F64GeLTee F64GeCTee F64GeLLTee F64GeLCTee]
                    : (f64, f64) -> i32 = |a, b| (a >= b) as i32;
                I32Add [I32AddL I32AddC I32AddLL I32AddLC I32AddTo I32AddLTo I32AddCTo I32AddLLTo I32AddLCTo I32AddTee I32AddLTee I32AddCTee I32AddLLTee I32AddLCTee]
                    : (i32, i32) -> i32 = i32::wrapping_add;
                I32Sub [I32SubL I32SubC I32SubLL I32SubLC I32SubTo I32SubLTo I32SubCTo I32SubLLTo I32SubLCTo I32SubTee I32SubLTee I32SubCTee I32SubLLTee I32SubLCTee]
                    : (i32, i32) -> i32 = i32::wrapping_sub;
                I32Mul [I32MulL I32MulC I32MulLL I32MulLC I32MulTo I32MulLTo I32MulCTo I32MulLLTo I32MulLCTo I32MulTee I32MulLTee I32MulCTee I32MulLLTee I32MulLCTee]
                    : (i32, i32) -> i32 = i32::wrapping_mul;
                I32And [I32AndL I32AndC I32AndLL I32AndLC I32AndTo I32AndLTo I32AndCTo I32AndLLTo I32AndLCTo I32AndTee I32AndLTee I32AndCTee I32AndLLTee I32AndLCTee]
                    : (i32, i32) -> i32 = |a, b| a & b;
                I32Or [I32OrL I32OrC I32OrLL I32OrLC I32OrTo I32OrLTo I32OrCTo I32OrLLTo I32OrLCTo I32OrTee I32OrLTee I32OrCTee I32OrLLTee I32OrLCTee]
                    : (i32, i32) -> i32 = |a, b| a | b;
                I32Xor [I32XorL I32XorC I32XorLL I32XorLC I32XorTo I32XorLTo I32XorCTo I32XorLLTo I32XorLCTo I32XorTee I32XorLTee I32XorCTee I32XorLLTee I32XorLCTee]
                    : (i32, i32) -> i32 = |a, b| a ^ b;
                I32Shl [I32ShlL I32ShlC I32ShlLL I32ShlLC I32ShlTo I32ShlLTo I32ShlCTo I32ShlLLTo I32ShlLCTo I32ShlTee I32ShlLTee I32ShlCTee I32ShlLLTee I32ShlLCTee]
                    : (i32, i32) -> i32 = |a, b| a.wrapping_shl(b as u32);
                I32ShrS [I32ShrSL I32ShrSC I32ShrSLL I32ShrSLC I32ShrSTo I32ShrSLTo I32ShrSCTo I32ShrSLLTo I32ShrSLCTo I32ShrSTee I32ShrSLTee I32ShrSCTee I32ShrSLLTee I32ShrSLCTee]
                    : (i32, i32) -> i32 = |a, b| a.wrapping_shr(b as u32);
                I32ShrU [I32ShrUL I32ShrUC I32ShrULL I32ShrULC I32ShrUTo I32ShrULTo I32ShrUCTo I32ShrULLTo I32ShrULCTo I32ShrUTee I32ShrULTee I32ShrUCTee I32ShrULLTee I32ShrULCTee]
                    : (i32, i32) -> i32 = |a, b| (a as u32).wrapping_shr(b as u32) as i32;
                I32Rotl [I32RotlL I32RotlC I32RotlLL I32RotlLC I32RotlTo I32RotlLTo I32RotlCTo I32RotlLLTo I32RotlLCTo I32RotlTee I32RotlLTee I32RotlCTee I32RotlLLTee I32RotlLCTee]
                    : (i32, i32) -> i32 = |a, b| a.rotate_left(b as u32);
                I32Rotr [I32RotrL I32RotrC I32RotrLL I32RotrLC I32RotrTo I32RotrLTo I32RotrCTo I32RotrLLTo I32RotrLCTo I32RotrTee I32RotrLTee I32RotrCTee I32RotrLLTee I32RotrLCTee]
                    : (i32, i32) -> i32 = |a, b| a.rotate_right(b as u32);
                I64Add [I64AddL I64AddC I64AddLL I64AddLC I64AddTo I64AddLTo I64AddCTo I64AddLLTo I64AddLCTo I64AddTee I64AddLTee I64AddCTee I64AddLLTee I64AddLCTee]
                    : (i64, i64) -> i64 = i64::wrapping_add;
                I64Sub [I64SubL I64SubC I64SubLL I64SubLC I64SubTo I64SubLTo I64SubCTo I64SubLLTo I64SubLCTo I64SubTee I64SubLTee I64SubCTee I64SubLLTee I64SubLCTee]
                    : (i64, i64) -> i64 = i64::wrapping_sub;
                I64Mul [I64MulL I64MulC I64MulLL I64MulLC I64MulTo I64MulLTo I64MulCTo I64MulLLTo I64MulLCTo I64MulTee I64MulLTee I64MulCTee I64MulLLTee I64MulLCTee]
                    : (i64, i64) -> i64 = i64::wrapping_mul;
                I64And [I64AndL I64AndC I64AndLL I64AndLC I64AndTo I64AndLTo I64AndCTo I64AndLLTo I64AndLCTo I64AndTee I64AndLTee I64AndCTee I64AndLLTee I64AndLCTee]
                    : (i64, i64) -> i64 = |a, b| a & b;
                I64Or [I64OrL I64OrC I64OrLL I64OrLC I64OrTo I64OrLTo I64OrCTo I64OrLLTo I64OrLCTo I64OrTee I64OrLTee I64OrCTee I64OrLLTee I64OrLCTee]
                    : (i64, i64) -> i64 = |a, b| a | b;
                I64Xor [I64XorL I64XorC I64XorLL I64XorLC I64XorTo I64XorLTo I64XorCTo I64XorLLTo I64XorLCTo I64XorTee I64XorLTee I64XorCTee I64XorLLTee I64XorLCTee]
                    : (i64, i64) -> i64 = |a, b| a ^ b;
                I64Shl [I64ShlL I64ShlC I64ShlLL I64ShlLC I64ShlTo I64ShlLTo I64ShlCTo I64ShlLLTo I64ShlLCTo I64ShlTee I64ShlLTee I64ShlCTee I64ShlLLTee I64ShlLCTee]
                    : (i64, i64) -> i64 = |a, b| a.wrapping_shl(b as u32);
                I64ShrS [I64ShrSL I64ShrSC I64ShrSLL I64ShrSLC I64ShrSTo I64ShrSLTo I64ShrSCTo I64ShrSLLTo I64ShrSLCTo I64ShrSTee I64ShrSLTee I64ShrSCTee I64ShrSLLTee I64ShrSLCTee]
                    : (i64, i64) -> i64 = |a, b| a.wrapping_shr(b as u32);
                I64ShrU [I64ShrUL I64ShrUC I64ShrULL I64ShrULC I64ShrUTo I64ShrULTo I64ShrUCTo I64ShrULLTo I64ShrULCTo I64ShrUTee I64ShrULTee I64ShrUCTee I64ShrULLTee I64ShrULCTee]
                    : (i64, i64) -> i64 = |a, b| (a as u64).wrapping_shr(b as u32) as i64;
                I64Rotl [I64RotlL I64RotlC I64RotlLL I64RotlLC I64RotlTo I64RotlLTo I64RotlCTo I64RotlLLTo I64RotlLCTo I64RotlTee I64RotlLTee I64RotlCTee I64RotlLLTee I64RotlLCTee]
                    : (i64, i64) -> i64 = |a, b| a.rotate_left(b as u32);
                I64Rotr [I64RotrL I64RotrC I64RotrLL I64RotrLC I64RotrTo I64RotrLTo I64RotrCTo I64RotrLLTo I64RotrLCTo I64RotrTee I64RotrLTee I64RotrCTee I64RotrLLTee I64RotrLCTee]
                    : (i64, i64) -> i64 = |a, b| a.rotate_right(b as u32);
                F32Add [F32AddL F32AddC F32AddLL F32AddLC F32AddTo F32AddLTo F32AddCTo F32AddLLTo F32AddLCTo F32AddTee F32AddLTee F32AddCTee F32AddLLTee F32AddLCTee]
                    : (f32, f32) -> f32 = |a, b| a + b;
                F32Sub [F32SubL F32SubC F32SubLL F32SubLC F32SubTo F32SubLTo F32SubCTo F32SubLLTo F32SubLCTo F32SubTee F32SubLTee F32SubCTee F32SubLLTee F32SubLCTee]
                    : (f32, f32) -> f32 = |a, b| a - b;
                F32Mul [F32MulL F32MulC F32MulLL F32MulLC F32MulTo F32MulLTo F32MulCTo F32MulLLTo F32MulLCTo F32MulTee F32MulLTee F32MulCTee F32MulLLTee F32MulLCTee]
                    : (f32, f32) -> f32 = |a, b| a * b;
                F32Div [F32DivL F32DivC F32DivLL F32DivLC F32DivTo F32DivLTo F32DivCTo F32DivLLTo F32DivLCTo F32DivTee F32DivLTee F32DivCTee F32DivLLTee F32DivLCTee]
                    : (f32, f32) -> f32 = |a, b| a / b;
                F64Add [F64AddL F64AddC F64AddLL F64AddLC F64AddTo F64AddLTo F64AddCTo F64AddLLTo F64AddLCTo F64AddTee F64AddLTee F64AddCTee F64AddLLTee F64AddLCTee]
                    : (f64, f64) -> f64 = |a, b| a + b;
                F64Sub [F64SubL F64SubC F64SubLL F64SubLC F64SubTo F64SubLTo F64SubCTo F64SubLLTo F64SubLCTo F64SubTee F64SubLTee F64SubCTee F64SubLLTee F64SubLCTee]
                    : (f64, f64) -> f64 = |a, b| a - b;
                F64Mul [F64MulL F64MulC F64MulLL F64MulLC F64MulTo F64MulLTo F64MulCTo F64MulLLTo F64MulLCTo F64MulTee F64MulLTee F64MulCTee F64MulLLTee F64MulLCTee]
                    : (f64, f64) -> f64 = |a, b| a * b;
                F64Div [F64DivL F64DivC F64DivLL F64DivLC F64DivTo F64DivLTo F64DivCTo F64DivLLTo F64DivLCTo F64DivTee F64DivLTee F64DivCTee F64DivLLTee F64DivLCTee]
                    : (f64, f64) -> f64 = |a, b| a / b;
            }
            ternary {
                V128Bitselect: (u128, u128, u128) -> u128 = simd::v128_bitselect;
            }
            unary_trap {
                I32TruncF32S: (f32) -> i32 = num::i32_trunc_f32_s;
                I32TruncF32U: (f32) -> i32 = num::i32_trunc_f32_u;
                I32TruncF64S: (f64) -> i32 = num::i32_trunc_f64_s;
                I32TruncF64U: (f64) -> i32 = num::i32_trunc_f64_u;
                I64TruncF32S: (f32) -> i64 = num::i64_trunc_f32_s;
                I64TruncF32U: (f32) -> i64 = num::i64_trunc_f32_u;
                I64TruncF64S: (f64) -> i64 = num::i64_trunc_f64_s;
                I64TruncF64U: (f64) -> i64 = num::i64_trunc_f64_u;
            }
            binary_trap {
                I32DivS: (i32, i32) -> i32 = num::i32_div_s;
                I32DivU: (i32, i32) -> i32 = num::i32_div_u;
                I32RemS: (i32, i32) -> i32 = num::i32_rem_s;
                I32RemU: (i32, i32) -> i32 = num::i32_rem_u;
                I64DivS: (i64, i64) -> i64 = num::i64_div_s;
                I64DivU: (i64, i64) -> i64 = num::i64_div_u;
                I64RemS: (i64, i64) -> i64 = num::i64_rem_s;
                I64RemU: (i64, i64) -> i64 = num::i64_rem_u;
            }
            lane_extract {
                I8x16ExtractLaneS: (u128) -> i32 = simd::i8x16_extract_lane_s;
                I8x16ExtractLaneU: (u128) -> i32 = simd::i8x16_extract_lane_u;
                I16x8ExtractLaneS: (u128) -> i32 = simd::i16x8_extract_lane_s;
                I16x8ExtractLaneU: (u128) -> i32 = simd::i16x8_extract_lane_u;
                I32x4ExtractLane: (u128) -> i32 = simd::i32x4_extract_lane;
                I64x2ExtractLane: (u128) -> i64 = simd::i64x2_extract_lane;
                F32x4ExtractLane: (u128) -> f32 = simd::f32x4_extract_lane;
                F64x2ExtractLane: (u128) -> f64 = simd::f64x2_extract_lane;
            }
            lane_replace {
                I8x16ReplaceLane: (u128, i32) -> u128 = simd::i8x16_replace_lane;
                I16x8ReplaceLane: (u128, i32) -> u128 = simd::i16x8_replace_lane;
                I32x4ReplaceLane: (u128, i32) -> u128 = simd::i32x4_replace_lane;
                I64x2ReplaceLane: (u128, i64) -> u128 = simd::i64x2_replace_lane;
                F32x4ReplaceLane: (u128, f32) -> u128 = simd::f32x4_replace_lane;
                F64x2ReplaceLane: (u128, f64) -> u128 = simd::f64x2_replace_lane;
            }
            load {
                I32Load / I32LoadSan [I32LoadL I32LoadLC I32LoadLL I32LoadC]: 4 -> i32 = i32::from_le_bytes;
                I64Load / I64LoadSan [I64LoadL I64LoadLC I64LoadLL I64LoadC]: 8 -> i64 = i64::from_le_bytes;
                F32Load / F32LoadSan [F32LoadL F32LoadLC F32LoadLL F32LoadC]: 4 -> u32 = u32::from_le_bytes;
                F64Load / F64LoadSan [F64LoadL F64LoadLC F64LoadLL F64LoadC]: 8 -> u64 = u64::from_le_bytes;
                I32Load8S / I32Load8SSan [I32Load8SL I32Load8SLC I32Load8SLL I32Load8SC]: 1 -> i32 = |b| i32::from(b[0] as i8);
                I32Load8U / I32Load8USan [I32Load8UL I32Load8ULC I32Load8ULL I32Load8UC]: 1 -> i32 = |b| i32::from(b[0]);
                I32Load16S / I32Load16SSan [I32Load16SL I32Load16SLC I32Load16SLL I32Load16SC]: 2 -> i32 = |b| i32::from(i16::from_le_bytes(b));
                I32Load16U / I32Load16USan [I32Load16UL I32Load16ULC I32Load16ULL I32Load16UC]: 2 -> i32 = |b| i32::from(u16::from_le_bytes(b));
                I64Load8S / I64Load8SSan [I64Load8SL I64Load8SLC I64Load8SLL I64Load8SC]: 1 -> i64 = |b| i64::from(b[0] as i8);
                I64Load8U / I64Load8USan [I64Load8UL I64Load8ULC I64Load8ULL I64Load8UC]: 1 -> i64 = |b| i64::from(b[0]);
                I64Load16S / I64Load16SSan [I64Load16SL I64Load16SLC I64Load16SLL I64Load16SC]: 2 -> i64 = |b| i64::from(i16::from_le_bytes(b));
                I64Load16U / I64Load16USan [I64Load16UL I64Load16ULC I64Load16ULL I64Load16UC]: 2 -> i64 = |b| i64::from(u16::from_le_bytes(b));
                I64Load32S / I64Load32SSan [I64Load32SL I64Load32SLC I64Load32SLL I64Load32SC]: 4 -> i64 = |b| i64::from(i32::from_le_bytes(b));
                I64Load32U / I64Load32USan [I64Load32UL I64Load32ULC I64Load32ULL I64Load32UC]: 4 -> i64 = |b| i64::from(u32::from_le_bytes(b));
                V128Load8x8S / V128Load8x8SSan: 8 -> u128 = |b| simd::v128_load8x8_s(u64::from_le_bytes(b));
                V128Load8x8U / V128Load8x8USan: 8 -> u128 = |b| simd::v128_load8x8_u(u64::from_le_bytes(b));
                V128Load16x4S / V128Load16x4SSan: 8 -> u128 = |b| simd::v128_load16x4_s(u64::from_le_bytes(b));
                V128Load16x4U / V128Load16x4USan: 8 -> u128 = |b| simd::v128_load16x4_u(u64::from_le_bytes(b));
                V128Load32x2S / V128Load32x2SSan: 8 -> u128 = |b| simd::v128_load32x2_s(u64::from_le_bytes(b));
                V128Load32x2U / V128Load32x2USan: 8 -> u128 = |b| simd::v128_load32x2_u(u64::from_le_bytes(b));
                V128Load8Splat / V128Load8SplatSan: 1 -> u128 = |b| simd::v128_load8_splat(b[0]);
                V128Load16Splat / V128Load16SplatSan: 2 -> u128 = |b| simd::v128_load16_splat(u16::from_le_bytes(b));
                V128Load32Splat / V128Load32SplatSan: 4 -> u128 = |b| simd::v128_load32_splat(u32::from_le_bytes(b));
                V128Load64Splat / V128Load64SplatSan: 8 -> u128 = |b| simd::v128_load64_splat(u64::from_le_bytes(b));
                V128Load32Zero / V128Load32ZeroSan: 4 -> u128 = |b| simd::v128_load32_zero(u32::from_le_bytes(b));
                V128Load64Zero / V128Load64ZeroSan: 8 -> u128 = |b| simd::v128_load64_zero(u64::from_le_bytes(b));
                V128Load / V128LoadSan [V128LoadL V128LoadLC V128LoadLL V128LoadC]: 16 -> u128 = u128::from_le_bytes;
            }
            store {
                I32Store / I32StoreTracked / I32StoreSan [I32StoreV I32StoreLV I32StoreVTracked I32StoreLVTracked]: (i32) -> 4 = i32::to_le_bytes;
                I64Store / I64StoreTracked / I64StoreSan [I64StoreV I64StoreLV I64StoreVTracked I64StoreLVTracked]: (i64) -> 8 = i64::to_le_bytes;
                F32Store / F32StoreTracked / F32StoreSan [F32StoreV F32StoreLV F32StoreVTracked F32StoreLVTracked]: (u32) -> 4 = u32::to_le_bytes;
                F64Store / F64StoreTracked / F64StoreSan [F64StoreV F64StoreLV F64StoreVTracked F64StoreLVTracked]: (u64) -> 8 = u64::to_le_bytes;
                I32Store8 / I32Store8Tracked / I32Store8San [I32Store8V I32Store8LV I32Store8VTracked I32Store8LVTracked]: (i32) -> 1 = |v| [v as u8];
                I32Store16 / I32Store16Tracked / I32Store16San [I32Store16V I32Store16LV I32Store16VTracked I32Store16LVTracked]: (i32) -> 2 = |v| (v as u16).to_le_bytes();
                I64Store8 / I64Store8Tracked / I64Store8San [I64Store8V I64Store8LV I64Store8VTracked I64Store8LVTracked]: (i64) -> 1 = |v| [v as u8];
                I64Store16 / I64Store16Tracked / I64Store16San [I64Store16V I64Store16LV I64Store16VTracked I64Store16LVTracked]: (i64) -> 2 = |v| (v as u16).to_le_bytes();
                I64Store32 / I64Store32Tracked / I64Store32San [I64Store32V I64Store32LV I64Store32VTracked I64Store32LVTracked]: (i64) -> 4 = |v| (v as u32).to_le_bytes();
                V128Store / V128StoreTracked / V128StoreSan: (u128) -> 16 = u128::to_le_bytes;
            }
            load_lane {
                V128Load8Lane / V128Load8LaneSan: 1;
                V128Load16Lane / V128Load16LaneSan: 2;
                V128Load32Lane / V128Load32LaneSan: 4;
                V128Load64Lane / V128Load64LaneSan: 8;
            }
            store_lane {
                V128Store8Lane / V128Store8LaneTracked / V128Store8LaneSan: 1;
                V128Store16Lane / V128Store16LaneTracked / V128Store16LaneSan: 2;
                V128Store32Lane / V128Store32LaneTracked / V128Store32LaneSan: 4;
                V128Store64Lane / V128Store64LaneTracked / V128Store64LaneSan: 8;
            }
        }
    };
}

/// Calls `$m!` with the instruction list flattened: one entry per `Op` variant, in the uniform shape
///
/// ```text
/// ops {
///     Name { field: type, .. } group form family flow(kind target?) access[..] twins[tracked?][san?] wat[..] sem[..];
///     ..
/// }
/// simple { Name operands; .. }   // the Wasm operators that translate one-to-one (`none`, `lane`, `memarg`, `memarg_lane`)
/// rules { (first, second) => fused, .. }   // the generated fusion rules, as match arms
/// ```
///
/// - `group` is the entry's group in `for_each_op!`, `form` its form in the group (`Plain` for a group's first
///   form; `L`, `C`, `LL`, `LC`, `To`, ..., `J`... of a fused family; `San`, `Tracked`, `V`, `LV`... of a memory
///   access) and `family` the Wasm operator the form stands for (the first name of its entry);
/// - `flow` how control leaves the op, with the field holding its branch target if it has one (see `special`);
/// - `access` the guest memory it touches: `read`/`write`, memory, length (bytes, or `(stack n)` for the cell `n`
///   below the top), address (`(stack n offset?)`, `(local a offset)`, `(local_plus a c offset)`, `(locals a b
///   offset)`, `(stack_plus c offset)`);
/// - `twins` its dirty-page-tracking and sanitizer twins;
/// - `wat` the Wasm instructions it stands for, one parenthesized instruction each (`(op Name)` is the Wasm
///   operator `Name`, `(const T c)` a constant of type `T`, `(mem Name mem offset lane?)` a memory instruction);
/// - `sem` the group's semantics (empty for `special`, whose semantics are written by hand).
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_op_flat {
    ($m:ident) => {
        for_each_op! { op_list $m }
    };
}

/// Flattens the grouped list (see `for_each_op_flat!`); the one place that reads the groups' shapes.
#[macro_export]
#[doc(hidden)]
macro_rules! op_list {
    (
        $cb:ident
        special { $($sname:ident { $($sf:ident : $sty:ty),* } [$sflow:ident($($stgt:ident)?) access[$($sacc:tt)*] wat[$($swat:tt)*]];)* }
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
        load_lane { $($llname:ident / $llsname:ident : $lln:literal;)* }
        store_lane { $($slname:ident / $sltname:ident / $slsname:ident : $sln:literal;)* }
    ) => {
        $cb! {
            ops {
                $($sname { $($sf: $sty),* } special Plain $sname flow($sflow $($stgt)?) access[$($sacc)*] twins[][] wat[$($swat)*] sem[];)*
                $($uname {} unary Plain $uname flow(next) access[] twins[][] wat[(op $uname)] sem[($ua) -> $ur = $uf];)*
                $($bname {} binary Plain $bname flow(next) access[] twins[][] wat[(op $bname)] sem[($ba, $bb) -> $br = $bf];)*
                $(
                    $fname {} fused Plain $fname flow(next) access[] twins[][]
                        wat[(op $fname)] sem[($fa, $fb) -> $fr = $ff];
                    $fl { b: u32 } fused L $fname flow(next) access[] twins[][]
                        wat[("local.get" (local b)) (op $fname)] sem[($fa, $fb) -> $fr = $ff];
                    $fc { c: u32 } fused C $fname flow(next) access[] twins[][]
                        wat[(const $fb, c) (op $fname)] sem[($fa, $fb) -> $fr = $ff];
                    $fll { a: u32, b: u32 } fused LL $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) ("local.get" (local b)) (op $fname)] sem[($fa, $fb) -> $fr = $ff];
                    $flc { a: u32, c: u32 } fused LC $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) (const $fb, c) (op $fname)] sem[($fa, $fb) -> $fr = $ff];
                    $fto { dst: u32 } fused To $fname flow(next) access[] twins[][]
                        wat[(op $fname) ("local.set" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $flto { b: u32, dst: u32 } fused LTo $fname flow(next) access[] twins[][]
                        wat[("local.get" (local b)) (op $fname) ("local.set" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $fcto { c: u32, dst: u32 } fused CTo $fname flow(next) access[] twins[][]
                        wat[(const $fb, c) (op $fname) ("local.set" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $fllto { a: u32, b: u32, dst: u32 } fused LLTo $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) ("local.get" (local b)) (op $fname) ("local.set" (local dst))]
                        sem[($fa, $fb) -> $fr = $ff];
                    $flcto { a: u32, c: u32, dst: u32 } fused LCTo $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) (const $fb, c) (op $fname) ("local.set" (local dst))]
                        sem[($fa, $fb) -> $fr = $ff];
                    $ftee { dst: u32 } fused Tee $fname flow(next) access[] twins[][]
                        wat[(op $fname) ("local.tee" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $fltee { b: u32, dst: u32 } fused LTee $fname flow(next) access[] twins[][]
                        wat[("local.get" (local b)) (op $fname) ("local.tee" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $fctee { c: u32, dst: u32 } fused CTee $fname flow(next) access[] twins[][]
                        wat[(const $fb, c) (op $fname) ("local.tee" (local dst))] sem[($fa, $fb) -> $fr = $ff];
                    $flltee { a: u32, b: u32, dst: u32 } fused LLTee $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) ("local.get" (local b)) (op $fname) ("local.tee" (local dst))]
                        sem[($fa, $fb) -> $fr = $ff];
                    $flctee { a: u32, c: u32, dst: u32 } fused LCTee $fname flow(next) access[] twins[][]
                        wat[("local.get" (local a)) (const $fb, c) (op $fname) ("local.tee" (local dst))]
                        sem[($fa, $fb) -> $fr = $ff];
                    $(
                        $j { target: u32 } fused J $fname flow(branch target) access[] twins[][]
                            wat[(op $fname) ("br_if" (target target))] sem[($fa, $fb) -> $fr = $ff];
                        $jl { b: u32, target: u32 } fused JL $fname flow(branch target) access[] twins[][]
                            wat[("local.get" (local b)) (op $fname) ("br_if" (target target))] sem[($fa, $fb) -> $fr = $ff];
                        $jc { c: u32, target: u32 } fused JC $fname flow(branch target) access[] twins[][]
                            wat[(const $fb, c) (op $fname) ("br_if" (target target))] sem[($fa, $fb) -> $fr = $ff];
                        $jll { a: u32, b: u32, target: u32 } fused JLL $fname flow(branch target) access[] twins[][]
                            wat[("local.get" (local a)) ("local.get" (local b)) (op $fname) ("br_if" (target target))]
                            sem[($fa, $fb) -> $fr = $ff];
                        $jlc { a: u32, c: u32, target: u32 } fused JLC $fname flow(branch target) access[] twins[][]
                            wat[("local.get" (local a)) (const $fb, c) (op $fname) ("br_if" (target target))]
                            sem[($fa, $fb) -> $fr = $ff];
                    )?
                )*
                $($tname {} ternary Plain $tname flow(next) access[] twins[][] wat[(op $tname)] sem[($ta, $tb, $tc) -> $tr = $tf];)*
                $($utname {} unary_trap Plain $utname flow(next) access[] twins[][] wat[(op $utname)] sem[($uta) -> $utr = $utf];)*
                $($btname {} binary_trap Plain $btname flow(next) access[] twins[][] wat[(op $btname)] sem[($bta, $btb) -> $btr = $btf];)*
                $($lename { lane: u8 } lane_extract Plain $lename flow(next) access[] twins[][] wat[(op $lename lane)] sem[($lea) -> $ler = $lef];)*
                $($lrname { lane: u8 } lane_replace Plain $lrname flow(next) access[] twins[][] wat[(op $lrname lane)] sem[($lra, $lrb) -> $lrr = $lrf];)*
                $(
                    $ldname { mem: u32, offset: u64 } load Plain $ldname flow(next)
                        access[read mem $ldn (stack 1 offset)] twins[][$ldsname]
                        wat[(mem $ldname mem offset)] sem[$ldn -> $ldr = $ldf];
                    $ldsname { mem: u32, offset: u64 } load San $ldname flow(next)
                        access[read mem $ldn (stack 1 offset)] twins[][]
                        wat[(mem $ldname mem offset)] sem[$ldn -> $ldr = $ldf];
                    $(
                        $ldl { a: u32, offset: u32 } load L $ldname flow(next)
                            access[read 0 $ldn (local a offset)] twins[][]
                            wat[("local.get" (local a)) (mem $ldname 0u32 offset)] sem[$ldn -> $ldr = $ldf];
                        $ldlc { a: u32, c: u32, offset: u32 } load LC $ldname flow(next)
                            access[read 0 $ldn (local_plus a c offset)] twins[][]
                            wat[("local.get" (local a)) (const i32, c) ("i32.add") (mem $ldname 0u32 offset)]
                            sem[$ldn -> $ldr = $ldf];
                        $ldll { a: u32, b: u32, offset: u32 } load LL $ldname flow(next)
                            access[read 0 $ldn (locals a b offset)] twins[][]
                            wat[("local.get" (local a)) ("local.get" (local b)) ("i32.add") (mem $ldname 0u32 offset)]
                            sem[$ldn -> $ldr = $ldf];
                        $ldc { c: u32, offset: u32 } load C $ldname flow(next)
                            access[read 0 $ldn (stack_plus c offset)] twins[][]
                            wat[(const i32, c) ("i32.add") (mem $ldname 0u32 offset)] sem[$ldn -> $ldr = $ldf];
                    )?
                )*
                $(
                    $stname { mem: u32, offset: u64 } store Plain $stname flow(next)
                        access[write mem $stn (stack (1 + <$sta as StackValue>::CELLS) offset)] twins[$sttname][$stsname]
                        wat[(mem $stname mem offset)] sem[($sta) -> $stn = $stf];
                    $sttname { mem: u32, offset: u64 } store Tracked $stname flow(next)
                        access[write mem $stn (stack (1 + <$sta as StackValue>::CELLS) offset)] twins[][$stsname]
                        wat[(mem $stname mem offset)] sem[($sta) -> $stn = $stf];
                    $stsname { mem: u32, offset: u64 } store San $stname flow(next)
                        access[write mem $stn (stack (1 + <$sta as StackValue>::CELLS) offset)] twins[][]
                        wat[(mem $stname mem offset)] sem[($sta) -> $stn = $stf];
                    $(
                        $stv { v: u32, offset: u32 } store V $stname flow(next)
                            access[write 0 $stn (stack 1 offset)] twins[$sttv][]
                            wat[("local.get" (local v)) (mem $stname 0u32 offset)] sem[($sta) -> $stn = $stf];
                        $stlv { a: u32, v: u32, offset: u32 } store LV $stname flow(next)
                            access[write 0 $stn (local a offset)] twins[$sttlv][]
                            wat[("local.get" (local a)) ("local.get" (local v)) (mem $stname 0u32 offset)]
                            sem[($sta) -> $stn = $stf];
                        $sttv { v: u32, offset: u32 } store VTracked $stname flow(next)
                            access[write 0 $stn (stack 1 offset)] twins[][]
                            wat[("local.get" (local v)) (mem $stname 0u32 offset)] sem[($sta) -> $stn = $stf];
                        $sttlv { a: u32, v: u32, offset: u32 } store LVTracked $stname flow(next)
                            access[write 0 $stn (local a offset)] twins[][]
                            wat[("local.get" (local a)) ("local.get" (local v)) (mem $stname 0u32 offset)]
                            sem[($sta) -> $stn = $stf];
                    )?
                )*
                $(
                    $llname { mem: u32, lane: u8, offset: u64 } load_lane Plain $llname flow(next)
                        access[read mem $lln (stack 3 offset)] twins[][$llsname]
                        wat[(mem $llname mem offset lane)] sem[$lln];
                    $llsname { mem: u32, lane: u8, offset: u64 } load_lane San $llname flow(next)
                        access[read mem $lln (stack 3 offset)] twins[][]
                        wat[(mem $llname mem offset lane)] sem[$lln];
                )*
                $(
                    $slname { mem: u32, lane: u8, offset: u64 } store_lane Plain $slname flow(next)
                        access[write mem $sln (stack 3 offset)] twins[$sltname][$slsname]
                        wat[(mem $slname mem offset lane)] sem[$sln];
                    $sltname { mem: u32, lane: u8, offset: u64 } store_lane Tracked $slname flow(next)
                        access[write mem $sln (stack 3 offset)] twins[][$slsname]
                        wat[(mem $slname mem offset lane)] sem[$sln];
                    $slsname { mem: u32, lane: u8, offset: u64 } store_lane San $slname flow(next)
                        access[write mem $sln (stack 3 offset)] twins[][]
                        wat[(mem $slname mem offset lane)] sem[$sln];
                )*
            }
            simple {
                $($uname none;)*
                $($bname none;)*
                $($fname none;)*
                $($tname none;)*
                $($utname none;)*
                $($btname none;)*
                $($lename lane;)*
                $($lrname lane;)*
                $($ldname memarg;)*
                $($stname memarg;)*
                $($llname memarg_lane;)*
                $($slname memarg_lane;)*
            }
            rules {
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
            }
        }
    };
}
