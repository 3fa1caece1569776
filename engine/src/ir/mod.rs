//! The engine's internal code (IR): a compact instruction set with resolved branch targets, generated from one list.

#[macro_use]
mod ops;
mod text;

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

/// The comparison-logging op reading the operands of a fused op of form `$form` with fields `$f` (see `Op::cmp_log`).
macro_rules! cmp_log_form {
    ($kind:ident; Plain) => {
        Some(Op::CmpLog { kind: $kind })
    };
    ($kind:ident; L $b:ident) => {
        Some(Op::CmpLogL { kind: $kind, b: $b })
    };
    ($kind:ident; C $c:ident) => {
        Some(Op::CmpLogC { kind: $kind, c: $c })
    };
    ($kind:ident; LL $a:ident $b:ident) => {
        Some(Op::CmpLogLL {
            kind: $kind,
            a: $a,
            b: $b,
        })
    };
    ($kind:ident; LC $a:ident $c:ident) => {
        Some(Op::CmpLogLC {
            kind: $kind,
            a: $a,
            c: $c,
        })
    };
    ($kind:ident; $($other:tt)*) => {
        None
    };
}

macro_rules! define_op_enum {
    (
        ops {
            $($name:ident { $($f:ident : $t:ty),* } $group:ident $form:ident $family:ident
                flow($flow:ident $($target:ident)?) access[$($access:tt)*] twins[$($tracked:ident)?][$($san:ident)?]
                wat[$($wat:tt)*] sem[$($sem:tt)*];)*
        }
        simple { $($simple:ident $operands:ident;)* }
        rules { $($rules:tt)* }
    ) => {
        /// One instruction of the internal code. Generated from `for_each_op!`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Op {
            $($name { $($f: $t),* },)*
        }

        impl Op {
            /// The instruction's internal name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Op::$name { .. } => stringify!($name),)*
                }
            }

            /// The Wasm operator the instruction stands for, alone or with the instructions around it (`I32AddLC`
            /// stands for `I32Add`; `JumpIfI32LtS` for `I32LtS`): the name of its family in `for_each_op!`.
            pub fn family(&self) -> &'static str {
                match self {
                    $(Op::$name { .. } => stringify!($family),)*
                }
            }

            /// The op's form within its family (`Plain`, or `L`, `LC`, `J`... for a fused op, `San`, `Tracked`...
            /// for a memory access), as `for_each_op_flat!` names it.
            pub fn form(&self) -> &'static str {
                match self {
                    $(Op::$name { .. } => stringify!($form),)*
                }
            }

            /// The group of `for_each_op!` the op belongs to.
            pub fn group(&self) -> &'static str {
                match self {
                    $(Op::$name { .. } => stringify!($group),)*
                }
            }

            /// One op of every variant, its fields numbered 1, 2, ... in declaration order.
            pub fn samples() -> Vec<Op> {
                vec![$({
                    let _n = &mut 0u8;
                    Op::$name { $($f: text::sample(_n)),* }
                },)*]
            }

            /// How control leaves the op.
            pub fn flow(&self) -> Flow {
                match self {
                    $(Op::$name { .. } => flow_kind!($flow),)*
                }
            }

            /// The branch target the translator patches, for an op that has one.
            pub(crate) fn target_mut(&mut self) -> Option<&mut u32> {
                match self {
                    $(Op::$name { $($target,)? .. } => flow_target!($($target)?),)*
                }
            }

            /// The op's branch target, if it has one.
            pub fn target(&self) -> Option<u32> {
                let mut op = *self;
                op.target_mut().map(|t| *t)
            }

            /// The guest memory the op reads and writes, in that order.
            pub(crate) fn memory_accesses(&self) -> [Option<MemAccess>; 2] {
                match *self {
                    $(Op::$name { $($f),* } => {
                        let _ = ($($f,)*);
                        mem_accesses!($($access)*)
                    })*
                }
            }

            /// The dirty-page-tracking twin of a store op; any other op is returned as it is.
            pub(crate) fn tracked(self) -> Op {
                match self {
                    $(Op::$name { $($f),* } => {
                        let _ = ($($f,)*);
                        twin!(self; [$($tracked)?] { $($f),* })
                    })*
                }
            }

            /// The sanitizer's twin of a load or store of memory 0 (see `crate::sanitizer`): it checks the shadow of the
            /// bytes it touches first. Any other op is returned as it is.
            pub(crate) fn sanitized(self) -> Op {
                if self.memory_accesses()[0].is_none_or(|a| a.mem != 0) {
                    return self;
                }
                match self {
                    $(Op::$name { $($f),* } => {
                        let _ = ($($f,)*);
                        twin!(self; [$($san)?] { $($f),* })
                    })*
                }
            }

            /// Translates the Wasm operators that map one-to-one onto an `Op` with the same name.
            pub(crate) fn simple(op: &Operator<'_>) -> Option<Op> {
                Some(match *op {
                    $(simple_operator!($operands $simple memarg lane) => simple_op!($operands $simple memarg lane),)*
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
                    $($rules)*
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

            /// Writes the Wasm instructions the op stands for, separated by `; `, local `i` (a cell offset) printed
            /// as `local(i)` and a branch target as `@pc`. Nothing for an op that stands for no Wasm instruction
            /// (coverage, comparison logging, breakpoints, the sanitizer's steps).
            pub fn write_wat(&self, out: &mut String, local: &dyn Fn(u32) -> u32) {
                let mut first = true;
                match *self {
                    $(Op::$name { $($f),* } => {
                        let _ = ($($f,)*);
                        $(wat_instr!(out, first, local; $wat);)*
                    })*
                }
            }

            /// The comparison-logging op (of `kind`) that reads the operands of `self`, an op of the `fused` group in one
            /// of its forms that leave the result on the stack, where `self` reads them: placed right before `self`, it
            /// logs what the unfused `CmpLog` before the comparison would.
            pub(crate) fn cmp_log(&self, kind: u8) -> Option<Op> {
                if self.group() != "fused" {
                    return None;
                }
                match *self {
                    $(Op::$name { $($f),* } => {
                        let _ = ($($f,)*);
                        cmp_log_form!(kind; $form $($f)*)
                    })*
                }
            }
        }
    };
}

