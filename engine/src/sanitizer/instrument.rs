//! Rewrites a translated module for the sanitizer: checked twins of memory-0 accesses, a watched shadow stack
//! pointer, and wrappers around the allocator functions.
//!
//! A wrapped function's index keeps naming it (calls, tables and exports reach the wrapper unchanged): its
//! translated body is moved to the end of the module's bodies, and a wrapper written in internal code takes its
//! place. The wrapper calls the real function by body (`Op::CallBody`) with the size grown by the redzones, then
//! records the block (`Op::SanAllocated`); `free` puts the block in quarantine and hands the oldest blocks past the
//! quarantine's bound to the real `free` (`Op::SanRelease`). Calls made while the real allocator runs (dlmalloc's
//! `memalign` calling `malloc`, say) pass straight through: only the outermost wrapper checks and records.

use super::{AllocFn, Recognized};
use crate::ir::Op;
use crate::module::{FuncBody, ModuleInner};
use crate::types::ValType;

/// Instruments the translated bodies of `m` (read from `bytes`) and returns what it wrapped.
pub(crate) fn instrument(m: &mut ModuleInner, bytes: &[u8]) -> Recognized {
    let mut found = super::recognize(bytes);
    let sp = found.stack_pointer.filter(|&g| {
        m.globals
            .get(g as usize)
            .is_some_and(|t| t.content == ValType::I32 && t.mutable)
    });
    found.stack_pointer = sp;
    for body in &mut m.bodies {
        let mut code = body.code.to_vec();
        for op in &mut code {
            *op = match *op {
                Op::GlobalSet { index } if Some(index) == sp => Op::StackPointerSet { index },
                other => other.sanitized(),
            };
        }
        body.code = code.into();
    }
    if !found.has_allocator() {
        found.allocator.clear();
        return found;
    }
    // Move every real body to the end; remember where.
    let imported = m.num_imported_funcs;
    let mut real = Vec::new();
    for &(f, index) in &found.allocator {
        let slot = (index - imported) as usize;
        let moved = m.bodies[slot].clone();
        real.push((f, slot, m.bodies.len() as u32));
        m.bodies.push(moved);
    }
    let real_body = |f: AllocFn| real.iter().find(|r| r.0 == f).map(|r| r.2);
    let (malloc, free) = (
        real_body(AllocFn::Malloc).expect("has_allocator"),
        real_body(AllocFn::Free).expect("has_allocator"),
    );
    for &(f, slot, own) in &real {
        let start = m.bodies[slot].offsets.first().copied().unwrap_or(0);
        let func_index = m.bodies[slot].func_index;
        let wrapper = wrapper(f, own, malloc, free);
        m.bodies[slot] = wrapper.finish(f, func_index, start, &m.bodies);
    }
    found
}

