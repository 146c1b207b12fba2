#include "top_options.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>

#include "args.hpp"
#include "remote.hpp"

namespace procmon::cli::top {

const char kUsage[] =
    "usage: procmon top [options]\n"
    "\n"
    "A live view of the processes of this machine, refreshed every --interval:\n"
    "the busiest first, and below them an events pane with every start, exec and\n"
    "exit as it happens, with exit codes and lifetimes, also of the processes\n"
    "that lived too short to appear in any refresh. Press h in the view for the\n"
    "keys; q quits.\n"
    "\n"
    "options:\n"
    "  --interval S        seconds between refreshes (default 1; 0.5 works; 0.1..86400)\n"
    "  --sort [-|+]COL     sort by pid, user, state (s), %%cpu (pcpu, cpu), %%mem (pmem,\n"
    "                      mem), rss (res), vsz (virt), threads (nlwp), time or\n"
    "                      command (comm, args); numbers largest first, pid and\n"
    "                      text ascending; '-' or '+' forces descending or\n"
    "                      ascending (default %%cpu)\n"
    "  --tree              show processes under their parents\n"
    "  --filter [F:]TEXT   only processes matching: TEXT in the name or command line,\n"
    "                      or F one of name:, cmd:, user: (a name or uid), cgroup:\n"
    "                      (the cgroup path or container id), pid:; repeat for more\n"
    "                      (all must match; a second term of one F replaces the first)\n"
    "  --batch N           print N refreshes as text, as top -b, then exit\n"
    "  --once              the same as --batch 1\n"
    "  -w, --wide          batch: do not cut lines to the terminal's width\n"
    "%s"
    "  -h, --help          this text\n"
    "\n"
    "Where the full screen cannot be drawn (output not a terminal, TERM=dumb or a\n"
    "terminal ncurses does not know), top prints refreshes as text as --batch does,\n"
    "until interrupted. NO_COLOR turns colours off. Docs: docs/cli.md.\n"
    "\n"
    "%s";

namespace {

const ColumnInfo kInfo[kColumns] = {
    {Column::pid, "PID", 7, true},      {Column::user, "USER", 8, false},   {Column::state, "S", 1, false},
    {Column::cpu, "%CPU", 5, true},     {Column::mem, "%MEM", 5, true},     {Column::rss, "RSS", 6, true},
    {Column::vsz, "VIRT", 6, true},     {Column::threads, "THR", 4, true},  {Column::time, "TIME", 8, true},
    {Column::command, "COMMAND", 0, false},
};

// The first name of each column is the one shown; the others are ps's and top's.
const std::pair<std::string_view, Column> kNames[] = {
    {"pid", Column::pid},         {"user", Column::user},       {"euser", Column::user},    {"state", Column::state},
    {"s", Column::state},         {"stat", Column::state},      {"%cpu", Column::cpu},      {"pcpu", Column::cpu},
    {"cpu", Column::cpu},         {"%mem", Column::mem},        {"pmem", Column::mem},      {"mem", Column::mem},
    {"rss", Column::rss},         {"res", Column::rss},         {"rsz", Column::rss},       {"vsz", Column::vsz},
    {"virt", Column::vsz},        {"vms", Column::vsz},         {"threads", Column::threads}, {"nlwp", Column::threads},
    {"thr", Column::threads},     {"time", Column::time},       {"cputime", Column::time},  {"time+", Column::time},
    {"command", Column::command}, {"comm", Column::command},    {"args", Column::command},  {"cmd", Column::command},
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

const std::pair<std::string_view, FilterTerm::Field> kFilterFields[] = {
    {"name", FilterTerm::Field::name},     {"cmd", FilterTerm::Field::cmd},       {"command", FilterTerm::Field::cmd},
    {"user", FilterTerm::Field::user},     {"cgroup", FilterTerm::Field::cgroup}, {"container", FilterTerm::Field::cgroup},
    {"pid", FilterTerm::Field::pid},
};

const char *field_prefix(FilterTerm::Field f) {
    for (const auto &[name, field] : kFilterFields)
        if (field == f) return name.data();
    return "";
}

}  // namespace

const ColumnInfo &column_info(Column c) { return kInfo[static_cast<int>(c)]; }

bool column_from_name(std::string_view name, Column &out) {
    const std::string l = lower(std::string(name));
    for (const auto &[n, c] : kNames)
        if (l == n) {
            out = c;
            return true;
        }
    return false;
}

const char *column_name(Column c) {
    for (const auto &[n, col] : kNames)
        if (col == c) return c == Column::cpu ? "%cpu" : c == Column::mem ? "%mem" : n.data();
    return "?";
}

std::string Filters::add(const std::string &spec) {
    FilterTerm t;
    t.text = spec;
    const std::size_t colon = spec.find(':');
    if (colon != std::string::npos) {
        const std::string field = lower(spec.substr(0, colon));
        auto it = std::find_if(std::begin(kFilterFields), std::end(kFilterFields), [&](const auto &f) { return f.first == field; });
        if (it != std::end(kFilterFields)) {
            t.field = it->second;
            t.text = spec.substr(colon + 1);
        }  // else "a:b" is text with a colon in it
    }
    if (t.text.empty()) return "an empty filter (give TEXT, or name:, cmd:, user:, cgroup:, pid: and a value)";
    if (t.field == FilterTerm::Field::user) {
        if (std::string err = parse_user(t.text, t.number); !err.empty()) return err;
    } else if (t.field == FilterTerm::Field::pid) {
        if (!parse_int(t.text, 1, 2147483647LL, t.number)) return "'" + t.text + "' is not a pid";
    } else {
        t.text = lower(t.text);  // the substring matches ignore case, as htop's
    }
    remove(t.field);
    terms_.push_back(t);
    return {};
}

void Filters::remove(FilterTerm::Field f) {
    terms_.erase(std::remove_if(terms_.begin(), terms_.end(), [f](const FilterTerm &t) { return t.field == f; }), terms_.end());
}

bool Filters::has(FilterTerm::Field f) const {
    return std::any_of(terms_.begin(), terms_.end(), [f](const FilterTerm &t) { return t.field == f; });
}

std::string Filters::describe() const {
    std::string s;
    for (const FilterTerm &t : terms_) {
        if (!s.empty()) s += ' ';
        if (t.field != FilterTerm::Field::text) s += std::string(field_prefix(t.field)) + ":";
        s += t.text;
    }
    return s;
}

bool parse_interval(const std::string &s, double &out) {
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= 0.1) || v > 86400) return false;
    out = v;
    return true;
}

