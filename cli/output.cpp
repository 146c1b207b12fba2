#include "output.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "json.hpp"
#include "terminal.hpp"

namespace procmon::cli {
namespace {

// Buffered writer: one fwrite per 64 KiB, not per row.
class Sink {
public:
    explicit Sink(std::FILE *f) : f_(f) { buf_.reserve(kFlushAt + 4096); }
    std::string &buf() { return buf_; }
    void maybe_flush() {
        if (buf_.size() >= kFlushAt) flush();
    }
    bool flush() {
        if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) ok_ = false;
        buf_.clear();
        return ok_;
    }
    bool finish() { return flush() && std::fflush(f_) == 0 && ok_; }

private:
    static constexpr std::size_t kFlushAt = 64 * 1024;
    std::FILE *f_;
    std::string buf_;
    bool ok_ = true;
};

void json_object(std::string &out, const procmon_process &p, const std::vector<const Field *> &fields, Env &env) {
    out += '{';
    bool first = true;
    for (const Field *f : fields) {
        if (!first) out += ',';
        first = false;
        f->json(out, p, env);
    }
    out += '}';
}

// Display width of a UTF-8 cell: one column per code point.
std::size_t width(const std::string &s) {
    std::size_t w = 0;
    for (unsigned char c : s) w += (c & 0xC0) != 0x80;
    return w;
}

bool write_table(Sink &sink, const std::vector<const procmon_process *> &rows, const std::vector<const Field *> &fields,
                 Env &env, std::size_t columns) {
    const std::size_t ncol = fields.size();
    std::vector<std::vector<std::string>> cells(rows.size(), std::vector<std::string>(ncol));
    std::vector<std::size_t> widths(ncol);
    for (std::size_t c = 0; c < ncol; ++c) widths[c] = width(fields[c]->header);
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t c = 0; c < ncol; ++c) {
            fields[c]->text(cells[r][c], *rows[r], env);
            widths[c] = std::max(widths[c], width(cells[r][c]));
        }
    auto emit_row = [&](auto cell_of) {
        std::string &out = sink.buf();
        const std::size_t line_start = out.size();
        for (std::size_t c = 0; c < ncol; ++c) {
            const std::string &cell = cell_of(c);
            const bool last = c + 1 == ncol;
            std::size_t pad = widths[c] - width(cell);
            if (fields[c]->numeric) out.append(pad, ' ');
            out += cell;
            if (!last) {
                if (!fields[c]->numeric) out.append(pad, ' ');
                out.push_back(' ');
            }
        }
        cut_line(out, line_start, columns);
        out.push_back('\n');
        sink.maybe_flush();
    };
    std::vector<std::string> headers;
    for (const Field *f : fields) headers.emplace_back(f->header);
    emit_row([&](std::size_t c) -> const std::string & { return headers[c]; });
    for (std::size_t r = 0; r < rows.size(); ++r) emit_row([&](std::size_t c) -> const std::string & { return cells[r][c]; });
    return sink.finish();
}

// The machine's memory, not a sum of RSS: shared pages (libraries, shared
// memory) count in every process that maps them, so summed RSS can exceed
// the memory the machine has. PSS divides them among their sharers, so its
// sum is these processes' real share; it costs a page-table walk (opt-in).
void memory_lines(std::string &o, const std::vector<const procmon_process *> &rows, const OutputOptions &options,
                  bool smaps) {
    if (const procmon_system *sys = options.system; sys == nullptr) {
        o += "memory (machine): unknown (" + options.system_unknown + ")\n";
    } else {
        o += "memory (machine): " + human_bytes(sys->mem_used_bytes) + " used of " + human_bytes(sys->mem_total_bytes) + " (";
        append_percent(o, sys->mem_total_bytes ? 100.0 * static_cast<double>(sys->mem_used_bytes) / static_cast<double>(sys->mem_total_bytes) : 0.0);
        o += '%';
        if (sys->swap_total_bytes == 0) o += "), no swap\n";
        else o += "), swap " + human_bytes(sys->swap_total_bytes - sys->swap_free_bytes) + " used of " +
                  human_bytes(sys->swap_total_bytes) + "\n";
    }
    if (!smaps) return;
    uint64_t pss = 0, uss = 0, swap = 0;
    std::size_t unread = 0;
    for (const procmon_process *p : rows) {
        if (!(p->valid & PROCMON_FIELD_SMAPS)) {
            // a kernel thread or a zombie has no memory of its own
            unread += !(p->flags & (PROCMON_PROC_KTHREAD | PROCMON_PROC_ZOMBIE));
            continue;
        }
        pss += p->pss_bytes;
        uss += p->uss_bytes;
        swap += p->swap_bytes;
    }
    o += "memory (these processes): pss " + human_bytes(pss) + ", uss " + human_bytes(uss) + ", swap " + human_bytes(swap);
    if (unread) o += " (" + std::to_string(unread) + " processes unreadable, not counted)";
    o += "\n";
}

