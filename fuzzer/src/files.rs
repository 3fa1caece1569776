//! Files as capicola writes them: every file it may read back later (snapshots, campaign outputs, minimized inputs) is written atomically, so that a reader or a run stopped in any way sees the old contents or the new ones, never a part.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` so that `path` holds either its old contents or all of `bytes`, never a part: they
/// go to a temporary file beside it, which is flushed to disk and renamed over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            // Best effort: the temporary file is of no use to anyone.
            let _ = std::fs::remove_file(&temp);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_the_whole_file_and_leave_no_temporary_file() {
        let dir = temp_dir();
        let path = dir.join("run.snap");
        write_atomically(&path, b"first").expect("writes");
        write_atomically(&path, b"second, longer").expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["run.snap"]);
        let missing = dir.join("no-such-folder").join("run.snap");
        assert!(write_atomically(&missing, b"x").is_err());
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    /// A fresh folder under the system's temporary folder.
    fn temp_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "capicola-files-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder can be made");
        dir
    }
}
