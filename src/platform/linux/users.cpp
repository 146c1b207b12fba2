#include "platform/users.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace procmon::platform {
namespace {

// One *_r lookup of the user or group database: `call(buf, size, found)`
// returns the function's error number and sets found to the entry or null.
// Grows the buffer for an entry with many or long fields.
template <class Call>
UserLookup look_up(long size_hint_name, Call &&call) {
    const long hint = sysconf(size_hint_name);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    for (;;) {
        bool found = false;
        const int rc = call(buf.data(), buf.size(), found);
        if (rc == 0 && found) return UserLookup::found;
        // POSIX leaves "not found" to 0 with no result; glibc's NSS modules
        // have also answered ENOENT, ESRCH, EBADF or EPERM for it.
        if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) return UserLookup::none;
        if (rc != ERANGE || buf.size() >= (1u << 20)) {
            errno = rc;
            return UserLookup::failed;
        }
        buf.resize(buf.size() * 2);
    }
}

}  // namespace

UserLookup user_name(uint32_t uid, std::string &name) {
    return look_up(_SC_GETPW_R_SIZE_MAX, [&](char *buf, std::size_t size, bool &found) {
        passwd pw, *res = nullptr;
        const int rc = getpwuid_r(static_cast<uid_t>(uid), &pw, buf, size, &res);
        if ((found = rc == 0 && res != nullptr)) name = res->pw_name;
        return rc;
    });
}

UserLookup user_id(const std::string &name, uint32_t &uid) {
    return look_up(_SC_GETPW_R_SIZE_MAX, [&](char *buf, std::size_t size, bool &found) {
        passwd pw, *res = nullptr;
        const int rc = getpwnam_r(name.c_str(), &pw, buf, size, &res);
        if ((found = rc == 0 && res != nullptr)) uid = res->pw_uid;
        return rc;
    });
}

UserLookup group_id(const std::string &name, uint32_t &gid) {
    return look_up(_SC_GETGR_R_SIZE_MAX, [&](char *buf, std::size_t size, bool &found) {
        group gr, *res = nullptr;
        const int rc = getgrnam_r(name.c_str(), &gr, buf, size, &res);
        if ((found = rc == 0 && res != nullptr)) gid = res->gr_gid;
        return rc;
    });
}

}  // namespace procmon::platform
