#ifndef LEDGER_CLIBDEFLATE_SHIM_H
#define LEDGER_CLIBDEFLATE_SHIM_H

/* libdeflate (Debian: libdeflate-dev): whole-buffer deflate, several times
   faster than zlib's at the same level and at least as small. */
#include <libdeflate.h>

#endif
