// Small owners for tests: a context and a snapshot that free themselves,
// and helpers to read a process's argv as a vector.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "procmon.h"

struct Ctx {
    procmon_ctx *ctx = nullptr;
    int rc = PROCMON_OK;
    explicit Ctx(const procmon_options *o = nullptr) { rc = procmon_open(&ctx, o); }
    ~Ctx() { procmon_close(ctx); }
    Ctx(const Ctx &) = delete;
    Ctx &operator=(const Ctx &) = delete;
};

struct Snap {
    procmon_snapshot *s = nullptr;
    int rc = PROCMON_OK;
    Snap() = default;
    Snap(procmon_ctx *ctx, const procmon_query *q = nullptr) { rc = procmon_enumerate(&s, ctx, q); }
    ~Snap() { procmon_snapshot_free(s); }
    Snap(const Snap &) = delete;
    Snap &operator=(const Snap &) = delete;
    const procmon_process *find(int32_t pid) const { return procmon_snapshot_find(s, pid); }
    std::size_t count() const { return procmon_snapshot_count(s); }
};

inline procmon_query query_fields(uint64_t fields) {
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = fields;
    return q;
}

inline std::vector<std::string> argv_of(const procmon_process &p) {
    std::vector<std::string> out;
    const char *a = p.argv, *end = p.argv + p.argv_len;
    while (a < end) {
        std::string arg(a);
        a += arg.size() + 1;
        out.push_back(std::move(arg));
    }
    return out;
}

inline std::string read_text(const std::string &path) {
    std::string out;
    if (FILE *f = std::fopen(path.c_str(), "rb")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        std::fclose(f);
    }
    return out;
}
