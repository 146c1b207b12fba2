// The library's names for its constants, generated from the header's
// tables (PROCMON_*_MAP): the one place in the binary a name is spelled, so
// the CLI, the bindings and programs cannot drift apart. And the user names
// of uids, cached: every interface prints them.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "core/error.hpp"
#include "platform/users.hpp"
#include "procmon.h"

using namespace procmon;

namespace {

struct Entry {
    uint64_t value;
    const char *name;
};

#define PM_NAME_ENTRY_(prefix, name, text) {prefix##name, text},
#define PM_FIELD_ENTRY_(name, text) PM_NAME_ENTRY_(PROCMON_FIELD_, name, text)
#define PM_EVENT_ENTRY_(name, text) PM_NAME_ENTRY_(PROCMON_EVENT_, name, text)
#define PM_SOURCE_ENTRY_(name, text) PM_NAME_ENTRY_(PROCMON_SOURCE_, name, text)
#define PM_STATE_ENTRY_(name, value, text) PM_NAME_ENTRY_(PROCMON_STATE_, name, text)
constexpr Entry kFields[] = {PROCMON_FIELD_MAP(PM_FIELD_ENTRY_)};
constexpr Entry kFieldSets[] = {{PROCMON_FIELDS_DEFAULT, "default"}, {PROCMON_FIELDS_ALL, "all"}};
constexpr Entry kEvents[] = {PROCMON_EVENT_MAP(PM_EVENT_ENTRY_)};
constexpr Entry kSources[] = {PROCMON_SOURCE_MAP(PM_SOURCE_ENTRY_)};
constexpr Entry kStates[] = {PROCMON_STATE_MAP(PM_STATE_ENTRY_)};

const char *name_of(std::span<const Entry> table, uint64_t value) {
    for (const Entry &e : table)
        if (e.value == value) return e.name;
    return nullptr;
}

// The value of `name` in the first table holding it; else EINVAL with a
// message listing every valid name.
int value_of(const char *fn, const char *what, const char *name, const void *out,
             std::initializer_list<std::span<const Entry>> tables, uint64_t &value) {
    if (name == nullptr || out == nullptr) return fail(PROCMON_EINVAL, 0, "%s: %s is NULL", fn, name ? "out" : "name");
    char valid[400] = "";
    std::size_t used = 0;
    for (std::span<const Entry> table : tables)
        for (const Entry &e : table) {
            if (std::strcmp(e.name, name) == 0) {
                value = e.value;
                return PROCMON_OK;
            }
            const int n = std::snprintf(valid + used, sizeof valid - used, "%s%s", used ? ", " : "", e.name);
            if (n > 0) used = std::min(sizeof valid - 1, used + static_cast<std::size_t>(n));
        }
    return fail(PROCMON_EINVAL, 0, "%s: unknown %s '%.64s' (valid: %s)", fn, what, name, valid);
}

// value_of into a caller's *out of its own width.
template <class T>
int value_into(const char *fn, const char *what, const char *name, T *out,
               std::initializer_list<std::span<const Entry>> tables) {
    uint64_t value = 0;
    const int rc = value_of(fn, what, name, out, tables, value);
    if (rc == PROCMON_OK) *out = static_cast<T>(value);
    return rc;
}

// uid -> login name, or "" for a uid known to have none. Bounded: a
// machine with more users than this starts over rather than grow.
class UserCache {
public:
    // PROCMON_OK with the name, ENOENT, or EIO (errno set) from the lookup.
    int find(uint32_t uid, std::string &name) {
        {
            std::lock_guard lock(mutex_);
            if (auto it = names_.find(uid); it != names_.end()) {
                name = it->second;
                return name.empty() ? PROCMON_ENOENT : PROCMON_OK;
            }
        }
        // looked up unlocked: NSS may take long, and two threads asking for
        // one uid at once at worst both ask the database
        std::string found;
        switch (platform::user_name(uid, found)) {
        case platform::UserLookup::failed: return PROCMON_EIO;
        case platform::UserLookup::none: found.clear(); break;
        case platform::UserLookup::found: break;
        }
        std::lock_guard lock(mutex_);
        if (names_.size() >= kMaxEntries) names_.clear();
        names_.emplace(uid, found);
        name = std::move(found);
        return name.empty() ? PROCMON_ENOENT : PROCMON_OK;
    }

private:
    static constexpr std::size_t kMaxEntries = 4096;
    std::mutex mutex_;
    std::unordered_map<uint32_t, std::string> names_;
};

UserCache &user_cache() {
    // Never destroyed: a thread still running at exit (a Python daemon
    // thread, an atexit handler) may look a user up after statics are gone.
    static UserCache &cache = *new UserCache;
    return cache;
}

}  // namespace

PROCMON_API const char *procmon_field_name(uint64_t field) { return name_of(kFields, field); }

PROCMON_API int procmon_field_from_name(const char *name, uint64_t *out) {
    return value_into("procmon_field_from_name", "field group", name, out, {kFields, kFieldSets});
}

PROCMON_API const char *procmon_event_type_name(uint32_t type) { return name_of(kEvents, type); }

PROCMON_API int procmon_event_type_from_name(const char *name, uint32_t *out) {
    return value_into("procmon_event_type_from_name", "event type", name, out, {kEvents});
}

PROCMON_API const char *procmon_source_name(uint32_t source) { return name_of(kSources, source); }

PROCMON_API int procmon_source_from_name(const char *name, uint32_t *out) {
    return value_into("procmon_source_from_name", "event source", name, out, {kSources});
}

PROCMON_API const char *procmon_state_name(uint32_t state) { return name_of(kStates, state); }

PROCMON_API int procmon_state_from_name(const char *name, uint32_t *out) {
    return value_into("procmon_state_from_name", "state", name, out, {kStates});
}

PROCMON_API int procmon_user_name(uint32_t uid, char *buf, size_t size) {
    if (buf == nullptr) return fail(PROCMON_EINVAL, 0, "procmon_user_name: buf is NULL");
    if (size > 0) buf[0] = '\0';
    try {
        std::string name;
        switch (user_cache().find(uid, name)) {
        case PROCMON_OK: break;
        case PROCMON_ENOENT: return fail(PROCMON_ENOENT, 0, "procmon_user_name: no user has uid %u", uid);
        default: {
            const int err = errno;
            return fail(PROCMON_EIO, err, "procmon_user_name: reading the user database for uid %u: %s", uid,
                        std::strerror(err));
        }
        }
        if (name.size() + 1 > size)
            return fail(PROCMON_EINVAL, 0, "procmon_user_name: buf of %zu bytes is too small: the name of uid %u needs %zu bytes",
                        size, uid, name.size() + 1);
        std::memcpy(buf, name.c_str(), name.size() + 1);
        return PROCMON_OK;
    } catch (const std::exception &) {
        return fail(PROCMON_ENOMEM, ENOMEM, "procmon_user_name: out of memory");
    }
}