/// How control leaves an op (see `for_each_op!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Falls through to the next op.
    Next,
    /// Falls through, after paying for the bytes it touches (bulk memory and table ops): it costs more than one
    /// unit of fuel.
    Bulk,
    /// Jumps to its target or falls through.
    Branch,
    /// Always jumps to its target.
    Jump,
    /// Jumps to one of the `BrTableEntry` ops after it.
    Table,
    /// Returns from the function.
    Return,
    /// Returns from the function or falls through.
    ReturnIf,
    /// Calls a function and, once it returns, falls through.
    Call,
    /// Replaces the running function by the one it calls (a host callee returns to the next op).
    TailCall,
    /// Always traps.
    Trap,
}

impl Flow {
    /// Whether the op may hand control anywhere but to the op after it (branches, calls, returns, traps that
    /// always happen), or costs more fuel than one unit (bulk ops): the last op of a fuel region. The interpreter
    /// charges a region's fuel when it enters it and settles up only where control leaves the code through one of
    /// these ops.
    pub fn ends_region(self) -> bool {
        self != Flow::Next
    }

    /// Whether control may reach the op after it (or, for a call, come back to it).
    pub fn falls_through(self) -> bool {
        !matches!(self, Flow::Jump | Flow::Return | Flow::Trap)
    }
}

macro_rules! flow_kind {
    (next) => {
        Flow::Next
    };
    (bulk) => {
        Flow::Bulk
    };
    (branch) => {
        Flow::Branch
    };
    (jump) => {
        Flow::Jump
    };
    (table) => {
        Flow::Table
    };
    (ret) => {
        Flow::Return
    };
    (ret_if) => {
        Flow::ReturnIf
    };
    (call) => {
        Flow::Call
    };
    (tail) => {
        Flow::TailCall
    };
    (trap) => {
        Flow::Trap
    };
}

macro_rules! flow_target {
    () => {
        None
    };
    ($target:ident) => {
        Some($target)
    };
}

macro_rules! twin {
    ($op:expr; [] { $($f:ident),* }) => { $op };
    ($op:expr; [$twin:ident] { $($f:ident),* }) => { Op::$twin { $($f),* } };
}

/// Where a memory access's address comes from: it is that value plus the access's constant offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Addr {
    /// The operand `depth` cells below the top of the stack.
    Stack { depth: u32 },
    /// Local `a` (a cell offset).
    Local { a: u32 },
    /// The i32 sum of local `a` and `c`, wrapping.
    LocalPlus { a: u32, c: u32 },
    /// The i32 sum of locals `a` and `b`, wrapping.
    Locals { a: u32, b: u32 },
    /// The i32 sum of the top operand and `c`, wrapping.
    StackPlus { c: u32 },
}

