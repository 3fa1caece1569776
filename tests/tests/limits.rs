//! The limits test: runaway recursion and oversized frames trap with "call stack exhausted" instead of overflowing the host, memories and tables past the store's limits trap with "resource exhausted" or fail to grow, deep nesting and wide frames are handled, and garbage bytes are rejected as invalid without a panic.

use capicola_engine::{
    Config, DecodeLimits, Engine, Error, Module, PAGE_SIZE, Resource, Snapshot, Store, Trap,
    TrapKind, Val,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../../engine/fuzz/harness.rs"]
mod harness;

#[path = "../benches/child_usage/mod.rs"]
mod child_usage;

/// Recursion depth asked for: far beyond any call-depth limit the engine ships with.
const DEPTH: i32 = 100_000;

/// `down(n)` calls itself `n` times (not a tail call) and returns `n`; every frame also has
/// `locals` i64 locals.
fn recursion_module(locals: usize) -> Vec<u8> {
    let locals = if locals == 0 {
        String::new()
    } else {
        format!("(local {})", vec!["i64"; locals].join(" "))
    };
    wat::parse_str(format!(
        r#"(module
            (func $down (export "down") (param $n i32) (result i32) {locals}
                (if (result i32) (i32.eqz (local.get $n))
                    (then (i32.const 0))
                    (else (i32.add
                        (call $down (i32.sub (local.get $n) (i32.const 1)))
                        (i32.const 1))))))"#
    ))
    .expect("the recursion module is valid WAT")
}

/// Instantiates `bytes` (no imports) in a fresh store of `engine`.
fn instantiate(engine: &Engine, bytes: &[u8]) -> (Store, capicola_engine::Instance) {
    let module = Module::new(engine, bytes).expect("the test module is valid");
    let mut store = Store::new(engine);
    let instance = store
        .instantiate(&module, &[])
        .expect("the test module has no imports");
    (store, instance)
}

/// Calls export `name` with unlimited fuel; the test modules import nothing.
fn call(
    store: &mut Store,
    instance: capicola_engine::Instance,
    name: &str,
    args: &[Val],
) -> Result<Vec<Val>, Trap> {
    let Some(capicola_engine::Extern::Func(f)) = store.instance_export(instance, name) else {
        panic!("the test module exports function {name}");
    };
    store
        .call(f, args, &mut |_, call| {
            panic!("the test module imports nothing, yet called host {call:?}")
        })
        .expect("the arguments match the function type")
}

fn assert_stack_exhausted(result: Result<Vec<Val>, Trap>) {
    let trap = result.expect_err("runaway recursion traps");
    assert_eq!(trap.kind, TrapKind::StackExhausted);
    assert_eq!(trap.to_string(), "call stack exhausted");
    let innermost = trap.backtrace.first().expect("the trap has a backtrace");
    assert_eq!(
        innermost.func_index, 0,
        "the recursing function is innermost"
    );
}

#[test]
fn deep_recursion_with_a_shallow_frame_exhausts_the_call_stack() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, &recursion_module(0));
    assert_stack_exhausted(call(&mut store, instance, "down", &[Val::I32(DEPTH)]));
    // The trap ended the call cleanly: the store takes the next one.
    assert_eq!(
        call(&mut store, instance, "down", &[Val::I32(1000)]),
        Ok(vec![Val::I32(1000)])
    );
}

#[test]
fn deep_recursion_with_a_deep_frame_exhausts_the_call_stack() {
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, &recursion_module(1000));
    assert_stack_exhausted(call(&mut store, instance, "down", &[Val::I32(DEPTH)]));
    assert_eq!(
        call(&mut store, instance, "down", &[Val::I32(1000)]),
        Ok(vec![Val::I32(1000)])
    );
}

#[test]
fn deep_tail_recursion_runs_in_constant_stack() {
    let bytes = wat::parse_str(
        r#"(module
            (func $count (export "count") (param $n i32) (param $acc i32) (result i32)
                (if (result i32) (i32.eqz (local.get $n))
                    (then (local.get $acc))
                    (else (return_call $count
                        (i32.sub (local.get $n) (i32.const 1))
                        (i32.add (local.get $acc) (i32.const 1)))))))"#,
    )
    .expect("the tail recursion module is valid WAT");
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, &bytes);
    assert_eq!(
        call(
            &mut store,
            instance,
            "count",
            &[Val::I32(DEPTH), Val::I32(0)]
        ),
        Ok(vec![Val::I32(DEPTH)])
    );
}

