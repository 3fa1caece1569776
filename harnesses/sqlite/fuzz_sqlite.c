/* The libFuzzer harness of SQLite (its amalgamation comes from the crates.io package libsqlite3-sys, fetched by
 * build.sh): the "heavy initialization" target.
 *
 * LLVMFuzzerInitialize opens an in-memory database and fills it: a small shop with customers, products, orders
 * and order lines (a few thousand rows, made by recursive queries), indexes, a view, triggers, a full-text index
 * and statistics for the planner. capicola snapshots the instance after that, so every input starts from the
 * filled database, and whatever an input changed is gone at the next one.
 *
 * Each input is SQL text run against that database. A progress handler and SQLite's own limits bound the work
 * and memory of one input, so that queries that would run for long end as errors rather than timeouts.
 *
 * SQLite is built with SQLITE_OS_OTHER: it has no operating-system layer of its own, and this file supplies the
 * smallest one it needs (below): a VFS that opens no files (databases and temporary storage live in memory), and
 * answers randomness, time and sleep deterministically, so that every run of an input does the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

#include "memory_vfs.h"

/* ---- Initialization: the database every input starts from. ---- */

static sqlite3 *db;

static const char schema[] =
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, country TEXT,"
    "  joined TEXT DEFAULT (date('now')), balance REAL CHECK (balance >= -1000));"
    "CREATE TABLE product(sku TEXT PRIMARY KEY, title TEXT, price NUMERIC, tags TEXT) WITHOUT ROWID;"
    "CREATE TABLE orders(id INTEGER PRIMARY KEY AUTOINCREMENT, customer INTEGER REFERENCES customer(id)"
    "  ON DELETE CASCADE, placed TEXT, status TEXT CHECK (status IN ('new', 'paid', 'sent', 'void')));"
    "CREATE TABLE line(ord INTEGER REFERENCES orders(id) ON DELETE CASCADE, sku TEXT REFERENCES product(sku),"
    "  qty INTEGER, PRIMARY KEY (ord, sku));"
    "CREATE TABLE audit(at INTEGER, what TEXT, detail BLOB);"
    "CREATE INDEX customer_country ON customer(country, name);"
    "CREATE INDEX orders_customer ON orders(customer, placed DESC);"
    "CREATE INDEX line_sku ON line(sku) WHERE qty > 1;"
    "CREATE INDEX product_lower_title ON product(lower(title));"
    "CREATE VIEW revenue AS SELECT c.country, sum(l.qty * p.price) AS total, count(DISTINCT o.id) AS orders"
    "  FROM customer c JOIN orders o ON o.customer = c.id JOIN line l ON l.ord = o.id"
    "  JOIN product p ON p.sku = l.sku GROUP BY c.country;"
    "CREATE TRIGGER order_paid AFTER UPDATE OF status ON orders WHEN new.status = 'paid' BEGIN"
    "  INSERT INTO audit VALUES (new.id, 'paid', json_object('customer', new.customer, 'was', old.status));"
    "  UPDATE customer SET balance = balance - 1 WHERE id = new.customer; END;"
    "CREATE TRIGGER customer_gone BEFORE DELETE ON customer BEGIN"
    "  INSERT INTO audit VALUES (old.id, 'gone', zeroblob(4)); END;"
    "CREATE VIRTUAL TABLE note USING fts5(subject, body);"
    "CREATE TABLE setting(key TEXT PRIMARY KEY, value ANY) STRICT;";

static const char fill[] =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)"
    "  INSERT INTO customer(id, name, email, country, balance)"
    "  SELECT i, 'customer ' || i, 'c' || i || '@example.org',"
    "    CASE i % 5 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' WHEN 2 THEN 'JP' WHEN 3 THEN 'BR' ELSE NULL END,"
    "    (i * 37 % 1000) / 10.0 FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)"
    "  INSERT INTO product SELECT printf('SKU-%04d', i), 'product ' || char(65 + i % 26) || i,"
    "    round(i * 1.25 + 0.99, 2), json_array('t' || (i % 7), 't' || (i % 3)) FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800)"
    "  INSERT INTO orders(customer, placed, status)"
    "  SELECT 1 + i * 7 % 250, date('2025-01-01', '+' || (i % 365) || ' days'),"
    "    CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'sent' ELSE 'void' END FROM n;"
    "INSERT INTO line SELECT o.id, printf('SKU-%04d', 1 + (o.id + 31 * k) % 100), 1 + (o.id + k) % 4"
    "  FROM orders o, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2);"
    "INSERT INTO note SELECT 'order ' || id, 'customer ' || customer || ' ordered on ' || placed || ' status '"
    "  || status FROM orders WHERE id % 3 = 0;"
    "INSERT INTO setting VALUES ('currency', 'EUR'), ('vat', 0.2), ('limit', 1000), ('logo', x'89504e47');"
    "UPDATE orders SET status = 'paid' WHERE id % 50 = 0;"
    "ANALYZE;";

/* ---- Each input: SQL text, bounded. ---- */

/* SQLite calls the progress handler every PROGRESS_STEP virtual-machine instructions. */
#define PROGRESS_STEP 16
#define PROGRESS_LIMIT 500

static int progress_calls;

static int progress(void *unused) {
    (void)unused;
    return ++progress_calls > PROGRESS_LIMIT;
}

static int ignore_row(void *unused, int columns, char **values, char **names) {
    (void)unused, (void)columns, (void)values, (void)names;
    return 0;
}

/* Initialization must not fail: say why it did, then trap. */
static void check(int rc, const char *what) {
    if (rc == SQLITE_OK) return;
    fprintf(stderr, "sqlite harness: %s failed: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    check(sqlite3_initialize(), "sqlite3_initialize");
    check(sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY, NULL),
          "opening the database");
    check(sqlite3_exec(db, schema, NULL, NULL, NULL), "creating the schema");
    check(sqlite3_exec(db, fill, NULL, NULL, NULL), "filling the tables");
    /* Bounds for what the inputs do. */
    sqlite3_hard_heap_limit64(32 << 20);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 16);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 50);
    sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 20000);
    sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100);
    sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 10);
    sqlite3_progress_handler(db, PROGRESS_STEP, progress, NULL);
    return 0;
}

static char sql[(1 << 16) + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (db == NULL || size >= sizeof sql) return 0;
    memcpy(sql, data, size);
    sql[size] = 0;
    progress_calls = 0;
    char *error = NULL;
    sqlite3_exec(db, sql, ignore_row, NULL, &error);
    sqlite3_free(error);
    return 0;
}
