//! Finding a module's allocator and shadow stack pointer from its exports and name section.

use wasmparser::{ExternalKind, KnownCustom, Name, Parser, Payload, TypeRef};

/// The allocator entry points the sanitizer wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AllocFn {
    /// `malloc(size) -> ptr`
    Malloc,
    /// `free(ptr)`
    Free,
    /// `calloc(count, size) -> ptr`
    Calloc,
    /// `realloc(ptr, size) -> ptr`
    Realloc,
    /// `aligned_alloc(align, size) -> ptr`
    AlignedAlloc,
    /// `memalign(align, size) -> ptr`
    Memalign,
    /// `posix_memalign(out, align, size) -> errno`
    PosixMemalign,
    /// `malloc_usable_size(ptr) -> size`
    UsableSize,
}

impl AllocFn {
    pub const ALL: [AllocFn; 8] = [
        AllocFn::Malloc,
        AllocFn::Free,
        AllocFn::Calloc,
        AllocFn::Realloc,
        AllocFn::AlignedAlloc,
        AllocFn::Memalign,
        AllocFn::PosixMemalign,
        AllocFn::UsableSize,
    ];

    /// The immediate the wrapper ops carry.
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    /// The function an immediate names (`Malloc` for any other value: wrappers are built by the engine).
    pub(crate) fn from_u8(kind: u8) -> AllocFn {
        AllocFn::ALL
            .get(usize::from(kind))
            .copied()
            .unwrap_or(AllocFn::Malloc)
    }

    /// The C name.
    pub fn name(self) -> &'static str {
        match self {
            AllocFn::Malloc => "malloc",
            AllocFn::Free => "free",
            AllocFn::Calloc => "calloc",
            AllocFn::Realloc => "realloc",
            AllocFn::AlignedAlloc => "aligned_alloc",
            AllocFn::Memalign => "memalign",
            AllocFn::PosixMemalign => "posix_memalign",
            AllocFn::UsableSize => "malloc_usable_size",
        }
    }

    /// Number of i32 parameters and results (all wasm32 pointer and size arguments are i32).
    pub(crate) fn arity(self) -> (usize, usize) {
        match self {
            AllocFn::Malloc | AllocFn::UsableSize => (1, 1),
            AllocFn::Free => (1, 0),
            AllocFn::Calloc | AllocFn::Realloc | AllocFn::AlignedAlloc | AllocFn::Memalign => {
                (2, 1)
            }
            AllocFn::PosixMemalign => (3, 1),
        }
    }

    fn from_name(name: &str) -> Option<AllocFn> {
        AllocFn::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What the sanitizer can wrap in a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recognized {
    /// Allocator functions with a body in the module (imported ones cannot be wrapped), by function index.
    pub allocator: Vec<(AllocFn, u32)>,
    /// The global LLVM keeps its shadow stack pointer in (`__stack_pointer`), when the module names or imports it;
    /// in a module without a name section, its first global when that is a mutable i32 of its own (where wasm-ld
    /// puts it).
    pub stack_pointer: Option<u32>,
    /// Whether the module has a name section naming functions: without one only exported allocator functions
    /// are seen, and an unexported `realloc` would go unwrapped.
    pub has_function_names: bool,
}

impl Recognized {
    /// Whether `malloc` and `free` were both found: the least the heap checks need.
    pub fn has_allocator(&self) -> bool {
        self.find(AllocFn::Malloc).is_some() && self.find(AllocFn::Free).is_some()
    }

    pub fn find(&self, f: AllocFn) -> Option<u32> {
        self.allocator
            .iter()
            .find(|(g, _)| *g == f)
            .map(|&(_, i)| i)
    }

    /// Whether the engine can check this module's heap on its own: `malloc` and `free` found, with the function
    /// names that make sure no other entry point of the allocator goes unwrapped.
    pub fn allocator_recognized(&self) -> bool {
        self.has_allocator() && self.has_function_names
    }
}

/// Looks for the allocator and the shadow stack pointer of a module (a binary that does not parse recognizes
/// nothing). Functions are kept only when their type fits (i32 parameters and results as C's declare them).
pub fn recognize(bytes: &[u8]) -> Recognized {
    let mut out = Recognized::default();
    let mut types: Vec<(usize, usize, bool)> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut imported_globals = 0u32;
    // wasm-ld's first global is `__stack_pointer`: what a module without a name section is taken to keep there
    // when that global is a mutable i32 of its own.
    let mut first_global_is_sp = false;
    let mut has_names = false;
    let mut candidates: Vec<(AllocFn, u32)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let Ok(ty) = ty else { return out };
                    let all_i32 = ty
                        .params()
                        .iter()
                        .chain(ty.results())
                        .all(|t| *t == wasmparser::ValType::I32);
                    types.push((ty.params().len(), ty.results().len(), all_i32));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            func_types.push(t);
                            imported_funcs += 1;
                        }
                        TypeRef::Global(_) => {
                            if import.name == "__stack_pointer" {
                                out.stack_pointer = Some(imported_globals);
                            }
                            imported_globals += 1;
                        }
                        _ => {}
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                if imported_globals == 0
                    && let Some(Ok(g)) = reader.into_iter().next()
                {
                    first_global_is_sp =
                        g.ty.mutable && g.ty.content_type == wasmparser::ValType::I32;
                }
            }
            Payload::FunctionSection(reader) => {
                func_types.extend(reader.into_iter().flatten());
            }
            Payload::ExportSection(reader) => {
                for export in reader.into_iter().flatten() {
                    if export.kind == ExternalKind::Func
                        && let Some(f) = AllocFn::from_name(export.name)
                    {
                        candidates.push((f, export.index));
                    }
                }
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    has_names = true;
                    for name in names.into_iter().flatten() {
                        match name {
                            Name::Function(map) => {
                                for naming in map.into_iter().flatten() {
                                    out.has_function_names = true;
                                    if let Some(f) = AllocFn::from_name(naming.name) {
                                        candidates.push((f, naming.index));
                                    }
                                }
                            }
                            Name::Global(map) => {
                                for naming in map.into_iter().flatten() {
                                    if naming.name == "__stack_pointer" {
                                        out.stack_pointer = Some(naming.index);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (f, index) in candidates {
        let fits = index >= imported_funcs
            && func_types
                .get(index as usize)
                .and_then(|&t| types.get(t as usize))
                .is_some_and(|&(p, r, i32s)| i32s && (p, r) == f.arity());
        if fits && out.find(f).is_none() {
            out.allocator.push((f, index));
        }
    }
    out.allocator.sort();
    if out.stack_pointer.is_none() && !has_names && first_global_is_sp {
        out.stack_pointer = Some(0);
    }
    out
}