/// A function without calls whose operand stack grows to `width` values: `width` constants,
/// then `width - 1` additions.
fn wide_module(width: usize) -> Vec<u8> {
    let body = format!(
        "{}{}",
        "i32.const 1\n".repeat(width),
        "i32.add\n".repeat(width - 1)
    );
    wat::parse_str(format!(
        r#"(module (func (export "wide") (result i32) {body}))"#
    ))
    .expect("the wide module is valid WAT")
}

#[test]
fn a_wide_frame_runs_or_exhausts_the_value_stack() {
    const WIDTH: usize = 20_000;
    let bytes = wide_module(WIDTH);

    let roomy = Engine::default();
    let (mut store, instance) = instantiate(&roomy, &bytes);
    assert_eq!(
        call(&mut store, instance, "wide", &[]),
        Ok(vec![Val::I32(WIDTH as i32)])
    );

    let cramped = Engine::new(Config {
        max_value_stack: WIDTH as u32 / 10,
        ..Config::default()
    });
    let (mut store, instance) = instantiate(&cramped, &bytes);
    let trap = call(&mut store, instance, "wide", &[]).expect_err("the frame does not fit");
    assert_eq!(trap.kind, TrapKind::StackExhausted);
}

#[test]
fn deeply_nested_blocks_translate_and_run() {
    const NESTING: usize = 100_000;
    let body = format!(
        "{}i32.const 7\n{}",
        "block (result i32)\n".repeat(NESTING),
        "end\n".repeat(NESTING)
    );
    let bytes = wat::parse_str(format!(
        r#"(module (func (export "nested") (result i32) {body}))"#
    ))
    .expect("the nested module is valid WAT");
    let engine = Engine::default();
    let (mut store, instance) = instantiate(&engine, &bytes);
    assert_eq!(
        call(&mut store, instance, "nested", &[]),
        Ok(vec![Val::I32(7)])
    );
}

#[test]
fn the_call_depth_limit_is_the_configured_one() {
    let engine = Engine::new(Config {
        max_call_depth: 100,
        ..Config::default()
    });
    let (mut store, instance) = instantiate(&engine, &recursion_module(0));
    assert_eq!(
        call(&mut store, instance, "down", &[Val::I32(90)]),
        Ok(vec![Val::I32(90)])
    );
    assert_stack_exhausted(call(&mut store, instance, "down", &[Val::I32(100)]));
}

/// The trap kind instantiating `wat` in a fresh store of `engine` fails with.
fn instantiation_trap(engine: &Engine, wat: &str) -> TrapKind {
    let module = Module::new(
        engine,
        &wat::parse_str(wat).expect("the test module is valid WAT"),
    )
    .expect("the engine accepts the test module");
    match Store::new(engine).instantiate(&module, &[]) {
        Err(Error::Instantiation(trap)) => trap.kind,
        other => panic!("instantiation did not trap: {other:?}"),
    }
}

#[test]
fn memories_over_the_store_limit_in_total_do_not_instantiate() {
    // Each fits the default limit of 4 GiB; together they do not.
    let kind = instantiation_trap(
        &Engine::default(),
        "(module (memory 65536) (memory 65536) (memory 65536) (memory 65536))",
    );
    assert_eq!(kind, TrapKind::ResourceExhausted(Resource::Memory));
    assert!(kind.message().contains("resource exhausted"), "{kind}");
    let small = Engine::new(Config {
        max_memory_bytes: 64 << 20,
        ..Config::default()
    });
    assert_eq!(
        instantiation_trap(&small, "(module (memory 512) (memory 512) (memory 1))"),
        TrapKind::ResourceExhausted(Resource::Memory)
    );
}

#[test]
fn tables_over_the_store_limit_in_total_do_not_instantiate() {
    let engine = Engine::new(Config {
        max_table_elements: 1000,
        ..Config::default()
    });
    assert_eq!(
        instantiation_trap(&engine, "(module (table 600 funcref) (table 600 funcref))"),
        TrapKind::ResourceExhausted(Resource::TableElements)
    );
}

