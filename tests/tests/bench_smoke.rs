//! The benchmark's CI check: every workload in `harnesses/bench/` builds, imports nothing and returns the same checksum from `run(smoke n)` in capicola, wasmi and gabagool (bar engines its `bench:` line declares unsupported), twice in a row; so does every public program of `harnesses/bench-public/` (CoreMark only where `COREMARK_SRC` names its sources), in every engine, with the same `report` values; the generated module the benchmark translates loads in each engine. Nothing here is timed.

#[path = "../benches/support/mod.rs"]
mod support;

use support::{
    BenchEngine, Wasmi, code_section_size, engines, generated_module, public_workloads, workloads,
};

/// Runs `run(n)` twice on one instance of `wasm` in `engine` and reads its first `reports` values of
/// `report(k)`. The benchmark calls `run` repeatedly on one instance: the two calls must agree.
fn smoke_run(
    engine: &dyn BenchEngine,
    wasm: &[u8],
    n: u32,
    reports: u32,
) -> Result<(u32, Vec<u32>), String> {
    let mut instance = engine.compile(wasm)?.instantiate()?;
    let first = instance.run(n)?;
    let second = instance.run(n)?;
    if first != second {
        return Err(format!(
            "a second call returned {second:#x}, the first {first:#x}"
        ));
    }
    let reports = (0..reports)
        .map(|k| instance.call("report", k))
        .collect::<Result<Vec<u32>, String>>()?;
    Ok((first, reports))
}

#[test]
fn every_workload_agrees_across_engines() {
    let workloads = workloads();
    assert!(
        workloads.len() >= 10,
        "harnesses/bench/ should hold at least ten workloads, found {}",
        workloads.len()
    );
    let mut failures = Vec::new();
    for w in &workloads {
        assert!(
            w.smoke_n <= w.n,
            "{}: the smoke n ({}) should be a reduced form of the benchmark's n ({})",
            w.name,
            w.smoke_n,
            w.n
        );
        let mut results = Vec::new();
        for engine in engines() {
            let outcome = smoke_run(engine.as_ref(), &w.wasm, w.smoke_n, 0).map(|(sum, _)| sum);
            results.push((engine.name(), outcome));
        }
        // Engines the workload declares unsupported may fail; every engine that returns must agree.
        let expected_failure = |name: &str| w.unsupported.iter().any(|u| u == name);
        let unexpected_failure = results
            .iter()
            .any(|(name, r)| r.is_err() && !expected_failure(name));
        let mut sums: Vec<u32> = results.iter().filter_map(|(_, r)| r.clone().ok()).collect();
        sums.dedup();
        if unexpected_failure || sums.len() != 1 {
            failures.push(format!(
                "{} ({}) run({}): {results:?}",
                w.name, w.kind, w.smoke_n
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "workloads whose engines disagree or fail:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_generated_translation_module_loads_everywhere() {
    let wasm = generated_module(40);
    assert!(code_section_size(&wasm) > 10_000);
    let mut all = engines();
    all.push(Box::new(Wasmi::lazy()) as Box<dyn BenchEngine>);
    for engine in all {
        engine
            .compile(&wasm)
            .and_then(|module| module.instantiate())
            .unwrap_or_else(|e| panic!("{} cannot load the generated module: {e}", engine.name()));
    }
}

#[test]
fn every_public_program_agrees_across_engines() {
    let (programs, skipped) = public_workloads();
    for reason in &skipped {
        eprintln!("{reason}");
    }
    assert!(
        programs.len() >= 5,
        "harnesses/bench-public/ should build at least its five library programs, built {:?} (skipped: {skipped:?})",
        programs.iter().map(|w| &w.name).collect::<Vec<_>>()
    );
    let mut failures = Vec::new();
    for w in &programs {
        let mut results = Vec::new();
        for engine in engines() {
            let outcome = smoke_run(engine.as_ref(), &w.wasm, w.smoke_n, w.reports).and_then(
                |(sum, reports)| {
                    if w.failed(sum) {
                        Err(format!("the program reports a failure: {sum:#x}"))
                    } else {
                        Ok((sum, reports))
                    }
                },
            );
            results.push((engine.name(), outcome));
        }
        // Public programs run in every engine: none may fail, and all agree.
        let mut outcomes: Vec<_> = results.iter().map(|(_, r)| r.clone()).collect();
        outcomes.dedup();
        if outcomes.len() != 1 || outcomes[0].is_err() {
            failures.push(format!("{} run({}): {results:?}", w.name, w.smoke_n));
        }
    }
    assert!(
        failures.is_empty(),
        "public programs whose engines disagree or fail:\n{}",
        failures.join("\n")
    );
}
