//! What makes a module a fuzz target and what it is loaded with: the libFuzzer entry points it exports, and the hooks the engine compiles into its code.

/// The libFuzzer entry point.
pub const TEST_ONE_INPUT: &str = "LLVMFuzzerTestOneInput";
/// The optional libFuzzer initialization function.
pub const INITIALIZE: &str = "LLVMFuzzerInitialize";

/// Which hooks the engine compiles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrumentation {
    /// Edge hit counts.
    pub coverage: bool,
    /// Comparison operands.
    pub cmplog: bool,
    /// The sanitizer's checks of linear memory (`Config::sanitize`).
    pub sanitize: bool,
    /// With `sanitize`: heap blocks an input allocated and did not free make it a crash (a `memory-leak` finding).
    pub detect_leaks: bool,
}
