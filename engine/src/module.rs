//! A `Module`: a validated Wasm binary with every function translated once into the internal code.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, KnownCustom, Name, Operator, Parser,
    Payload, TableInit, TypeRef, ValidPayload, Validator,
};

use crate::engine::Engine;
use crate::error::Error;
use crate::ir::Op;
use crate::translate::translate_function;
use crate::types::{ExternType, FuncType, GlobalType, Limits, MemoryType, TableType, ValType};

/// A compiled, validated module; cheap to clone.
#[derive(Debug, Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

/// An import the module declares.
#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub ty: ExternType,
}

/// A constant expression, as used by global initializers and segment offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

#[derive(Debug, Clone)]
pub(crate) enum SegmentMode {
    Passive,
    Declared,
    Active { index: u32, offset: Vec<ConstOp> },
}

#[derive(Debug, Clone)]
pub(crate) struct ElemSegment {
    pub(crate) items: Vec<Vec<ConstOp>>,
    pub(crate) mode: SegmentMode,
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment {
    pub(crate) bytes: Box<[u8]>,
    pub(crate) mode: SegmentMode,
}

/// A translated function body.
#[derive(Debug, Clone)]
pub(crate) struct FuncBody {
    /// Index in the module's function index space.
    pub(crate) func_index: u32,
    pub(crate) code: Box<[Op]>,
    /// Byte offset in the module binary of the Wasm instruction each op comes from.
    pub(crate) offsets: Box<[u32]>,
    /// Operand stack height in cells (above the locals) before each op.
    pub(crate) heights: Box<[u32]>,
    /// Fuel regions: for each op, how many ops run from it to the end of its region (itself and the region's
    /// last op included). A region ends at an op that may transfer control (`Op::ends_region`), so once entered at
    /// any op, all of its remaining ops run unless one traps or pauses. The interpreter charges `rest` when
    /// control enters the code at an op and gives back what did not run when it leaves early.
    pub(crate) rest: Box<[u32]>,
    /// With coverage: the edge counted when the op at that index takes its branch (`u32::MAX` for none).
    pub(crate) edges: Box<[u32]>,
    /// v128 constants and shuffle masks referenced by index from the code.
    pub(crate) consts: Box<[u128]>,
    /// Types of the parameters and declared locals, in order.
    pub(crate) local_types: Box<[ValType]>,
    pub(crate) param_cells: u32,
    pub(crate) result_cells: u32,
    /// Cells for params and declared locals.
    pub(crate) local_cells: u32,
    /// Upper bound on the frame's size in cells (locals plus operand stack).
    pub(crate) max_cells: u32,
}

/// The code one coverage edge stands for (see [`Module::edge_code`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeCode {
    /// The function the edge is in (module function index space).
    pub func_index: u32,
    /// Counted each time the function is entered.
    pub entry: bool,
    /// Module byte offsets of the Wasm instructions of the ops that run each time the edge is counted, in order.
    pub offsets: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) hash: [u8; 32],
    pub(crate) types: Vec<Arc<FuncType>>,
    /// Engine-wide id of each type, for signature checks.
    pub(crate) type_ids: Vec<u32>,
    pub(crate) imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub(crate) func_types: Vec<u32>,
    pub(crate) num_imported_funcs: u32,
    pub(crate) bodies: Vec<FuncBody>,
    pub(crate) tables: Vec<(TableType, Option<Vec<ConstOp>>)>,
    pub(crate) num_imported_tables: u32,
    pub(crate) memories: Vec<MemoryType>,
    pub(crate) num_imported_memories: u32,
    pub(crate) globals: Vec<GlobalType>,
    pub(crate) global_inits: Vec<Vec<ConstOp>>,
    pub(crate) num_imported_globals: u32,
    pub(crate) exports: Vec<(String, ExternalKind, u32)>,
    pub(crate) start: Option<u32>,
    pub(crate) elems: Vec<ElemSegment>,
    pub(crate) datas: Vec<DataSegment>,
    pub(crate) func_names: HashMap<u32, String>,
    /// Edges counted by coverage, over all functions.
    pub(crate) num_edges: u32,
    /// Wasm offset of the branch site of every edge.
    pub(crate) edge_sites: Vec<u32>,
    /// The module's own comparison functions, by function index (from exports and the name section).
    pub(crate) cmp_funcs: HashMap<u32, CmpFunc>,
    /// What the sanitizer wrapped (empty without `Config::sanitize`).
    pub(crate) sanitized: crate::sanitizer::Recognized,
}