std::string parse_options(int argc, char **argv, Options &o, bool &help) {
    ArgCursor args(argc, argv);
    while (args.next()) {
        const std::string &arg = args.option();
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        if (arg == "--tree" || arg == "--once" || arg == "-w" || arg == "--wide") {
            if (args.has_inline_value()) return "option '" + arg + "' takes no value";
            if (arg == "--tree") o.tree = true;
            else if (arg == "--once") o.batch = 1;
            else o.wide = true;
            continue;
        }
        std::string err;
        if (parse_connect_option(args, arg, o.connect, err)) {
            if (!err.empty()) return err;
            continue;
        }
        if (arg != "--interval" && arg != "--sort" && arg != "--filter" && arg != "--batch")
            return "unknown option '" + std::string(args.raw()) + "'";
        std::string v;
        if (!(err = args.value(v)).empty()) return err;
        if (arg == "--interval") {
            if (!parse_interval(v, o.interval)) return "'" + v + "' is not an interval in seconds (e.g. 1 or 0.5; 0.1..86400)";
        } else if (arg == "--batch") {
            if (!parse_int(v, 1, 1000000000LL, o.batch)) return "'" + v + "' is not a number of refreshes (1 or more)";
        } else if (arg == "--filter") {
            if (!(err = o.filters.add(v)).empty()) return err;
        } else {  // --sort
            const bool sign = !v.empty() && (v[0] == '-' || v[0] == '+');
            if (!column_from_name(sign ? v.substr(1) : v, o.sort))
                return "unknown sort column '" + v + "' (pid, user, state, %cpu, %mem, rss, vsz, threads, time, command)";
            o.descending = sign ? v[0] == '-' : column_info(o.sort).numeric && o.sort != Column::pid;
        }
    }
    return {};
}

}  // namespace procmon::cli::top
