//! The output directory of a campaign: `settings`, `queue/`, `crashes/`, `timeouts/`, `engine-bugs/`, `stats` and AFL++'s `fuzzer_stats` and `plot_data` (and a campaign's stop request), every file written atomically so that a killed campaign loses nothing it had written.

use crate::files::write_atomically;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::FuzzError;
use super::settings::{self, Settings};
use super::target::{FindingClass, Signature};

/// The folders and files of one campaign.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputDir {
    root: PathBuf,
}

/// The regular, non-hidden files of a folder, sorted by name (missing folder: none).
pub fn input_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type()?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

impl OutputDir {
    /// Creates the folders. Without `resume`, a folder that already holds a campaign is refused.
    pub fn create(root: &Path, resume: bool) -> Result<OutputDir, FuzzError> {
        let out = OutputDir {
            root: root.to_path_buf(),
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FuzzError::Io { path, source }
        };
        if !resume {
            let queue = out.queue();
            let used = input_files(&queue).map_err(io(&queue))?;
            if !used.is_empty() {
                return Err(FuzzError::OutputInUse(root.to_path_buf()));
            }
        }
        for dir in [
            out.queue(),
            out.dir(FindingClass::Crash),
            out.dir(FindingClass::Timeout),
            out.dir(FindingClass::OutOfMemory),
            out.dir(FindingClass::EngineBug),
        ] {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        Ok(out)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Inputs that reached new coverage.
    pub fn queue(&self) -> PathBuf {
        self.root.join("queue")
    }

    /// What decides a run of an input of the campaign ([`Settings`]).
    pub fn settings(&self) -> PathBuf {
        self.root.join(settings::FILE_NAME)
    }

    /// Records the campaign's settings (a resumed campaign records its own).
    pub fn write_settings(&self, settings: &Settings) -> Result<(), FuzzError> {
        let path = self.settings();
        write_atomically(&path, settings.to_text().as_bytes())
            .map_err(|source| FuzzError::Io { path, source })
    }

    /// The campaign's statistics, rewritten as it goes.
    pub fn stats(&self) -> PathBuf {
        self.root.join("stats")
    }

    /// The campaign's statistics as AFL++ writes them (`key : value`), rewritten as it goes.
    pub fn fuzzer_stats(&self) -> PathBuf {
        self.root.join("fuzzer_stats")
    }

    /// AFL++'s history of the campaign's numbers, one line added every few seconds.
    pub fn plot_data(&self) -> PathBuf {
        self.root.join("plot_data")
    }

    /// Where the clients of a multi-core campaign write what they print while the dashboard holds the terminal.
    pub fn clients_log(&self) -> PathBuf {
        self.root.join("clients.log")
    }

    /// The stop request: while this file exists, the campaign's clients (in this process or others) stop as a
    /// spent budget stops them.
    fn stop_file(&self) -> PathBuf {
        self.root.join(".stop")
    }

    /// Asks the campaign writing here to stop.
    pub fn request_stop(&self) -> std::io::Result<()> {
        write_atomically(&self.stop_file(), b"")
    }

    pub fn stop_requested(&self) -> bool {
        self.stop_file().exists()
    }

    /// Withdraws a stop request (one left by an earlier campaign, or the one that ended this one).
    pub fn clear_stop_request(&self) -> Result<(), FuzzError> {
        let path = self.stop_file();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(FuzzError::Io { path, source: e })
            }
            _ => Ok(()),
        }
    }

    /// Where findings of a class go.
    pub fn dir(&self, class: FindingClass) -> PathBuf {
        self.root.join(match class {
            FindingClass::Crash => "crashes",
            FindingClass::Timeout => "timeouts",
            FindingClass::OutOfMemory => "ooms",
            FindingClass::EngineBug => "engine-bugs",
        })
    }

    /// Saves `input` as the finding for `signature` unless one is already there (found earlier, before a resume or
    /// by another core). Returns whether it was new. `detail` (the trap and backtrace) goes beside it in `.txt`.
    pub fn save_finding(
        &self,
        signature: &Signature,
        input: &[u8],
        detail: &str,
    ) -> std::io::Result<bool> {
        let dir = self.dir(signature.class);
        let path = dir.join(signature.file_name());
        if path.exists() {
            return Ok(false);
        }
        let notes = dir.join(format!(".{}.txt", signature.file_name()));
        write_atomically(&notes, detail.as_bytes())?;
        write_atomically(&path, input)?;
        Ok(true)
    }

    /// Number of findings of a class on disk.
    pub fn count(&self, class: FindingClass) -> usize {
        input_files(&self.dir(class)).map_or(0, |files| files.len())
    }

