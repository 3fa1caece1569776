//! The translator's fused ops: each one does what the Wasm instructions it replaces do (results, traps, memory,
//! dirty pages, watched writes and the accesses the debugger lists, and with coverage and comparison logging the
//! edges and comparisons they record), checked against the same code translated without fusion (`Config::fuse`).

#![allow(clippy::unwrap_used)]

use capicola_engine::timeline::{
    Host, HostAnswer, Stop, Timeline, TimelineConfig, WatchKind, Watchpoint,
};
use capicola_engine::{
    CmpValues, Config, Engine, Extern, Func, HostCall, Linker, Memory, Module, Outcome, Store, Val,
};

/// Every function exercises a family of fused ops; the comments name the op each expression becomes.
const PROGRAM: &str = r#"
(module
  (memory (export "memory") 1)
  ;; Loads whose address is the sum of two locals (`..LL`) or the stack operand plus an immediate (`..C`).
  (func (export "loads") (param $p i32) (param $q i32) (result i64)
    (local $acc i64)
    (local.set $acc (i64.extend_i32_u (i32.load8_u offset=3 (i32.add (local.get $p) (local.get $q)))))
    (local.set $acc (i64.add (local.get $acc)
      (i64.extend_i32_u (i32.load offset=1 (i32.add (local.get $p) (local.get $q))))))
    (local.set $acc (i64.xor (local.get $acc) (i64.load16_s offset=7 (i32.add (local.get $q) (local.get $p)))))
    (local.set $acc (i64.add (local.get $acc)
      (i64.extend_i32_u (i32.reinterpret_f32 (f32.load (i32.add (local.get $p) (local.get $q)))))))
    (local.set $acc (i64.add (local.get $acc)
      (i64.extend_i32_u (i32.load offset=4 (i32.add (i32.mul (local.get $p) (i32.const 3)) (i32.const 0xfffffff0))))))
    (local.set $acc (i64.xor (local.get $acc) (i64.load32_s offset=2 (i32.add (i32.mul (local.get $q) (i32.const 1)) (i32.const 100)))))
    (local.set $acc (i64.add (local.get $acc)
      (i64.reinterpret_f64 (f64.load offset=16 (i32.add (i32.shl (local.get $q) (i32.const 1)) (i32.const 8))))))
    (local.set $acc (i64.add (local.get $acc)
      (i64x2.extract_lane 1 (v128.load offset=5 (i32.add (local.get $p) (local.get $q))))))
    (local.set $acc (i64.add (local.get $acc)
      (i64x2.extract_lane 0 (v128.load (i32.add (i32.mul (local.get $p) (i32.const 5)) (i32.const 32))))))
    (local.get $acc))
  ;; Stores whose value is a local (`..V`), or whose address and value are locals (`..LV`).
  (func (export "stores") (param $p i32) (param $q i32) (param $x i64) (result i32)
    (local $v i32) (local $f f32) (local $d f64)
    (local.set $v (i32.wrap_i64 (local.get $x)))
    (local.set $f (f32.reinterpret_i32 (local.get $v)))
    (local.set $d (f64.reinterpret_i64 (local.get $x)))
    (i32.store offset=8 (i32.mul (local.get $q) (i32.const 2)) (local.get $v))
    (i32.store (local.get $p) (local.get $v))
    (i32.store8 offset=3 (local.get $q) (local.get $v))
    (i32.store16 offset=5 (local.get $p) (local.get $v))
    (i64.store offset=9 (i32.add (local.get $q) (i32.const 11)) (local.get $x))
    (i64.store8 (local.get $p) (local.get $x))
    (i64.store16 offset=1 (local.get $q) (local.get $x))
    (i64.store32 offset=0x1234 (local.get $p) (local.get $x))
    (f32.store offset=2 (local.get $q) (local.get $f))
    (f64.store offset=4000 (local.get $p) (local.get $d))
    (i32.const 0))
  ;; Register forms of rotations, the i64 low-half mask, selects into locals, two local copies in a row.
  (func (export "arith") (param $p i32) (param $q i32) (param $x i64) (result i64)
    (local $acc i64) (local $t i64) (local $u i64) (local $v i64) (local $s i32)
    (local.set $acc (i64.extend_i32_u (i32.rotl (local.get $p) (i32.const 7))))
    (local.set $acc (i64.xor (local.get $acc) (i64.extend_i32_u (i32.rotr (local.get $p) (local.get $q)))))
    (local.set $acc (i64.add (local.get $acc) (i64.rotl (local.get $x) (i64.const 13))))
    (local.set $acc (i64.xor (local.get $acc) (i64.rotr (i64.extend_i32_u (local.get $q)) (local.get $x))))
    (local.set $t (i64.rotl (local.get $acc) (local.get $x)))
    (local.set $acc (i64.add (local.get $acc) (i64.and (local.get $x) (i64.const 0xffffffff))))
    (local.set $acc (i64.add (local.get $acc) (i64.and (i64.mul (local.get $x) (local.get $t)) (i64.const 0xffffffff))))
    (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $q))))
    (local.set $u (select (local.get $x) (local.get $t) (i32.lt_u (local.get $p) (local.get $q))))
    (local.set $acc (i64.xor (local.get $acc)
      (local.tee $v (select (local.get $t) (local.get $acc) (i32.and (local.get $q) (i32.const 1))))))
    (local.set $s (select (local.get $p) (local.get $q) (local.get $p)))
    ;; A rotation of three locals through $t: t = u; u = v; v = t.
    (local.set $t (local.get $u))
    (local.set $u (local.get $v))
    (local.set $v (local.get $t))
    (i64.add (i64.add (i64.add (local.get $acc) (local.get $u)) (i64.mul (local.get $v) (i64.const 3)))
      (i64.extend_i32_u (local.get $s))))
  ;; Counted loops: the increment, the comparison and the jump back in one op.
  (func (export "loops") (param $n i32) (param $s i32) (result i32)
    (local $i i32) (local $acc i32) (local $j i32)
    ;; i += 3 until i == 30: against an immediate.
    (loop $a
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (br_if $a (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 3))) (i32.const 30))))
    ;; j -= 1 until 0: `br_if` on the tee alone.
    (local.set $j (i32.and (local.get $n) (i32.const 63)))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (loop $b
      (local.set $acc (i32.xor (local.get $acc) (local.get $j)))
      (br_if $b (local.tee $j (i32.add (local.get $j) (i32.const -1)))))
    ;; i += 1 until i == n: against another local, read before the increment.
    (local.set $i (i32.const 0))
    (local.set $n (i32.and (local.get $n) (i32.const 255)))
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    (loop $c
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $s))))
      (br_if $c (i32.ne (local.get $n) (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
    ;; Against the stack operand.
    (local.set $i (i32.const 0))
    (loop $d
      (local.set $acc (i32.rotl (local.get $acc) (local.get $i)))
      (br_if $d (i32.ne (i32.add (i32.and (local.get $s) (i32.const 127)) (i32.const 1))
        (local.tee $i (i32.add (local.get $i) (i32.const 1))))))
    ;; The other operand is the incremented local itself, read before the increment: never equal.
    (block $e
      (br_if $e (i32.ne (local.get $i) (local.tee $i (i32.add (local.get $i) (i32.const 1)))))
      (unreachable))
    ;; A step beyond 16 bits.
    (local.set $i (i32.const 0))
    (loop $f
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $f (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 100000))) (i32.const 500000))))
    (local.get $acc))
  ;; `br_if` and `if` on a local.
  (func (export "branches") (param $q i32) (result i32)
    (local $r i32)
    (block $a
      (br_if $a (local.get $q))
      (local.set $r (i32.const 100)))
    (block $b
      (br_if $b (i32.eqz (local.get $q)))
      (local.set $r (i32.add (local.get $r) (i32.const 20))))
    (if (local.get $q) (then (local.set $r (i32.add (local.get $r) (i32.const 3)))))
    (local.get $r))
  ;; Integer comparisons that branch, in every operand form, as `br_if` (taken: the jump) and as `if` (taken: the
  ;; else side); with comparison logging each is logged where it reads its operands.
  (func (export "compares") (param $p i32) (param $q i32) (param $x i64) (result i32)
    (local $r i32)
    (block $a (br_if $a (i32.lt_s (local.get $p) (local.get $q))) (local.set $r (i32.const 1)))
    (block $b (br_if $b (i32.eq (local.get $p) (i32.const 17)))
      (local.set $r (i32.add (local.get $r) (i32.const 2))))
    (block $c (br_if $c (i64.gt_u (local.get $x) (i64.const -5)))
      (local.set $r (i32.add (local.get $r) (i32.const 4))))
    (block $d (br_if $d (i32.ge_u (i32.mul (local.get $p) (i32.const 3)) (local.get $q)))
      (local.set $r (i32.add (local.get $r) (i32.const 8))))
    (block $e (br_if $e (i64.ne (i64.extend_i32_s (local.get $q)) (i64.const 40)))
      (local.set $r (i32.add (local.get $r) (i32.const 16))))
    (block $f (br_if $f (i32.le_s (i32.add (local.get $p) (i32.const 1)) (i32.sub (local.get $q) (i32.const 1))))
      (local.set $r (i32.add (local.get $r) (i32.const 32))))
    (if (i64.lt_s (local.get $x) (i64.extend_i32_s (local.get $p)))
      (then (local.set $r (i32.add (local.get $r) (i32.const 64))))
      (else (local.set $r (i32.add (local.get $r) (i32.const 128)))))
    (if (i32.ne (local.get $p) (local.get $q)) (then (local.set $r (i32.add (local.get $r) (i32.const 256)))))
    (if (i64.eqz (local.get $x)) (then (local.set $r (i32.add (local.get $r) (i32.const 512)))))
    (local.set $p (i32.gt_s (local.get $q) (i32.const 9)))
    (local.set $r (i32.add (local.get $r) (local.get $p)))
    (loop $g
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br_if $g (i32.lt_u (local.get $q) (i32.const 20))))
    (local.get $r))
  ;; Float arithmetic with the second operand loaded from the address in a local.
  (func (export "floats") (param $p i32) (param $f f32) (param $d f64) (result i64)
    (local $acc i64)
    (local.set $acc (i64.extend_i32_u (i32.reinterpret_f32 (f32.add (local.get $f) (f32.load offset=4 (local.get $p))))))
    (local.set $acc (i64.xor (local.get $acc)
      (i64.extend_i32_u (i32.reinterpret_f32 (f32.sub (local.get $f) (f32.load (local.get $p)))))))
    (local.set $acc (i64.add (local.get $acc)
      (i64.extend_i32_u (i32.reinterpret_f32 (f32.mul (f32.const -1.5) (f32.load offset=8 (local.get $p)))))))
    (local.set $acc (i64.add (local.get $acc) (i64.reinterpret_f64 (f64.add (local.get $d) (f64.load offset=1 (local.get $p))))))
    (local.set $acc (i64.xor (local.get $acc) (i64.reinterpret_f64 (f64.sub (local.get $d) (f64.load offset=9 (local.get $p))))))
    (local.set $acc (i64.add (local.get $acc) (i64.reinterpret_f64 (f64.mul (local.get $d) (f64.load offset=3 (local.get $p))))))
    (local.get $acc)))
