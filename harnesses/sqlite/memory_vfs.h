/* The operating-system layer SQLite needs when built with SQLITE_OS_OTHER, as the fuzz harness (fuzz_sqlite.c)
 * and the benchmark's SQLite program (../bench-public/sqlite.c) use it: a VFS that opens no files (databases and
 * temporary storage live in memory) and answers randomness, time and sleep deterministically, so that every run
 * does the same. Included once, after sqlite3.h. */
#include <stdint.h>

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs, (void)name, (void)flags, (void)out_flags;
    file->pMethods = NULL;
    return SQLITE_CANTOPEN;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs, (void)name, (void)sync_dir;
    return SQLITE_OK;
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs, (void)name, (void)flags;
    *result = 0;
    return SQLITE_OK;
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

/* A fixed xorshift sequence: SQLite seeds its own generator from this once. */
static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    uint32_t x = 0x9e3779b9u;
    for (int i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (char)x;
    }
    return n;
}

static int vfs_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return microseconds;
}

/* Always 2026-01-01 00:00:00 UTC, in milliseconds since the Julian epoch. */
static int vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    *now = (sqlite3_int64)2461041 * 86400000 + 43200000;
    return SQLITE_OK;
}

static int vfs_current_time(sqlite3_vfs *vfs, double *now) {
    sqlite3_int64 ms;
    vfs_current_time_int64(vfs, &ms);
    *now = ms / 86400000.0;
    return SQLITE_OK;
}

static int vfs_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs, (void)n, (void)out;
    return 0;
}

static sqlite3_vfs memory_vfs = {
    .iVersion = 2,
    .szOsFile = sizeof(sqlite3_file),
    .mxPathname = 512,
    .zName = "capicola-memory",
    .xOpen = vfs_open,
    .xDelete = vfs_delete,
    .xAccess = vfs_access,
    .xFullPathname = vfs_full_pathname,
    .xRandomness = vfs_randomness,
    .xSleep = vfs_sleep,
    .xCurrentTime = vfs_current_time,
    .xGetLastError = vfs_get_last_error,
    .xCurrentTimeInt64 = vfs_current_time_int64,
};

int sqlite3_os_init(void) {
    return sqlite3_vfs_register(&memory_vfs, 1);
}

int sqlite3_os_end(void) {
    return SQLITE_OK;
}
