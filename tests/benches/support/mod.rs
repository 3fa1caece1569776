//! The benchmark's workloads (every `.c` and `.wat` file in `harnesses/bench/`, and the public programs of `harnesses/bench-public/`, built to Wasm modules that export `run(n) -> checksum`) and the engines that run them — capicola, wasmi 2.0 and gabagool 0.1.1 — behind one trait.
//!
//! Shared by `benches/compare.rs` (the timed comparison) and `tests/bench_smoke.rs` (the CI check that every
//! workload runs and agrees in every engine).

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use capicola_tests::c_programs::{harness_libs_dir, workspace_root};

/// The folder holding the workload sources.
pub fn bench_dir() -> PathBuf {
    workspace_root().join("harnesses/bench")
}

/// The folder holding the public programs: small mains of ours around C code nobody in the project wrote, and the
/// script that fetches and builds that code (`build-program.sh`).
pub fn public_dir() -> PathBuf {
    workspace_root().join("harnesses/bench-public")
}

/// One workload: a module exporting `run(i32) -> i32`, and how hard to run it.
#[derive(Debug)]
pub struct Workload {
    /// The source's file stem.
    pub name: String,
    /// What it stresses (integer, float, memory, calls, ...), from the source's `bench:` line.
    pub kind: String,
    /// The argument of `run` in the timed benchmark.
    pub n: u32,
    /// The argument of `run` in the smoke test.
    pub smoke_n: u32,
    /// Engines known not to run this workload (the `unsupported=` key), which the smoke test lets fail.
    pub unsupported: Vec<String>,
    /// Where a public program's code comes from (the `from=` key: the crates.io package, or EEMBC's CoreMark);
    /// `None` for the project's own workloads.
    pub from: Option<String>,
    /// How many values the module's `report(k)` export gives after a call of `run` (the `report=` key: 0 when it
    /// has no such export); the benchmark compares them across engines.
    pub reports: u32,
    pub wasm: Vec<u8>,
}

/// What a public program's `run` returns when the library it drives reports an error: this mask, with the step
/// that failed in the low bits.
pub const PUBLIC_FAILURE: u32 = 0xbad0_0000;

impl Workload {
    /// Whether `run`'s result says the program failed (public programs only: see [`PUBLIC_FAILURE`]).
    pub fn failed(&self, checksum: u32) -> bool {
        self.from.is_some() && checksum & 0xffff_ff00 == PUBLIC_FAILURE
    }
}

/// The `bench:` line of a source: `kind=… n=… smoke=…` and optionally `cflags=-a,-b`,
/// `unsupported=engine,engine`, `from=origin` and `report=count`.
struct Header {
    kind: String,
    n: u32,
    smoke_n: u32,
    cflags: Vec<String>,
    unsupported: Vec<String>,
    from: Option<String>,
    reports: u32,
}

