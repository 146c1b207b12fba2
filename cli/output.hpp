// The snapshot formats of the procmon command.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "fields.hpp"
#include "procmon.h"

namespace procmon::cli {

enum class Format { table, json_stream, json_array, json_pretty, summary };

bool parse_format(const std::string &name, Format &out);

struct OutputOptions {
    std::size_t columns = 0;                  // table: cut lines at this width (0: never)
    const procmon_system *system = nullptr;   // summary: the machine (nullptr: unknown)
    std::string system_unknown;               // summary: why it is unknown
    double interval = 0;                      // summary: seconds between the CPU samples (0: one sample)
};

// Writes rows (already filtered and sorted) to `out`; false on a write error.
// The summary's memory line is the machine's; with a pss, uss or swap field
// among `fields`, also these processes' PSS summed.
bool write_snapshot(std::FILE *out, Format format, const std::vector<const procmon_process *> &rows,
                    const std::vector<const Field *> &fields, Env &env, const OutputOptions &options);

}  // namespace procmon::cli
