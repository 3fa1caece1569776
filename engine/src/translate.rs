//! Translation of one Wasm function body into the internal code, validating it operator by operator on the way.

use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};

use crate::error::Error;
use crate::ir::{Flow, Op};
use crate::module::{EdgeCode, FuncBody, ModuleInner, convert_val_type};
use crate::types::ValType;

/// `CmpLog` kinds: what the top of the stack holds.
pub(crate) const CMP_I32: u8 = 0;
pub(crate) const CMP_I64: u8 = 1;
pub(crate) const CMP_I32_EQZ: u8 = 2;
pub(crate) const CMP_I64_EQZ: u8 = 3;
pub(crate) const CMP_BR_TABLE: u8 = 4;

/// Branch target meaning "return from the function" (used by `BrTableEntry`).
pub(crate) const RETURN_TARGET: u32 = u32::MAX;

/// A control frame of the function being translated, parallel to the validator's.
struct Ctrl {
    /// Loop start for loops; forward labels are patched at `end`.
    loop_pc: Option<u32>,
    /// Ops whose `target` must become this frame's end.
    patches: Vec<usize>,
    /// The `JumpIfEqz` of an `if`, patched to the start of `else` (or the end).
    else_patch: Option<usize>,
    /// Cells a branch to this label carries (loop: params; otherwise: results).
    label_cells: u32,
    /// Entered from unreachable code: nothing inside is emitted.
    dead: bool,
}

struct Translator<'a> {
    module: &'a ModuleInner,
    validator: &'a mut FuncValidator<ValidatorResources>,
    code: Vec<Op>,
    offsets: Vec<u32>,
    consts: Vec<u128>,
    ctrl: Vec<Ctrl>,
    /// Cell offset of every local from the frame base.
    local_offsets: Vec<u32>,
    local_types: Vec<ValType>,
    offset: u32,
    /// Cells of each operand on the validator's stack, mirrored op by op.
    operand_cells: Vec<u8>,
    /// Sum of `operand_cells`.
    height: u32,
    max_height: u32,
    /// Operand stack height in cells before each emitted op.
    heights: Vec<u32>,
    /// Fuse op sequences (`Config::fuse`; off with the sanitizer, which checks memory accesses through the twins of
    /// the plain load and store ops). Fusion never swallows a `Cov` or `CmpLog` op (no rule of `Op::fuse` takes
    /// one): a comparison's `CmpLog` is placed before the fused comparison, reading its operands where it does
    /// (`log_operands`), and a fused op that jumps counts its taken edge through a `CovJump` (`route_taken_edges`).
    fuse: bool,
    /// First op that may be fused with ops after it: the last branch target.
    fuse_floor: usize,
    /// Coverage: count edges; `edges` gives each op's taken edge, `edge_sites` each edge's Wasm offset.
    coverage: bool,
    cmplog: bool,
    edge_base: u32,
    edges: Vec<u32>,
    edge_sites: Vec<u32>,
}

fn invalid(e: wasmparser::BinaryReaderError) -> Error {
    Error::Validation(e.to_string())
}

