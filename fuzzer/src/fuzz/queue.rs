//! The campaign's queue as AFL++ names it: entries named by their history (`id:000012,src:000003,time:1500,
//! execs:2048,op:havoc,+cov`, seeds `id:000000,time:0,execs:0,orig:NAME`).
//!
//! Three pieces of LibAFL carry the history to the file: [`OpStage`] records in the state which stage is running,
//! [`HistoryFeedback`] writes an entry's [`History`] into its testcase (its `append_metadata` runs on the testcase
//! just before the corpus adds it, with the state at hand), and [`QueueCorpus`] names the file as it adds the
//! testcase. The corpus is one of our own, around LibAFL's `InMemoryCorpus`, rather than `InMemoryOnDiskCorpus` with
//! a file name set on the testcase: the clients of one output folder write one queue, and only the corpus can look,
//! under the queue's lock, for an entry holding the same bytes before giving an id, and map the `CorpusId` of the
//! entry being mutated to the id in its file name (see [`OutputDir::add_to_queue`]).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use libafl::corpus::{Corpus, CorpusId, EnableDisableCorpus, InMemoryCorpus, Testcase};
use libafl::executors::ExitKind;
use libafl::feedbacks::{Feedback, MapFeedbackMetadata, StateInitializer};
use libafl::inputs::BytesInput;
use libafl::stages::{Restartable, Stage};
use libafl::state::{HasCorpus, HasExecutions};
use libafl::{Error, HasMetadata, HasNamedMetadata};
use libafl_bolts::Named;
use serde::{Deserialize, Serialize};

use super::output::{EntryOrigin, OutputDir, QueueEntry};

/// A way an entry is made, as AFL++ names it in `op:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// The havoc stage (with dictionary tokens).
    Havoc,
    /// The input-to-state stage, from the cmplog trace's comparison operands.
    I2s,
    /// Received from another client or node.
    Sync,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Havoc => "havoc",
            Op::I2s => "i2s",
            Op::Sync => "sync",
        }
    }
}

/// What makes the entries added at this moment, held in the state's metadata. Without it, entries come from
/// other clients or nodes ([`Op::Sync`]): LibAFL evaluates their inputs after the stages have run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Making {
    /// The seed file of this name is loaded.
    Seed(String),
    /// The queue's file at this path is loaded again, to resume the campaign.
    Resumed(PathBuf),
    /// This stage is running.
    Stage(Op),
}

libafl_bolts::impl_serdeany!(Making);

/// Records in `state` what makes its entries from now on (`None`: inputs received from others).
pub fn set_making<S: HasMetadata>(state: &mut S, making: Option<Making>) {
    match making {
        Some(making) => state.add_metadata(making),
        None => {
            let _ = state.metadata_map_mut().remove::<Making>();
        }
    }
}

/// The history of a queue entry, attached to its testcase by [`HistoryFeedback`] for [`QueueCorpus`] to name its
/// file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum History {
    /// An initial input, from the seed file of this name.
    Seed(String),
    /// The queue's file at this path, loaded again (it is not rewritten).
    Resumed(PathBuf),
    /// Found mutating the entry `parent` (LibAFL's current entry), `time_ms` after the campaign started, when its
    /// client had run `execs` inputs; `cov` when it covered an edge no earlier entry covered.
    Found {
        parent: Option<CorpusId>,
        op: Op,
        time_ms: u64,
        execs: u64,
        cov: bool,
    },
}

libafl_bolts::impl_serdeany!(History);

/// Runs a stage with [`Making::Stage`] recorded in the state, so that the entries it finds carry its `op:`.
#[derive(Debug)]
pub struct OpStage<ST> {
    op: Op,
    inner: ST,
}

impl<ST> OpStage<ST> {
    pub fn new(op: Op, inner: ST) -> Self {
        OpStage { op, inner }
    }
}

impl<E, EM, S, Z, ST> Stage<E, EM, S, Z> for OpStage<ST>
where
    S: HasMetadata,
    ST: Stage<E, EM, S, Z>,
{
    fn perform(
        &mut self,
        fuzzer: &mut Z,
        executor: &mut E,
        state: &mut S,
        manager: &mut EM,
    ) -> Result<(), Error> {
        set_making(state, Some(Making::Stage(self.op)));
        let performed = self.inner.perform(fuzzer, executor, state, manager);
        set_making(state, None);
        performed
    }
}

