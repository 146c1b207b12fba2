// Who a uid is: the OS's user database behind one portable call. The
// library keeps its own cache above it (src/capi/names.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace procmon::platform {

enum class UserLookup {
    found,
    none,    // no user has this uid
    failed,  // the database could not be read (errno says why)
};

// The login name of `uid` into `name` when found. Any thread.
UserLookup user_name(uint32_t uid, std::string &name);

}  // namespace procmon::platform