/// A libc comparison function whose arguments cmplog records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpFunc {
    /// `memcmp`/`bcmp(a, b, n)`.
    Mem,
    /// `strcmp(a, b)`.
    Str,
    /// `strncmp(a, b, n)`.
    StrN,
}

impl CmpFunc {
    fn from_name(name: &str) -> Option<CmpFunc> {
        match name {
            "memcmp" | "bcmp" => Some(CmpFunc::Mem),
            "strcmp" => Some(CmpFunc::Str),
            "strncmp" => Some(CmpFunc::StrN),
            _ => None,
        }
    }
}

fn invalid(e: wasmparser::BinaryReaderError) -> Error {
    Error::Validation(e.to_string())
}

pub(crate) fn convert_val_type(ty: wasmparser::ValType) -> Result<ValType, Error> {
    ValType::from_wasmparser(ty).ok_or_else(|| Error::Unsupported(format!("value type {ty}")))
}

fn convert_func_type(ty: &wasmparser::FuncType) -> Result<FuncType, Error> {
    let params = ty
        .params()
        .iter()
        .map(|&t| convert_val_type(t))
        .collect::<Result<Vec<_>, _>>()?;
    let results = ty
        .results()
        .iter()
        .map(|&t| convert_val_type(t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FuncType::new(params, results))
}

fn convert_table_type(ty: &wasmparser::TableType) -> Result<TableType, Error> {
    Ok(TableType {
        element: ValType::from_ref_type(ty.element_type)
            .ok_or_else(|| Error::Unsupported(format!("table element type {}", ty.element_type)))?,
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
        table64: ty.table64,
    })
}

fn convert_memory_type(ty: &wasmparser::MemoryType) -> Result<MemoryType, Error> {
    if ty.shared {
        return Err(Error::Unsupported("shared memory".into()));
    }
    if ty.page_size_log2.is_some_and(|p| p != 16) {
        return Err(Error::Unsupported("custom page sizes".into()));
    }
    Ok(MemoryType {
        limits: Limits {
            min: ty.initial,
            max: ty.maximum,
        },
        memory64: ty.memory64,
    })
}

fn convert_global_type(ty: &wasmparser::GlobalType) -> Result<GlobalType, Error> {
    Ok(GlobalType {
        content: convert_val_type(ty.content_type)?,
        mutable: ty.mutable,
    })
}

pub(crate) fn convert_const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<Vec<ConstOp>, Error> {
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = reader.read().map_err(invalid)?;
        ops.push(match op {
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(u128::from_le_bytes(*value.bytes())),
            Operator::RefNull { .. } => ConstOp::RefNull,
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::End => continue,
            other => {
                return Err(Error::Unsupported(format!(
                    "constant expression operator {other:?}"
                )));
            }
        });
    }
    Ok(ops)
}

