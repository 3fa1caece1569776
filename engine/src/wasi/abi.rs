//! The `wasi_snapshot_preview1` ABI: the 46 functions with their Wasm signatures, and the numeric values and struct layouts they exchange with the guest; and where preview 0 (`wasi_unstable`) differs from it.

use crate::ValType;

/// Declares every function once: its enum variant, import name and parameter types (all return one `i32` errno,
/// except `proc_exit`, which returns nothing).
macro_rules! wasi_funcs {
    ($($variant:ident = $name:literal ($($param:ident),*);)*) => {
        /// One `wasi_snapshot_preview1` function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum WasiFunc {
            $($variant,)*
        }

        impl WasiFunc {
            /// Every function, in host-id order.
            pub const ALL: &'static [WasiFunc] = &[$(WasiFunc::$variant,)*];

            /// The import name.
            pub fn name(self) -> &'static str {
                match self {
                    $(WasiFunc::$variant => $name,)*
                }
            }

            /// The parameter types.
            pub fn params(self) -> &'static [ValType] {
                match self {
                    $(WasiFunc::$variant => &[$(ValType::$param),*],)*
                }
            }
        }
    };
}

wasi_funcs! {
    ArgsGet = "args_get"(I32, I32);
    ArgsSizesGet = "args_sizes_get"(I32, I32);
    EnvironGet = "environ_get"(I32, I32);
    EnvironSizesGet = "environ_sizes_get"(I32, I32);
    ClockResGet = "clock_res_get"(I32, I32);
    ClockTimeGet = "clock_time_get"(I32, I64, I32);
    FdAdvise = "fd_advise"(I32, I64, I64, I32);
    FdAllocate = "fd_allocate"(I32, I64, I64);
    FdClose = "fd_close"(I32);
    FdDatasync = "fd_datasync"(I32);
    FdFdstatGet = "fd_fdstat_get"(I32, I32);
    FdFdstatSetFlags = "fd_fdstat_set_flags"(I32, I32);
    FdFdstatSetRights = "fd_fdstat_set_rights"(I32, I64, I64);
    FdFilestatGet = "fd_filestat_get"(I32, I32);
    FdFilestatSetSize = "fd_filestat_set_size"(I32, I64);
    FdFilestatSetTimes = "fd_filestat_set_times"(I32, I64, I64, I32);
    FdPread = "fd_pread"(I32, I32, I32, I64, I32);
    FdPrestatGet = "fd_prestat_get"(I32, I32);
    FdPrestatDirName = "fd_prestat_dir_name"(I32, I32, I32);
    FdPwrite = "fd_pwrite"(I32, I32, I32, I64, I32);
    FdRead = "fd_read"(I32, I32, I32, I32);
    FdReaddir = "fd_readdir"(I32, I32, I32, I64, I32);
    FdRenumber = "fd_renumber"(I32, I32);
    FdSeek = "fd_seek"(I32, I64, I32, I32);
    FdSync = "fd_sync"(I32);
    FdTell = "fd_tell"(I32, I32);
    FdWrite = "fd_write"(I32, I32, I32, I32);
    PathCreateDirectory = "path_create_directory"(I32, I32, I32);
    PathFilestatGet = "path_filestat_get"(I32, I32, I32, I32, I32);
    PathFilestatSetTimes = "path_filestat_set_times"(I32, I32, I32, I32, I64, I64, I32);
    PathLink = "path_link"(I32, I32, I32, I32, I32, I32, I32);
    PathOpen = "path_open"(I32, I32, I32, I32, I32, I64, I64, I32, I32);
    PathReadlink = "path_readlink"(I32, I32, I32, I32, I32, I32);
    PathRemoveDirectory = "path_remove_directory"(I32, I32, I32);
    PathRename = "path_rename"(I32, I32, I32, I32, I32, I32);
    PathSymlink = "path_symlink"(I32, I32, I32, I32, I32);
    PathUnlinkFile = "path_unlink_file"(I32, I32, I32);
    PollOneoff = "poll_oneoff"(I32, I32, I32, I32);
    ProcExit = "proc_exit"(I32);
    ProcRaise = "proc_raise"(I32);
    SchedYield = "sched_yield"();
    RandomGet = "random_get"(I32, I32);
    SockAccept = "sock_accept"(I32, I32, I32);
    SockRecv = "sock_recv"(I32, I32, I32, I32, I32, I32);
    SockSend = "sock_send"(I32, I32, I32, I32, I32);
    SockShutdown = "sock_shutdown"(I32, I32);
}

/// Host id of the first preview-1 function; function `i` of [`WasiFunc::ALL`] has host id `HOST_ID_BASE + i`.
pub const HOST_ID_BASE: u32 = 0x5741_5300;

