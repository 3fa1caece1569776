//! Minimization: shrinking one failing input while it keeps failing the same way (`tmin`), and shrinking a corpus while it keeps its coverage (`cmin`).

use std::collections::{BTreeMap, BTreeSet};

use super::target::{InputOutcome, Target};

/// What `tmin` did.
#[derive(Debug, Clone)]
pub struct TminReport {
    /// The smallest input found that fails like the original.
    pub input: Vec<u8>,
    /// The failure of the result (the same as the original's, by [`InputOutcome::same_failure`]).
    pub outcome: InputOutcome,
    /// Inputs run.
    pub execs: u64,
}

/// Why an input cannot be minimized.
#[derive(Debug, thiserror::Error)]
pub enum MinimizeError {
    #[error("the input does not fail: it ran to the end ({0})")]
    NotFailing(String),
}

/// Shrinks `input` while it is the same finding (its signature under the target's `dedup_frames`), or with
/// `same_backtrace` while it fails with the same trap and whole backtrace (or the same out-of-fuel stack): removes
/// blocks of halving sizes, then replaces bytes with `'0'` and with zero, until a pass changes nothing or
/// `max_execs` runs were made. Deterministic.
pub fn tmin(
    target: &mut Target,
    input: &[u8],
    max_execs: u64,
    same_backtrace: bool,
) -> Result<TminReport, MinimizeError> {
    let want = target.run(input);
    if let InputOutcome::Ok { exit_code } = want {
        return Err(MinimizeError::NotFailing(format!("exit code {exit_code}")));
    }
    let mut execs = 1;
    let mut current = input.to_vec();
    let frames = target.options().dedup_frames;
    let identity = want.signature(target.module(), frames);
    let mut fails = |candidate: &[u8], execs: &mut u64| {
        *execs += 1;
        let outcome = target.run(candidate);
        if same_backtrace {
            outcome.same_failure(&want)
        } else {
            outcome.signature(target.module(), frames) == identity
        }
    };
    loop {
        let before = current.clone();
        // Block removal, from half the input down to single bytes.
        let mut block = current.len().next_power_of_two() / 2;
        while block >= 1 && execs < max_execs {
            let mut at = 0;
            while at < current.len() && execs < max_execs {
                let end = (at + block).min(current.len());
                let candidate = [&current[..at], &current[end..]].concat();
                if fails(&candidate, &mut execs) {
                    current = candidate;
                } else {
                    at += block;
                }
            }
            block /= 2;
        }
        // Byte simplification: the plainest byte that keeps the failure.
        for at in 0..current.len() {
            for plain in [b'0', 0] {
                if execs >= max_execs || current[at] == plain {
                    break;
                }
                let mut candidate = current.clone();
                candidate[at] = plain;
                if fails(&candidate, &mut execs) {
                    current = candidate;
                    break;
                }
            }
        }
        if current == before || execs >= max_execs {
            break;
        }
    }
    // The outcome of the minimized input itself: a sanitizer finding's addresses and sizes are its own.
    let outcome = if current == input {
        want
    } else {
        execs += 1;
        target.run(&current)
    };
    Ok(TminReport {
        input: current,
        outcome,
        execs,
    })
}

/// AFL's hit-count classes: 0, 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.
pub fn bucket(count: u8) -> u8 {
    match count {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        128..=255 => 128,
    }
}

/// The coverage features of one run: (edge, hit-count class) pairs.
pub fn features(target: &mut Target, input: &[u8]) -> (InputOutcome, BTreeSet<(u32, u8)>) {
    target.clear_coverage();
    let outcome = target.run(input);
    let features = target
        .coverage()
        .iter()
        .enumerate()
        .filter(|(_, count)| **count != 0)
        .map(|(edge, count)| (edge as u32, bucket(*count)))
        .collect();
    (outcome, features)
}

/// What `cmin` kept.
#[derive(Debug, Clone)]
pub struct CminReport {
    /// Indices (into the given inputs) of the inputs kept, in input order.
    pub kept: Vec<usize>,
    /// Indices of inputs left out because they crash or time out.
    pub failing: Vec<usize>,
    /// (edge, hit-count class) features covered by all passing inputs, and so by the kept ones.
    pub features: usize,
    /// Edges covered by all passing inputs.
    pub edges: usize,
}

/// Picks a subset of `inputs` that covers every (edge, hit-count class) the passing inputs cover, as afl-cmin does:
/// each feature's best input is the smallest that has it; going from the rarest feature to the commonest, the best
/// input of every feature not yet covered is kept. Failing inputs are left out.
pub fn cmin(target: &mut Target, inputs: &[Vec<u8>]) -> CminReport {
    let mut failing = Vec::new();
    let mut runs: Vec<(usize, BTreeSet<(u32, u8)>)> = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let (outcome, features) = features(target, input);
        if matches!(outcome, InputOutcome::Ok { .. }) {
            runs.push((index, features));
        } else {
            failing.push(index);
        }
    }
    runs.sort_by_key(|(index, _)| (inputs[*index].len(), *index));
    let mut best: BTreeMap<(u32, u8), usize> = BTreeMap::new();
    let mut frequency: BTreeMap<(u32, u8), usize> = BTreeMap::new();
    for (slot, (_, features)) in runs.iter().enumerate() {
        for &feature in features {
            best.entry(feature).or_insert(slot);
            *frequency.entry(feature).or_default() += 1;
        }
    }
    let mut order: Vec<(usize, (u32, u8))> = frequency.iter().map(|(f, n)| (*n, *f)).collect();
    order.sort();
    let mut covered: BTreeSet<(u32, u8)> = BTreeSet::new();
    let mut kept = BTreeSet::new();
    for (_, feature) in order {
        if covered.contains(&feature) {
            continue;
        }
        let slot = best[&feature];
        kept.insert(runs[slot].0);
        covered.extend(runs[slot].1.iter().copied());
    }
    let edges = best
        .keys()
        .map(|(edge, _)| *edge)
        .collect::<BTreeSet<_>>()
        .len();
    CminReport {
        kept: kept.into_iter().collect(),
        failing,
        features: best.len(),
        edges,
    }
}