fn parse_header(path: &Path, text: &str) -> Header {
    let line = text
        .lines()
        .find_map(|l| l.trim_start_matches(['/', ';', ' ']).strip_prefix("bench:"))
        .unwrap_or_else(|| {
            panic!(
                "{} has no `bench: kind=… n=… smoke=…` comment line",
                path.display()
            )
        });
    let (mut kind, mut n, mut smoke_n) = (None, None, None);
    let (mut cflags, mut unsupported) = (Vec::new(), Vec::new());
    let (mut from, mut reports) = (None, 0);
    for token in line.split_whitespace() {
        let (key, value) = token.split_once('=').unwrap_or_else(|| {
            panic!(
                "{}: `{token}` in the bench line is not key=value",
                path.display()
            )
        });
        let number = || -> u32 {
            value
                .parse()
                .unwrap_or_else(|e| panic!("{}: bad {key}={value}: {e}", path.display()))
        };
        match key {
            "kind" => kind = Some(value.to_string()),
            "n" => n = Some(number()),
            "smoke" => smoke_n = Some(number()),
            "cflags" => cflags = value.split(',').map(str::to_string).collect(),
            "unsupported" => unsupported = value.split(',').map(str::to_string).collect(),
            "from" => from = Some(value.to_string()),
            "report" => reports = number(),
            _ => panic!("{}: unknown key `{key}` in the bench line", path.display()),
        }
    }
    let missing = |what: &str| -> ! { panic!("{}: the bench line lacks {what}=", path.display()) };
    Header {
        kind: kind.unwrap_or_else(|| missing("kind")),
        n: n.unwrap_or_else(|| missing("n")),
        smoke_n: smoke_n.unwrap_or_else(|| missing("smoke")),
        cflags,
        unsupported,
        from,
        reports,
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compiles a C workload with `clang --target=wasm32-wasi -O2` as a reactor without libc's start files (so the
/// module imports nothing), into `<target>/<profile>/bench-programs/`, unless a build newer than the source is
/// already there.
fn build_c(source: &Path, cflags: &[String]) -> Vec<u8> {
    let out_dir = programs_dir();
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let stem = source
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("workload sources have UTF-8 names");
    let out = out_dir.join(format!("{stem}.wasm"));
    let fresh = match (mtime(&out), mtime(source)) {
        (Some(built), Some(src)) => built >= src,
        _ => false,
    };
    if !fresh {
        let partial = out_dir.join(format!("{stem}.wasm.{}.partial", std::process::id()));
        let output = Command::new("clang")
            .args([
                "--target=wasm32-wasi",
                "-O2",
                "-Wall",
                "-Werror",
                "-nostartfiles",
                "-Wl,--no-entry",
                "-Wl,--strip-debug",
            ])
            .args(cflags)
            .arg("-o")
            .arg(&partial)
            .arg(source)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run clang to build {} ({e}). The benchmark workloads need Debian's clang for \
                     wasm32-wasi: run `bash .ci/setup` (apt-get install clang lld wasi-libc \
                     libclang-rt-dev-wasm32)",
                    source.display()
                )
            });
        assert!(
            output.status.success(),
            "clang failed to build {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::rename(&partial, &out)
            .unwrap_or_else(|e| panic!("cannot move the build to {}: {e}", out.display()));
    }
    std::fs::read(&out).unwrap_or_else(|e| panic!("cannot read {}: {e}", out.display()))
}

/// `<target>/<profile>/bench-programs/`, where the built workloads are kept.
fn programs_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running binary knows its own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test and bench executables live in <target>/<profile>/deps")
        .join("bench-programs")
}

/// Every workload in `harnesses/bench/`, built, sorted by name. Panics if one does not build or imports anything.
pub fn workloads() -> Vec<Workload> {
    let dir = bench_dir();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entries can be read").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "c" || ext == "wat"))
        .collect();
    sources.sort();
    sources
        .iter()
        .map(|source| {
            let text = std::fs::read_to_string(source)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()));
            let header = parse_header(source, &text);
            let wasm = if source.extension().is_some_and(|ext| ext == "wat") {
                wat::parse_str(&text)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", source.display()))
            } else {
                build_c(source, &header.cflags)
            };
            workload(source, header, wasm)
        })
        .collect()
}

fn workload(source: &Path, header: Header, wasm: Vec<u8>) -> Workload {
    let imports = imports(&wasm);
    assert!(
        imports.is_empty(),
        "{} imports {imports:?}; workloads must run without a host",
        source.display()
    );
    Workload {
        name: source
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("workload sources have UTF-8 names")
            .to_string(),
        kind: header.kind,
        n: header.n,
        smoke_n: header.smoke_n,
        unsupported: header.unsupported,
        from: header.from,
        reports: header.reports,
        wasm,
    }
}