impl Module {
    /// Decodes, validates and translates a Wasm binary.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        Self::compile(engine, bytes).map_err(|e| match e {
            Error::Validation(msg) => classify_rejection(engine, bytes, msg),
            other => other,
        })
    }

    fn compile(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        let mut validator = Validator::new_with_features(engine.config().features.to_wasmparser());
        let mut m = ModuleInner {
            engine: engine.clone(),
            hash: Sha256::digest(bytes).into(),
            types: Vec::new(),
            type_ids: Vec::new(),
            imports: Vec::new(),
            func_types: Vec::new(),
            num_imported_funcs: 0,
            bodies: Vec::new(),
            tables: Vec::new(),
            num_imported_tables: 0,
            memories: Vec::new(),
            num_imported_memories: 0,
            globals: Vec::new(),
            global_inits: Vec::new(),
            num_imported_globals: 0,
            exports: Vec::new(),
            start: None,
            elems: Vec::new(),
            datas: Vec::new(),
            func_names: HashMap::new(),
            num_edges: 0,
            edge_sites: Vec::new(),
            cmp_funcs: HashMap::new(),
            sanitized: crate::sanitizer::Recognized::default(),
        };
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(invalid)?;
            if let ValidPayload::Func(to_validate, body) =
                validator.payload(&payload).map_err(invalid)?
            {
                let func_index = m.num_imported_funcs + m.bodies.len() as u32;
                let mut func_validator = to_validate.into_validator(std::mem::take(&mut allocs));
                let (translated, sites) =
                    translate_function(&m, func_index, &mut func_validator, &body, m.num_edges)?;
                m.num_edges += sites.len() as u32;
                m.edge_sites.extend(sites);
                allocs = func_validator.into_allocations();
                m.bodies.push(translated);
                continue;
            }
            m.read_payload(payload, bytes)?;
        }
        let exported = m
            .exports
            .iter()
            .filter(|(_, kind, _)| *kind == ExternalKind::Func)
            .map(|(name, _, index)| (*index, name.as_str()));
        let named = m
            .func_names
            .iter()
            .map(|(index, name)| (*index, name.as_str()));
        let cmp_funcs: HashMap<u32, CmpFunc> = exported
            .chain(named)
            .filter_map(|(index, name)| CmpFunc::from_name(name).map(|k| (index, k)))
            .collect();
        m.cmp_funcs = cmp_funcs;
        if engine.config().sanitize {
            m.sanitized = crate::sanitizer::instrument(&mut m, bytes);
        }
        Ok(Module { inner: Arc::new(m) })
    }

    /// The allocator functions and shadow stack pointer the sanitizer wrapped (nothing without
    /// `Config::sanitize`).
    pub fn sanitized(&self) -> &crate::sanitizer::Recognized {
        &self.inner.sanitized
    }

    /// The engine this module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// SHA-256 of the module's bytes: the identity snapshots refer to.
    pub fn hash(&self) -> [u8; 32] {
        self.inner.hash
    }

    pub fn imports(&self) -> impl Iterator<Item = &Import> {
        self.inner.imports.iter()
    }

    /// Exports with their types.
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternType)> + '_ {
        self.inner
            .exports
            .iter()
            .map(|(name, kind, index)| (name.as_str(), self.inner.extern_type(*kind, *index)))
    }

    /// The function's name from the name section, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.inner.func_names.get(&func_index).map(String::as_str)
    }

    /// Number of functions, imported ones included.
    pub fn num_funcs(&self) -> u32 {
        self.inner.func_types.len() as u32
    }

    /// Number of coverage edges (0 unless the engine counts coverage).
    pub fn num_edges(&self) -> u32 {
        self.inner.num_edges
    }

    /// Byte offset in the module of the branch site of an edge.
    pub fn edge_site(&self, edge: u32) -> Option<u32> {
        self.inner.edge_sites.get(edge as usize).copied()
    }

    /// With coverage: for every edge (by number, as in `Store::coverage` from the instance's
    /// `Store::coverage_base`), the ops that run each time it is counted — the straight-line code it leads to,
    /// through unconditional jumps, up to the next op that counts an edge or leaves the function. Calls in it are
    /// taken to return: an op that traps or a call that does not come back cuts the run short, which the list
    /// does not show. Empty without coverage.
    pub fn edge_ops(&self) -> Vec<Vec<Op>> {
        let mut blocks = vec![Vec::new(); self.inner.num_edges as usize];
        for body in &self.inner.bodies {
            crate::translate::edge_ops(body, &mut blocks);
        }
        blocks
    }

    /// With coverage: for every edge (numbered as for [`Module::edge_ops`]), the function it belongs to, whether it
    /// is counted on the function's entry, and the Wasm offsets of the ops that run each time it is counted (those
    /// `edge_ops` lists, without its cap on their number). Empty without coverage.
    pub fn edge_code(&self) -> Vec<EdgeCode> {
        let mut blocks = vec![EdgeCode::default(); self.inner.num_edges as usize];
        for body in &self.inner.bodies {
            crate::translate::edge_code(body, &mut blocks);
        }
        blocks
    }

    /// Disassembles a defined function's internal code, one op per line: its index, its Wasm offset, the Wasm
    /// instructions it stands for (locals by index, branch targets as `@index`) and, after `;;`, the op itself.
    pub fn disassemble(&self, func_index: u32) -> Option<String> {
        let body = self.inner.body(func_index)?;
        // The index of the local at each cell offset (a v128 local takes two cells).
        let mut locals = Vec::new();
        for (index, ty) in body.local_types.iter().enumerate() {
            locals.extend(std::iter::repeat_n(index as u32, ty.cells() as usize));
        }
        let local = |cell: u32| locals.get(cell as usize).copied().unwrap_or(cell);
        let mut out = String::new();
        for (pc, (op, offset)) in body.code.iter().zip(body.offsets.iter()).enumerate() {
            let mut wat = String::new();
            op.write_wat(&mut wat, &local);
            out.push_str(&format!("{pc:5} @{offset:#07x}  {wat:<40} ;; {op}\n"));
        }
        Some(out)
    }
}