pub(crate) fn translate_function(
    module: &ModuleInner,
    func_index: u32,
    validator: &mut FuncValidator<ValidatorResources>,
    body: &FunctionBody<'_>,
    edge_base: u32,
) -> Result<(FuncBody, Vec<u32>), Error> {
    let ty = module.func_type(func_index).clone();
    let mut local_offsets = Vec::new();
    let mut local_types = Vec::new();
    let mut cells = 0u32;
    for &p in ty.params() {
        local_offsets.push(cells);
        local_types.push(p);
        cells += p.cells();
    }
    let param_cells = cells;
    let mut locals = body.get_locals_reader().map_err(invalid)?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, wty) = locals.read().map_err(invalid)?;
        validator
            .define_locals(offset, count, wty)
            .map_err(invalid)?;
        let vt = convert_val_type(wty)?;
        for _ in 0..count {
            local_offsets.push(cells);
            local_types.push(vt);
            cells += vt.cells();
        }
    }
    let local_cells = cells;
    let mut t = Translator {
        module,
        validator,
        code: Vec::new(),
        offsets: Vec::new(),
        consts: Vec::new(),
        ctrl: vec![Ctrl {
            loop_pc: None,
            patches: Vec::new(),
            else_patch: None,
            label_cells: ty.result_cells(),
            dead: false,
        }],
        local_offsets,
        local_types,
        offset: 0,
        operand_cells: Vec::new(),
        height: 0,
        max_height: 0,
        heights: Vec::new(),
        fuse: module.engine.config().fuse && !module.engine.config().sanitize,
        fuse_floor: 0,
        coverage: module.engine.config().coverage,
        cmplog: module.engine.config().cmplog,
        edge_base,
        edges: Vec::new(),
        edge_sites: Vec::new(),
    };
    if t.coverage {
        // The function-entry edge.
        t.offset = body.range().start as u32;
        let edge = t.new_edge();
        t.emit(Op::Cov { edge });
    }
    let mut binary = body.get_binary_reader_for_operators().map_err(invalid)?;
    binary.set_features(*t.validator.features());
    let mut reader = wasmparser::OperatorsReader::new(binary);
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(invalid)?;
        t.offset = offset as u32;
        let arity = op.operator_arity(&t.validator.visitor(offset));
        t.translate(&op)?;
        t.track_height(arity);
    }
    reader.finish().map_err(invalid)?;
    if t.code.last().is_none_or(|op| op.flow().falls_through()) {
        // The interpreter fetches ops unchecked: execution must never run past the end of the body.
        t.emit(Op::Unreachable {});
    }
    if t.coverage {
        t.route_taken_edges();
    }
    let mut rest = vec![0u32; t.code.len()];
    let mut run = 0u32;
    for (i, op) in t.code.iter().enumerate().rev() {
        run = if op.ends_region() { 1 } else { run + 1 };
        rest[i] = run;
    }
    let sites = std::mem::take(&mut t.edge_sites);
    let edges = if t.coverage {
        std::mem::take(&mut t.edges)
    } else {
        Vec::new()
    };
    Ok((
        FuncBody {
            local_types: std::mem::take(&mut t.local_types).into(),
            edges: edges.into(),
            func_index,
            code: t.code.into(),
            offsets: t.offsets.into(),
            consts: t.consts.into(),
            param_cells,
            result_cells: ty.result_cells(),
            local_cells,
            heights: t.heights.into(),
            rest: rest.into(),
            // The operand stack never exceeds `max_height`; a call's arguments are part of it.
            max_cells: local_cells + t.max_height + 2,
        },
        sites,
    ))
}

