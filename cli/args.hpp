// Argument helpers shared by the procmon commands.
#pragma once

#include <string>

namespace procmon::cli {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

// Prints "procmon: <message> (try 'procmon <command> --help')" and returns 2.
int usage_error(const char *command, const std::string &message);

// A decimal integer within [lo, hi]; false otherwise.
bool parse_int(const std::string &s, long long lo, long long hi, long long &out);

// A user name or uid; empty string when fine, else the error.
std::string parse_user(const std::string &s, long long &uid);

// Splits "--key=value" into key and value; false when arg has no '='.
bool split_inline(std::string &arg, std::string &value);

}  // namespace procmon::cli