/// Without memory64, memory limits are u32 LEB128 numbers of at most 5 bytes; wasmparser always reads u64 ones.
fn check_u32_limits(bytes: &[u8], range: std::ops::Range<u64>) -> Result<(), Error> {
    let section = usize::try_from(range.start)
        .ok()
        .zip(usize::try_from(range.end).ok())
        .and_then(|(s, e)| bytes.get(s..e))
        .ok_or_else(|| Error::Validation("memory section out of range".into()))?;
    let mut reader = wasmparser::BinaryReader::new(section, range.start);
    for _ in 0..reader.read_var_u32().map_err(invalid)? {
        let flags = reader.read_u8().map_err(invalid)?;
        reader.read_var_u32().map_err(invalid)?;
        if flags & 1 != 0 {
            reader.read_var_u32().map_err(invalid)?;
        }
    }
    Ok(())
}

/// Tells a module that is invalid from one that uses a Wasm proposal the engine does not implement (valid with
/// every proposal on, but not with the engine's): the latter is `Unsupported`, not invalid.
fn classify_rejection(engine: &Engine, bytes: &[u8], msg: String) -> Error {
    let configured = engine.config().features.to_wasmparser();
    let implemented = crate::engine::Features::ALL.to_wasmparser();
    let valid_with = |f| Validator::new_with_features(f).validate_all(bytes).is_ok();
    if configured != implemented && valid_with(implemented) {
        // Valid with what the engine implements: the configuration excluded it.
        return Error::Validation(msg);
    }
    if valid_with(wasmparser::WasmFeatures::all()) {
        Error::Unsupported(format!(
            "needs a Wasm proposal the engine does not implement: {msg}"
        ))
    } else {
        Error::Validation(msg)
    }
}

impl ModuleInner {
    pub(crate) fn body(&self, func_index: u32) -> Option<&FuncBody> {
        let local = func_index.checked_sub(self.num_imported_funcs)?;
        self.bodies.get(local as usize)
    }

    pub(crate) fn func_type(&self, func_index: u32) -> &Arc<FuncType> {
        &self.types[self.func_types[func_index as usize] as usize]
    }

    pub(crate) fn extern_type(&self, kind: ExternalKind, index: u32) -> ExternType {
        match kind {
            ExternalKind::Func => ExternType::Func((**self.func_type(index)).clone()),
            ExternalKind::Table => ExternType::Table(self.tables[index as usize].0),
            ExternalKind::Memory => ExternType::Memory(self.memories[index as usize]),
            ExternalKind::Global => ExternType::Global(self.globals[index as usize]),
            // Tags are rejected by validation (exceptions are not enabled).
            ExternalKind::Tag | ExternalKind::FuncExact => ExternType::Func(FuncType::new([], [])),
        }
    }

