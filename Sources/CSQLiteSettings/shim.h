#ifndef LEDGER_CSQLITESETTINGS_SHIM_H
#define LEDGER_CSQLITESETTINGS_SHIM_H

#include <sqlite3.h>

/* sqlite3_config is variadic; Swift cannot call variadic C functions.
   It only works before SQLite initializes (the first connection): later it
   returns SQLITE_MISUSE and changes nothing. */
static inline int CSQLiteSettings_memoryStatistics(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}

#endif
