//! The output directory of a campaign: `settings`, `queue/`, `crashes/`, `timeouts/`, `engine-bugs/`, `stats` and AFL++'s `fuzzer_stats` and `plot_data` (and a campaign's stop request), every file written atomically so that a killed campaign loses nothing it had written.

use crate::files::write_atomically;
use std::path::{Path, PathBuf};

use super::FuzzError;
use super::settings::{self, Settings};
use super::target::{FindingClass, Signature};

/// The folders and files of one campaign.
#[derive(Debug, Clone)]
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
}
