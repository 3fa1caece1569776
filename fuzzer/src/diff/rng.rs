//! The differential fuzzer's pseudo-random numbers: SplitMix64, so a seed and a case number name a case on any machine.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The generator of case `index` of a diff run seeded with `seed`: independent of how cases are spread
    /// over workers.
    pub fn for_case(seed: u64, index: u64) -> Rng {
        let mut mix = Rng::new(seed ^ index.wrapping_mul(0xa076_1d64_78bd_642f));
        Rng::new(mix.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `1..=max`, log-uniform: small numbers are as likely as large ones by order of magnitude.
    pub fn log_uniform(&mut self, max: u64) -> u64 {
        let max = max.max(1);
        let bits = self.below(u64::from(max.ilog2()) + 1);
        (1 + self.below(1 << bits)).min(max)
    }

    /// Fills `bytes` with pseudo-random bytes.
    pub fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}