    fn read_payload(&mut self, payload: Payload<'_>, bytes: &[u8]) -> Result<(), Error> {
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(invalid)?.into_types() {
                        let ty = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => convert_func_type(f)?,
                            _ => return Err(Error::Unsupported("non-function types (GC)".into())),
                        };
                        let (id, arc) = self.engine.intern_type(&ty);
                        self.types.push(arc);
                        self.type_ids.push(id);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let ty = match import.ty {
                        TypeRef::Func(idx) | TypeRef::FuncExact(idx) => {
                            self.func_types.push(idx);
                            self.num_imported_funcs += 1;
                            ExternType::Func((*self.types[idx as usize]).clone())
                        }
                        TypeRef::Table(t) => {
                            let t = convert_table_type(&t)?;
                            self.tables.push((t, None));
                            self.num_imported_tables += 1;
                            ExternType::Table(t)
                        }
                        TypeRef::Memory(mt) => {
                            let mt = convert_memory_type(&mt)?;
                            self.memories.push(mt);
                            self.num_imported_memories += 1;
                            ExternType::Memory(mt)
                        }
                        TypeRef::Global(g) => {
                            let g = convert_global_type(&g)?;
                            self.globals.push(g);
                            self.global_inits.push(Vec::new());
                            self.num_imported_globals += 1;
                            ExternType::Global(g)
                        }
                        TypeRef::Tag(_) => return Err(Error::Unsupported("tag imports".into())),
                    };
                    self.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        ty,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for idx in reader {
                    self.func_types.push(idx.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(invalid)?;
                    let init = match &table.init {
                        TableInit::RefNull => None,
                        TableInit::Expr(e) => Some(convert_const_expr(e)?),
                    };
                    self.tables.push((convert_table_type(&table.ty)?, init));
                }
            }
            Payload::MemorySection(reader) => {
                if !self.engine.config().features.memory64 {
                    check_u32_limits(bytes, reader.range())?;
                }
                for mem in reader {
                    self.memories
                        .push(convert_memory_type(&mem.map_err(invalid)?)?);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.map_err(invalid)?;
                    self.globals.push(convert_global_type(&global.ty)?);
                    self.global_inits
                        .push(convert_const_expr(&global.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    self.exports
                        .push((export.name.to_string(), export.kind, export.index));
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    let elem = elem.map_err(invalid)?;
                    let items = match elem.items {
                        ElementItems::Functions(r) => r
                            .into_iter()
                            .map(|f| f.map(|f| vec![ConstOp::RefFunc(f)]).map_err(invalid))
                            .collect::<Result<Vec<_>, _>>()?,
                        ElementItems::Expressions(_, r) => r
                            .into_iter()
                            .map(|e| convert_const_expr(&e.map_err(invalid)?))
                            .collect::<Result<Vec<_>, _>>()?,
                    };
                    let mode = match elem.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    self.elems.push(ElemSegment { items, mode });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(invalid)?;
                    let mode = match data.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    self.datas.push(DataSegment {
                        bytes: data.data.into(),
                        mode,
                    });
                }
            }
            Payload::CustomSection(reader) => {
                // A malformed name section is not an error: names are only for humans.
                if let KnownCustom::Name(names) = reader.as_known() {
                    for name in names.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for naming in map.into_iter().flatten() {
                                self.func_names
                                    .insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Module {
    /// A copy whose code has a `Break` op in place of the op at each `(body, pc)`: same hash, same everything else,
    /// so a store can switch between the two (see `Store::use_code_of`).
    pub(crate) fn with_breaks(&self, points: &[(u32, u32)]) -> Module {
        let mut inner = (*self.inner).clone();
        for &(body, pc) in points {
            if let Some(op) = inner
                .bodies
                .get_mut(body as usize)
                .and_then(|b| b.code.get_mut(pc as usize))
            {
                *op = Op::Break {};
            }
        }
        Module {
            inner: Arc::new(inner),
        }
    }

    /// The internal code positions `(body, pc)` where a breakpoint on the instruction at module byte `offset` of
    /// function `func_index` stops: the first op translated from an instruction at or after `offset` in that
    /// function. `None` when the function has no body or no op at or after the offset.
    pub(crate) fn break_point(&self, func_index: u32, offset: u32) -> Option<(u32, u32)> {
        let inner = &self.inner;
        let body_index = func_index.checked_sub(inner.num_imported_funcs)?;
        let body = inner.bodies.get(body_index as usize)?;
        let pc = body.offsets.iter().position(|&o| o >= offset)?;
        Some((body_index, pc as u32))
    }

    /// Module byte offset of the first instruction of function `func_index`'s body, if it has one.
    pub fn func_code_start(&self, func_index: u32) -> Option<u32> {
        let inner = &self.inner;
        let body_index = func_index.checked_sub(inner.num_imported_funcs)?;
        inner
            .bodies
            .get(body_index as usize)?
            .offsets
            .first()
            .copied()
    }

    /// Index of the function whose body contains module byte `offset`, if any.
    pub fn func_at_offset(&self, offset: u32) -> Option<u32> {
        let inner = &self.inner;
        inner
            .bodies
            .iter()
            .filter(|b| b.offsets.first().is_some_and(|&o| o <= offset))
            .filter(|b| b.offsets.last().is_some_and(|&o| o >= offset))
            .map(|b| b.func_index)
            .next()
    }
}