impl<S, ST: Restartable<S>> Restartable<S> for OpStage<ST> {
    fn should_restart(&mut self, state: &mut S) -> Result<bool, Error> {
        self.inner.should_restart(state)
    }

    fn clear_progress(&mut self, state: &mut S) -> Result<(), Error> {
        self.inner.clear_progress(state)
    }
}

/// The corpus feedback `inner`, which also attaches its [`History`] to each testcase it keeps.
#[derive(Debug)]
pub struct HistoryFeedback<F> {
    inner: F,
    /// Name of the edge map's feedback metadata, whose count of covered edges tells a new edge.
    edges: Cow<'static, str>,
    /// When the campaign started.
    started: Instant,
}

impl<F> HistoryFeedback<F> {
    pub fn new(inner: F, edges: &'static str, started: Instant) -> Self {
        HistoryFeedback {
            inner,
            edges: Cow::Borrowed(edges),
            started,
        }
    }

    fn covered<S: HasNamedMetadata>(&self, state: &S) -> usize {
        state
            .named_metadata::<MapFeedbackMetadata<u8>>(&self.edges)
            .map_or(0, |map| map.num_covered_map_indexes)
    }
}

impl<F: Named> Named for HistoryFeedback<F> {
    fn name(&self) -> &Cow<'static, str> {
        self.inner.name()
    }
}

impl<F: StateInitializer<S>, S> StateInitializer<S> for HistoryFeedback<F> {
    fn init_state(&mut self, state: &mut S) -> Result<(), Error> {
        self.inner.init_state(state)
    }
}

impl<EM, I, OT, S, F> Feedback<EM, I, OT, S> for HistoryFeedback<F>
where
    F: Feedback<EM, I, OT, S>,
    S: HasMetadata + HasNamedMetadata + HasCorpus<I> + HasExecutions,
{
    fn is_interesting(
        &mut self,
        state: &mut S,
        manager: &mut EM,
        input: &I,
        observers: &OT,
        exit_kind: &ExitKind,
    ) -> Result<bool, Error> {
        self.inner
            .is_interesting(state, manager, input, observers, exit_kind)
    }

    fn append_metadata(
        &mut self,
        state: &mut S,
        manager: &mut EM,
        observers: &OT,
        testcase: &mut Testcase<I>,
    ) -> Result<(), Error> {
        // The map feedback adds the entry's edges to the history of the map here: the count of covered edges grows
        // with an edge never covered, not with a new hit-count class of one covered before.
        let before = self.covered(state);
        self.inner
            .append_metadata(state, manager, observers, testcase)?;
        let cov = self.covered(state) > before;
        let found = |op| History::Found {
            parent: *state.corpus().current(),
            op,
            time_ms: self.started.elapsed().as_millis() as u64,
            execs: *state.executions(),
            cov,
        };
        let history = match state.metadata::<Making>() {
            Ok(Making::Seed(name)) => History::Seed(name.clone()),
            Ok(Making::Resumed(path)) => History::Resumed(path.clone()),
            Ok(Making::Stage(op)) => found(*op),
            Err(_) => found(Op::Sync),
        };
        testcase.add_metadata(history);
        Ok(())
    }
}

/// The campaign's corpus: every entry in memory, and in a file of the output folder's queue named by its
/// [`History`] (an input already there, from another client or before a resume, is not written again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueCorpus {
    inner: InMemoryCorpus<BytesInput>,
    output: OutputDir,
    /// The id in the file name of each entry that has one.
    file_ids: HashMap<CorpusId, u32>,
}

impl QueueCorpus {
    pub fn new(output: OutputDir) -> Self {
        QueueCorpus {
            inner: InMemoryCorpus::new(),
            output,
            file_ids: HashMap::new(),
        }
    }

