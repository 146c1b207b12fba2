// Who a uid is: the OS's user database behind one portable call. The
// library keeps its own cache above it (src/capi/names.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace procmon::platform {

enum class UserLookup {
    found,
    none,    // no user (or group) has this uid or name
    failed,  // the database could not be read (errno says why)
};

// The login name of `uid` into `name` when found. Any thread.
UserLookup user_name(uint32_t uid, std::string &name);

// The uid of the login `name`, and the gid of the group `name`, for
// procmond's config, which names users and groups. Any thread.
UserLookup user_id(const std::string &name, uint32_t &uid);
UserLookup group_id(const std::string &name, uint32_t &gid);

}  // namespace procmon::platform