/// The public programs of `harnesses/bench-public/` (every `.c` main there), each built by `build-program.sh`, sorted
/// by name; and, for each program whose sources are not at hand (CoreMark without `COREMARK_SRC`), why it was
/// skipped. Panics if a program fails to build otherwise, lacks a `from=` key or imports anything.
///
/// The script runs every time: it recompiles only the main and relinks, reusing what it compiled of the library.
pub fn public_workloads() -> (Vec<Workload>, Vec<String>) {
    let dir = public_dir();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entries can be read").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    let out_dir = programs_dir().join("public");
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let (mut built, mut skipped) = (Vec::new(), Vec::new());
    for source in &sources {
        let text = std::fs::read_to_string(source)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()));
        let header = parse_header(source, &text);
        assert!(
            header.from.is_some(),
            "{}: a public program's bench line names where its code comes from (from=)",
            source.display()
        );
        let stem = source
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("workload sources have UTF-8 names");
        // Built under a name of this process's own and then moved, so that a test and a benchmark building at the
        // same time never read each other's half-written module.
        let out = out_dir.join(format!("{stem}.wasm"));
        let mine = out_dir.join(format!("{stem}.{}.wasm", std::process::id()));
        let output = Command::new("bash")
            .arg(dir.join("build-program.sh"))
            .arg(stem)
            .arg(&mine)
            .env("CAPICOLA_HARNESS_LIBS", harness_libs_dir())
            .output()
            .expect("bash can be started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            Some(0) => {}
            // The script's status for sources that are not at hand.
            Some(3) => {
                skipped.push(format!("{stem} skipped: {}", stderr.trim()));
                continue;
            }
            _ => panic!(
                "building the public program {stem} failed (it needs Debian's clang for wasm32-wasi, which `bash \
                 .ci/setup` installs, and the crates.io download harnesses/lib-source makes):\n{stderr}"
            ),
        }
        std::fs::rename(&mine, &out)
            .unwrap_or_else(|e| panic!("cannot move the build to {}: {e}", out.display()));
        let wasm =
            std::fs::read(&out).unwrap_or_else(|e| panic!("cannot read {}: {e}", out.display()));
        built.push(workload(source, header, wasm));
    }
    (built, skipped)
}

/// The imports a module declares, as `module.name`.
fn imports(wasm: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::ImportSection(section)) = payload {
            for import in section.into_imports().flatten() {
                found.push(format!("{}.{}", import.module, import.name));
            }
        }
    }
    found
}

/// The size in bytes of a module's code section (its function bodies).
pub fn code_section_size(wasm: &[u8]) -> usize {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload {
            Ok(wasmparser::Payload::CodeSectionStart { size, .. }) => Some(size as usize),
            _ => None,
        })
        .unwrap_or(0)
}

