// `procmon top`: its options, columns and filters, as the command line and
// the keys set them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace procmon::cli::top {

// The table's columns, left to right.
enum class Column { pid, user, state, cpu, mem, rss, vsz, threads, time, command };
constexpr int kColumns = 10;

struct ColumnInfo {
    Column column;
    const char *header;
    int width;      // 0: the rest of the line
    bool numeric;   // right-aligned, and sorted largest first, as top does
};
const ColumnInfo &column_info(Column c);
// ps's and top's names for a column (%cpu, pcpu, res, virt, nlwp, args...).
bool column_from_name(std::string_view name, Column &out);
// The name --sort takes for it, e.g. "%cpu".
const char *column_name(Column c);

// One filter term: "[FIELD:]TEXT". Without FIELD, TEXT is looked for in the
// name and the command line.
struct FilterTerm {
    enum class Field { text, name, cmd, user, cgroup, pid };
    Field field = Field::text;
    std::string text;   // as typed (lower-cased for the substring matches)
    long long number = -1;  // user: the uid; pid: the pid
};

// The terms in force: one per field (a new one replaces the old), all must
// match.
class Filters {
public:
    // Adds "[FIELD:]TEXT"; empty string when fine, else why not.
    std::string add(const std::string &spec);
    void clear() { terms_.clear(); }
    void remove(FilterTerm::Field f);
    const std::vector<FilterTerm> &terms() const { return terms_; }
    bool empty() const { return terms_.empty(); }
    bool has(FilterTerm::Field f) const;
    // "user:root nginx", as the header shows them.
    std::string describe() const;

private:
    std::vector<FilterTerm> terms_;
};

struct Options {
    double interval = 1.0;    // seconds between refreshes
    long long batch = 0;      // refreshes to print as text; 0: the full screen
    Column sort = Column::cpu;
    bool descending = true;
    bool tree = false;
    bool wide = false;        // batch: do not cut lines to the terminal's width
    Filters filters;
    std::string connect;      // procmond's socket; empty: the library's rule
};

// Empty string when fine, else the one-line error.
std::string parse_options(int argc, char **argv, Options &o, bool &help);

// An interval in seconds (0.1 .. 86400); false if `s` is not one.
bool parse_interval(const std::string &s, double &out);

extern const char kUsage[];

}  // namespace procmon::cli::top
