#include "json.hpp"

#include <cstring>

namespace procmon::cli {
std::size_t utf8_sequence(const unsigned char *s, std::size_t n) {
    const unsigned char c = s[0];
    if (c < 0x80) return 1;
    auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return i < n && s[i] >= lo && s[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

bool valid_utf8(const char *s, std::size_t n) {
    const auto *u = reinterpret_cast<const unsigned char *>(s);
    for (std::size_t i = 0; i < n;) {
        std::size_t len = utf8_sequence(u + i, n - i);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

void json_string(std::string &out, const char *s, std::size_t n) {
    static const char hex[] = "0123456789abcdef";
    const auto *u = reinterpret_cast<const unsigned char *>(s);
    out.push_back('"');
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = u[i];
        if (c >= 0x80) {
            std::size_t len = utf8_sequence(u + i, n - i);
            if (len == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
                ++i;
            } else {
                out.append(s + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
        ++i;
    }
    out.push_back('"');
}

void json_base64(std::string &out, const char *s, std::size_t n) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto *u = reinterpret_cast<const unsigned char *>(s);
    out.push_back('"');
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t{u[i]} << 16) | (uint32_t{u[i + 1]} << 8) | u[i + 2];
        out.push_back(table[v >> 18]);
        out.push_back(table[(v >> 12) & 63]);
        out.push_back(table[(v >> 6) & 63]);
        out.push_back(table[v & 63]);
    }
    if (i < n) {
        uint32_t v = uint32_t{u[i]} << 16;
        if (i + 1 < n) v |= uint32_t{u[i + 1]} << 8;
        out.push_back(table[v >> 18]);
        out.push_back(table[(v >> 12) & 63]);
        out.push_back(i + 1 < n ? table[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    out.push_back('"');
}

void json_text_field(std::string &out, const char *key, const char *s, bool valid) {
    out.push_back('"');
    out += key;
    out += "\":";
    if (!valid) {
        out += "null";
        return;
    }
    std::size_t n = std::strlen(s);
    json_string(out, s, n);
    if (!valid_utf8(s, n)) {
        out += ",\"";
        out += key;
        out += "_base64\":";
        json_base64(out, s, n);
    }
}

void json_argv_field(std::string &out, const char *argv, std::size_t argv_len) {
    const bool all_utf8 = valid_utf8(argv, argv_len);
    for (int pass = 0; pass < (all_utf8 ? 1 : 2); ++pass) {
        out += pass == 0 ? "\"argv\":[" : ",\"argv_base64\":[";
        const char *a = argv, *end = argv + argv_len;
        for (bool first = true; a < end; first = false) {
            std::size_t len = std::strlen(a);
            if (!first) out.push_back(',');
            if (pass == 0) json_string(out, a, len);
            else json_base64(out, a, len);
            a += len + 1;
        }
        out.push_back(']');
    }
}

void json_pretty_object(std::string &out, std::string_view compact) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : compact) {
        if (in_string) {
            out.push_back(c);
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
        case '"': in_string = true; out.push_back(c); break;
        case '{':
        case '[': out += ++depth == 1 ? "  {\n    " : std::string_view(&c, 1); break;
        case '}':
        case ']': out += depth-- == 1 ? "\n  }" : std::string_view(&c, 1); break;
        case ',': out += depth == 1 ? ",\n    " : ","; break;
        default: out.push_back(c);
        }
    }
}

}  // namespace procmon::cli