    /// Where the number of inputs that hit the finding `name` of `dir` is kept: decimal digits and a line break.
    fn hits_file(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!(".{name}.count"))
    }

    /// Adds `inputs` to the inputs that hit the finding `signature`, atomically, under a lock on its folder (the
    /// clients of a multi-core campaign count into the same files).
    pub fn add_hits(&self, signature: &Signature, inputs: u64) -> std::io::Result<()> {
        let dir = self.dir(signature.class);
        let lock = std::fs::File::open(&dir)?;
        lock.lock()?;
        let path = Self::hits_file(&dir, &signature.file_name());
        let before = read_hits(&path).unwrap_or(0);
        let result = write_atomically(&path, format!("{}\n", before + inputs).as_bytes());
        lock.unlock()?;
        result
    }

    /// The findings of a class on disk, and how many inputs hit them (a finding whose count is missing, as in a
    /// folder written before counts were kept, counts one).
    pub fn tally(&self, class: FindingClass) -> Tally {
        let dir = self.dir(class);
        let files = input_files(&dir).unwrap_or_default();
        let inputs = files
            .iter()
            .filter_map(|file| file.file_name())
            .map(|name| read_hits(&Self::hits_file(&dir, &name.to_string_lossy())).unwrap_or(1))
            .sum();
        Tally {
            unique: files.len(),
            inputs,
        }
    }
}

/// The lock file of the queue: whoever adds an entry holds it (the clients of one output folder write one queue).
const QUEUE_LOCK: &str = ".lock";
/// The file holding the id the next queue entry takes (decimal digits and a line break).
const QUEUE_NEXT_ID: &str = ".next-id";
/// The folder of the queue's content markers: one file per CRC32C of entries' bytes (8 hex digits), listing the
/// names of the entries with that checksum, a line each.
const QUEUE_SEEN: &str = ".seen";
/// Longest seed name kept in an entry's `orig:` (bytes), which keeps the whole name under the 255 bytes of a file name.
const ORIG_MAX: usize = 200;

/// How a queue entry came to be: the history its AFL++-style name carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryOrigin<'a> {
    /// An initial input, read from the seed file named `name`.
    Seed { name: &'a str },
    /// Found mutating entry `src` (its id; `None` for an entry of a queue written before entries had ids),
    /// `time_ms` after the campaign started, when its client had run `execs` inputs, by the stage `op`; `cov` when
    /// it covered an edge no earlier entry covered.
    Found {
        src: Option<u32>,
        time_ms: u64,
        execs: u64,
        op: &'a str,
        cov: bool,
    },
}

impl EntryOrigin<'_> {
    /// The entry's file name with id `id`, as AFL++ names it: `id:000000,time:0,execs:0,orig:NAME` for a seed
    /// (`/` and `,` of its name replaced by `_`), `id:000012,src:000003,time:1500,execs:2048,op:havoc,+cov` for an
    /// input found.
    pub fn file_name(&self, id: u32) -> String {
        match *self {
            EntryOrigin::Seed { name } => {
                let mut orig: String = name
                    .chars()
                    .map(|c| if c == '/' || c == ',' { '_' } else { c })
                    .collect();
                if orig.len() > ORIG_MAX {
                    let cut = (0..=ORIG_MAX)
                        .rev()
                        .find(|&i| orig.is_char_boundary(i))
                        .unwrap_or(0);
                    orig.truncate(cut);
                }
                format!("id:{id:06},time:0,execs:0,orig:{orig}")
            }
            EntryOrigin::Found {
                src,
                time_ms,
                execs,
                op,
                cov,
            } => {
                let src = src.map_or(String::new(), |src| format!(",src:{src:06}"));
                let cov = if cov { ",+cov" } else { "" };
                format!("id:{id:06}{src},time:{time_ms},execs:{execs},op:{op}{cov}")
            }
        }
    }
}

/// The id of a queue entry named as AFL++ names them (`id:000012,...`).
pub fn queue_id(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("id:")?;
    let digits = digits.split(',').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// An entry of the queue: its id (`None` for an entry named before entries had ids) and its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: Option<u32>,
    pub path: PathBuf,
}

impl OutputDir {
    /// Adds `input` to the queue under its AFL++-style name, unless an entry with the same bytes is there already
    /// (added by another client of the campaign, or before a resume): the queue holds each input once. Returns the
    /// entry that holds `input`. The queue's lock is held throughout, so that ids are unique across the clients.
    pub fn add_to_queue(&self, input: &[u8], origin: &EntryOrigin) -> std::io::Result<QueueEntry> {
        let queue = self.queue();
        let _lock = lock_queue(&queue)?;
        let marker = queue_marker(&queue, input);
        let names = read_marker(&marker)?;
        if let Some(entry) = same_entry(&queue, &names, input) {
            return Ok(entry);
        }
        let id = next_queue_id(&queue)?;
        // The counter first: an entry written by a campaign killed before the counter would see its id reused.
        write_atomically(
            &queue.join(QUEUE_NEXT_ID),
            format!("{}\n", id + 1).as_bytes(),
        )?;
        let name = origin.file_name(id);
        let path = queue.join(&name);
        write_atomically(&path, input)?;
        write_marker(&marker, &names, &name)?;
        Ok(QueueEntry { id: Some(id), path })
    }

