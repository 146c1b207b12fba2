// Argument helpers shared by the procmon commands.
#pragma once

#include <string>

namespace procmon::cli {

// pgrep's scheme, so `if procmon snapshot --name x` can stand for `if pgrep x`
// and still tell "not running" from "could not look": 0 ok, 1 a filter
// matched nothing, 2 bad usage, 3 failure (cannot read, write, open).
constexpr int kExitOk = 0, kExitNoMatch = 1, kExitUsage = 2, kExitFailure = 3;

// The exit-status paragraph of every command's --help.
extern const char kExitHelp[];

// Prints "procmon: <message> (try 'procmon <command> --help')" and returns 2.
int usage_error(const char *command, const std::string &message);

// A decimal integer within [lo, hi]; false otherwise.
bool parse_int(const std::string &s, long long lo, long long hi, long long &out);

// A user name or uid; empty string when fine, else the error.
std::string parse_user(const std::string &s, long long &uid);

// Walks a command's arguments: each option, and its value either inline
// (--key=value) or as the next argument.
class ArgCursor {
public:
    ArgCursor(int argc, char **argv) : argc_(argc), argv_(argv) {}
    // Moves to the next argument; false when none is left.
    bool next();
    const std::string &option() const { return option_; }  // without "=value"
    const char *raw() const { return argv_[i_]; }
    bool has_inline_value() const { return has_inline_; }
    // The option's value into dst; empty string when fine, else the error.
    std::string value(std::string &dst);
    // The arguments after the current one, for options that take several.
    bool peek(const char *&next) const;
    void skip() { ++i_; }

private:
    int argc_;
    char **argv_;
    int i_ = -1;
    std::string option_, inline_value_;
    bool has_inline_ = false;
};

}  // namespace procmon::cli