"#;

/// Every fused op the program must contain, so that the comparisons below are not vacuous.
const FUSED: &[&str] = &[
    "I32Load8ULL",
    "I32LoadLL",
    "I64Load16SLL",
    "F32LoadLL",
    "V128LoadLL",
    "I32LoadC",
    "I64Load32SC",
    "F64LoadC",
    "V128LoadC",
    "I32StoreV",
    "I32StoreLV",
    "I32Store8LV",
    "I32Store16LV",
    "I64StoreV",
    "I64Store8LV",
    "I64Store16LV",
    "I64Store32LV",
    "F32StoreLV",
    "F64StoreLV",
    "I32RotlLC",
    "I32RotrLL",
    "I64RotlLC",
    "I64RotrL",
    "I64RotlLLTo",
    "I64ExtendI32UL",
    "I64ExtendI32U",
    "SelectTo",
    "SelectTee",
    "LocalCopy2",
    "I32AddJumpIfNeC",
    "I32AddJumpIfNeL",
    "I32AddJumpIfNe",
    "JumpIfLocalNez",
    "JumpIfLocalEqz",
    "F32AddLoadL",
    "F32SubLoadL",
    "F32MulLoadL",
    "F64AddLoadL",
    "F64SubLoadL",
    "F64MulLoadL",
];