/// A generated module of `funcs` functions shaped like compiled code — locals, loads and stores, nested
/// `if`s, loops, `br_table`, direct and indirect calls, i64 and f64 arithmetic — for measuring translation.
/// Its functions are never run.
pub fn generated_module(funcs: u32) -> Vec<u8> {
    struct Gen {
        state: u64,
        funcs: u32,
    }
    impl Gen {
        fn next(&mut self) -> u32 {
            self.state = self
                .state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.state >> 33) as u32
        }
        fn stmt(&mut self, out: &mut String, depth: u32) {
            let pick = if depth >= 3 {
                self.next() % 8
            } else {
                self.next() % 12
            };
            let (c, o, f) = (
                self.next() % 4096,
                (self.next() % 64) * 4,
                self.next() % self.funcs,
            );
            let s = match pick {
                0 => format!(
                    "(local.set $l0 (i32.add (local.get $p0) (i32.xor (local.get $l1) (i32.const {c}))))"
                ),
                1 => format!(
                    "(local.set $l1 (i32.load offset={o} (i32.and (local.get $l0) (i32.const 0xfffc))))"
                ),
                2 => format!(
                    "(i32.store offset={o} (i32.and (local.get $p1) (i32.const 0xfffc)) (local.get $l0))"
                ),
                3 => format!("(local.set $l0 (call $f{f} (local.get $l1) (local.get $p0)))"),
                4 => format!(
                    "(local.set $l2 (i64.add (i64.mul (local.get $l2) (i64.extend_i32_u (local.get $l0))) (i64.const {c})))"
                ),
                5 => "(local.set $l3 (f64.add (f64.mul (local.get $l3) (f64.convert_i32_s (local.get $p1))) (f64.sqrt (local.get $l3))))".to_string(),
                6 => "(local.set $l0 (select (local.get $p0) (local.get $p1) (i32.gt_s (local.get $l0) (local.get $l1))))".to_string(),
                7 => "(local.set $l1 (call_indirect (type $t) (local.get $p1) (local.get $l0) (i32.and (local.get $l1) (i32.const 15))))".to_string(),
                8 => {
                    let mut s = format!("(if (i32.lt_u (local.get $l0) (i32.const {c})) (then ");
                    self.stmt(&mut s, depth + 1);
                    self.stmt(&mut s, depth + 1);
                    s.push_str(") (else ");
                    self.stmt(&mut s, depth + 1);
                    s.push_str("))");
                    s
                }
                9 => {
                    let mut s = "(block (loop (br_if 1 (i32.eqz (local.tee $l1 (i32.sub (local.get $l1) (i32.const 1))))) ".to_string();
                    self.stmt(&mut s, depth + 1);
                    self.stmt(&mut s, depth + 1);
                    s.push_str(" (br 0)))");
                    s
                }
                10 => {
                    let mut s = "(block (block (block (br_table 0 1 2 (i32.and (local.get $l0) (i32.const 3)))) ".to_string();
                    self.stmt(&mut s, depth + 1);
                    s.push_str(") ");
                    self.stmt(&mut s, depth + 1);
                    s.push(')');
                    s
                }
                _ => "(global.set $g (i32.add (global.get $g) (local.get $l0)))".to_string(),
            };
            out.push_str(&s);
            out.push('\n');
        }
    }
    assert!(funcs >= 16, "the table holds 16 functions");
    let mut g = Gen {
        state: 0x5eed,
        funcs,
    };
    let mut wat = String::from(
        "(module\n(type $t (func (param i32 i32) (result i32)))\n(memory 1)\n(global $g (mut i32) (i32.const 0))\n",
    );
    wat.push_str("(table 16 funcref)\n(elem (i32.const 0)");
    for i in 0..16 {
        let _ = write!(wat, " $f{i}");
    }
    wat.push_str(")\n");
    for i in 0..funcs {
        let _ = writeln!(
            wat,
            "(func $f{i} (type $t) (param $p0 i32) (param $p1 i32) (result i32) (local $l0 i32) (local $l1 i32) (local $l2 i64) (local $l3 f64)"
        );
        for _ in 0..60 {
            g.stmt(&mut wat, 0);
        }
        wat.push_str(
            "(i32.add (i32.add (local.get $l0) (i32.wrap_i64 (local.get $l2))) (i32.trunc_sat_f64_s (local.get $l3))))\n",
        );
    }
    wat.push_str(
        "(func (export \"run\") (param i32) (result i32) (call $f0 (local.get 0) (i32.const 1))))\n",
    );
    wat::parse_str(&wat).expect("the generated module is valid text")
}

/// A Wasm engine under comparison.
pub trait BenchEngine {
    fn name(&self) -> &'static str;
    /// Validates and translates a module: bytes to something that can be instantiated.
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>, String>;
}

/// A translated module.
pub trait Compiled {
    /// A fresh store with one instance of the module (no imports).
    fn instantiate(&self) -> Result<Box<dyn Running>, String>;
}