/// A module of `n` empty memories whose `grow` grows memory `i` by `pages` and returns what `memory.grow` gave.
fn memories_module(n: usize) -> Vec<u8> {
    let memories = "(memory 0)".repeat(n);
    let arms: String = (0..n)
        .map(|i| {
            format!(
                "(if (i32.eq (local.get $i) (i32.const {i})) (then (return (memory.grow {i} (local.get $pages)))))"
            )
        })
        .collect();
    wat::parse_str(format!(
        r#"(module {memories}
            (func (export "grow") (param $i i32) (param $pages i32) (result i32) {arms} (i32.const -2)))"#
    ))
    .expect("the memories module is valid WAT")
}

#[test]
fn memory_grow_past_the_store_limit_returns_minus_one() {
    let engine = Engine::new(Config {
        max_memory_bytes: 64 << 20,
        ..Config::default()
    });
    let (mut store, instance) = instantiate(&engine, &memories_module(8));
    let pages = (32 << 20) / PAGE_SIZE as i32;
    let mut grown = Vec::new();
    for i in 0..8 {
        match call(
            &mut store,
            instance,
            "grow",
            &[Val::I32(i), Val::I32(pages)],
        ) {
            Ok(v) => grown.push(v[0]),
            Err(trap) => panic!("memory.grow trapped: {trap}"),
        }
    }
    // Two memories of 32 MiB fill the 64 MiB; the other six stay empty.
    let mut expected = vec![Val::I32(0); 2];
    expected.extend(vec![Val::I32(-1); 6]);
    assert_eq!(grown, expected);
    assert_eq!(store.memory_bytes(), 64 << 20);
    // A 2 GiB grow is refused without touching the host's memory.
    assert_eq!(
        call(
            &mut store,
            instance,
            "grow",
            &[Val::I32(7), Val::I32(32768)]
        ),
        Ok(vec![Val::I32(-1)])
    );
}

#[test]
fn table_grow_past_the_store_limit_returns_minus_one() {
    let engine = Engine::new(Config {
        max_table_elements: 1000,
        ..Config::default()
    });
    let bytes = wat::parse_str(
        r#"(module (table $a 100 funcref) (table $b 0 funcref)
            (func (export "grow_a") (param i32) (result i32) (table.grow $a (ref.null func) (local.get 0)))
            (func (export "grow_b") (param i32) (result i32) (table.grow $b (ref.null func) (local.get 0))))"#,
    )
    .expect("the tables module is valid WAT");
    let (mut store, instance) = instantiate(&engine, &bytes);
    assert_eq!(
        call(&mut store, instance, "grow_b", &[Val::I32(900)]),
        Ok(vec![Val::I32(0)])
    );
    assert_eq!(
        call(&mut store, instance, "grow_a", &[Val::I32(1)]),
        Ok(vec![Val::I32(-1)])
    );
    assert_eq!(
        call(&mut store, instance, "grow_b", &[Val::I32(1)]),
        Ok(vec![Val::I32(-1)])
    );
}

#[test]
fn a_snapshot_over_the_restoring_engine_s_memory_limit_is_refused() {
    let wat = wat::parse_str("(module (memory 4))").expect("valid WAT");
    let roomy = Engine::default();
    let (store, _) = instantiate(&roomy, &wat);
    let bytes = store.capture().to_bytes().expect("the store serializes");
    let snapshot = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).expect("it decodes");
    let cramped = Engine::new(Config {
        max_memory_bytes: 2 * PAGE_SIZE,
        ..Config::default()
    });
    let module = Module::new(&cramped, &wat).expect("valid module");
    let Err(error) = Store::restore(&cramped, &snapshot, std::slice::from_ref(&module)) else {
        panic!("a snapshot over the limit restored");
    };
    assert!(
        error.to_string().contains("over this engine's limit"),
        "{error}"
    );
    let module = Module::new(&roomy, &wat).expect("valid module");
    Store::restore(&roomy, &snapshot, std::slice::from_ref(&module))
        .expect("the engine it was taken with restores it");
}

