//! The oracle's judgement: one case run on two engines, call by call, then their exported state, with NaNs compared as the spec allows.

use std::fmt;

use super::case::Case;
use super::engine::{
    CallOutcome, DiffEngine, DiffInstance, DiffValue, InstanceState, InstantiateFailure,
};

/// What running a case on two engines showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both engines did the same, every call and the final state.
    Agree,
    /// They differ: the differences found, the first call that differed last (later calls are not made).
    Mismatch(Vec<Difference>),
    /// A call ran out of fuel or stack (or host memory) in one engine at least: engines count and limit these
    /// differently, so nothing after that point says anything. Calls before it agreed.
    Inconclusive(String),
    /// Nothing to compare: both engines rejected the module, or one does not implement what it uses.
    Skipped(String),
}

/// One way the engine under test differs from the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// One engine instantiated the module and the other did not, or they failed differently.
    Instantiation { test: String, reference: String },
    /// A call ended differently.
    Call {
        index: usize,
        export: String,
        args: Vec<DiffValue>,
        test: CallOutcome,
        reference: CallOutcome,
    },
    /// An exported global holds different values (or exists on one side only).
    Global {
        name: String,
        test: Option<DiffValue>,
        reference: Option<DiffValue>,
    },
    /// An exported memory differs: its size, or the byte at `first_difference` (and perhaps more).
    Memory {
        name: String,
        test_len: usize,
        reference_len: usize,
        test_hash: u64,
        reference_hash: u64,
        /// The first offset whose byte differs, with the test's and the reference's byte.
        first_difference: Option<(usize, u8, u8)>,
    },
    /// An exported table differs in size or in an element.
    Table {
        name: String,
        test_len: usize,
        reference_len: usize,
        first_difference: Option<(usize, DiffValue, DiffValue)>,
    },
    /// An export exists on one side only.
    MissingExport { name: String, kind: &'static str },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Instantiation { test, reference } => write!(
                f,
                "instantiation differs:\n  test:      {test}\n  reference: {reference}"
            ),
            Difference::Call {
                index,
                export,
                args,
                test,
                reference,
            } => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "call #{index} `{export}`({}) differs:\n  test:      {test}\n  reference: {reference}",
                    args.join(", ")
                )
            }
            Difference::Global {
                name,
                test,
                reference,
            } => {
                let show = |v: &Option<DiffValue>| {
                    v.as_ref()
                        .map_or_else(|| "(missing)".to_string(), ToString::to_string)
                };
                write!(
                    f,
                    "global `{name}` differs:\n  test:      {}\n  reference: {}",
                    show(test),
                    show(reference)
                )
            }
            Difference::Memory {
                name,
                test_len,
                reference_len,
                test_hash,
                reference_hash,
                first_difference,
            } => {
                write!(
                    f,
                    "memory `{name}` differs:\n  test:      {test_len} bytes, hash {test_hash:016x}\n  reference: {reference_len} bytes, hash {reference_hash:016x}"
                )?;
                if let Some((offset, t, r)) = first_difference {
                    write!(
                        f,
                        "\n  first difference at offset {offset} ({offset:#x}): test {t:#04x}, reference {r:#04x}"
                    )?;
                }
                Ok(())
            }
            Difference::Table {
                name,
                test_len,
                reference_len,
                first_difference,
            } => {
                write!(
                    f,
                    "table `{name}` differs:\n  test:      {test_len} elements\n  reference: {reference_len} elements"
                )?;
                if let Some((index, t, r)) = first_difference {
                    write!(
                        f,
                        "\n  first difference at element {index}: test {t}, reference {r}"
                    )?;
                }
                Ok(())
            }
            Difference::MissingExport { name, kind } => {
                write!(f, "{kind} export `{name}` exists in one engine only")
            }
        }
    }
}

fn f32_is_nan(bits: u32) -> bool {
    bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0
}

fn f64_is_nan(bits: u64) -> bool {
    bits & 0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000 && bits & 0x000f_ffff_ffff_ffff != 0
}

