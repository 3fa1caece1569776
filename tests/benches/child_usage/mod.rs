//! Waits for a child process and reads what it used: shared by the memory-limit test and the `--dir` benchmark.

/// Waits for `child` (this process's own, not yet waited for) with `wait4`; panics unless it exited with status 0.
/// Returns its peak resident memory in KiB (`ru_maxrss`, KiB on Linux).
pub fn wait_peak_rss_kib(child: &std::process::Child, what: &str) -> i64 {
    let pid = libc::pid_t::try_from(child.id()).expect("a process id fits pid_t");
    let mut status = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in; a zeroed one is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is this process's own child, not yet waited for; `status` and `usage` are valid for writes.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "{what}: the child can be waited for");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{what}: exited with status {status}"
    );
    usage.ru_maxrss
}