bool write_summary(Sink &sink, const std::vector<const procmon_process *> &rows, const std::vector<const Field *> &fields,
                   Env &env, const OutputOptions &options) {
    std::string &o = sink.buf();
    std::size_t kthreads = 0, zombies = 0;
    uint64_t threads = 0;
    double cpu = 0;
    std::map<char, std::size_t> by_state;
    std::map<std::string, std::size_t> by_user;
    for (const procmon_process *p : rows) {
        kthreads += (p->flags & PROCMON_PROC_KTHREAD) != 0;
        zombies += (p->flags & PROCMON_PROC_ZOMBIE) != 0;
        threads += p->threads;
        cpu += (p->valid & PROCMON_FIELD_CPU) ? p->cpu_percent : 0;
        ++by_state[p->state];
        std::string user;
        if (p->valid & PROCMON_FIELD_IDS) {
            const std::string name = env.user(p->euid);
            append_printable(user, name.data(), name.size());
        } else {
            user = "?";
        }
        ++by_user[user];
    }
    const bool smaps = std::any_of(fields.begin(), fields.end(), [](const Field *f) { return f->group == PROCMON_FIELD_SMAPS; });
    char line[256];
    std::snprintf(line, sizeof line, "processes: %zu (kernel threads %zu, zombies %zu), threads: %llu\n", rows.size(),
                  kthreads, zombies, static_cast<unsigned long long>(threads));
    o += line;
    if (options.interval > 0)
        std::snprintf(line, sizeof line, "cpu: %.1f%% in all, over the last %g s\n", cpu, options.interval);
    else  // one sample: lifetime averages, which a busy past inflates
        std::snprintf(line, sizeof line, "cpu: %.1f%% in all, each process's average since it started (--interval S: now)\n", cpu);
    o += line;
    memory_lines(o, rows, options, smaps);
    o += "by state:";
    for (auto &[state, n] : by_state) {
        o += "  ";
        append_printable(o, &state, 1);
        o += ' ';  // not `" " + std::string`: GCC 12 warns falsely there (-Wrestrict, GCC bug 105329)
        o += std::to_string(n);
    }
    o += "\nby user:";
    std::vector<std::pair<std::string, std::size_t>> users(by_user.begin(), by_user.end());
    std::stable_sort(users.begin(), users.end(), [](auto &a, auto &b) { return a.second > b.second; });
    for (auto &[user, n] : users) {
        o += "  ";
        o += user;
        o += ' ';
        o += std::to_string(n);
    }
    o += "\n";

    // `bytes`: the value in human units, not the table's KiB
    auto top = [&](const char *title, const Field &by, bool bytes) {
        std::vector<const procmon_process *> sorted(rows);
        std::stable_sort(sorted.begin(), sorted.end(), [&](auto *a, auto *b) { return by.number(*a) > by.number(*b); });
        if (sorted.size() > 5) sorted.resize(5);
        o += title;
        o += "\n";
        for (const procmon_process *p : sorted) {
            std::string cell;
            const double v = by.number(*p);
            if (!bytes) by.text(cell, *p, env);
            else cell = v < 0 ? "-" : human_bytes(static_cast<uint64_t>(v));
            std::snprintf(line, sizeof line, "  %7d  %10s  ", p->pid, cell.c_str());
            o += line;
            append_command(o, *p);
            o += "\n";
        }
    };
    top("top by cpu:        pid        %cpu  command", *find_field("cpu"), false);
    if (smaps) top("top by memory:     pid         pss  command", *find_field("pss"), true);
    else top("top by memory:     pid         rss  command", *find_field("rss"), true);
    return sink.finish();
}

}  // namespace

bool parse_format(const std::string &name, Format &out) {
    static const std::pair<const char *, Format> names[] = {{"table", Format::table},
                                                            {"json-stream", Format::json_stream},
                                                            {"json-array", Format::json_array},
                                                            {"json-pretty", Format::json_pretty},
                                                            {"summary", Format::summary}};
    for (auto &[n, f] : names)
        if (name == n) {
            out = f;
            return true;
        }
    return false;
}

bool write_snapshot(std::FILE *out, Format format, const std::vector<const procmon_process *> &rows,
                    const std::vector<const Field *> &fields, Env &env, const OutputOptions &options) {
    Sink sink(out);
    switch (format) {
    case Format::table: return write_table(sink, rows, fields, env, options.columns);
    case Format::summary: return write_summary(sink, rows, fields, env, options);
    case Format::json_stream:
        for (const procmon_process *p : rows) {
            json_object(sink.buf(), *p, fields, env);
            sink.buf() += '\n';
            sink.maybe_flush();
        }
        return sink.finish();
    case Format::json_array:
    case Format::json_pretty: {
        const bool pretty = format == Format::json_pretty;
        sink.buf() += "[";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            sink.buf() += i ? ",\n" : "\n";
            if (pretty) {
                std::string compact;
                json_object(compact, *rows[i], fields, env);
                json_pretty_object(sink.buf(), compact);
            } else {
                json_object(sink.buf(), *rows[i], fields, env);
            }
            sink.maybe_flush();
        }
        sink.buf() += rows.empty() ? "]\n" : "\n]\n";
        return sink.finish();
    }
    }
    return false;
}

}  // namespace procmon::cli
