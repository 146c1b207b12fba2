#include "args.hpp"

#include <pwd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace procmon::cli {

const char kExitHelp[] =
    "Exit status: 0 ok, 1 a filter matched no process (snapshot, as pgrep), 2 bad\n"
    "usage (one line on stderr), 3 failure (could not read, write or open).\n";

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

bool ArgCursor::next() {
    if (++i_ >= argc_) return false;
    option_ = argv_[i_];
    std::size_t eq = option_.find('=');
    has_inline_ = option_.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_inline_) {
        inline_value_ = option_.substr(eq + 1);
        option_.resize(eq);
    }
    return true;
}

std::string ArgCursor::value(std::string &dst) {
    if (has_inline_) {
        dst = inline_value_;
        return {};
    }
    if (i_ + 1 >= argc_) return "option '" + option_ + "' needs a value";
    dst = argv_[++i_];
    return {};
}

bool ArgCursor::peek(const char *&next) const {
    if (i_ + 1 >= argc_) return false;
    next = argv_[i_ + 1];
    return true;
}

}  // namespace procmon::cli
