//! The limits test: runaway recursion and oversized frames trap with "call stack exhausted" instead of overflowing the host, deep nesting and wide frames are handled, and garbage bytes are rejected as invalid without a panic.

use capicola_engine::{Config, Engine, Error, Module, Store, Trap, TrapKind, Val};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../../engine/fuzz/harness.rs"]
mod harness;

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
