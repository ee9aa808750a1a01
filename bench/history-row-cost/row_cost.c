// What one row of the history's exits table costs SQLite itself, by the number of integer columns.
//
// The history (issue 5) stores every exit record as one row of ~80 typed columns; the CPU targets of issue 4
// compare the whole collector with a C listener that spends ~1 us per record. This program measures the
// SQLite side alone, with nothing of .NET in the way: the same library the collector loads (e_sqlite3), the
// same page size, journal mode, synchronous level and cache, a transaction per 10,000 rows, every column bound
// per row (half of them 0, as in a real record).
//
// With DETAIL_BYTES the table also has a TEXT column `detail` that gets that many bytes per row (varying from
// row to row): what a narrower row that keeps the rarely queried fields in one packed value would cost.
//
// Build and run (from the repository root, after ./taskstats-actors has built build/native):
//   gcc -O2 -o /tmp/row_cost bench/history-row-cost/row_cost.c -Lbuild/native -le_sqlite3 -lm -Wl,-rpath,$PWD/build/native
//   /tmp/row_cost COLUMNS ROWS FILE [DETAIL_BYTES]     e.g. /tmp/row_cost 82 200000 /tmp/rows.db
//   /tmp/row_cost 40 200000 /tmp/rows.db 130           40 integer columns and 130 bytes of packed detail
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>

// The few SQLite entry points used, declared here so that no development package is needed.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *callback, void *arg, char **error);
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int bytes, sqlite3_stmt **statement, const char **tail);
int sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int bytes, void (*destructor)(void *));
int sqlite3_bind_int64(sqlite3_stmt *statement, int index, long long value);
int sqlite3_step(sqlite3_stmt *statement);
int sqlite3_reset(sqlite3_stmt *statement);
int sqlite3_finalize(sqlite3_stmt *statement);
int sqlite3_close(sqlite3 *db);
const char *sqlite3_errmsg(sqlite3 *db);
#define SQLITE_DONE 101

static double seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void must(sqlite3 *db, int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s COLUMNS ROWS FILE [DETAIL_BYTES] (FILE is replaced)\n", argv[0]);
        return 2;
    }
    int columns = atoi(argv[1]), rows = atoi(argv[2]);
    int detailBytes = argc == 5 ? atoi(argv[4]) : -1;
    if (detailBytes > 4096) {
        fprintf(stderr, "DETAIL_BYTES: at most 4096\n");
        return 2;
    }
    const char *path = argv[3];
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    remove(path);
    remove(wal);

    sqlite3 *db;
    must(db, sqlite3_open(path, &db) == 0, "open");
    // As HistorySchema and HistoryDatabase set a new history up.
    must(db, sqlite3_exec(db, "PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL", 0, 0, 0) == 0, "pragmas");
    // Room for the fixed parts of both statements (with the detail column), and 32 bytes per integer column.
    size_t size = 128 + (size_t)columns * 32;
    char *create = malloc(size), *insert = malloc(size);
    int c = snprintf(create, size, "CREATE TABLE exits (id INTEGER PRIMARY KEY, comm TEXT%s",
                     detailBytes >= 0 ? ", detail TEXT" : "");
    int i = snprintf(insert, size, "INSERT INTO exits (comm%s", detailBytes >= 0 ? ", detail" : "");
    for (int k = 0; k < columns; k++) {
        c += snprintf(create + c, size - c, ", c%d INTEGER", k);
        i += snprintf(insert + i, size - i, ", c%d", k);
    }
    snprintf(create + c, size - c, ")");
    i += snprintf(insert + i, size - i, ") VALUES (?%s", detailBytes >= 0 ? ", ?" : "");
    for (int k = 0; k < columns; k++)
        i += snprintf(insert + i, size - i, ", ?");
    snprintf(insert + i, size - i, ")");
    must(db, sqlite3_exec(db, create, 0, 0, 0) == 0, "create");
    must(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
                              "PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 0", 0, 0, 0) == 0, "pragmas");
    sqlite3_stmt *statement;
    must(db, sqlite3_prepare_v2(db, insert, -1, &statement, 0) == 0, "prepare");

    static char detail[4096];
    double start = seconds();
    must(db, sqlite3_exec(db, "BEGIN", 0, 0, 0) == 0, "begin");
    for (int row = 0; row < rows; row++) {
        if (row > 0 && row % 10000 == 0)
            must(db, sqlite3_exec(db, "COMMIT; BEGIN", 0, 0, 0) == 0, "commit");
        sqlite3_bind_text(statement, 1, "loadgen", 7, 0);
        int first = 2;
        if (detailBytes >= 0) {
            // Digits that change from row to row, as packed values would.
            for (int b = 0; b < detailBytes; b++)
                detail[b] = (char)('0' + (row + b * 7) % 10);
            sqlite3_bind_text(statement, first++, detail, detailBytes, 0);
        }
        for (int k = 0; k < columns; k++)
            sqlite3_bind_int64(statement, first + k, k % 2 ? 0 : (long long)row * 31 + k * 1000003LL);
        must(db, sqlite3_step(statement) == SQLITE_DONE, "insert");
        sqlite3_reset(statement);
    }
    must(db, sqlite3_exec(db, "COMMIT", 0, 0, 0) == 0, "commit");
    double elapsed = seconds() - start;

    // Outside the timing: move the log into the file, to tell the size of a row on disk.
    must(db, sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", 0, 0, 0) == 0, "checkpoint");
    struct stat file;
    double bytesPerRow = stat(path, &file) == 0 ? (double)file.st_size / rows : 0;
    printf("%d integer columns", columns);
    if (detailBytes >= 0)
        printf(" and %d bytes of detail", detailBytes);
    printf(", %d rows: %.3f us per row, %.0f bytes per row on disk\n", rows, elapsed * 1e6 / rows, bytesPerRow);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    free(create);
    free(insert);
    return 0;
}
