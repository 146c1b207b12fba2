#include "platform/users.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace procmon::platform {

UserLookup user_name(uint32_t uid, std::string &name) {
    const long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    for (;;) {
        passwd pw, *res = nullptr;
        const int rc = getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &res);
        if (rc == 0 && res != nullptr) {
            name = res->pw_name;
            return UserLookup::found;
        }
        // POSIX leaves "not found" to 0 with no result; glibc's NSS modules
        // have also answered ENOENT, ESRCH, EBADF or EPERM for it.
        if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) return UserLookup::none;
        if (rc != ERANGE || buf.size() >= (1u << 20)) {
            errno = rc;
            return UserLookup::failed;
        }
        buf.resize(buf.size() * 2);  // an entry with many or long fields
    }
}

}  // namespace procmon::platform
