//! Files as capicola writes and reads them back: every file it may read back later (snapshots, campaign outputs, minimized inputs) is written atomically, so that a reader or a run stopped in any way sees the old contents or the new ones, never a part; it is read back only up to a limit, and files of its own without a format of their own carry a checksum.

use std::io::{Read, Write};
use std::path::Path;

/// Reads a whole file of at most `limit` bytes. The file is looked at before it is read: anything but a regular
/// file (a device like `/dev/zero`, a pipe, a folder) and a file longer than `limit` are errors, and a file that
/// grows while it is read past `limit` too; nothing longer than `limit` is ever held in memory.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    // `metadata` before `open`: opening a named pipe would wait for a writer.
    check_regular(&std::fs::metadata(path)?, limit)?;
    let file = std::fs::File::open(path)?;
    let len = check_regular(&file.metadata()?, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(over_limit(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

/// The length of a regular file of at most `limit` bytes; an error for anything else.
fn check_regular(metadata: &std::fs::Metadata, limit: u64) -> std::io::Result<u64> {
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if metadata.len() > limit {
        return Err(over_limit(metadata.len(), limit));
    }
    Ok(metadata.len())
}

fn over_limit(len: u64, limit: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("{len} bytes or more, over the limit of {limit} bytes for this kind of file"),
    )
}

/// The line that ends a checked file: this prefix, the CRC32C of the bytes before the line in 8 hex digits, `\n`.
const CHECKSUM_PREFIX: &[u8] = b"crc32c ";

/// Bytes of the checksum line.
const CHECKSUM_LINE_BYTES: usize = CHECKSUM_PREFIX.len() + 8 + 1;

/// Writes `bytes` atomically (see [`write_atomically`]) followed by a line holding their CRC32C, for files capicola
/// reads back with [`read_checked`].
pub fn write_checked(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut checked = Vec::with_capacity(bytes.len() + CHECKSUM_LINE_BYTES);
    checked.extend_from_slice(bytes);
    checked.extend_from_slice(CHECKSUM_PREFIX);
    checked.extend_from_slice(format!("{:08x}\n", crc32c::crc32c(bytes)).as_bytes());
    write_atomically(path, &checked)
}

/// Reads a file written by [`write_checked`] (up to `limit` bytes, see [`read_bounded`]) and returns its bytes
/// without the checksum line; a file without that line or whose bytes do not match it is an `InvalidData` error.
pub fn read_checked(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = read_bounded(path, limit.saturating_add(CHECKSUM_LINE_BYTES as u64))?;
    let damaged = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let Some(line_at) = bytes.len().checked_sub(CHECKSUM_LINE_BYTES) else {
        return Err(damaged(format!(
            "damaged: {} bytes, too short for the checksum line",
            bytes.len()
        )));
    };
    let line = &bytes[line_at..];
    let stored = line
        .strip_prefix(CHECKSUM_PREFIX)
        .and_then(|rest| rest.strip_suffix(b"\n"))
        // Lower-case digits only: a flipped case bit must not read as the same checksum.
        .filter(|hex| hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or_else(|| damaged("damaged: the checksum line is missing or malformed".to_string()))?;
    let computed = crc32c::crc32c(&bytes[..line_at]);
    if stored != computed {
        return Err(damaged(format!(
            "damaged: checksum mismatch (stored {stored:08x}, computed {computed:08x})"
        )));
    }
    bytes.truncate(line_at);
    Ok(bytes)
}

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

    #[test]
    fn bounded_reads_refuse_devices_folders_and_long_files() {
        let dir = temp_dir();
        let path = dir.join("run.snap");
        write_atomically(&path, b"0123456789").expect("writes");
        assert_eq!(
            read_bounded(&path, 10).expect("at the limit"),
            b"0123456789"
        );
        let error = read_bounded(&path, 9).expect_err("over the limit");
        assert_eq!(error.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(error.to_string().contains("limit of 9 bytes"), "{error}");
        for other in [Path::new("/dev/zero"), dir.as_path()] {
            let error = read_bounded(other, 1 << 20).expect_err("not a regular file");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{other:?}");
            assert_eq!(error.to_string(), "not a regular file");
        }
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    #[test]
    fn checked_files_read_back_as_written_and_any_damage_is_refused() {
        let dir = temp_dir();
        let path = dir.join("numbers");
        write_checked(&path, b"12 3 40 5\n").expect("writes");
        assert_eq!(read_checked(&path, 64).expect("reads"), b"12 3 40 5\n");
        let good = std::fs::read(&path).expect("reads");
        let mut damaged = Vec::new();
        for at in 0..good.len() {
            for bit in 0..8 {
                let mut bytes = good.clone();
                bytes[at] ^= 1 << bit;
                damaged.push(bytes);
            }
        }
        damaged.extend((0..good.len()).map(|len| good[..len].to_vec()));
        damaged.push([good.as_slice(), b"more"].concat());
        for bytes in damaged {
            std::fs::write(&path, &bytes).expect("writes");
            let error = read_checked(&path, 64).expect_err("damaged");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{bytes:?}");
            assert!(error.to_string().starts_with("damaged: "), "{error}");
        }
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
