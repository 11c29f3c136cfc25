#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro over a cast Swift cannot import: bind copies the bytes.
static inline void (*berth_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