impl Translator<'_> {
    /// Updates the mirrored operand stack after an op with `arity` (values popped, pushed).
    fn track_height(&mut self, arity: Option<(u32, u32)>) {
        let n = self.validator.operand_stack_height() as usize;
        if let Some((pop, push)) = arity {
            let keep = self.operand_cells.len().saturating_sub(pop as usize);
            if keep + push as usize == n {
                self.truncate_operands(keep);
                for depth in (0..push as usize).rev() {
                    self.push_operand_at(depth);
                }
            }
        }
        if self.operand_cells.len() != n {
            // Control flow merged or became unreachable: what lies below the innermost frame is unchanged, the
            // rest is read again.
            let base = self
                .validator
                .get_control_frame(0)
                .map_or(0, |f| f.height)
                .min(n);
            self.truncate_operands(base.min(self.operand_cells.len()));
            for depth in (0..n - self.operand_cells.len()).rev() {
                self.push_operand_at(depth);
            }
        }
        self.max_height = self.max_height.max(self.height);
    }

    fn truncate_operands(&mut self, len: usize) {
        for c in self.operand_cells.drain(len..) {
            self.height -= u32::from(c);
        }
    }

    /// Mirrors the validator's operand at `depth` from the top.
    fn push_operand_at(&mut self, depth: usize) {
        let cells = match self.validator.get_operand_type(depth) {
            Some(Some(ty)) => ValType::from_wasmparser(ty).map_or(1, ValType::cells) as u8,
            _ => 1,
        };
        self.operand_cells.push(cells);
        self.height += u32::from(cells);
    }

    /// A new coverage edge whose site is the current instruction.
    fn new_edge(&mut self) -> u32 {
        self.edge_sites.push(self.offset);
        self.edge_base + self.edge_sites.len() as u32 - 1
    }

    /// Emits an op whose branch, when taken, counts a new edge.
    fn emit_taken(&mut self, op: Op) -> usize {
        let edge = self.new_edge();
        let at = self.emit(op);
        self.edges[at] = edge;
        at
    }

    /// Counts a new edge when execution reaches this point.
    fn emit_cov(&mut self) {
        if self.coverage {
            let edge = self.new_edge();
            self.emit(Op::Cov { edge });
        }
    }

    /// Counts the fall-through edge of a conditional branch, which has popped its i32 condition (the validator has
    /// not seen the branch yet, so `height` still counts it).
    fn emit_fallthrough_cov(&mut self) {
        let height = self.height;
        self.height = height.saturating_sub(1);
        self.emit_cov();
        self.height = height;
    }

    fn emit(&mut self, op: Op) -> usize {
        let (mut op, mut offset, mut height) = (op, self.offset, self.height);
        // Peephole: merge the op with the ones before it while they form a fused op, never reaching back past a
        // label. The fused op stands where its first part stood: that part's Wasm offset and stack height.
        while self.fuse && self.code.len() > self.fuse_floor {
            let Some(fused) = self.code.last().and_then(|&last| {
                // A conditional jump that counts its taken edge fuses as the plain jump; the edge stays with the
                // fused op (`emit_taken`) and is counted as `route_taken_edges` arranges.
                last.fuse(op).or_else(|| {
                    last.fuse(match op {
                        Op::JumpIfNezCov { target } => Op::JumpIfNez { target },
                        Op::JumpIfEqzCov { target } => Op::JumpIfEqz { target },
                        _ => return None,
                    })
                })
            }) else {
                break;
            };
            self.code.pop();
            offset = self.offsets.pop().expect("one offset per op");
            height = self.heights.pop().expect("one height per op");
            if self.coverage {
                // Only an op's last part can be a branch, so the ones merged away count no edge.
                let edge = self.edges.pop();
                debug_assert_eq!(edge, Some(u32::MAX), "a fused op swallowed a branch's edge");
            }
            op = fused;
        }
        self.code.push(op);
        self.offsets.push(offset);
        self.heights.push(height);
        if self.coverage {
            self.edges.push(u32::MAX);
        }
        self.code.len() - 1
    }

    /// Comparison logging of the comparison just emitted at `at` (the last op), possibly fused with the ops that
    /// pushed its operands: a `CmpLog` op of `kind` that reads them where the comparison does, put right before it
    /// (same Wasm offset and stack height; a branch to the comparison's place runs it first). Ops the comparison
    /// fuses with later (a `local.set`, a conditional jump) cannot reach back past it.
    fn log_operands(&mut self, at: usize, kind: u8) {
        debug_assert_eq!(at + 1, self.code.len(), "the comparison is the last op");
        let log = match self.code[at] {
            Op::I32Eqz {} | Op::I64Eqz {} => Op::CmpLog { kind },
            fused => fused.cmp_log(kind).expect(
                "a comparison fuses only into forms reading the stack, locals or an immediate",
            ),
        };
        self.code.insert(at, log);
        self.offsets.insert(at, self.offsets[at]);
        self.heights.insert(at, self.heights[at]);
        if self.coverage {
            self.edges.insert(at, u32::MAX);
        }
    }

    /// With coverage, once the body is complete: every conditional jump that has a taken edge counts it. A plain
    /// jump (what a `*Cov` jump fused into, e.g. `i32.eqz; br_if`) becomes its `*Cov` form again; a fused op that
    /// jumps sends its taken branch through a `CovJump` placed after the body's last op, which counts the edge and
    /// jumps on (the fall-through edge is the `Cov` after the op, as unfused).
    fn route_taken_edges(&mut self) {
        for pc in 0..self.code.len() {
            let edge = self.edges[pc];
            if edge == u32::MAX {
                continue;
            }
            let mut op = self.code[pc];
            match op {
                Op::JumpIfNez { target } => self.code[pc] = Op::JumpIfNezCov { target },
                Op::JumpIfEqz { target } => self.code[pc] = Op::JumpIfEqzCov { target },
                // A `*Cov` op: it counts the edge itself.
                _ if !fused_jump(op) => continue,
                _ => {
                    let target = op.target_mut().expect("a jump has a target");
                    let stub = self.code.len() as u32;
                    let to = std::mem::replace(target, stub);
                    self.code[pc] = op;
                    self.edges[pc] = u32::MAX;
                    self.code.push(Op::CovJump { edge, target: to });
                    self.offsets.push(self.offsets[pc]);
                    // The jump keeps the stack as it is at its target (it drops nothing).
                    self.heights.push(self.heights[to as usize]);
                    self.edges.push(u32::MAX);
                }
            }
        }
    }

    /// Marks the current position as a branch target: ops emitted from here on are not fused with earlier ones.
    fn label(&mut self) {
        self.fuse_floor = self.code.len();
    }

    fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    /// Whether the current position is unreachable (nothing needs to be emitted).
    fn dead(&self) -> bool {
        self.ctrl.last().is_none_or(|c| c.dead)
            || self
                .validator
                .get_control_frame(0)
                .is_none_or(|f| f.unreachable)
    }

    fn operand_cells(&self, depth: usize) -> u32 {
        match self.validator.get_operand_type(depth) {
            Some(Some(ty)) => ValType::from_wasmparser(ty).map_or(1, ValType::cells),
            _ => 1,
        }
    }

    /// Cells on the operand stack above the base of the label `depth` frames out, not counting the top `skip` operands.
    fn cells_above_label(&self, depth: u32, skip: usize) -> u32 {
        let height = self.validator.operand_stack_height() as usize;
        let base = self
            .validator
            .get_control_frame(depth as usize)
            .map_or(height, |f| f.height);
        (skip..height.saturating_sub(base))
            .map(|d| self.operand_cells(d))
            .sum()
    }

    fn block_cells(&self, ty: BlockType) -> Result<(u32, u32), Error> {
        Ok(match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(t) => (0, convert_val_type(t)?.cells()),
            BlockType::FuncType(idx) => {
                let ft = self
                    .module
                    .types
                    .get(idx as usize)
                    .ok_or_else(|| Error::Validation(format!("unknown type {idx}")))?;
                (ft.param_cells(), ft.result_cells())
            }
        })
    }

    fn set_target(&mut self, at: usize, to: u32) {
        let op = &mut self.code[at];
        match op.target_mut() {
            Some(target) => *target = to,
            None => unreachable!("patching a non-branch op {op:?}"),
        }
    }

    /// Emits a branch to the label `depth` frames out. `conditional` is `br_if`; `table_entry` is an entry of `br_table`.
    fn branch(&mut self, depth: u32, skip: usize, kind: BranchKind) {
        let Some(idx) = (self.ctrl.len() - 1).checked_sub(depth as usize) else {
            // A bad label depth: the validator rejects the op right after.
            return;
        };
        let cov = self.coverage;
        if cov && matches!(kind, BranchKind::Always) {
            self.emit_cov();
        }
        if idx == 0 {
            match kind {
                BranchKind::Always => {
                    self.emit(Op::Return {});
                }
                BranchKind::IfNez if cov => {
                    self.emit_taken(Op::ReturnIfNezCov {});
                    self.emit_fallthrough_cov();
                }
                BranchKind::IfNez => {
                    self.emit(Op::ReturnIfNez {});
                }
                BranchKind::TableEntry => {
                    let entry = Op::BrTableEntry {
                        target: RETURN_TARGET,
                        drop: 0,
                        keep: 0,
                    };
                    if cov {
                        self.emit_taken(entry);
                    } else {
                        self.emit(entry);
                    }
                }
            }
            return;
        }
        let keep = self.ctrl[idx].label_cells;
        // Saturating: in invalid code the validator reports the error right after.
        let drop = self.cells_above_label(depth, skip).saturating_sub(keep);
        let known = self.ctrl[idx].loop_pc;
        let target = known.unwrap_or(0);
        let at = match kind {
            BranchKind::Always if drop == 0 => self.emit(Op::Jump { target }),
            BranchKind::Always => self.emit(Op::Br { target, drop, keep }),
            BranchKind::IfNez if cov && drop == 0 => self.emit_taken(Op::JumpIfNezCov { target }),
            BranchKind::IfNez if cov => self.emit_taken(Op::BrIfNezCov { target, drop, keep }),
            BranchKind::IfNez if drop == 0 => self.emit(Op::JumpIfNez { target }),
            BranchKind::IfNez => self.emit(Op::BrIfNez { target, drop, keep }),
            BranchKind::TableEntry if cov => {
                self.emit_taken(Op::BrTableEntry { target, drop, keep })
            }
            BranchKind::TableEntry => self.emit(Op::BrTableEntry { target, drop, keep }),
        };
        if known.is_none() {
            self.ctrl[idx].patches.push(at);
        }
        if cov && matches!(kind, BranchKind::IfNez) {
            self.emit_fallthrough_cov();
        }
    }

    fn push_ctrl(&mut self, blockty: BlockType, is_loop: bool, dead: bool) -> Result<(), Error> {
        let (params, results) = self.block_cells(blockty)?;
        self.label();
        self.ctrl.push(Ctrl {
            loop_pc: is_loop.then(|| self.pc()),
            patches: Vec::new(),
            else_patch: None,
            label_cells: if is_loop { params } else { results },
            dead,
        });
        Ok(())
    }

    fn translate(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        let dead = self.dead();
        // Structured control is tracked even in dead code; everything else is skipped there.
        match op {
            Operator::Block { blockty } | Operator::Loop { blockty } => {
                self.validator.op(self.offset as u64, op).map_err(invalid)?;
                return self.push_ctrl(*blockty, matches!(op, Operator::Loop { .. }), dead);
            }
            Operator::If { blockty } => {
                let patch = (!dead).then(|| {
                    if self.coverage {
                        // Taken: the else edge; then the then edge.
                        let at = self.emit_taken(Op::JumpIfEqzCov { target: 0 });
                        self.emit_fallthrough_cov();
                        at
                    } else {
                        self.emit(Op::JumpIfEqz { target: 0 })
                    }
                });
                self.validator.op(self.offset as u64, op).map_err(invalid)?;
                self.push_ctrl(*blockty, false, dead)?;
                if let Some(c) = self.ctrl.last_mut() {
                    c.else_patch = patch;
                }
                return Ok(());
            }
            Operator::Else => {
                if !dead {
                    let at = self.emit(Op::Jump { target: 0 });
                    if let Some(c) = self.ctrl.last_mut() {
                        c.patches.push(at);
                    }
                }
                self.label();
                let pc = self.pc();
                if let Some(p) = self.ctrl.last_mut().and_then(|c| c.else_patch.take()) {
                    self.set_target(p, pc);
                }
                return self.validator.op(self.offset as u64, op).map_err(invalid);
            }
            Operator::End => {
                self.validator.op(self.offset as u64, op).map_err(invalid)?;
                let frame = self
                    .ctrl
                    .pop()
                    .ok_or_else(|| Error::Validation("unbalanced end".into()))?;
                if self.ctrl.is_empty() {
                    if !dead {
                        self.emit(Op::Return {});
                    }
                    return Ok(());
                }
                self.label();
                let pc = self.pc();
                for p in frame.else_patch.into_iter().chain(frame.patches) {
                    self.set_target(p, pc);
                }
                return Ok(());
            }
            _ => {}
        }
        if dead {
            return self.validator.op(self.offset as u64, op).map_err(invalid);
        }
        // Ops whose translation needs the operand stack as it is before the op.
        match op {
            Operator::Br { relative_depth } => self.branch(*relative_depth, 0, BranchKind::Always),
            Operator::BrIf { relative_depth } => self.branch(*relative_depth, 1, BranchKind::IfNez),
            Operator::BrTable { targets } => {
                if self.cmplog {
                    self.emit(Op::CmpLog { kind: CMP_BR_TABLE });
                }
                let len = targets.len();
                self.emit(if self.coverage {
                    Op::BrTableCov { len }
                } else {
                    Op::BrTable { len }
                });
                let mut depths = targets
                    .targets()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(invalid)?;
                depths.push(targets.default());
                for depth in depths {
                    if depth as usize >= self.ctrl.len() {
                        // Let the validator report the bad depth.
                        break;
                    }
                    self.branch(depth, 1, BranchKind::TableEntry);
                }
            }
            Operator::Drop => {
                let cells = self.operand_cells(0);
                self.emit(Op::Drop { cells });
            }
            Operator::Select => {
                let v128 = self.operand_cells(1) == 2;
                self.emit(if v128 {
                    Op::SelectV128 {}
                } else {
                    Op::Select {}
                });
            }
            Operator::TypedSelect { ty } => {
                let v128 = convert_val_type(*ty)? == ValType::V128;
                self.emit(if v128 {
                    Op::SelectV128 {}
                } else {
                    Op::Select {}
                });
            }
            Operator::LocalGet { local_index }
            | Operator::LocalSet { local_index }
            | Operator::LocalTee { local_index } => {
                let i = *local_index as usize;
                if let (Some(&index), Some(&ty)) =
                    (self.local_offsets.get(i), self.local_types.get(i))
                {
                    let v128 = ty == ValType::V128;
                    self.emit(match (op, v128) {
                        (Operator::LocalGet { .. }, false) => Op::LocalGet { index },
                        (Operator::LocalGet { .. }, true) => Op::LocalGetV128 { index },
                        (Operator::LocalSet { .. }, false) => Op::LocalSet { index },
                        (Operator::LocalSet { .. }, true) => Op::LocalSetV128 { index },
                        (_, false) => Op::LocalTee { index },
                        (_, true) => Op::LocalTeeV128 { index },
                    });
                }
            }
            Operator::GlobalGet { global_index } | Operator::GlobalSet { global_index } => {
                if let Some(g) = self.module.globals.get(*global_index as usize) {
                    let index = *global_index;
                    let v128 = g.content == ValType::V128;
                    self.emit(match (op, v128) {
                        (Operator::GlobalGet { .. }, false) => Op::GlobalGet { index },
                        (Operator::GlobalGet { .. }, true) => Op::GlobalGetV128 { index },
                        (_, false) => Op::GlobalSet { index },
                        (_, true) => Op::GlobalSetV128 { index },
                    });
                }
            }
            other => self.translate_plain(other)?,
        }
        self.validator.op(self.offset as u64, op).map_err(invalid)
    }

    /// Ops that need no knowledge of the operand stack.
    fn translate_plain(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        let cmp_kind = if self.cmplog {
            match op {
                Operator::I32Eq
                | Operator::I32Ne
                | Operator::I32LtS
                | Operator::I32LtU
                | Operator::I32GtS
                | Operator::I32GtU
                | Operator::I32LeS
                | Operator::I32LeU
                | Operator::I32GeS
                | Operator::I32GeU => Some(CMP_I32),
                Operator::I64Eq
                | Operator::I64Ne
                | Operator::I64LtS
                | Operator::I64LtU
                | Operator::I64GtS
                | Operator::I64GtU
                | Operator::I64LeS
                | Operator::I64LeU
                | Operator::I64GeS
                | Operator::I64GeU => Some(CMP_I64),
                Operator::I32Eqz => Some(CMP_I32_EQZ),
                Operator::I64Eqz => Some(CMP_I64_EQZ),
                _ => None,
            }
        } else {
            None
        };
        if let (true, Operator::Call { function_index }) = (self.cmplog, op) {
            self.emit(Op::CmpLogCall {
                func: *function_index,
            });
        }
        if matches!(
            op,
            Operator::CallIndirect { .. } | Operator::ReturnCallIndirect { .. }
        ) {
            // The indirect call site: which targets it reaches shows in their entry edges.
            self.emit_cov();
        }
        if let Some(simple) = Op::simple(op) {
            let at = self.emit(if self.module.engine.config().track_dirty_pages {
                simple.tracked()
            } else {
                simple
            });
            if let Some(kind) = cmp_kind {
                self.log_operands(at, kind);
            }
            return Ok(());
        }
        let ir = match *op {
            Operator::Nop => return Ok(()),
            Operator::Unreachable => Op::Unreachable {},
            Operator::Return => Op::Return {},
            Operator::Call { function_index } => Op::Call {
                func: function_index,
            },
            Operator::CallIndirect {
                type_index,
                table_index,
            } => Op::CallIndirect {
                type_index,
                table: table_index,
            },
            Operator::ReturnCall { function_index } => Op::ReturnCall {
                func: function_index,
            },
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => Op::ReturnCallIndirect {
                type_index,
                table: table_index,
            },
            Operator::I32Const { value } => Op::Const32 {
                value: value as u32,
            },
            Operator::I64Const { value } => Op::Const64 {
                value: value as u64,
            },
            Operator::F32Const { value } => Op::Const32 {
                value: value.bits(),
            },
            Operator::F64Const { value } => Op::Const64 {
                value: value.bits(),
            },
            Operator::V128Const { value } => {
                let index = self.add_const(u128::from_le_bytes(*value.bytes()));
                Op::ConstV128 { index }
            }
            Operator::I8x16Shuffle { lanes } => {
                let index = self.add_const(u128::from_le_bytes(lanes));
                Op::I8x16Shuffle { index }
            }
            Operator::MemorySize { mem } => Op::MemorySize { mem },
            Operator::MemoryGrow { mem } => Op::MemoryGrow { mem },
            Operator::MemoryFill { mem } => Op::MemoryFill { mem },
            Operator::MemoryCopy { dst_mem, src_mem } => Op::MemoryCopy {
                dst: dst_mem,
                src: src_mem,
            },
            Operator::MemoryInit { data_index, mem } => Op::MemoryInit {
                data: data_index,
                mem,
            },
            Operator::DataDrop { data_index } => Op::DataDrop { data: data_index },
            Operator::TableGet { table } => Op::TableGet { table },
            Operator::TableSet { table } => Op::TableSet { table },
            Operator::TableSize { table } => Op::TableSize { table },
            Operator::TableGrow { table } => Op::TableGrow { table },
            Operator::TableFill { table } => Op::TableFill { table },
            Operator::TableCopy {
                dst_table,
                src_table,
            } => Op::TableCopy {
                dst: dst_table,
                src: src_table,
            },
            Operator::TableInit { elem_index, table } => Op::TableInit {
                elem: elem_index,
                table,
            },
            Operator::ElemDrop { elem_index } => Op::ElemDrop { elem: elem_index },
            Operator::RefNull { .. } => Op::RefNull {},
            Operator::RefIsNull => Op::RefIsNull {},
            Operator::RefFunc { function_index } => Op::RefFunc {
                func: function_index,
            },
            ref other => {
                // Validate first so that invalid code gets a validation error rather than "unsupported".
                self.validator
                    .op(self.offset as u64, other)
                    .map_err(invalid)?;
                return Err(Error::Unsupported(format!("operator {other:?}")));
            }
        };
        self.emit(ir);
        let tail_callee = match ir {
            Op::ReturnCall { func } => self
                .module
                .func_types
                .get(func as usize)
                .and_then(|&t| self.module.types.get(t as usize))
                .map(|t| (t.clone(), 0)),
            Op::ReturnCallIndirect { type_index, .. } => self
                .module
                .types
                .get(type_index as usize)
                .map(|t| (t.clone(), 1)),
            _ => None,
        };
        if let Some((ty, index_cells)) = tail_callee {
            // Reached only when the callee is a host function, which runs as an ordinary call: its results replace
            // its arguments (and the table index) on the stack.
            let height = self.height;
            self.height =
                (height + ty.result_cells()).saturating_sub(ty.param_cells() + index_cells);
            self.max_height = self.max_height.max(self.height);
            self.emit(Op::Return {});
            self.height = height;
        }
        Ok(())
    }

    fn add_const(&mut self, value: u128) -> u32 {
        self.consts.push(value);
        (self.consts.len() - 1) as u32
    }
}