/// A wrapper's code under construction, with labels patched in `finish`.
struct Asm {
    code: Vec<Op>,
    /// (op index, label) of jumps to patch.
    patches: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn new() -> Asm {
        Asm {
            code: Vec::new(),
            patches: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    fn op(&mut self, op: Op) {
        self.code.push(op);
    }

    fn jump(&mut self, op: Op, label: usize) {
        self.patches.push((self.code.len(), label));
        self.code.push(op);
    }

    /// The finished body: labels resolved, heights and fuel regions computed.
    fn finish(mut self, f: AllocFn, func_index: u32, start: u32, bodies: &[FuncBody]) -> FuncBody {
        for &(at, label) in &self.patches {
            let target = self.labels[label].expect("every label is bound") as u32;
            match &mut self.code[at] {
                Op::Jump { target: t }
                | Op::JumpIfEqz { target: t }
                | Op::JumpIfNez { target: t } => {
                    *t = target;
                }
                _ => unreachable!("only jumps are patched"),
            }
        }
        let (params, results) = f.arity();
        let locals = params as u32 + SCRATCH;
        // Operand heights: straight-line effects, a jump's target taking the height at the jump.
        let mut heights = vec![None; self.code.len()];
        let mut h: i64 = 0;
        let mut max = 0;
        for (i, op) in self.code.iter().enumerate() {
            if let Some(known) = heights[i] {
                h = known;
            }
            heights[i] = Some(h);
            let (pop, push) = effect(op, f, bodies);
            h = h - pop + push;
            max = max.max(h);
            if let Op::Jump { target } | Op::JumpIfEqz { target } | Op::JumpIfNez { target } = *op {
                heights[target as usize].get_or_insert(h);
            }
        }
        let mut rest = vec![0u32; self.code.len()];
        let mut run = 0;
        for (i, op) in self.code.iter().enumerate().rev() {
            run = if op.ends_region() { 1 } else { run + 1 };
            rest[i] = run;
        }
        let n = self.code.len();
        FuncBody {
            func_index,
            code: self.code.into(),
            offsets: vec![start; n].into(),
            heights: heights.into_iter().map(|h| h.unwrap_or(0) as u32).collect(),
            rest: rest.into(),
            edges: Vec::new().into(),
            consts: Vec::new().into(),
            local_types: vec![ValType::I32; locals as usize].into(),
            param_cells: params as u32,
            result_cells: results as u32,
            local_cells: locals,
            max_cells: locals + max as u32 + 2,
        }
    }
}

/// Scratch locals every wrapper has after its parameters.
const SCRATCH: u32 = 2;

/// Operand cells an op of a wrapper pops and pushes.
fn effect(op: &Op, f: AllocFn, bodies: &[FuncBody]) -> (i64, i64) {
    match *op {
        Op::LocalGet { .. } | Op::SanEnter { .. } | Op::SanRelease {} => (0, 1),
        Op::LocalSet { .. } | Op::JumpIfEqz { .. } | Op::JumpIfNez { .. } => (1, 0),
        Op::CallBody { body } => {
            let b = &bodies[body as usize];
            (i64::from(b.param_cells), i64::from(b.result_cells))
        }
        Op::SanSize { kind } => {
            let args = match AllocFn::from_u8(kind) {
                AllocFn::AlignedAlloc | AllocFn::Memalign => 2,
                AllocFn::PosixMemalign => 3,
                AllocFn::Free | AllocFn::UsableSize => 0,
                _ => 1,
            };
            (0, args)
        }
        Op::SanAllocated { .. } | Op::SanUsableSize {} => (1, 1),
        Op::Return {} => (f.arity().1 as i64, 0),
        _ => (0, 0),
    }
}

/// The wrapper of `f`, whose real body is `own`; `malloc` and `free` are the real bodies of those.
fn wrapper(f: AllocFn, own: u32, malloc: u32, free: u32) -> Asm {
    let kind = f.to_u8();
    let (params, _) = f.arity();
    let (s0, s1) = (params as u32, params as u32 + 1);
    let mut a = Asm::new();
    let (pass, end) = (a.label(), a.label());
    a.op(Op::SanEnter { kind });
    a.jump(Op::JumpIfEqz { target: 0 }, pass);
    // The checked path.
    match f {
        AllocFn::Free => release_loop(&mut a, s1, free),
        AllocFn::UsableSize => {
            a.op(Op::LocalGet { index: 0 });
            a.op(Op::SanUsableSize {});
        }
        AllocFn::Realloc => {
            a.op(Op::SanSize { kind });
            a.op(Op::CallBody { body: malloc });
            a.op(Op::SanAllocated { kind });
            a.op(Op::LocalSet { index: s0 });
            release_loop(&mut a, s1, free);
            a.op(Op::LocalGet { index: s0 });
        }
        AllocFn::Malloc | AllocFn::Calloc => {
            a.op(Op::SanSize { kind });
            a.op(Op::CallBody { body: malloc });
            a.op(Op::SanAllocated { kind });
        }
        AllocFn::AlignedAlloc | AllocFn::Memalign | AllocFn::PosixMemalign => {
            a.op(Op::SanSize { kind });
            a.op(Op::CallBody { body: own });
            a.op(Op::SanAllocated { kind });
        }
    }
    a.jump(Op::Jump { target: 0 }, end);
    // Inside the real allocator: straight to the real function.
    a.bind(pass);
    for index in 0..params as u32 {
        a.op(Op::LocalGet { index });
    }
    a.op(Op::CallBody { body: own });
    a.bind(end);
    a.op(Op::SanExit {});
    a.op(Op::Return {});
    a
}

/// Hands the blocks leaving quarantine to the real `free`, one by one (`tmp` a scratch local).
fn release_loop(a: &mut Asm, tmp: u32, free: u32) {
    let (top, done) = (a.label(), a.label());
    a.bind(top);
    a.op(Op::SanRelease {});
    a.op(Op::LocalTee { index: tmp });
    a.jump(Op::JumpIfEqz { target: 0 }, done);
    a.op(Op::LocalGet { index: tmp });
    a.op(Op::CallBody { body: free });
    a.jump(Op::Jump { target: 0 }, top);
    a.bind(done);
}
