// The name users see, and the command line filters match: one rule for
// snapshots and events, so every interface agrees.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace procmon {

// The kernel keeps 15 bytes of a program's name (TASK_COMM_LEN - 1).
constexpr std::size_t kCommCut = 15;

// psutil's rule: the comm, or, when the kernel cut it, the base name of
// argv[0], or else of exe, when that starts with the comm (a renamed
// process keeps its own name). Returns a view into one of the inputs.
inline std::string_view full_name(std::string_view comm, const char *argv, std::size_t argv_len, std::string_view exe) {
    if (comm.size() < kCommCut) return comm;
    auto base_if_longer = [&](std::string_view path) -> std::string_view {
        const std::size_t slash = path.rfind('/');
        std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
        return base.size() > comm.size() && base.substr(0, comm.size()) == comm ? base : std::string_view{};
    };
    if (argv != nullptr && argv_len > 0) {
        std::string_view arg0(argv, strnlen(argv, argv_len));
        if (std::string_view b = base_if_longer(arg0); !b.empty()) return b;
    }
    // readlink of a deleted executable ends " (deleted)": not part of its name
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.size() > kDeleted.size() && exe.substr(exe.size() - kDeleted.size()) == kDeleted)
        exe.remove_suffix(kDeleted.size());
    if (std::string_view b = base_if_longer(exe); !b.empty()) return b;
    return comm;
}

// The command line as filters see it: the arguments joined by single spaces
// (argv is argv_len bytes of NUL-terminated arguments), NUL-terminated in
// `out` (a std::string or a vector of char). Returns it as a C string.
template <class Buffer>
const char *join_argv(const char *argv, std::size_t argv_len, Buffer &out) {
    while (argv_len > 0 && argv[argv_len - 1] == '\0') --argv_len;
    out.resize(argv_len + 1);
    for (std::size_t i = 0; i < argv_len; ++i) out[i] = argv[i] == '\0' ? ' ' : argv[i];
    out[argv_len] = '\0';
    return out.data();
}

}  // namespace procmon