/// An instance ready to run its `run` export.
pub trait Running {
    fn run(&mut self, n: u32) -> Result<u32, String>;
    /// Calls another export of type `(i32) -> i32`, such as a program's `report`.
    fn call(&mut self, export: &str, arg: u32) -> Result<u32, String>;
}

/// The engines compared, capicola first, each with a fresh engine.
pub fn engines() -> Vec<Box<dyn BenchEngine>> {
    vec![
        Box::new(Capicola::default()),
        Box::new(Wasmi::eager()),
        Box::new(Gabagool),
    ]
}

/// Runs `f`, turning a panic into an error: a crash of one engine must not hide the others' results.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "non-text panic".into());
        Err(format!("{what} panicked: {msg}"))
    })
}

// ---- capicola ----

/// capicola with its default configuration (no coverage, no dirty-page tracking).
#[derive(Default)]
pub struct Capicola {
    engine: capicola_engine::Engine,
}

struct CapicolaModule(capicola_engine::Module);

struct CapicolaInstance {
    store: capicola_engine::Store,
    instance: capicola_engine::Instance,
    run: capicola_engine::Func,
}

impl BenchEngine for Capicola {
    fn name(&self) -> &'static str {
        "capicola"
    }

    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>, String> {
        let module = capicola_engine::Module::new(&self.engine, wasm).map_err(|e| e.to_string())?;
        Ok(Box::new(CapicolaModule(module)))
    }
}

fn no_host(
    _: &mut capicola_engine::Store,
    call: &capicola_engine::HostCall,
) -> capicola_engine::HostAnswer {
    capicola_engine::HostAnswer::Trap(capicola_engine::TrapKind::Host(format!(
        "the workloads import nothing, yet host function {} was called",
        call.host_id
    )))
}

impl Compiled for CapicolaModule {
    fn instantiate(&self) -> Result<Box<dyn Running>, String> {
        use capicola_engine::{Extern, Linker, Store};
        let mut store = Store::new(self.0.engine());
        let instance = Linker::new()
            .instantiate(&mut store, &self.0)
            .map_err(|e| e.to_string())?;
        if let Some(start) = store.instance_start(instance) {
            store
                .call(start, &[], &mut no_host)
                .map_err(|e| e.to_string())?
                .map_err(|trap| format!("start function trapped: {trap}"))?;
        }
        let run = match store.instance_export(instance, "run") {
            Some(Extern::Func(f)) => f,
            _ => return Err("no function export `run`".into()),
        };
        Ok(Box::new(CapicolaInstance {
            store,
            instance,
            run,
        }))
    }
}

impl CapicolaInstance {
    fn call_func(&mut self, func: capicola_engine::Func, arg: u32) -> Result<u32, String> {
        use capicola_engine::Val;
        let results = self
            .store
            .call(func, &[Val::I32(arg as i32)], &mut no_host)
            .map_err(|e| e.to_string())?
            .map_err(|trap| format!("trapped: {trap}"))?;
        match results.as_slice() {
            [Val::I32(v)] => Ok(*v as u32),
            other => Err(format!("returned {other:?}")),
        }
    }
}

impl Running for CapicolaInstance {
    fn run(&mut self, n: u32) -> Result<u32, String> {
        self.call_func(self.run, n)
    }

    fn call(&mut self, export: &str, arg: u32) -> Result<u32, String> {
        match self.store.instance_export(self.instance, export) {
            Some(capicola_engine::Extern::Func(f)) => self.call_func(f, arg),
            _ => Err(format!("no function export `{export}`")),
        }
    }
}

// ---- wasmi ----

/// wasmi 2.0 with SIMD; `eager` translates every function in `Module::new`, `lazy` (its default) only validates
/// there and translates a function on its first call.
pub struct Wasmi {
    engine: wasmi::Engine,
    name: &'static str,
}

impl Wasmi {
    pub fn eager() -> Self {
        let mut config = wasmi::Config::default();
        config.compilation_mode(wasmi::CompilationMode::Eager);
        Wasmi {
            engine: wasmi::Engine::new(&config),
            name: "wasmi",
        }
    }

