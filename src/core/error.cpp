#include "core/error.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>

namespace procmon {
namespace {

struct ErrorSlot {
    char message[512] = "no error";
    procmon_error error{PROCMON_OK, 0, message};
};
thread_local ErrorSlot slot;

}  // namespace

int fail(int code, int sys_errno, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(slot.message, sizeof slot.message, fmt, ap);
    va_end(ap);
    slot.error.code = code;
    slot.error.sys_errno = sys_errno;
    slot.error.message = slot.message;
    return code;
}

int status_from_errno(int err) {
    switch (err) {
    case EACCES:
    case EPERM: return PROCMON_EPERM;
    case ENOENT:
    case ESRCH:
    case ENOTDIR: return PROCMON_ENOENT;
    case ENOMEM: return PROCMON_ENOMEM;
    case EAGAIN: return PROCMON_EAGAIN;
    case EINVAL: return PROCMON_EINVAL;
    case ETIMEDOUT: return PROCMON_ETIMEDOUT;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return PROCMON_ENOSPC;
    default: return PROCMON_EIO;
    }
}

const char *status_text(int code) {
    switch (code) {
#define PROCMON_STATUS_TEXT_CASE_(name, value, text) \
    case value: return text;
        PROCMON_STATUS_MAP(PROCMON_STATUS_TEXT_CASE_)
#undef PROCMON_STATUS_TEXT_CASE_
    default: return "unknown status code";
    }
}

const procmon_error *last_error() { return &slot.error; }

}  // namespace procmon