    /// Writes (or finds) the file of `testcase`, named by its history.
    fn save(&self, testcase: &mut Testcase<BytesInput>) -> Result<Option<u32>, Error> {
        let history = testcase.metadata::<History>()?.clone();
        let input = testcase
            .input()
            .as_ref()
            .ok_or_else(|| Error::illegal_argument("a queue entry without its input"))?;
        let bytes: &[u8] = input.as_ref();
        let entry: std::io::Result<QueueEntry> = match &history {
            History::Resumed(path) => self.output.known_queue_entry(path, bytes),
            History::Seed(name) => self.output.add_to_queue(bytes, &EntryOrigin::Seed { name }),
            History::Found {
                parent,
                op,
                time_ms,
                execs,
                cov,
            } => self.output.add_to_queue(
                bytes,
                &EntryOrigin::Found {
                    src: parent.and_then(|parent| self.file_ids.get(&parent).copied()),
                    time_ms: *time_ms,
                    execs: *execs,
                    op: op.name(),
                    cov: *cov,
                },
            ),
        };
        let entry = entry.map_err(|e| Error::os_error(e, "cannot add an input to the queue"))?;
        *testcase.filename_mut() = entry
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        *testcase.file_path_mut() = Some(entry.path);
        Ok(entry.id)
    }
}

impl Corpus<BytesInput> for QueueCorpus {
    fn count(&self) -> usize {
        self.inner.count()
    }

    fn count_disabled(&self) -> usize {
        self.inner.count_disabled()
    }

    fn count_all(&self) -> usize {
        self.inner.count_all()
    }

    fn add(&mut self, mut testcase: Testcase<BytesInput>) -> Result<CorpusId, Error> {
        let file_id = self.save(&mut testcase)?;
        let id = self.inner.add(testcase)?;
        if let Some(file_id) = file_id {
            self.file_ids.insert(id, file_id);
        }
        Ok(id)
    }

    /// Adds a disabled entry, in memory only: it is no input of the queue.
    fn add_disabled(&mut self, testcase: Testcase<BytesInput>) -> Result<CorpusId, Error> {
        self.inner.add_disabled(testcase)
    }

    /// Replaces an entry in memory; its file stays (the queue only grows).
    fn replace(
        &mut self,
        id: CorpusId,
        testcase: Testcase<BytesInput>,
    ) -> Result<Testcase<BytesInput>, Error> {
        self.inner.replace(id, testcase)
    }

    /// Removes an entry from memory; its file stays (the queue only grows).
    fn remove(&mut self, id: CorpusId) -> Result<Testcase<BytesInput>, Error> {
        self.file_ids.remove(&id);
        self.inner.remove(id)
    }

    fn get(&self, id: CorpusId) -> Result<&RefCell<Testcase<BytesInput>>, Error> {
        self.inner.get(id)
    }

    fn get_from_all(&self, id: CorpusId) -> Result<&RefCell<Testcase<BytesInput>>, Error> {
        self.inner.get_from_all(id)
    }

    fn current(&self) -> &Option<CorpusId> {
        self.inner.current()
    }

    fn current_mut(&mut self) -> &mut Option<CorpusId> {
        self.inner.current_mut()
    }

    fn next(&self, id: CorpusId) -> Option<CorpusId> {
        self.inner.next(id)
    }

    fn peek_free_id(&self) -> CorpusId {
        self.inner.peek_free_id()
    }

    fn prev(&self, id: CorpusId) -> Option<CorpusId> {
        self.inner.prev(id)
    }

    fn first(&self) -> Option<CorpusId> {
        self.inner.first()
    }

    fn last(&self) -> Option<CorpusId> {
        self.inner.last()
    }

    fn nth(&self, nth: usize) -> CorpusId {
        self.inner.nth(nth)
    }

    fn nth_from_all(&self, nth: usize) -> CorpusId {
        self.inner.nth_from_all(nth)
    }

    fn load_input_into(&self, testcase: &mut Testcase<BytesInput>) -> Result<(), Error> {
        self.inner.load_input_into(testcase)
    }

    fn store_input_from(&self, testcase: &Testcase<BytesInput>) -> Result<(), Error> {
        self.inner.store_input_from(testcase)
    }
}

/// Disabling or enabling an entry changes it in memory; its file stays.
impl EnableDisableCorpus for QueueCorpus {
    fn disable(&mut self, id: CorpusId) -> Result<(), Error> {
        self.inner.disable(id)
    }

    fn enable(&mut self, id: CorpusId) -> Result<(), Error> {
        self.inner.enable(id)
    }
}