/// The ops the dirty-page-tracking translation must use for the stores.
const TRACKED: &[&str] = &[
    "I32StoreVTracked",
    "I32StoreLVTracked",
    "I64StoreVTracked",
    "F64StoreLVTracked",
];

fn engine(fuse: bool, track: bool) -> Engine {
    Engine::new(Config {
        fuse,
        track_dirty_pages: track,
        ..Config::default()
    })
}

/// An engine with coverage and comparison logging.
fn hooked(fuse: bool) -> Engine {
    Engine::new(Config {
        fuse,
        coverage: true,
        cmplog: true,
        track_dirty_pages: true,
        ..Config::default()
    })
}

/// Ops the program must contain with coverage and comparison logging: fused comparisons that jump, counting their
/// taken edge through a `CovJump` and logged by the `CmpLog` forms that read their operands.
const FUSED_HOOKED: &[&str] = &[
    "JumpIfI32LtSLL",
    "JumpIfI32EqLC",
    "JumpIfI64GtULC",
    "JumpIfI32GeUL",
    "JumpIfI64NeC",
    "JumpIfI32LeS",
    "JumpIfI64GeS",
    "JumpIfI32EqLL",
    "JumpIfI32LtULC",
    "CmpLog",
    "CmpLogL",
    "CmpLogC",
    "CmpLogLL",
    "CmpLogLC",
    "CovJump",
    "I32GtSLCTo",
    "I32AddJumpIfNeC",
    "JumpIfLocalNez",
    "JumpIfEqzCov",
    "I32LoadLL",
    "I64RotlLLTo",
];

