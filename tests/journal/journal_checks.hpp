// Checks shared by the journal's Criterion suites: opening a journal with
// asserts, its stats, reading segment files' bytes, and checking that what
// came back is exactly the synthetic events of journal_support.hpp.
#pragma once

#include <criterion/criterion.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "journal/format.hpp"
#include "journal_support.hpp"
#include "platform/linux/sys_ops.h"

namespace jt::checks {

inline procmon_journal *open_journal(const std::string &dir, uint64_t segment = 0, uint32_t fsync = PROCMON_FSYNC_ALWAYS) {
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.segment_bytes = segment;
    o.fsync = fsync;
    procmon_journal *j = nullptr;
    int rc = procmon_journal_open(&j, nullptr, dir.c_str(), &o);
    cr_assert_eq(rc, PROCMON_OK, "open: %s", procmon_error_last()->message);
    return j;
}

// A new context, and a journal recording the events of this test's children.
inline procmon_journal *record_my_children(const std::string &dir, procmon_ctx *&ctx) {
    cr_assert_eq(procmon_open(&ctx, nullptr), PROCMON_OK);
    procmon_subscribe_options so = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    so.descendants_of = getpid();
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.filter = &so;
    procmon_journal *j = nullptr;
    cr_assert_eq(procmon_journal_open(&j, ctx, dir.c_str(), &o), PROCMON_OK, "%s", procmon_error_last()->message);
    return j;
}

// One writer run that records the synthetic events [first, first + n).
inline void record_run(const std::string &dir, uint64_t first, uint64_t n) {
    procmon_journal *j = open_journal(dir, 0, PROCMON_FSYNC_NEVER);
    cr_assert_eq(jt::append_range(j, first, n), PROCMON_OK);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
}

// A reader of dir that has returned its first n records (n <= 64).
inline procmon_journal_reader *reader_past(const std::string &dir, size_t n) {
    procmon_journal_reader *r = nullptr;
    cr_assert_eq(procmon_journal_reader_open(&r, dir.c_str(), nullptr), PROCMON_OK);
    procmon_event batch[64];
    size_t got = 0;
    cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], n, &got, 0), PROCMON_OK);
    cr_assert_eq(got, n);
    return r;
}

// A full disk: from fill_disk() on, every write() through the syscall
// table fails with ENOSPC while disk_full is set; pm_sys_set(nullptr) ends it.
inline std::atomic<bool> disk_full{false};
inline ssize_t full_disk_write(int fd, const void *buf, size_t n) {
    if (disk_full) {
        errno = ENOSPC;
        return -1;
    }
    return pm_sys_default()->write(fd, buf, n);
}
inline void fill_disk() {
    static pm_sys_ops ops;
    ops = *pm_sys_default();
    ops.write = full_disk_write;
    pm_sys_set(&ops);
    disk_full = true;
}

inline procmon_journal_stats stats_of(procmon_journal *j) {
    procmon_journal_stats s{};
    s.size = sizeof s;
    cr_assert_eq(procmon_journal_stats_get(&s, j), PROCMON_OK);
    return s;
}

// Every record read is the synthetic event of its seq; returns the seqs.
inline std::vector<uint64_t> check_all(const std::vector<Read> &got) {
    std::vector<uint64_t> seqs;
    for (const Read &r : got) {
        if (r.e.type == PROCMON_EVENT_LOST) continue;
        std::string why;
        cr_assert(jt::is_event_of(jt::view(r), r.e.seq, why), "%s", why.c_str());
        seqs.push_back(r.e.seq);
    }
    return seqs;
}

inline void expect_seqs(const std::vector<uint64_t> &seqs, uint64_t first, uint64_t last) {
    cr_assert_eq(seqs.size(), last - first + 1, "%zu records, expected %llu", seqs.size(),
                 static_cast<unsigned long long>(last - first + 1));
    for (std::size_t i = 0; i < seqs.size(); ++i) cr_assert_eq(seqs[i], first + i);
}

inline std::vector<unsigned char> slurp(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<unsigned char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
inline void spit(const std::string &path, const std::vector<unsigned char> &bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char *>(bytes.data()),
                                                                  static_cast<std::streamsize>(bytes.size()));
}

// Offsets of the records of one segment's bytes.
inline std::vector<std::size_t> record_offsets(const std::vector<unsigned char> &seg) {
    std::vector<std::size_t> at;
    for (std::size_t off = procmon::journal::kHeaderBytes; off + 16 <= seg.size();) {
        uint32_t len;
        std::memcpy(&len, seg.data() + off, 4);
        at.push_back(off);
        off += 16 + len;
    }
    return at;
}

}  // namespace jt::checks
