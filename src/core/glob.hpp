// procmon's glob patterns: the check a filter passes before it is used, and
// the matcher, its own so a match never depends on the C library or the
// process's locale. A malformed pattern is an error, not a silent "no match".
#pragma once

#include <string>

namespace procmon {

// True when `pattern` reads as intended. Else false, with `why` naming the
// fault and its offset: a '[' with no closing ']', an unknown or unclosed
// [:class:], [=x=] or [.x.], or a trailing '\'.
bool glob_is_valid(const char *pattern, std::string &why);

// Whether text matches pattern, with the verdict of glibc's fnmatch(3) with
// no flags in the C locale (bytes, not characters; '^' negates like '!'),
// for any pattern: tests/unit/glob_test.cpp holds it to that. The one place
// filters match, for snapshots and events alike.
bool glob_match(const char *pattern, const char *text);

}  // namespace procmon
