//! What memory the next instruction of a paused run reads and writes, worked out from the op and the operand
//! stack without running it: a debugger's read watches step with it.

use crate::ir::{Op, StackValue};
use crate::store::Store;
use crate::value::Memory;

/// A range of linear memory an instruction touches. For an access that is out of bounds, the range is still the
/// one the instruction names (it traps instead of touching it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub memory: Memory,
    pub addr: u64,
    pub len: u64,
    pub write: bool,
}

macro_rules! define_access {
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
        /// The accesses of `op` with the operand stack `stack[..sp]` and the frame's locals from `fp`: (instance
        /// memory index, address, length, write).
        fn op_accesses(op: Op, stack: &[u64], sp: usize, fp: usize) -> Vec<(u32, u64, u64, bool)> {
            // The cell `back` cells below the top.
            let cell = |back: usize| sp.checked_sub(back).and_then(|i| stack.get(i)).copied().unwrap_or(0);
            let local = |a: u32| stack.get(fp + a as usize).copied().unwrap_or(0);
            match op {
                $(Op::$ldname { mem, offset } | Op::$ldsname { mem, offset } => {
                    vec![(mem, cell(1).wrapping_add(offset), $ldn, false)]
                }
                $(Op::$ldl { a, offset } => {
                    vec![(0, local(a).wrapping_add(u64::from(offset)), $ldn, false)]
                }
                Op::$ldlc { a, c, offset } => {
                    let addr = u64::from((local(a) as u32).wrapping_add(c));
                    vec![(0, addr.wrapping_add(u64::from(offset)), $ldn, false)]
                }
                Op::$ldll { a, b, offset } => {
                    let addr = u64::from((local(a) as u32).wrapping_add(local(b) as u32));
                    vec![(0, addr.wrapping_add(u64::from(offset)), $ldn, false)]
                }
                Op::$ldc { c, offset } => {
                    let addr = u64::from((cell(1) as u32).wrapping_add(c));
                    vec![(0, addr.wrapping_add(u64::from(offset)), $ldn, false)]
                })?)*
                $(Op::$stname { mem, offset } | Op::$sttname { mem, offset } | Op::$stsname { mem, offset } => {
                    let value_cells = <$sta as StackValue>::CELLS;
                    vec![(mem, cell(1 + value_cells).wrapping_add(offset), $stn, true)]
                }
                // The value comes from a local: the address is the top operand, or a local too.
                $(Op::$stv { offset, .. } | Op::$sttv { offset, .. } => {
                    vec![(0, cell(1).wrapping_add(u64::from(offset)), $stn, true)]
                }
                Op::$stlv { a, offset, .. } | Op::$sttlv { a, offset, .. } => {
                    vec![(0, local(a).wrapping_add(u64::from(offset)), $stn, true)]
                })?)*
                Op::F32AddLoadL { a, offset } | Op::F32SubLoadL { a, offset } | Op::F32MulLoadL { a, offset } => {
                    vec![(0, local(a).wrapping_add(u64::from(offset)), 4, false)]
                }
                Op::F64AddLoadL { a, offset } | Op::F64SubLoadL { a, offset } | Op::F64MulLoadL { a, offset } => {
                    vec![(0, local(a).wrapping_add(u64::from(offset)), 8, false)]
                }
                Op::V128Load8Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 1, false)],
                Op::V128Load16Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 2, false)],
                Op::V128Load32Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 4, false)],
                Op::V128Load64Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 8, false)],
                Op::V128Store8Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 1, true)],
                Op::V128Store16Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 2, true)],
                Op::V128Store32Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 4, true)],
                Op::V128Store64Lane { mem, offset, .. } => vec![(mem, cell(3).wrapping_add(offset), 8, true)],
                // [dst, src, n]
                Op::MemoryCopy { dst, src } => vec![
                    (src, cell(2), cell(1), false),
                    (dst, cell(3), cell(1), true),
                ],
                // [dst, value, n]
                Op::MemoryFill { mem } => vec![(mem, cell(3), cell(1), true)],
                // [dst, src (in the segment), n]
                Op::MemoryInit { mem, .. } => vec![(mem, cell(3), cell(1) as u32 as u64, true)],
                _ => Vec::new(),
            }
        }
    };
}

for_each_op!(define_access);

impl Store {
    /// The memory the next instruction of the innermost frame reads and writes (none for most instructions, and
    /// none while no call is paused). Host functions' reads and writes are not instructions and are not listed.
    pub fn next_accesses(&self) -> Vec<Access> {
        let Some(frame) = self.exec.frames.last() else {
            return Vec::new();
        };
        let inst = &self.instances[frame.instance as usize];
        let Some(&op) = inst.module.inner.bodies[frame.body as usize]
            .code
            .get(frame.pc as usize)
        else {
            return Vec::new();
        };
        op_accesses(op, &self.exec.stack, self.exec.sp, frame.fp as usize)
            .into_iter()
            .filter_map(|(mem, addr, len, write)| {
                Some(Access {
                    memory: Memory(*inst.memories.get(mem as usize)?),
                    addr,
                    len,
                    write,
                })
            })
            .collect()
    }
}