fn instance(engine: &Engine) -> (Module, Store, Memory, Vec<(String, Func)>) {
    let module = Module::new(engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(engine);
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("no memory")
    };
    // Bytes that make every load distinct, with NaNs of several payloads among the floats.
    let data = store.memory_data_mut(memory);
    let mut x = 0x9e37_79b9_u32;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    // At 41 and 49 (then 40, over the low bytes of the first): what `floats(40, ..)` loads.
    data[41..49].copy_from_slice(&0x7ff8_0000_dead_beef_u64.to_le_bytes());
    data[49..57].copy_from_slice(&0xfff0_0000_0000_0001_u64.to_le_bytes());
    data[40..44].copy_from_slice(&0xffa0_0001_u32.to_le_bytes());
    let funcs = store
        .instance_exports(inst)
        .into_iter()
        .filter_map(|(name, e)| match e {
            Extern::Func(f) => Some((name, f)),
            _ => None,
        })
        .collect();
    (module, store, memory, funcs)
}

/// Arguments for each function: ordinary ones, wrapping address sums, and addresses out of bounds.
fn inputs(name: &str) -> Vec<Vec<Val>> {
    let addrs: &[(i32, i32)] = &[
        (0, 0),
        (17, 40),
        (1000, 23),
        (-8, 48),
        (65000, 500),
        (65535, 0),
        (21845, 3),
        (i32::MAX, i32::MAX),
        (40, 0),
        (-1, 1),
    ];
    let x = [0x0123_4567_89ab_cdef_i64, -1, 0x7ff8_0000_0000_0001];
    match name {
        "loads" => addrs
            .iter()
            .map(|&(p, q)| vec![Val::I32(p), Val::I32(q)])
            .collect(),
        "stores" | "arith" => addrs
            .iter()
            .enumerate()
            .map(|(i, &(p, q))| vec![Val::I32(p), Val::I32(q), Val::I64(x[i % x.len()])])
            .collect(),
        "loops" => [(0, 0), (7, 3), (200, 77), (-1, 1000)]
            .iter()
            .map(|&(n, s)| vec![Val::I32(n), Val::I32(s)])
            .collect(),
        "branches" => [0, 1, -5].iter().map(|&q| vec![Val::I32(q)]).collect(),
        "compares" => [
            (0, 0, 0_i64),
            (17, 40, -5),
            (-3, 5, -4),
            (2, 17, 40),
            (40, 2, i64::MIN),
            (7, 7, 7),
        ]
        .iter()
        .map(|&(p, q, x)| vec![Val::I32(p), Val::I32(q), Val::I64(x)])
        .collect(),
        // One NaN operand at a time: which of two NaNs a commutative operation returns depends on how the compiler
        // ordered its operands, in the fused register forms as in these (Wasm allows either).
        "floats" => [
            (0, 1.5_f32, 2.25_f64),
            (40, 1.5, 2.25),
            (
                0,
                f32::from_bits(0x7f80_0042),
                f64::from_bits(0xfff0_0000_0000_0777),
            ),
            (37, -0.0, -0.0),
            (65530, 1.0, 1.0),
            (-4, 1.0, 1.0),
        ]
        .iter()
        .map(|&(p, f, d)| vec![Val::I32(p), Val::F32(f.to_bits()), Val::F64(d.to_bits())])
        .collect(),
        other => panic!("no inputs for {other}"),
    }
}