/// Host id of the first preview-0 function (`wasi_unstable`), numbered like the preview-1 ones.
pub const HOST_ID_BASE_PREVIEW0: u32 = 0x5741_5000;

/// The WASI ABI a function is imported under: preview 1 (`wasi_snapshot_preview1`) or preview 0
/// (`wasi_unstable`). Both name the same functions with the same Wasm signatures (preview 0 lacks
/// `sock_accept`) over the same state; preview 0 differs in three layouts and one enum, which [`Abi`]'s methods
/// give: `filestat`'s `nlink` is 32 bits (the struct is 56 bytes, not 64), `whence` numbers `cur`, `end`, `set`
/// as 0, 1, 2 (preview 1: `set`, `cur`, `end`), and a clock subscription starts with a 64-bit `identifier` (a
/// `subscription` is 56 bytes, not 48). Errno values, rights, flags, `dirent`, `fdstat`, `prestat` and `event`
/// are the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Abi {
    Preview1,
    Preview0,
}

impl Abi {
    /// Both ABIs, preview 1 first.
    pub const ALL: [Abi; 2] = [Abi::Preview1, Abi::Preview0];

    /// The module name its functions are imported from.
    pub fn module(self) -> &'static str {
        match self {
            Abi::Preview1 => "wasi_snapshot_preview1",
            Abi::Preview0 => "wasi_unstable",
        }
    }

    fn host_id_base(self) -> u32 {
        match self {
            Abi::Preview1 => HOST_ID_BASE,
            Abi::Preview0 => HOST_ID_BASE_PREVIEW0,
        }
    }

    /// Whether the ABI has the function.
    pub fn has(self, func: WasiFunc) -> bool {
        !(self == Abi::Preview0 && func == WasiFunc::SockAccept)
    }

    /// The functions of the ABI, in host-id order.
    pub fn funcs(self) -> impl Iterator<Item = WasiFunc> {
        WasiFunc::ALL.iter().copied().filter(move |&f| self.has(f))
    }

    /// The size of a `filestat` in guest memory.
    pub fn filestat_size(self) -> usize {
        match self {
            Abi::Preview1 => size::FILESTAT,
            Abi::Preview0 => size::FILESTAT_PREVIEW0,
        }
    }

    /// The size of a `subscription` in guest memory.
    pub fn subscription_size(self) -> u32 {
        match self {
            Abi::Preview1 => event::SUBSCRIPTION_SIZE,
            Abi::Preview0 => event::SUBSCRIPTION_SIZE_PREVIEW0,
        }
    }

    /// Where a clock subscription's `id` lies within a `subscription` (its `timeout`, `precision` and `flags`
    /// follow at +8, +16 and +24).
    pub fn clock_id_offset(self) -> u32 {
        match self {
            Abi::Preview1 => 16,
            // After the 64-bit `identifier`.
            Abi::Preview0 => 24,
        }
    }

    /// A `whence` argument as preview 1 numbers it (`set` 0, `cur` 1, `end` 2); a value the ABI does not define
    /// stays one preview 1 does not define either.
    pub fn whence(self, whence: u32) -> u32 {
        match (self, whence) {
            (Abi::Preview1, w) => w,
            (Abi::Preview0, 0) => whence::CUR,
            (Abi::Preview0, 1) => whence::END,
            (Abi::Preview0, 2) => whence::SET,
            (Abi::Preview0, w) => w,
        }
    }
}

impl WasiFunc {
    /// The result types: an errno, or nothing for `proc_exit`.
    pub fn results(self) -> &'static [ValType] {
        match self {
            WasiFunc::ProcExit => &[],
            _ => &[ValType::I32],
        }
    }

    /// The host id this function is defined with for preview 1.
    pub fn host_id(self) -> u32 {
        self.host_id_in(Abi::Preview1)
    }

    /// The host id this function is defined with for `abi`.
    pub fn host_id_in(self, abi: Abi) -> u32 {
        abi.host_id_base() + self as u32
    }

    /// The function a host id names, if it is one of the WASI ids of either ABI.
    pub fn from_host_id(host_id: u32) -> Option<WasiFunc> {
        Self::decode(host_id).map(|(func, _)| func)
    }

    /// The function a host id names and the ABI it was imported under.
    pub fn decode(host_id: u32) -> Option<(WasiFunc, Abi)> {
        Abi::ALL.into_iter().find_map(|abi| {
            let index = host_id.checked_sub(abi.host_id_base())?;
            let func = WasiFunc::ALL.get(index as usize).copied()?;
            abi.has(func).then_some((func, abi))
        })
    }
}

/// A preview-1 error number (`errno`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

