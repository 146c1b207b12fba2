// The columns/keys the CLI knows: one table drives --fields, --sort, the
// table and JSON output, and which PROCMON_FIELD_* groups the query asks for.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "procmon.h"

namespace procmon::cli {

// Per-run lookups shared by all rows.
class Env {
public:
    // The user's name (the library caches it), or the number if unknown.
    std::string user(uint32_t uid);
};

struct Field {
    const char *name;    // --fields/--sort key and JSON key
    const char *header;  // table column header
    uint64_t group;      // PROCMON_FIELD_* the value comes from
    bool numeric;        // right-aligned; sorted as a number
    // Appends `"key":value` (more than one pair for some fields; null when not valid).
    void (*json)(std::string &out, const procmon_process &p, Env &env);
    // Appends the table cell ("-" when not valid).
    void (*text)(std::string &out, const procmon_process &p, Env &env);
    // Sort key: numeric fields use number(), the others text().
    double (*number)(const procmon_process &p);
};

const std::vector<Field> &all_fields();
// By name, or by ps's name for it (pcpu, %mem, rsz, vsz, comm, cmd...).
const Field *find_field(std::string_view name);

// Comma-separated names, or "default"/"all". Empty string = ok, else the error.
std::string parse_field_list(std::string_view list, bool for_table, std::vector<const Field *> &out);

// Plain text for a terminal: bytes outside printable ASCII and valid UTF-8 become '?'.
void append_printable(std::string &out, const char *s, std::size_t n);
// The name users see (full_name: not cut at 15 bytes as the kernel's comm is).
const char *shown_name(const procmon_process &p);
// "args" as ps shows them: arguments joined by spaces, or "[name]" when none.
void append_command(std::string &out, const procmon_process &p);
// ISO 8601 UTC with milliseconds, e.g. 2026-11-22T10:52:54.120Z.
void append_iso8601(std::string &out, uint64_t ns_since_epoch);
// A percentage with one decimal, as ps and top show it.
void append_percent(std::string &out, double v);
// 1.7 GiB, 64 MiB, 512 B: powers of 1024.
std::string human_bytes(uint64_t bytes);
// [DD-]HH:MM:SS of CPU time.
void append_cpu_time(std::string &out, uint64_t ns);

}  // namespace procmon::cli