#[derive(Clone, Copy)]
enum BranchKind {
    Always,
    IfNez,
    TableEntry,
}

/// Whether `op` is a conditional jump the translator makes only by fusing it with the ops before it: any but the
/// conditional branches it emits for `br_if` and `if` (with coverage, their `*Cov` forms count their edges).
fn fused_jump(op: Op) -> bool {
    op.flow() == Flow::Branch
        && !matches!(
            op,
            Op::JumpIfNez { .. }
                | Op::JumpIfEqz { .. }
                | Op::BrIfNez { .. }
                | Op::JumpIfNezCov { .. }
                | Op::JumpIfEqzCov { .. }
                | Op::BrIfNezCov { .. }
        )
}

/// Most ops [`edge_ops`] lists for one edge.
const MAX_EDGE_OPS: usize = 1024;

/// Fills `blocks[edge]` with the ops each edge of `body` leads to (see `Module::edge_ops`).
pub(crate) fn edge_ops(body: &FuncBody, blocks: &mut [Vec<Op>]) {
    walk_edges(body, MAX_EDGE_OPS, |edge, pc| {
        if let Some(block) = blocks.get_mut(edge as usize) {
            block.push(body.code[pc]);
        }
    });
}

/// Fills `blocks[edge]` with the function, entry flag and Wasm offsets of the ops each edge of `body` leads to (see
/// `Module::edge_code`).
pub(crate) fn edge_code(body: &FuncBody, blocks: &mut [EdgeCode]) {
    walk_edges(body, body.code.len(), |edge, pc| {
        if let Some(block) = blocks.get_mut(edge as usize) {
            block.offsets.push(body.offsets[pc]);
        }
    });
    for (pc, op) in body.code.iter().enumerate() {
        let taken = body.edges.get(pc).copied().filter(|&e| e != u32::MAX);
        let edge = match (*op, taken) {
            (Op::Cov { edge } | Op::CovJump { edge, .. }, _) | (_, Some(edge)) => edge,
            _ => continue,
        };
        if let Some(block) = blocks.get_mut(edge as usize) {
            block.func_index = body.func_index;
            block.entry = pc == 0 && matches!(op, Op::Cov { .. });
        }
    }
}

