#include "args.hpp"

#include <pwd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace procmon::cli {

int usage_error(const char *command, const std::string &message) {
    std::fprintf(stderr, "procmon: %s (try 'procmon %s --help')\n", message.c_str(), command);
    return kExitUsage;
}

bool parse_int(const std::string &s, long long lo, long long hi, long long &out) {
    if (s.empty()) return false;
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

std::string parse_user(const std::string &s, long long &uid) {
    if (parse_int(s, 0, 4294967294LL, uid)) return {};
    passwd pw, *res = nullptr;
    char buf[1024];
    if (getpwnam_r(s.c_str(), &pw, buf, sizeof buf, &res) != 0 || res == nullptr) return "unknown user '" + s + "'";
    uid = res->pw_uid;
    return {};
}

bool split_inline(std::string &arg, std::string &value) {
    std::size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    value = arg.substr(eq + 1);
    arg = arg.substr(0, eq);
    return true;
}

}  // namespace procmon::cli
