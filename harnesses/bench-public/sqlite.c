// SQLite (the libsqlite3-sys package's amalgamation) on an in-memory database, n times: a table of 500 rows
// filled through a prepared insert in one transaction, an index, then grouping, sorting, a join, string functions,
// an update and a delete; the checksum folds in every row every query returns.
// bench: kind=database n=4 smoke=1 from=libsqlite3-sys

#include <stdint.h>
#include <string.h>

#include "input.h"
#include "sqlite3.h"

#define ROWS 500

// SQLite is built with SQLITE_OS_OTHER: the fuzz harness's memory-only, deterministic VFS stands in for the
// operating system.
#include "../sqlite/memory_vfs.h"

static const char *const queries[] = {
    "SELECT grp, count(*), sum(price), min(name), max(name) FROM item GROUP BY grp ORDER BY grp",
    "SELECT id, name, price FROM item WHERE grp BETWEEN 10 AND 20 ORDER BY price DESC, id LIMIT 200",
    "SELECT a.grp, count(*), avg(a.price - b.price) FROM item a JOIN item b ON a.grp = b.grp AND b.id = a.id + 1 "
    "GROUP BY a.grp ORDER BY 3 DESC",
    "SELECT upper(substr(name, 1, 3)) AS p, count(*), group_concat(id % 10, '') FROM item GROUP BY p "
    "HAVING count(*) > 5 ORDER BY p",
    "UPDATE item SET price = round(price * 1.1, 2), name = replace(name, 'e', 'E') WHERE id % 7 = 0",
    "DELETE FROM item WHERE grp % 5 = 0 AND price > 500",
    "SELECT count(*), sum(length(name)), total(price), printf('%.3f', avg(price)) FROM item",
    "WITH RECURSIVE r(i, acc) AS (SELECT 1, 0 UNION ALL SELECT i + 1, (acc * 31 + i) % 1000003 FROM r WHERE i < 500) "
    "SELECT max(acc), sum(acc) FROM r",
};

// Folds every column of every row `sql` returns into `*sum`; false on an error.
static int query(sqlite3 *db, const char *sql, uint32_t *sum) {
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const unsigned char *text = sqlite3_column_text(stmt, c);
            if (text)
                *sum = input_hash(*sum, text, (size_t)sqlite3_column_bytes(stmt, c));
            *sum = (*sum ^ (uint32_t)c) * 16777619u;
        }
    }
    *sum ^= (uint32_t)sqlite3_changes(db);
    return sqlite3_finalize(stmt) == SQLITE_OK && rc == SQLITE_DONE;
}

// One database's life: fill, index, query, close; returns 0, or which step failed.
static int round_trip(uint32_t seed, uint32_t *sum) {
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    if (sqlite3_exec(db,
                     "CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL);"
                     "BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK)
        return 2;
    sqlite3_stmt *insert;
    if (sqlite3_prepare_v2(db, "INSERT INTO item(grp, name, price) VALUES (?, ?, ?)", -1, &insert, NULL) != SQLITE_OK)
        return 3;
    uint32_t state = seed * 2654435761u + 7;
    uint8_t name[24];
    for (int i = 0; i < ROWS; i++) {
        uint32_t r = input_next(&state);
        input_text(name, sizeof name, r);
        sqlite3_bind_int(insert, 1, (int)(r % 97));
        sqlite3_bind_text(insert, 2, (const char *)name, 4 + (int)(r >> 24) % 20, SQLITE_TRANSIENT);
        sqlite3_bind_double(insert, 3, (double)(input_next(&state) % 100000) / 100.0);
        if (sqlite3_step(insert) != SQLITE_DONE || sqlite3_reset(insert) != SQLITE_OK)
            return 4;
    }
    sqlite3_finalize(insert);
    if (sqlite3_exec(db, "COMMIT; CREATE INDEX item_grp ON item(grp, price)", NULL, NULL, NULL) != SQLITE_OK)
        return 5;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++)
        if (!query(db, queries[q], sum))
            return 6;
    return sqlite3_close(db) == SQLITE_OK ? 0 : 7;
}

__attribute__((export_name("run"))) uint32_t run(uint32_t n) {
    uint32_t sum = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        int failed = round_trip(i + 1, &sum);
        if (failed)
            return 0xbad00000u | (uint32_t)failed;
    }
    return sum;
}