    /// Records `path`, an entry of the queue loaded again to resume the campaign, as holding `input`, without
    /// rewriting it, and returns its id (taken from its name).
    pub fn known_queue_entry(&self, path: &Path, input: &[u8]) -> std::io::Result<QueueEntry> {
        let queue = self.queue();
        let _lock = lock_queue(&queue)?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let marker = queue_marker(&queue, input);
        let names = read_marker(&marker)?;
        if !names.contains(&name) {
            write_marker(&marker, &names, &name)?;
        }
        Ok(QueueEntry {
            id: queue_id(&name),
            path: path.to_path_buf(),
        })
    }
}

/// Takes the queue's lock, released when the file returned is dropped.
fn lock_queue(queue: &Path) -> std::io::Result<std::fs::File> {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(queue.join(QUEUE_LOCK))?;
    lock.lock()?;
    Ok(lock)
}

/// The content marker of `input`'s checksum.
fn queue_marker(queue: &Path, input: &[u8]) -> PathBuf {
    queue
        .join(QUEUE_SEEN)
        .join(format!("{:08x}", crc32c::crc32c(input)))
}

/// The entry names a content marker lists (none if it is missing).
fn read_marker(marker: &Path) -> std::io::Result<Vec<String>> {
    match std::fs::read_to_string(marker) {
        Ok(text) => Ok(text.lines().map(str::to_string).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Rewrites a content marker listing `names` to list `name` too.
fn write_marker(marker: &Path, names: &[String], name: &str) -> std::io::Result<()> {
    if let Some(dir) = marker.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = String::new();
    for listed in names.iter().map(String::as_str).chain([name]) {
        text.push_str(listed);
        text.push('\n');
    }
    write_atomically(marker, text.as_bytes())
}

/// The entry among `names` (those of one checksum) that holds exactly `input`, if one does.
fn same_entry(queue: &Path, names: &[String], input: &[u8]) -> Option<QueueEntry> {
    names.iter().find_map(|name| {
        let path = queue.join(name);
        let held = std::fs::read(&path).ok()?;
        (held == input).then(|| QueueEntry {
            id: queue_id(name),
            path,
        })
    })
}

/// The id the next queue entry takes: the counter's, or (for a queue without one) one past the highest id of the
/// entries there.
fn next_queue_id(queue: &Path) -> std::io::Result<u32> {
    let counted = std::fs::read_to_string(queue.join(QUEUE_NEXT_ID))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    if let Some(id) = counted {
        return Ok(id);
    }
    let highest = input_files(queue)?
        .iter()
        .filter_map(|path| queue_id(&path.file_name()?.to_string_lossy()))
        .max();
    Ok(highest.map_or(0, |id| id + 1))
}

/// The findings of one class: distinct ones (one file each) and the inputs that hit them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub unique: usize,
    pub inputs: u64,
}

impl std::fmt::Display for Tally {
    /// `3 (41 inputs)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} inputs)", self.unique, self.inputs)
    }
}

/// The count of a hits file, if it holds one.
fn read_hits(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_request_lasts_until_withdrawn_and_is_no_input() {
        let work = tempfile::tempdir().expect("temporary folder");
        let output = OutputDir::create(work.path(), false).expect("output folder");
        assert!(!output.stop_requested());
        output.request_stop().expect("request written");
        assert!(output.stop_requested());
        // It is no input of the campaign, and does not make the folder look used.
        assert!(input_files(output.root()).expect("listed").is_empty());
        OutputDir::create(work.path(), false).expect("still a fresh folder");
        output.clear_stop_request().expect("withdrawn");
        output
            .clear_stop_request()
            .expect("withdrawing twice is fine");
        assert!(!output.stop_requested());
    }

    #[test]
    fn queue_entries_take_increasing_ids_and_each_input_is_held_once() {
        let work = tempfile::tempdir().expect("temporary folder");
        let output = OutputDir::create(work.path(), false).expect("output folder");
        let seed = output
            .add_to_queue(b"a", &EntryOrigin::Seed { name: "dir,x/y" })
            .expect("added");
        assert_eq!(seed.id, Some(0));
        assert_eq!(
            seed.path.file_name().expect("named"),
            "id:000000,time:0,execs:0,orig:dir_x_y"
        );
        let found = EntryOrigin::Found {
            src: Some(0),
            time_ms: 15,
            execs: 7,
            op: "havoc",
            cov: true,
        };
        let entry = output.add_to_queue(b"b", &found).expect("added");
        assert_eq!(
            entry.path.file_name().expect("named"),
            "id:000001,src:000000,time:15,execs:7,op:havoc,+cov"
        );
        // The same bytes again: the entry that holds them.
        assert_eq!(output.add_to_queue(b"a", &found).expect("found"), seed);
        assert_eq!(input_files(&output.queue()).expect("listed").len(), 2);
        // An entry loaded again keeps its name and id.
        let known = output.known_queue_entry(&entry.path, b"b").expect("known");
        assert_eq!(known, entry);
        assert_eq!(queue_id("id:000042,src:000001"), Some(42));
        assert_eq!(queue_id("0123abcd"), None);
    }
}
