// procmon's glob matcher against glibc's fnmatch(3) with no flags, the
// reference it replaces: hand-written edge cases, every byte against the
// bracket forms, and many generated pattern x text pairs (a fixed seed, so
// a failure repeats). Every verdict must be fnmatch's.
#include <criterion/criterion.h>
#include <fnmatch.h>

#include <clocale>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/glob.hpp"

namespace {

// fnmatch as the matcher promises to read patterns: bytes (the C locale),
// '^' negating (POSIXLY_CORRECT unset).
void reference_setup() {
    std::setlocale(LC_ALL, "C");
    unsetenv("POSIXLY_CORRECT");
}

std::string shown(const std::string &s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7F) out += static_cast<char>(c);
        else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

// Compares one pair; returns whether they agree, reporting the first few that do not.
bool agrees(const std::string &pattern, const std::string &text, int &reported) {
    const bool want = fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
    const bool got = procmon::glob_match(pattern.c_str(), text.c_str());
    if (want != got && reported++ < 10)
        cr_log_error("pattern '%s' text '%s': fnmatch %s, procmon %s", shown(pattern).c_str(), shown(text).c_str(),
                     want ? "matches" : "does not", got ? "matches" : "does not");
    return want == got;
}

const char *const kEdgeCases[][2] = {
    {"", ""}, {"", "a"}, {"a", ""}, {"*", ""}, {"*", "abc"}, {"**", "a"}, {"?", ""}, {"?", "a"}, {"??", "a"},
    {"a*b", "ab"}, {"a*b", "axxb"}, {"a*b", "axxbx"}, {"*a*b*c*", "xaxbxcx"}, {"*?", ""}, {"*??", "a"},
    {"*?*?", "ab"}, {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"\\", ""}, {"\\", "\\"}, {"a\\", "a"}, {"a\\", "a\\"}, {"\\*", "*"}, {"\\*", "a"}, {"\\?", "?"}, {"\\a", "a"},
    {"\\[", "["}, {"*\\", "a"}, {"*\\*", "x*"},
    {"[", "["}, {"[", ""}, {"[a", "[a"}, {"[a", "a"}, {"[ab", "a"}, {"[ab", "[ab"}, {"x[", "x["}, {"[!", "[!"},
    {"[]", "]"}, {"[]", "[]"}, {"[]]", "]"}, {"[]a]", "a"}, {"[!]]", "]"}, {"[!]]", "a"}, {"[^]]", "a"},
    {"[]-a]", "^"}, {"[!a]", "a"}, {"[!a]", "b"}, {"[^a]", "b"}, {"[^a]", "^"}, {"[!]", "!"},
    {"[a-c]", "b"}, {"[a-c]", "d"}, {"[c-a]", "b"}, {"[c-a]", "c"}, {"[a-]", "-"}, {"[-a]", "-"}, {"[a-", "a"},
    {"[a-", "[a-"}, {"[a-]b", "-b"}, {"[--/]", "."}, {"[a-\\]]", "]"}, {"[a-\\", "a"}, {"[\\]]", "]"},
    {"[\\", "\\"}, {"[\\]", "\\"}, {"[\\\\]", "\\"}, {"[\\a-c]", "b"}, {"[a\\-c]", "-"}, {"[a\\-c]", "b"},
    {"[[:alpha:]]", "a"}, {"[[:alpha:]]", "1"}, {"[[:digit:][:upper:]]", "Q"}, {"[![:space:]]", " "},
    {"[[:bogus:]]", "a"}, {"[[:alpha:]", "a"}, {"[[:alpha:]", "[:alpha:]"}, {"[[:alpha]]", "a"},
    {"[[:Alpha:]]", "A"}, {"[[:alpha:]-z]", "-"}, {"[[:]]", ":"}, {"[[::]]", ":"}, {"[[:z:]]", "z"}, {"[[:z:]]", "z]"}, {"[[:az:]]", "a]"}, {"[![:z:]]", "z]"}, {"[a[:z:]]", "a]"},
    {"[a[:digit:]]", "5"}, {"[[:alpha:]]x", "ax"}, {"[[:xdigit:]]", "F"}, {"[[:punct:]]", "_"}, {"[[:cntrl:]]", "\x7f"},
    {"[[=a=]]", "a"}, {"[[=a=]]", "b"}, {"[[=a=]b]", "b"}, {"[[=a]", "a"}, {"[[=a]", "["}, {"[[=]", "="}, {"[[==]]", "="},
    {"[a[=", "a"}, {"[x[=a=]]", "x"}, {"[x[=ab=]]", "x"},
    {"[[.a.]]", "a"}, {"[[.a.]]", "b"}, {"[[.-.]]", "-"}, {"[[.a.]-c]", "b"}, {"[a-[.c.]]", "b"}, {"[[.ab.]]", "a"},
    {"[[.a]", "a"}, {"[x[.a.]]", "x"}, {"[x[.a]", "x"}, {"[[...]]", "."}, {"[[.].]]", "]"},
    {"*[", "a["}, {"*[a", "x[a"}, {"*[ab", "a"}, {"*[a-c]", "xxb"}, {"*[[:bogus:]]", "abc"},
    {"[[", "[["}, {"[ca[", "[ca["}, {"[ca[", "c"}, {"[[[:alpha", "[[[:alpha"}, {"[[\\", "[[\\"}, {"[[[=", "[[[="},
    {"\xc3\xa9", "\xc3\xa9"}, {"?", "\xc3\xa9"}, {"??", "\xc3\xa9"}, {"[\x80-\xff]", "\xc3"}, {"[!a]", "\xff"},
};

}  // namespace

