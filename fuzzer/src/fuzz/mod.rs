//! Coverage-guided fuzzing of Wasm targets: a target booted once and reset to that snapshot for every input, driven by LibAFL, plus replay and minimization of what it finds.
//!
//! LibAFL's type parameters stay in [`executor`], [`observers`] and [`queue`] (and the pipeline in [`campaign`] that wires
//! them); [`target`], [`harness`], [`sanitizer`], [`minimize`], [`dict`], [`output`], [`afl`] and [`dashboard`]
//! know nothing of LibAFL.

pub mod afl;
pub mod campaign;
pub mod dashboard;
pub mod dict;
pub mod executor;
pub mod harness;
pub mod minimize;
pub mod monitor;
pub mod node;
pub mod observers;
pub mod output;
pub mod queue;
pub mod sanitizer;
pub mod settings;
pub mod stats;
pub mod target;

pub use campaign::{CampaignOptions, Summary};
pub use harness::Instrumentation;
pub use sanitizer::{SanitizeRequest, SanitizerChoice, Symbols};
pub use target::{
    DEDUP_FRAMES, HarnessKind, InputOutcome, Target, TargetError, TargetOptions, TimeoutCause,
};

/// What can go wrong running a campaign (a crash of the target is a finding, not this).
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// The target could not be loaded or booted.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A dictionary file is unreadable or malformed.
    #[error(transparent)]
    Dict(#[from] dict::DictError),
    /// A file or folder of the campaign could not be used. The OS error is the source, not part of the message:
    /// error reports print each cause once.
    #[error("cannot use {path}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The output folder already holds a campaign.
    #[error(
        "{0} already holds a campaign: pass --resume to continue it, or choose another output folder"
    )]
    OutputInUse(std::path::PathBuf),
    /// More cores asked for than this process may run on.
    #[error(
        "-j {jobs}: only {cores} core(s) are available to this process, and each client needs one of its own (use -j {cores} or fewer)"
    )]
    TooManyJobs { jobs: usize, cores: usize },
    /// A broker address the campaign's own clients could not reach (they connect to 127.0.0.1).
    #[error(
        "--listen {0}: the broker listens on the loopback interface (127.0.0.1) or on every interface (0.0.0.0, ::), where its local clients reach it"
    )]
    BrokerAddress(std::net::SocketAddr),
    /// LibAFL failed; its message is the whole report (LibAFL's errors name no source of their own).
    #[error("fuzzer: {0}")]
    LibAfl(libafl::Error),
}

impl From<libafl::Error> for FuzzError {
    fn from(error: libafl::Error) -> Self {
        FuzzError::LibAfl(error)
    }
}
