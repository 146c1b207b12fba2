// Thread-local last-error slot behind procmon_error_last(), and the status
// texts behind procmon_strerror(). Setting an error never allocates, so it
// works when the arena is exhausted.
#pragma once

#include "procmon.h"

namespace procmon {

// Records the failure on this thread and returns `code`, so callers can write
// `return fail(PROCMON_EINVAL, 0, "...")`. sys_errno 0 means none.
int fail(int code, int sys_errno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Maps an errno from a failed system call to the closest status code.
int status_from_errno(int err);

const char *status_text(int code);
const procmon_error *last_error();

}  // namespace procmon