/// How many bytes a memory access touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Len {
    Bytes(u64),
    /// The operand `depth` cells below the top (an i32 if `wide` is false).
    Stack {
        depth: u32,
        wide: bool,
    },
}

/// One access of guest memory an op makes (see `Op::memory_accesses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemAccess {
    /// The instance's memory index.
    pub mem: u32,
    pub addr: Addr,
    pub offset: u64,
    pub len: Len,
    pub write: bool,
}

macro_rules! mem_accesses {
    () => { [None, None] };
    ($rw:ident $mem:tt $len:tt $addr:tt) => { [Some(mem_access!($rw $mem $len $addr)), None] };
    ($rw:ident $mem:tt $len:tt $addr:tt, $rw2:ident $mem2:tt $len2:tt $addr2:tt) => {
        [Some(mem_access!($rw $mem $len $addr)), Some(mem_access!($rw2 $mem2 $len2 $addr2))]
    };
}

macro_rules! mem_access {
    ($rw:ident $mem:tt $len:tt ($($addr:tt)*)) => {
        MemAccess {
            mem: $mem,
            len: mem_len!($len),
            write: mem_write!($rw),
            addr: mem_addr!($($addr)*).0,
            offset: mem_addr!($($addr)*).1,
        }
    };
}

macro_rules! mem_write {
    (read) => {
        false
    };
    (write) => {
        true
    };
}

macro_rules! mem_len {
    ((stack $depth:tt)) => {
        Len::Stack {
            depth: $depth,
            wide: true,
        }
    };
    ((stack32 $depth:tt)) => {
        Len::Stack {
            depth: $depth,
            wide: false,
        }
    };
    ($n:literal) => {
        Len::Bytes($n)
    };
}

macro_rules! mem_addr {
    (stack $depth:tt) => {
        (Addr::Stack { depth: $depth }, 0u64)
    };
    (stack $depth:tt $offset:ident) => {
        (
            Addr::Stack {
                depth: ($depth) as u32,
            },
            u64::from($offset),
        )
    };
    (local $a:ident $offset:ident) => {
        (Addr::Local { a: $a }, u64::from($offset))
    };
    (local_plus $a:ident $c:ident $offset:ident) => {
        (Addr::LocalPlus { a: $a, c: $c }, u64::from($offset))
    };
    (locals $a:ident $b:ident $offset:ident) => {
        (Addr::Locals { a: $a, b: $b }, u64::from($offset))
    };
    (stack_plus $c:ident $offset:ident) => {
        (Addr::StackPlus { c: $c }, u64::from($offset))
    };
}

macro_rules! simple_operator {
    (none $name:ident $memarg:ident $lane:ident) => {
        Operator::$name
    };
    (lane $name:ident $memarg:ident $lane:ident) => {
        Operator::$name { lane: $lane }
    };
    (memarg $name:ident $memarg:ident $lane:ident) => {
        Operator::$name { memarg: $memarg }
    };
    (memarg_lane $name:ident $memarg:ident $lane:ident) => {
        Operator::$name {
            memarg: $memarg,
            lane: $lane,
        }
    };
}

macro_rules! simple_op {
    (none $name:ident $memarg:ident $lane:ident) => {
        Op::$name {}
    };
    (lane $name:ident $memarg:ident $lane:ident) => {
        Op::$name { lane: $lane }
    };
    (memarg $name:ident $memarg:ident $lane:ident) => {
        Op::$name {
            mem: mem_index(&$memarg),
            offset: $memarg.offset,
        }
    };
    (memarg_lane $name:ident $memarg:ident $lane:ident) => {
        Op::$name {
            mem: mem_index(&$memarg),
            lane: $lane,
            offset: $memarg.offset,
        }
    };
}