/// Whether two values are the same as far as the spec determines them.
///
/// Floats must have the same bits, except that any NaN matches any NaN of the same type: the spec lets an
/// operation that returns a NaN pick its sign and, for arithmetic NaNs, its payload. A v128 has no lane shape
/// of its own: two match when their bits are equal, or when read as `f32x4`, or as `f64x2`, every lane has equal
/// bits or is a NaN on both sides. Non-null function references match when the functions have the same type
/// (engines share no function identities).
pub fn values_match(test: &DiffValue, reference: &DiffValue) -> bool {
    match (test, reference) {
        (DiffValue::F32(a), DiffValue::F32(b)) => a == b || (f32_is_nan(*a) && f32_is_nan(*b)),
        (DiffValue::F64(a), DiffValue::F64(b)) => a == b || (f64_is_nan(*a) && f64_is_nan(*b)),
        (DiffValue::V128(a), DiffValue::V128(b)) => {
            let lanes_f32 = (0..4).all(|i| {
                let (x, y) = ((a >> (32 * i)) as u32, (b >> (32 * i)) as u32);
                x == y || (f32_is_nan(x) && f32_is_nan(y))
            });
            let lanes_f64 = (0..2).all(|i| {
                let (x, y) = ((a >> (64 * i)) as u64, (b >> (64 * i)) as u64);
                x == y || (f64_is_nan(x) && f64_is_nan(y))
            });
            a == b || lanes_f32 || lanes_f64
        }
        _ => test == reference,
    }
}

/// Whether two call outcomes are the same; `None` when either decides nothing (fuel, stack, host memory).
fn outcomes_match(test: &CallOutcome, reference: &CallOutcome) -> Option<bool> {
    use CallOutcome as C;
    match (test, reference) {
        (C::OutOfFuel | C::StackExhausted | C::ResourceLimit(_), _)
        | (_, C::OutOfFuel | C::StackExhausted | C::ResourceLimit(_)) => None,
        (C::Returned(a), C::Returned(b)) => {
            Some(a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y)))
        }
        (C::Trapped(a), C::Trapped(b)) => Some(a == b),
        _ => Some(false),
    }
}

/// Runs `case` on both engines and compares what they do.
pub fn compare(case: &Case, test: &mut dyn DiffEngine, reference: &mut dyn DiffEngine) -> Verdict {
    let (mut t, mut r) = match instantiate_both(case, test, reference) {
        Ok(instances) => instances,
        Err(verdict) => return verdict,
    };
    let mut differences = Vec::new();
    let mut inconclusive = None;
    for (index, call) in case.calls.iter().enumerate() {
        let test_outcome = t.call(&call.export, &call.args);
        let reference_outcome = r.call(&call.export, &call.args);
        match outcomes_match(&test_outcome, &reference_outcome) {
            Some(true) => {}
            Some(false) => {
                differences.push(Difference::Call {
                    index,
                    export: call.export.clone(),
                    args: call.args.clone(),
                    test: test_outcome,
                    reference: reference_outcome,
                });
                break;
            }
            None => {
                inconclusive = Some(format!(
                    "call #{index} `{}`: test {test_outcome}, reference {reference_outcome}",
                    call.export
                ));
                break;
            }
        }
    }
    // The state says something only when every call was conclusive (after a differing call, it shows how far the
    // difference went).
    if inconclusive.is_none() {
        compare_state(&t.state(), &r.state(), &mut differences);
    }
    match (differences.is_empty(), inconclusive) {
        (false, _) => {
            // The call that differed, if any, goes last: state differences lead to it.
            differences.sort_by_key(|d| matches!(d, Difference::Call { .. }));
            Verdict::Mismatch(differences)
        }
        (true, Some(reason)) => Verdict::Inconclusive(reason),
        (true, None) => Verdict::Agree,
    }
}

type Instances = (Box<dyn DiffInstance>, Box<dyn DiffInstance>);

/// Instantiates the case's module in both engines; a verdict when they cannot both be compared.
fn instantiate_both(
    case: &Case,
    test: &mut dyn DiffEngine,
    reference: &mut dyn DiffEngine,
) -> Result<Instances, Verdict> {
    use InstantiateFailure as F;
    let t = test.instantiate(&case.wasm);
    let r = reference.instantiate(&case.wasm);
    let (t_err, r_err) = match (t, r) {
        (Ok(t), Ok(r)) => return Ok((t, r)),
        (t, r) => (t.err(), r.err()),
    };
    let show = |e: &Option<InstantiateFailure>| {
        e.as_ref()
            .map_or_else(|| "instantiated".to_string(), ToString::to_string)
    };
    let either = |f: &dyn Fn(&InstantiateFailure) -> bool| {
        t_err.as_ref().is_some_and(f) || r_err.as_ref().is_some_and(f)
    };
    if either(&|e| matches!(e, F::Unsupported(_))) {
        return Err(Verdict::Skipped(format!(
            "unsupported: test {}, reference {}",
            show(&t_err),
            show(&r_err)
        )));
    }
    if either(&|e| matches!(e, F::OutOfFuel | F::StackExhausted | F::ResourceLimit(_))) {
        return Err(Verdict::Inconclusive(format!(
            "instantiation: test {}, reference {}",
            show(&t_err),
            show(&r_err)
        )));
    }
    let same = match (&t_err, &r_err) {
        (Some(F::Invalid(_)), Some(F::Invalid(_))) => {
            return Err(Verdict::Skipped(format!(
                "both engines reject the module: {}",
                show(&t_err)
            )));
        }
        (Some(F::Trapped(a)), Some(F::Trapped(b))) => a == b,
        _ => false,
    };
    if same {
        Err(Verdict::Agree)
    } else {
        Err(Verdict::Mismatch(vec![Difference::Instantiation {
            test: show(&t_err),
            reference: show(&r_err),
        }]))
    }
}