/// Runs `f(args)` one instruction at a time: the outcome (results or trap), the memory afterwards and the
/// accesses `next_accesses` listed on the way (in order).
fn run(store: &mut Store, memory: Memory, f: Func, args: &[Val]) -> (String, Vec<u8>, Vec<String>) {
    store.invoke(f, args).unwrap();
    // Enters the function without running anything, so that its first instruction's accesses are listed.
    assert!(matches!(store.run(0), Outcome::OutOfFuel));
    let mut accesses = Vec::new();
    let outcome = loop {
        accesses.extend(
            store
                .next_accesses()
                .iter()
                .map(|a| format!("{}+{} {}", a.addr, a.len, if a.write { "w" } else { "r" })),
        );
        match store.run(1) {
            Outcome::OutOfFuel => {}
            Outcome::Finished(v) => break format!("{v:?}"),
            Outcome::Trapped(t) => break format!("trap {:?}", t.kind),
            Outcome::HostCall(c) => panic!("host call {c:?}"),
        }
    };
    (outcome, store.memory_data(memory).to_vec(), accesses)
}

#[test]
fn the_program_is_fused() {
    for (track, expected) in [(false, FUSED), (true, TRACKED)] {
        let (module, ..) = instance(&engine(true, track));
        let code: String = (0..7).filter_map(|f| module.disassemble(f)).collect();
        for name in expected {
            assert!(has_op(&code, name), "no {name} in\n{code}");
        }
        if track {
            assert!(
                !code.contains("StoreV ") && !code.contains("StoreLV "),
                "{code}"
            );
        }
    }
}

/// Whether the disassembly lists an op named `name` (the op's name follows `;; ` on its line).
fn has_op(code: &str, name: &str) -> bool {
    code.lines().any(|l| {
        l.split(";; ")
            .nth(1)
            .and_then(|op| op.split_whitespace().next())
            == Some(name)
    })
}

#[test]
fn the_program_is_fused_with_hooks() {
    let (module, ..) = instance(&hooked(true));
    let code: String = (0..7).filter_map(|f| module.disassemble(f)).collect();
    for name in FUSED_HOOKED {
        assert!(has_op(&code, name), "no {name} in\n{code}");
    }
}

/// Runs `f(args)` with all the fuel it needs, or one op at a time: its outcome, the exact hit count of every edge
/// and the comparisons logged.
fn run_hooked(
    store: &mut Store,
    f: Func,
    args: &[Val],
    step: bool,
) -> (String, Vec<u64>, Vec<CmpValues>) {
    store.clear_coverage();
    store.clear_cmp_log();
    store.invoke(f, args).unwrap();
    let outcome = loop {
        match store.run(if step { 1 } else { u64::MAX }) {
            Outcome::OutOfFuel => {}
            Outcome::Finished(v) => break format!("{v:?}"),
            Outcome::Trapped(t) => break format!("trap {:?}", t.kind),
            Outcome::HostCall(c) => panic!("host call {c:?}"),
        }
    };
    (outcome, store.edge_hits(), store.cmp_log().to_vec())
}