/// Writes one Wasm instruction of an op's `wat` list (see `for_each_op_flat!`).
macro_rules! wat_instr {
    ($out:ident, $first:ident, $local:ident; ($mnemonic:literal $($arg:tt)*)) => {{
        wat_sep!($out, $first);
        $out.push_str($mnemonic);
        $(wat_arg!($out, $local; $arg);)*
    }};
    ($out:ident, $first:ident, $local:ident; (op $name:ident)) => {{
        wat_sep!($out, $first);
        $out.push_str(&text::mnemonic(stringify!($name)));
    }};
    ($out:ident, $first:ident, $local:ident; (op $name:ident $lane:ident)) => {{
        wat_sep!($out, $first);
        $out.push_str(&text::mnemonic(stringify!($name)));
        $out.push_str(&format!(" {}", $lane));
    }};
    ($out:ident, $first:ident, $local:ident; (const $t:ty, $c:ident)) => {{
        wat_sep!($out, $first);
        $out.push_str(&<$t as Imm>::wat_const($c));
    }};
    ($out:ident, $first:ident, $local:ident; (mem $name:ident $mem:tt $offset:ident $($lane:ident)?)) => {{
        wat_sep!($out, $first);
        $out.push_str(&text::mnemonic(stringify!($name)));
        $out.push_str(&text::memarg($mem, u64::from($offset)));
        $($out.push_str(&format!(" {}", $lane));)?
    }};
}

macro_rules! wat_sep {
    ($out:ident, $first:ident) => {
        if !std::mem::take(&mut $first) {
            $out.push_str("; ");
        }
    };
}

macro_rules! wat_arg {
    ($out:ident, $local:ident; $text:literal) => {
        $out.push_str(concat!(" ", $text))
    };
    ($out:ident, $local:ident; (local $f:ident)) => {
        $out.push_str(&format!(" {}", $local(u32::from($f))))
    };
    ($out:ident, $local:ident; (target $f:ident)) => {
        $out.push_str(&format!(" @{}", $f))
    };
    ($out:ident, $local:ident; (type_use $f:ident)) => {
        $out.push_str(&format!(" (type {})", $f))
    };
    ($out:ident, $local:ident; (pool $f:ident)) => {
        $out.push_str(&format!(" consts[{}]", $f))
    };
    ($out:ident, $local:ident; (memarg $f:ident)) => {
        $out.push_str(&text::memarg(0, u64::from($f)))
    };
    ($out:ident, $local:ident; (signed $f:ident)) => {
        $out.push_str(&format!(" {}", text::signed($f)))
    };
    ($out:ident, $local:ident; ($f:ident)) => {
        $out.push_str(&format!(" {}", $f))
    };
}

/// Values that a 32-bit immediate of a fused op can hold: the translator asks `imm` whether a constant fits, the
/// interpreter turns the immediate back into the value with `from_imm`, the disassembler prints it with `wat_const`.
pub(crate) trait Imm: Sized {
    fn imm(cell: u64) -> Option<u32>;
    fn from_imm(c: u32) -> Self;
    /// The Wasm instruction that pushes the immediate's value.
    fn wat_const(c: u32) -> String;
}

impl Imm for i32 {
    fn imm(cell: u64) -> Option<u32> {
        Some(cell as u32)
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        c as i32
    }
    fn wat_const(c: u32) -> String {
        format!("i32.const {}", Self::from_imm(c))
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
    fn wat_const(c: u32) -> String {
        format!("i64.const {}", Self::from_imm(c))
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
    fn wat_const(c: u32) -> String {
        format!(
            "f32.const {}",
            text::float(f64::from(Self::from_imm(c)), c & 0x7f_ffff)
        )
    }
}

impl Imm for f64 {
    /// A 64-bit float constant fits when it is an `f32` widened: that `f32` is the immediate. (NaNs aside, whose
    /// payload the conversion need not keep.)
    fn imm(cell: u64) -> Option<u32> {
        let value = f64::from_bits(cell);
        let narrow = value as f32;
        (!value.is_nan() && f64::from(narrow).to_bits() == cell).then(|| narrow.to_bits())
    }
    #[inline(always)]
    fn from_imm(c: u32) -> Self {
        f64::from(f32::from_bits(c))
    }
    fn wat_const(c: u32) -> String {
        format!("f64.const {}", text::float(Self::from_imm(c), 0))
    }
}

for_each_op_flat!(define_op_enum);

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Debug form of a struct-like variant is `Name { field: value, .. }`: exactly the disassembly we want.
        let debug = format!("{self:?}");
        f.write_str(debug.trim_end_matches(" {}"))
    }
}

impl Op {
    /// Whether the op is the last of a fuel region (see `Flow::ends_region`).
    pub(crate) fn ends_region(&self) -> bool {
        self.flow().ends_region()
    }

    /// The Wasm instructions the op stands for (see `write_wat`), locals printed as cell offsets.
    pub fn wat(&self) -> String {
        let mut out = String::new();
        self.write_wat(&mut out, &|cell| cell);
        out
    }
}

#[cfg(test)]
mod table_tests;

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
