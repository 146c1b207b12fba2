// Checks a name filter before it is used: fnmatch(3) has no error return,
// so a malformed pattern would silently match nothing (or something else).
#pragma once

#include <string>

namespace procmon {

// True when fnmatch(3) (no flags) reads `pattern` as intended. Else false,
// with `why` naming the fault and its offset: a '[' with no closing ']', an
// unknown or unclosed [:class:], [=x=] or [.x.], or a trailing '\'.
bool glob_is_valid(const char *pattern, std::string &why);

// Whether text matches a valid pattern, as fnmatch(3) with no flags: the
// one place filters match, for snapshots and events alike.
bool glob_match(const char *pattern, const char *text);

}  // namespace procmon