#[test]
fn fused_ops_record_the_edges_and_comparisons_unfused_code_does() {
    let (_, mut reference, _, funcs) = instance(&hooked(false));
    let (_, mut fused, _, fused_funcs) = instance(&hooked(true));
    for ((name, f), (_, g)) in funcs.iter().zip(&fused_funcs) {
        for args in inputs(name) {
            let want = run_hooked(&mut reference, *f, &args, false);
            assert!(
                want.1.iter().any(|&n| n > 0),
                "{name}{args:?} counts no edge"
            );
            for step in [false, true] {
                let got = run_hooked(&mut fused, *g, &args, step);
                assert_eq!(got.0, want.0, "{name}{args:?}");
                assert_eq!(
                    got.1, want.1,
                    "{name}{args:?}: edge hits (one op at a time: {step})"
                );
                assert_eq!(
                    got.2, want.2,
                    "{name}{args:?}: comparisons (one op at a time: {step})"
                );
            }
        }
    }
}

#[test]
fn fused_ops_do_what_the_instructions_they_replace_do() {
    for track in [false, true] {
        let (_, mut reference, ref_memory, funcs) = instance(&engine(false, track));
        let (_, mut fused, memory, fused_funcs) = instance(&engine(true, track));
        for ((name, f), (_, g)) in funcs.iter().zip(&fused_funcs) {
            for args in inputs(name) {
                let want = run(&mut reference, ref_memory, *f, &args);
                let got = run(&mut fused, memory, *g, &args);
                assert_eq!(got.0, want.0, "{name}{args:?} (tracked: {track})");
                assert!(
                    got.1 == want.1,
                    "{name}{args:?}: memory differs (tracked: {track})"
                );
                assert_eq!(got.2, want.2, "{name}{args:?}: accesses (tracked: {track})");
            }
        }
    }
}

#[test]
fn tracked_fused_stores_mark_their_pages() {
    let (_, mut store, memory, funcs) = instance(&engine(true, true));
    let stores = funcs.iter().find(|(n, _)| n == "stores").unwrap().1;
    let before = store.baseline();
    // p = 17000 (page 4, and page 5 through offset 0x1234), q = 9000 (page 2; and page 4 through `2q + 8`).
    let args = [Val::I32(17000), Val::I32(9000), Val::I64(-2)];
    assert_eq!(run(&mut store, memory, stores, &args).0, "[I32(0)]");
    assert_eq!(store.dirty_pages(), 3);
    store.reset_to(&before).unwrap();
    assert!(store.memory_data(memory) == before.memory_data(memory));
}

#[derive(Debug, Clone)]
struct NoHost;

impl Host for NoHost {
    fn call(&mut self, _: &mut Store, _: &HostCall) -> HostAnswer {
        panic!("the program imports nothing")
    }
}

#[test]
fn tracked_fused_stores_stop_write_watches() {
    let (_, mut store, memory, funcs) = instance(&engine(true, true));
    let stores = funcs.iter().find(|(n, _)| n == "stores").unwrap().1;
    // p = 20000, q = 30000: every store lands on its own bytes.
    let args = [
        Val::I32(20000),
        Val::I32(30000),
        Val::I64(0x1122_3344_5566_7788),
    ];
    store.invoke(stores, &args).unwrap();
    let mut t = Timeline::new(store, NoHost, TimelineConfig::default()).unwrap();
    // Bytes only the `I32StoreLV` at p, the `I64StoreV` at q + 20 or the `F64StoreLV` at p + 4000 write.
    for (addr, len) in [(20001, 3), (30020, 8), (24000, 8)] {
        t.seek(0).unwrap();
        t.set_watchpoint(Some(Watchpoint {
            memory,
            addr,
            len,
            kind: WatchKind::Write,
        }))
        .unwrap();
        let Stop::Watch(hit) = t.continue_forward().unwrap() else {
            panic!("no write to {addr}")
        };
        assert_eq!(t.position(), hit.position + 1);
        assert_eq!(hit.new.len(), len as usize);
        assert_ne!(hit.old, hit.new);
        assert_eq!(t.continue_forward().unwrap(), Stop::End);
    }
}