Test(glob, edge_cases_as_fnmatch) {
    reference_setup();
    int reported = 0, wrong = 0;
    for (const auto &c : kEdgeCases) wrong += !agrees(c[0], c[1], reported);
    cr_expect_eq(wrong, 0, "%d of %zu edge cases differ from fnmatch", wrong, sizeof kEdgeCases / sizeof kEdgeCases[0]);
}

Test(glob, class_names_too_long_for_glibc) {
    reference_setup();
    int reported = 0, wrong = 0;
    for (std::size_t len : {255, 256, 257, 2046, 2047, 2048, 2049, 3000}) {
        const std::string name(len, 'a');
        wrong += !agrees("[[:" + name + ":]]", "a", reported);
        wrong += !agrees("[[:" + name + "]", "[", reported);
        wrong += !agrees("[b[:" + name + ":]]", "b", reported);
        wrong += !agrees("[b[:" + name + "]", "b", reported);
        wrong += !agrees("[b[:" + name, "[b[:" + name, reported);
    }
    cr_expect_eq(wrong, 0, "%d verdicts differ from fnmatch", wrong);
}

Test(glob, every_byte_against_the_bracket_forms) {
    reference_setup();
    const char *const patterns[] = {
        "[[:alnum:]]", "[[:alpha:]]", "[[:blank:]]", "[[:cntrl:]]", "[[:digit:]]", "[[:graph:]]", "[[:lower:]]",
        "[[:print:]]", "[[:punct:]]", "[[:space:]]", "[[:upper:]]", "[[:xdigit:]]", "[![:alnum:]_]", "[ -~]",
        "[\x01-\x7f]", "[\x80-\xff]", "[^a-z]", "[]-]", "?", "*", "[[=x=]]", "[[.y.]]",
    };
    int reported = 0, wrong = 0;
    for (const char *p : patterns)
        for (int b = 1; b < 256; ++b) wrong += !agrees(p, std::string(1, static_cast<char>(b)), reported);
    cr_expect_eq(wrong, 0, "%d verdicts differ from fnmatch", wrong);
}

Test(glob, generated_pairs_as_fnmatch) {
    reference_setup();
    // Pieces chosen to meet each other in odd ways: brackets opened and
    // closed, ranges, escapes, classes known and not, stars and '?'.
    const char *const pieces[] = {"a", "b", "c", "x", "-", "!", "^", "]", "[", "\\", "*", "?", ":", "=", ".",
                                  "A", "1", " ", "\xc3", "[:alpha:]", "[:digit:]", "[:bogus:]", "[=a=]", "[.a.]",
                                  "[.-.]", "[a-c]", "[!b]", "[]", "*?", "\\*", "a-", "-]"};
    const char text_bytes[] = {'a', 'b', 'c', 'x', '-', '!', '^', ']', '[', '\\', ':', '=', '.', 'A', '1', ' ',
                               '*', '?', '\xc3', '\xff'};
    std::mt19937 rng(17);  // the engine's sequence is fixed by the standard; distributions are not, so: modulo
    auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    int reported = 0;
    long wrong = 0, pairs = 0, matched = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string pattern;
        for (std::size_t k = pick(8); k > 0; --k) pattern += pieces[pick(sizeof pieces / sizeof pieces[0])];
        for (int j = 0; j < 40; ++j) {
            std::string text;
            for (std::size_t k = pick(9); k > 0; --k) text += text_bytes[pick(sizeof text_bytes)];
            // half the time, text built from the pattern's own bytes: more matches
            if (j % 2 == 1) {
                text.clear();
                for (char c : pattern)
                    if (c != '*' && c != '\\' && pick(3) != 0) text += c;
            }
            ++pairs;
            matched += fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
            wrong += !agrees(pattern, text, reported);
        }
    }
    cr_log_info("%ld pairs, %ld matching", pairs, matched);
    cr_expect_gt(matched, pairs / 50, "the corpus should match often enough to mean something (%ld)", matched);
    cr_expect_eq(wrong, 0, "%ld of %ld verdicts differ from fnmatch", wrong, pairs);
}