/// A module using most sections and instruction families, for bit flipping.
const VALID: &str = r#"(module
    (type $t (func (param i32) (result i32)))
    (import "env" "f" (func $f (type $t)))
    (import "env" "g" (global $g i32))
    (memory 1 2)
    (table 4 funcref)
    (global $m (mut i64) (i64.const 7))
    (func $loop (export "loop") (param $n i32) (result i32) (local $acc i32)
        (block $done
            (loop $again
                (br_if $done (i32.eqz (local.get $n)))
                (local.set $acc (i32.add (local.get $acc) (call $f (local.get $n))))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $again)))
        (i32.store offset=4 (i32.const 0) (local.get $acc))
        (global.set $m (i64.extend_i32_s (global.get $g)))
        (call_indirect (type $t) (local.get $acc) (i32.const 1)))
    (func $simd (export "simd") (param i32) (result i32)
        (i32x4.extract_lane 2 (i32x4.add
            (v128.load (local.get 0))
            (v128.const i32x4 1 2 3 4))))
    (func $bulk (export "bulk")
        (memory.init $passive (i32.const 16) (i32.const 0) (i32.const 3))
        (data.drop $passive)
        (memory.fill (i32.const 32) (i32.const 255) (i32.const 8)))
    (elem (i32.const 0) func $loop $simd)
    (data (i32.const 8) "hello")
    (data $passive "xyz"))"#;

/// Whether `result` is what damaged Wasm may come to: a module, a validation error, or — when the
/// damage happens to make it valid under a proposal the engine lacks — an unsupported one.
fn accepted_or_invalid(result: &Result<Module, Error>) -> bool {
    matches!(
        result,
        Ok(_) | Err(Error::Validation(_) | Error::Unsupported(_))
    )
}

#[test]
fn random_bytes_are_invalid() {
    let engine = Engine::default();
    let mut rng = StdRng::seed_from_u64(0x6172_6261_6765);
    for i in 0..4000 {
        let mut bytes = vec![0u8; rng.random_range(0..512)];
        rng.fill(&mut bytes[..]);
        // Half of them get past the header check.
        if i % 2 == 1 && bytes.len() >= 8 {
            bytes[..8].copy_from_slice(b"\0asm\x01\0\0\0");
        }
        let result = Module::new(&engine, &bytes);
        if i % 2 == 1 {
            assert!(
                accepted_or_invalid(&result),
                "input {i} ({bytes:02x?}): {result:?}"
            );
        } else {
            assert!(
                matches!(result, Err(Error::Validation(_))),
                "input {i} ({bytes:02x?}): {result:?}"
            );
        }
    }
}

#[test]
fn bit_flipped_modules_are_invalid_or_run() {
    let valid = wat::parse_str(VALID).expect("the module to flip is valid WAT");
    let engine = harness::engine();
    Module::new(&engine, &valid).expect("the engine accepts the unflipped module");
    let mut accepted = 0;
    for bit in 0..valid.len() * 8 {
        let mut bytes = valid.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let result = Module::new(&engine, &bytes);
        assert!(accepted_or_invalid(&result), "bit {bit}: {result:?}");
        if let Ok(module) = result {
            accepted += 1;
            harness::execute(&engine, &module);
        }
    }
    println!(
        "{accepted} of {} single-bit flips still valid, and ran",
        valid.len() * 8
    );
}

/// `capicola` itself, for the command-line tests.
fn capicola() -> assert_cmd::Command {
    assert_cmd::Command::new(capicola_tests::capicola_bin())
}

/// A file of `corpora/regressions/engine/`.
fn regression(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpora/regressions/engine")
        .join(name)
}

