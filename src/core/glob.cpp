#include "core/glob.hpp"

#include <fnmatch.h>

#include <cstring>

namespace procmon {
namespace {

bool known_class(const char *name, std::size_t len) {
    static const char *const kClasses[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                           "lower", "print", "punct", "space", "upper", "xdigit"};
    for (const char *c : kClasses)
        if (std::strlen(c) == len && std::memcmp(c, name, len) == 0) return true;
    return false;
}

// p points just past a '[' that opens a bracket expression. Returns the
// position past its closing ']', or nullptr with `why` set.
const char *skip_bracket(const char *start, const char *p, std::string &why) {
    const std::size_t at = static_cast<std::size_t>(p - 1 - start);
    if (*p == '!' || *p == '^') ++p;
    if (*p == ']') ++p;  // a ']' first is a member, not the end
    for (; *p != '\0'; ++p) {
        if (*p == ']') return p + 1;
        if (*p == '\\') {
            if (p[1] == '\0') break;
            ++p;
            continue;
        }
        if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
            const char kind = p[1];
            const char *name = p + 2;
            const char *close = name;
            while (*close != '\0' && !(close[0] == kind && close[1] == ']')) ++close;
            const std::size_t off = static_cast<std::size_t>(p - start);
            if (*close == '\0') {
                why = "'[" + std::string(1, kind) + "' at offset " + std::to_string(off) + " has no closing '" +
                      std::string(1, kind) + "]'";
                return nullptr;
            }
            if (kind == ':' && !known_class(name, static_cast<std::size_t>(close - name))) {
                why = "unknown character class '[:" + std::string(name, close) + ":]' at offset " + std::to_string(off);
                return nullptr;
            }
            p = close + 1;  // the loop's ++p steps past the ']'
        }
    }
    why = "'[' at offset " + std::to_string(at) + " has no closing ']'";
    return nullptr;
}

}  // namespace

bool glob_is_valid(const char *pattern, std::string &why) {
    for (const char *p = pattern; *p != '\0';) {
        if (*p == '\\') {
            if (p[1] == '\0') {
                why = "a trailing '\\' at offset " + std::to_string(p - pattern) + " escapes nothing";
                return false;
            }
            p += 2;
        } else if (*p == '[') {
            p = skip_bracket(pattern, p + 1, why);
            if (p == nullptr) return false;
        } else {
            ++p;
        }
    }
    return true;
}

bool glob_match(const char *pattern, const char *text) { return fnmatch(pattern, text, 0) == 0; }

}  // namespace procmon
