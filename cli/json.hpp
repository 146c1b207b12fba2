// JSON text for arbitrary process bytes. Strings that are valid UTF-8 come
// out as they are (escaped); invalid bytes become U+FFFD, and the caller can
// add the exact bytes in base64 so nothing is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace procmon::cli {

// True if the n bytes are valid UTF-8.
bool valid_utf8(const char *s, std::size_t n);

// Appends s as a quoted, escaped JSON string.
void json_string(std::string &out, const char *s, std::size_t n);
inline void json_string(std::string &out, const std::string &s) { json_string(out, s.data(), s.size()); }

// Appends the base64 of n bytes, quoted.
void json_base64(std::string &out, const char *s, std::size_t n);

}  // namespace procmon::cli
