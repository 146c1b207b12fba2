// JSON text for arbitrary process bytes. Strings that are valid UTF-8 come
// out as they are (escaped); invalid bytes become U+FFFD, and the caller can
// add the exact bytes in base64 so nothing is lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace procmon::cli {

// Length of the valid UTF-8 sequence starting at s[0] (n bytes available),
// or 0 when s[0] starts none.
std::size_t utf8_sequence(const unsigned char *s, std::size_t n);

// True if the n bytes are valid UTF-8.
bool valid_utf8(const char *s, std::size_t n);

// Appends s as a quoted, escaped JSON string.
void json_string(std::string &out, const char *s, std::size_t n);
inline void json_string(std::string &out, const std::string &s) { json_string(out, s.data(), s.size()); }

// Appends the base64 of n bytes, quoted.
void json_base64(std::string &out, const char *s, std::size_t n);

// Appends `"key":"text"`, plus `"key_base64":"..."` with the exact bytes
// when they are not UTF-8; `"key":null` when !valid.
void json_text_field(std::string &out, const char *key, const char *s, bool valid);

// Appends `"argv":[...]` for a NUL-separated block (argv_len bytes), plus
// `"argv_base64":[...]` when any argument is not UTF-8.
void json_argv_field(std::string &out, const char *argv, std::size_t argv_len);

// Appends a compact JSON object as json-pretty shows it: indented two
// spaces, each key on its own line (arrays stay on their key's line). One
// layout for every object, whatever keys it holds.
void json_pretty_object(std::string &out, std::string_view compact);

}  // namespace procmon::cli