#[allow(dead_code)]
impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const TOOBIG: Errno = Errno(1);
    pub const ACCES: Errno = Errno(2);
    pub const AGAIN: Errno = Errno(6);
    pub const BADF: Errno = Errno(8);
    pub const BUSY: Errno = Errno(10);
    pub const EXIST: Errno = Errno(20);
    pub const FAULT: Errno = Errno(21);
    pub const FBIG: Errno = Errno(22);
    pub const ILSEQ: Errno = Errno(25);
    pub const INVAL: Errno = Errno(28);
    pub const IO: Errno = Errno(29);
    pub const ISDIR: Errno = Errno(31);
    pub const LOOP: Errno = Errno(32);
    pub const MFILE: Errno = Errno(33);
    pub const MLINK: Errno = Errno(34);
    pub const NAMETOOLONG: Errno = Errno(37);
    pub const NOENT: Errno = Errno(44);
    pub const NOMEM: Errno = Errno(48);
    pub const NOSPC: Errno = Errno(51);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTEMPTY: Errno = Errno(55);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const NOTTY: Errno = Errno(59);
    pub const OVERFLOW: Errno = Errno(61);
    pub const PERM: Errno = Errno(63);
    pub const PIPE: Errno = Errno(64);
    pub const RANGE: Errno = Errno(68);
    pub const ROFS: Errno = Errno(69);
    pub const SPIPE: Errno = Errno(70);
    pub const XDEV: Errno = Errno(75);
    pub const NOTCAPABLE: Errno = Errno(76);
}

/// File types (`filetype`).
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// Descriptor flags (`fdflags`).
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// Open flags (`oflags`).
pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
}

/// Lookup flags (`lookupflags`).
pub mod lookupflags {
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// Which timestamps to set (`fstflags`).
pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// Clock ids (`clockid`).
pub mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `poll_oneoff` event types and flags.
pub mod event {
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
    pub const FD_READWRITE_HANGUP: u16 = 1;
    pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;
    /// Size of a `subscription` in guest memory.
    pub const SUBSCRIPTION_SIZE: u32 = 48;
    /// Size of a preview-0 `subscription` (its clock variant has a 64-bit `identifier` first).
    pub const SUBSCRIPTION_SIZE_PREVIEW0: u32 = 56;
    /// Size of an `event` in guest memory.
    pub const EVENT_SIZE: u32 = 32;
}

/// `whence`: what `fd_seek`'s offset is relative to (preview 1's numbering; see [`Abi::whence`]).
pub mod whence {
    pub const SET: u32 = 0;
    pub const CUR: u32 = 1;
    pub const END: u32 = 2;
}

/// Sizes of the other structs the functions write.
pub mod size {
    pub const IOVEC: u32 = 8;
    pub const FDSTAT: usize = 24;
    pub const FILESTAT: usize = 64;
    /// A preview-0 `filestat`: `nlink` is 32 bits.
    pub const FILESTAT_PREVIEW0: usize = 56;
    pub const PRESTAT: usize = 8;
    pub const DIRENT: usize = 24;
}

/// Rights (`rights`): what a descriptor may be used for.
#[allow(dead_code)] // The whole set, as the ABI defines it; no descriptor here is a socket.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right a regular file descriptor can have.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// Every right a directory descriptor can have.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_DATASYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;

    /// The rights of standard input.
    pub const STDIN: u64 = FD_READ | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;

    /// The rights of standard output and standard error.
    pub const STDOUT: u64 = FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | FD_DATASYNC
        | FD_SYNC;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_46_functions_with_distinct_names() {
        assert_eq!(WasiFunc::ALL.len(), 46);
        let mut names: Vec<_> = WasiFunc::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 46);
        for (i, f) in WasiFunc::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
            assert_eq!(WasiFunc::from_host_id(f.host_id()), Some(*f));
        }
        assert_eq!(WasiFunc::from_host_id(HOST_ID_BASE + 46), None);
    }

    #[test]
    fn preview0_ids_name_the_same_functions_but_sock_accept() {
        let p0: Vec<_> = Abi::Preview0.funcs().collect();
        assert_eq!(p0.len(), 45);
        for f in p0 {
            assert_eq!(
                WasiFunc::decode(f.host_id_in(Abi::Preview0)),
                Some((f, Abi::Preview0))
            );
            assert_eq!(WasiFunc::decode(f.host_id()), Some((f, Abi::Preview1)));
        }
        let accept = WasiFunc::SockAccept.host_id_in(Abi::Preview0);
        assert_eq!(WasiFunc::decode(accept), None);
        assert_eq!(
            (0..3).map(|w| Abi::Preview0.whence(w)).collect::<Vec<_>>(),
            [whence::CUR, whence::END, whence::SET]
        );
        assert_eq!(Abi::Preview0.whence(3), 3);
    }
}