    pub fn lazy() -> Self {
        let mut config = wasmi::Config::default();
        config.compilation_mode(wasmi::CompilationMode::LazyTranslation);
        Wasmi {
            engine: wasmi::Engine::new(&config),
            name: "wasmi (lazy)",
        }
    }
}

struct WasmiModule {
    engine: wasmi::Engine,
    module: wasmi::Module,
}

struct WasmiInstance {
    store: wasmi::Store<()>,
    instance: wasmi::Instance,
    run: wasmi::TypedFunc<i32, i32>,
}

impl BenchEngine for Wasmi {
    fn name(&self) -> &'static str {
        self.name
    }

    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>, String> {
        let module = wasmi::Module::new(&self.engine, wasm).map_err(|e| e.to_string())?;
        Ok(Box::new(WasmiModule {
            engine: self.engine.clone(),
            module,
        }))
    }
}

impl Compiled for WasmiModule {
    fn instantiate(&self) -> Result<Box<dyn Running>, String> {
        let mut store = wasmi::Store::new(&self.engine, ());
        let instance = wasmi::Linker::<()>::new(&self.engine)
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|e| e.to_string())?;
        let run = instance
            .get_typed_func::<i32, i32>(&store, "run")
            .map_err(|e| e.to_string())?;
        Ok(Box::new(WasmiInstance {
            store,
            instance,
            run,
        }))
    }
}

impl Running for WasmiInstance {
    fn run(&mut self, n: u32) -> Result<u32, String> {
        self.run
            .call(&mut self.store, n as i32)
            .map(|v| v as u32)
            .map_err(|e| format!("trapped: {e}"))
    }

    fn call(&mut self, export: &str, arg: u32) -> Result<u32, String> {
        self.instance
            .get_typed_func::<i32, i32>(&self.store, export)
            .map_err(|e| e.to_string())?
            .call(&mut self.store, arg as i32)
            .map(|v| v as u32)
            .map_err(|e| format!("trapped: {e}"))
    }
}

// ---- gabagool ----

/// gabagool 0.1.1 in its default (optimizing) compiler mode, without fuel. It can panic on input it does not
/// support; that becomes an error.
pub struct Gabagool;

struct GabagoolModule(gabagool::Module);

struct GabagoolInstance {
    store: gabagool::Store,
    instance: gabagool::Instance,
}

impl BenchEngine for Gabagool {
    fn name(&self) -> &'static str {
        "gabagool"
    }

    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>, String> {
        guarded("translation", || {
            let module = gabagool::Module::new(wasm).map_err(|e| e.to_string())?;
            Ok(Box::new(GabagoolModule(module)) as Box<dyn Compiled>)
        })
    }
}

impl Compiled for GabagoolModule {
    fn instantiate(&self) -> Result<Box<dyn Running>, String> {
        guarded("instantiation", || {
            let mut store = gabagool::Store::new();
            let instance = store
                .instantiate(&self.0, vec![])
                .map_err(|e| e.to_string())?;
            Ok(Box::new(GabagoolInstance { store, instance }) as Box<dyn Running>)
        })
    }
}

impl Running for GabagoolInstance {
    fn run(&mut self, n: u32) -> Result<u32, String> {
        self.call("run", n)
    }

    fn call(&mut self, export: &str, arg: u32) -> Result<u32, String> {
        guarded(export, || {
            let results = self
                .store
                .invoke(
                    self.instance,
                    export,
                    vec![gabagool::RawValue::from(arg as i32)],
                )
                .map_err(|e| e.to_string())?
                .into_completed()
                .map_err(|e| e.to_string())?;
            match results.as_slice() {
                [v] => Ok(v.as_i32() as u32),
                other => Err(format!("`{export}` returned {} values", other.len())),
            }
        })
    }
}