#[test]
fn run_traps_cleanly_on_memories_over_the_limit_in_total() {
    let output = capicola()
        .arg("run")
        .arg(regression("four-memories-of-4-gib.wat"))
        .args(["--invoke", "main"])
        .output()
        .expect("capicola runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("resource exhausted"), "{stderr}");
}

#[test]
fn run_with_max_memory_refuses_every_grow_past_it() {
    let run = |max: &str| {
        let output = capicola()
            .arg("run")
            .arg(regression("memory-grow-on-8-memories.wat"))
            .args(["--invoke", "main", "--max-memory", max])
            .output()
            .expect("capicola runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    // Not one of the 2 GiB grows fits in 64 MiB, and none of them touches the host's memory.
    assert_eq!(run("64M"), "8:i32");
    capicola()
        .arg("run")
        .arg(regression("memory-grow-on-8-memories.wat"))
        .args(["--invoke", "main", "--max-memory", "64Q"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown suffix"));
}

#[test]
fn run_with_max_table_elements_max_stack_and_max_call_depth() {
    let work = tempfile::tempdir().expect("temporary folder");
    let tables = work.path().join("tables.wat");
    std::fs::write(
        &tables,
        r#"(module (table 600 funcref) (table 600 funcref) (func (export "main")))"#,
    )
    .expect("module written");
    let run = |file: &std::path::Path, flags: &[&str], args: &[&str]| {
        let output = capicola()
            .arg("run")
            .arg(file)
            .args(["--invoke", if file == tables { "main" } else { "down" }])
            .args(flags)
            .args(args)
            .output()
            .expect("capicola runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (code, text) = run(&tables, &["--max-table-elements", "1000"], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("resource exhausted"), "{text}");
    // The `spectest` module a plain module may import from has a table of its own in the same store.
    assert_eq!(
        run(&tables, &["--max-table-elements", "1300"], &[]).0,
        Some(0)
    );

    let recursion = work.path().join("down.wasm");
    std::fs::write(&recursion, recursion_module(10)).expect("module written");
    for flags in [["--max-call-depth", "100"], ["--max-stack", "1000"]] {
        let (code, text) = run(&recursion, &flags, &["1000"]);
        assert_eq!(code, Some(1), "{flags:?}: {text}");
        assert!(text.contains("call stack exhausted"), "{flags:?}: {text}");
        let (code, text) = run(&recursion, &flags, &["20"]);
        assert_eq!(code, Some(0), "{flags:?}: {text}");
    }
}

#[test]
fn twenty_fills_of_a_gib_no_longer_fit_in_200_units_of_fuel() {
    let output = capicola()
        .arg("run")
        .arg(regression("twenty-fills-of-1-gib.wat"))
        .args(["--invoke", "main", "--fuel", "200"])
        .output()
        .expect("capicola runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("out of fuel after 200 units"), "{stderr}");
}

#[test]
fn replay_runs_each_input_under_max_memory() {
    let work = tempfile::tempdir().expect("temporary folder");
    let input = work.path().join("input");
    std::fs::write(&input, "any").expect("input written");
    let replay = |max: &str| {
        capicola()
            .arg("replay")
            .arg(regression("grow-64-mib-harness.wat"))
            .arg(&input)
            .args(["--max-memory", max])
            .output()
            .expect("capicola replays")
    };
    let cramped = replay("64M");
    let stdout = String::from_utf8_lossy(&cramped.stdout);
    assert_eq!(cramped.status.code(), Some(1), "{stdout}");
    // A fuzz target growing past --max-memory is an out-of-memory finding (the grow traps), not a -1 to handle.
    assert!(
        stdout.contains("out-of-memory: linear memory would grow past its limit (--max-memory"),
        "{stdout}"
    );
    let roomy = replay("128M");
    let stdout = String::from_utf8_lossy(&roomy.stdout);
    assert_eq!(roomy.status.code(), Some(0), "{stdout}");
}

/// The peak resident memory of a run stays under its `--max-memory` plus a stated overhead: 64 MiB of guest memory
/// every page of which is written, and at most 96 MiB more for capicola itself (the debug build's code, the
/// translated module, stacks and buffers), read from the kernel's account of that one child process.
#[test]
fn resident_memory_stays_under_the_memory_limit_plus_the_overhead() {
    const LIMIT: u64 = 64 << 20;
    const OVERHEAD: u64 = 96 << 20;
    #[expect(
        clippy::zombie_processes,
        reason = "waited for below with wait4, which also gives its resource use"
    )]
    let child = std::process::Command::new(capicola_tests::capicola_bin())
        .arg("run")
        .arg(regression("fill-every-page-it-can-grow.wat"))
        .args(["--invoke", "main", "--max-memory", "64M"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("capicola runs");
    let peak_kib = child_usage::wait_peak_rss_kib(&child, "the run");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.expect("piped"), &mut stdout)
        .expect("readable");
    // 64 MiB is 1024 pages; the `spectest` module the run links against holds one more memory of its own.
    assert_eq!(
        stdout.trim(),
        "1023:i32",
        "it held all the pages the limit allows"
    );
    // `ru_maxrss` is in KiB on Linux.
    let peak = u64::try_from(peak_kib).expect("a size") << 10;
    println!(
        "peak resident memory under --max-memory 64M: {} MiB",
        peak >> 20
    );
    assert!(
        peak < LIMIT + OVERHEAD,
        "peak resident memory {} MiB",
        peak >> 20
    );
}
