//! What memory the next instruction of a paused run reads and writes, worked out from the op and the operand
//! stack without running it: a debugger's read watches step with it.

use crate::ir::{Addr, Len, Op};
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

/// The accesses of `op` with the operand stack `stack[..sp]` and the frame's locals from `fp`: (instance memory
/// index, address, length, write). Every op declares its accesses in `for_each_op!` (`Op::memory_accesses`).
fn op_accesses(op: Op, stack: &[u64], sp: usize, fp: usize) -> Vec<(u32, u64, u64, bool)> {
    // The cell `back` cells below the top.
    let cell = |back: u32| {
        sp.checked_sub(back as usize)
            .and_then(|i| stack.get(i))
            .copied()
            .unwrap_or(0)
    };
    let local = |a: u32| stack.get(fp + a as usize).copied().unwrap_or(0);
    op.memory_accesses()
        .into_iter()
        .flatten()
        .map(|a| {
            let base = match a.addr {
                Addr::Stack { depth } => cell(depth),
                Addr::Local { a } => local(a),
                // The sums wrap like `i32.add`; the offset is added after.
                Addr::LocalPlus { a, c } => u64::from((local(a) as u32).wrapping_add(c)),
                Addr::Locals { a, b } => u64::from((local(a) as u32).wrapping_add(local(b) as u32)),
                Addr::StackPlus { c } => u64::from((cell(1) as u32).wrapping_add(c)),
            };
            let len = match a.len {
                Len::Bytes(n) => n,
                Len::Stack { depth, wide: true } => cell(depth),
                Len::Stack { depth, wide: false } => u64::from(cell(depth) as u32),
            };
            (a.mem, base.wrapping_add(a.offset), len, a.write)
        })
        .collect()
}

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