/// Calls `visit(edge, pc)` for every op (comparison logging aside) that runs each time an edge of `body` is
/// counted, in order, at most `limit` per edge. Reads the code the translator emitted with coverage: an edge is a
/// `Cov` op (counted where it stands) or the taken branch of an op that has an entry in `edges`.
fn walk_edges(body: &FuncBody, limit: usize, mut visit: impl FnMut(u32, usize)) {
    for (pc, op) in body.code.iter().enumerate() {
        let taken = body.edges.get(pc).copied().filter(|&e| e != u32::MAX);
        let (edge, start) = match (*op, taken) {
            (Op::Cov { edge }, _) => (edge, Some(pc + 1)),
            (Op::CovJump { edge, target }, _) => (edge, Some(target as usize)),
            // The edge of a taken branch leads to its target.
            (op, Some(edge)) => (
                edge,
                op.target()
                    .filter(|&t| t != RETURN_TARGET)
                    .map(|t| t as usize),
            ),
            _ => continue,
        };
        let mut visited = 0;
        let mut at = start;
        while let Some(pc) = at {
            let Some(&op) = body.code.get(pc) else { break };
            if visited >= limit || matches!(op, Op::Cov { .. } | Op::CovJump { .. }) {
                break;
            }
            if !matches!(op, Op::CmpLog { .. }) {
                visit(edge, pc);
                visited += 1;
            }
            at = match op.flow() {
                Flow::Jump => op.target().map(|t| t as usize),
                Flow::Next | Flow::Bulk | Flow::Call => Some(pc + 1),
                // Leaves the function, or branches on a value (each way is an edge of its own).
                Flow::Branch
                | Flow::Table
                | Flow::Return
                | Flow::ReturnIf
                | Flow::TailCall
                | Flow::Trap => None,
            };
        }
    }
}