/// Compares exported globals, memories and tables by name.
fn compare_state(test: &InstanceState, reference: &InstanceState, out: &mut Vec<Difference>) {
    let find = |list: &[(String, DiffValue)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    for (name, t) in &test.globals {
        let r = find(&reference.globals, name);
        if !r.as_ref().is_some_and(|r| values_match(t, r)) {
            out.push(Difference::Global {
                name: name.clone(),
                test: Some(t.clone()),
                reference: r,
            });
        }
    }
    for (name, r) in &reference.globals {
        if find(&test.globals, name).is_none() {
            out.push(Difference::Global {
                name: name.clone(),
                test: None,
                reference: Some(r.clone()),
            });
        }
    }
    for (name, t) in &test.memories {
        let Some((_, r)) = reference.memories.iter().find(|(n, _)| n == name) else {
            out.push(Difference::MissingExport {
                name: name.clone(),
                kind: "memory",
            });
            continue;
        };
        if t.bytes != r.bytes {
            let first_difference = t
                .bytes
                .iter()
                .zip(&r.bytes)
                .position(|(a, b)| a != b)
                .map(|i| (i, t.bytes[i], r.bytes[i]));
            out.push(Difference::Memory {
                name: name.clone(),
                test_len: t.bytes.len(),
                reference_len: r.bytes.len(),
                test_hash: t.hash(),
                reference_hash: r.hash(),
                first_difference,
            });
        }
    }
    for (name, t) in &test.tables {
        let Some((_, r)) = reference.tables.iter().find(|(n, _)| n == name) else {
            out.push(Difference::MissingExport {
                name: name.clone(),
                kind: "table",
            });
            continue;
        };
        let first_difference = t
            .iter()
            .zip(r)
            .position(|(a, b)| !values_match(a, b))
            .map(|i| (i, t[i].clone(), r[i].clone()));
        if t.len() != r.len() || first_difference.is_some() {
            out.push(Difference::Table {
                name: name.clone(),
                test_len: t.len(),
                reference_len: r.len(),
                first_difference,
            });
        }
    }
    for (kind, names) in [
        (
            "memory",
            reference
                .memories
                .iter()
                .map(|(n, _)| n)
                .filter(|n| !test.memories.iter().any(|(m, _)| m == *n))
                .collect::<Vec<_>>(),
        ),
        (
            "table",
            reference
                .tables
                .iter()
                .map(|(n, _)| n)
                .filter(|n| !test.tables.iter().any(|(m, _)| m == *n))
                .collect::<Vec<_>>(),
        ),
    ] {
        for name in names {
            out.push(Difference::MissingExport {
                name: name.clone(),
                kind,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_nan_matches_any_nan_of_its_type() {
        assert!(values_match(
            &DiffValue::F32(0x7fc0_0000),
            &DiffValue::F32(0xffc0_0001)
        ));
        assert!(values_match(
            &DiffValue::F64(0x7ff8_0000_0000_0000),
            &DiffValue::F64(0xfff4_0000_0000_0000)
        ));
        assert!(!values_match(
            &DiffValue::F32(0x7f80_0000),
            &DiffValue::F32(0x7fc0_0000)
        ));
        assert!(!values_match(
            &DiffValue::F32(0),
            &DiffValue::F32(0x8000_0000)
        ));
        assert!(!values_match(&DiffValue::F32(0), &DiffValue::I32(0)));
    }

    #[test]
    fn v128_lanes_match_as_floats_of_one_shape() {
        let nan32 = 0x7fc0_0000u128;
        let other_nan32 = 0xffc0_0000u128;
        // Lane 1 is a NaN on both sides read as f32x4.
        assert!(values_match(
            &DiffValue::V128(7 | nan32 << 32),
            &DiffValue::V128(7 | other_nan32 << 32)
        ));
        // Lane 0 differs and is no NaN.
        assert!(!values_match(
            &DiffValue::V128(7 | nan32 << 32),
            &DiffValue::V128(8 | nan32 << 32)
        ));
        // The upper f64 lane is a NaN on both sides.
        let nan64 = 0x7ff8_0000_0000_0000u128 << 64;
        let other_nan64 = 0x7ff8_0000_0000_0001u128 << 64;
        assert!(values_match(
            &DiffValue::V128(nan64 | 5),
            &DiffValue::V128(other_nan64 | 5)
        ));
    }
}
