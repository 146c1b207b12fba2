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

// Writes rows (already filtered and sorted) to `out`; false on a write error.
bool write_snapshot(std::FILE *out, Format format, const std::vector<const procmon_process *> &rows,
                    const std::vector<const Field *> &fields, Env &env);

}  // namespace procmon::cli
