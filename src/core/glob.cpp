#include "core/glob.hpp"

#include <cstring>

namespace procmon {
namespace {

// The POSIX classes as the C locale defines them: ASCII only, so a match
// never depends on the process's locale.
struct CharClass {
    const char *name;
    bool (*has)(unsigned char c);
};
bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
bool is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
bool is_graph(unsigned char c) { return c > ' ' && c < 0x7F; }
constexpr CharClass kClasses[] = {
    {"alnum", is_alnum},
    {"alpha", is_alpha},
    {"blank", [](unsigned char c) { return c == ' ' || c == '\t'; }},
    {"cntrl", [](unsigned char c) { return c < ' ' || c == 0x7F; }},
    {"digit", is_digit},
    {"graph", is_graph},
    {"lower", is_lower},
    {"print", [](unsigned char c) { return c == ' ' || is_graph(c); }},
    {"punct", [](unsigned char c) { return is_graph(c) && !is_alnum(c); }},
    {"space", [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }},
    {"upper", is_upper},
    {"xdigit", [](unsigned char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }},
};

const CharClass *find_class(const char *name, std::size_t len) {
    for (const CharClass &c : kClasses)
        if (std::strlen(c.name) == len && std::memcmp(c.name, name, len) == 0) return &c;
    return nullptr;
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
            if (kind == ':' && find_class(name, static_cast<std::size_t>(close - name)) == nullptr) {
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

namespace {

// glibc 2.36 gives up on a class name this long (CHAR_CLASS_MAX_LENGTH).
constexpr std::size_t kClassNameMax = 2048;

// p points at the '.' of a "[." : past its ".]" into p, and the symbol's
// one byte into sym; false when unclosed or longer than one byte (the C
// locale names no multi-byte collating elements).
bool collating_symbol(const char *&p, unsigned char &sym) {
    const char *start = p;
    std::size_t len = 0;
    for (;;) {
        const char c = *++p;
        if (c == '.' && p[1] == ']') break;
        if (c == '\0') return false;
        ++len;
    }
    p += 2;
    sym = static_cast<unsigned char>(start[1]);
    return len == 1;
}

enum class Step { match, mismatch, literal };

// After a member matched: p past the closing ']' (Step::match). With no
// ']' at all, the '[' was a literal (glibc 2.36 reads it so, unlike older
// ones); an escape or a [= .] cut off by the end is a mismatch.
Step skip_members(const char *&p) {
    for (;;) {
        const char c = *p++;
        if (c == ']') return Step::match;
        if (c == '\0') return Step::literal;
        if (c == '\\') {
            if (*p == '\0') return Step::mismatch;
            ++p;
        } else if (c == '[' && *p == ':') {
            const char *start = p;
            for (std::size_t len = 1;; ++len) {
                const char k = *++p;
                if (len == kClassNameMax) return Step::mismatch;
                if (*p == ':' && p[1] == ']') break;
                if (k < 'a' || k >= 'z') {  // not a class name after all: go on from the ':'
                    p = start - 2;
                    break;
                }
            }
            p += 2;
        } else if (c == '[' && *p == '=') {
            if (*++p == '\0') return Step::mismatch;
            if (*++p != '=' || p[1] != ']') return Step::mismatch;
            p += 2;
        } else if (c == '[' && *p == '.') {
            for (;;) {
                const char k = *++p;
                if (k == '\0') return Step::mismatch;
                if (k == '.' && p[1] == ']') break;
            }
            p += 2;
        }
    }
}

// One bracket expression against one byte fn; p points past its '['. On
// match or mismatch, p ends past the closing ']'. Step::literal: there is
// no closing ']', so the '[' stands for itself. The order of the checks is
// glibc's (posix/fnmatch_loop.c), quirks included, so every verdict is
// fnmatch's: a range to a missing end fails, an unknown [:class:] fails.
Step bracket(const char *&p, unsigned char fn) {
    const bool negate = *p == '!' || *p == '^';
    if (negate) ++p;
    unsigned char c = static_cast<unsigned char>(*p++);
    for (;;) {
        unsigned char low = 0;  // a possible range's start
        if (c == '\\') {
            if (*p == '\0') return Step::mismatch;
            c = static_cast<unsigned char>(*p++);
            goto single;
        } else if (c == '[' && *p == ':') {
            const char *start = p;
            std::size_t len = 0;
            for (;;) {
                if (len == kClassNameMax) return Step::mismatch;
                const char k = *++p;
                if (k == ':' && p[1] == ']') break;
                if (k < 'a' || k >= 'z') {  // no class name: a plain '['
                    p = start;
                    goto single;
                }
                ++len;
            }
            const CharClass *cls = find_class(start + 1, len);
            p += 2;
            if (cls == nullptr) return Step::mismatch;
            if (cls->has(fn)) goto matched;
            c = static_cast<unsigned char>(*p++);
        } else if (c == '[' && *p == '=') {
            const char *start = p;
            if (p[1] == '\0' || p[2] != '=' || p[3] != ']') goto single;  // no [=x=]: a plain '['
            if (fn == static_cast<unsigned char>(p[1])) {
                p += 4;
                goto matched;
            }
            p = start + 4;
            c = static_cast<unsigned char>(*p++);
        } else if (c == '\0') {
            return Step::literal;
        } else {
            if (c == '[' && *p == '.') {
                unsigned char sym;
                if (!collating_symbol(p, sym)) return Step::mismatch;
                if (!(*p == '-' && p[1] != '\0') && fn == sym) goto matched;
                low = sym;
            } else {
            single:
                if (!(*p == '-' && p[1] != '\0' && p[1] != ']') && c == fn) goto matched;
                low = c;
            }
            c = static_cast<unsigned char>(*p++);
            if (c == '-' && *p != ']') {
                unsigned char high = static_cast<unsigned char>(*p++);
                if (high == '[' && *p == '.') {
                    if (!collating_symbol(p, high)) return Step::mismatch;
                } else {
                    if (high == '\\') high = static_cast<unsigned char>(*p++);
                    if (high == '\0') return Step::mismatch;
                }
                if (low <= fn && fn <= high) goto matched;
                c = static_cast<unsigned char>(*p++);
            }
        }
        if (c == ']') return negate ? Step::match : Step::mismatch;
    }
matched:
    const Step rest = skip_members(p);
    if (rest != Step::match) return rest;
    return negate ? Step::mismatch : Step::match;
}

// One pattern element (not '*') against one byte: p moves past it.
bool element(const char *&p, unsigned char c) {
    switch (*p) {
    case '?': ++p; return true;
    case '\\':
        if (p[1] == '\0') return false;  // a trailing '\' matches nothing, as in glibc
        p += 2;
        return static_cast<unsigned char>(p[-1]) == c;
    case '[': {
        const char *after = p + 1;
        switch (bracket(after, c)) {
        case Step::match: p = after; return true;
        case Step::mismatch: return false;
        case Step::literal: ++p; return c == '[';
        }
        return false;
    }
    default: return static_cast<unsigned char>(*p++) == c;
    }
}

}  // namespace

// Every element but '*' takes exactly one byte, so on a mismatch only the
// last '*' needs to take one more: earlier ones never need to (the classic
// linear glob walk; glibc commits to the last star the same way).
bool glob_match(const char *pattern, const char *text) {
    const char *p = pattern, *t = text;
    const char *star_p = nullptr, *star_t = nullptr;
    for (;;) {
        if (*p == '*') {
            while (*p == '*') ++p;
            if (*p == '\0') return true;
            star_p = p;
            star_t = t;
        } else if (*p == '\0' ? *t == '\0' : *t != '\0' && element(p, static_cast<unsigned char>(*t))) {
            if (*t == '\0') return true;
            ++t;
            continue;
        } else if (star_p == nullptr || *star_t == '\0') {
            return false;
        } else {
            p = star_p;
            ++star_t;
        }
        // A plain byte after the star can only match where that byte is:
        // jump there (about 1.3x on name globs like "*worker*").
        if (std::strchr("?[\\", *star_p) == nullptr) {
            star_t = std::strchr(star_t, *star_p);
            if (star_t == nullptr) return false;
        }
        t = star_t;
    }
}

}  // namespace procmon
