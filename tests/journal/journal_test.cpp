// The journal through the C ABI, plus the pieces only reachable inside
// (CRC-32C, the writer's clock, the syscall table): every record comes back
// exactly; sequence numbers continue across reopen; a torn tail is cut, a
// bit flip is skipped and reported as LOST, never returned as data; a second
// writer is refused; a reader follows a live writer; retention bounds the
// disk; a full disk is an error that heals.
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "journal/crc32c.hpp"
#include "journal/format.hpp"
#include "journal/writer.hpp"
#include "journal_checks.hpp"
#include "platform/linux/sys_ops.h"

using jt::Read;
using jt::TempDir;
using namespace jt::checks;

Test(crc32c, known_value_and_both_paths_agree) {
    cr_expect_eq(procmon::journal::crc32c(0, "123456789", 9), 0xE3069283u);
    cr_expect_eq(procmon::journal::crc32c_portable(0, "123456789", 9), 0xE3069283u);
    std::mt19937 rng(1);
    std::vector<unsigned char> buf(4099);
    for (auto &b : buf) b = static_cast<unsigned char>(rng());
    for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 4099u}) {
        const uint32_t a = procmon::journal::crc32c(0, buf.data(), n), b = procmon::journal::crc32c_portable(0, buf.data(), n);
        cr_expect_eq(a, b, "length %zu", n);
        // continuing over two parts is the same as one pass
        cr_expect_eq(procmon::journal::crc32c(procmon::journal::crc32c(0, buf.data(), n / 2), buf.data() + n / 2, n - n / 2), a);
    }
}

Test(journal, every_record_comes_back_exactly_in_order) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    cr_assert_eq(jt::append_range(j, 1, 5000), PROCMON_OK);
    uint64_t durable = 0;
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(durable, 5000u);
    procmon_journal_stats s = stats_of(j);
    cr_expect_eq(s.records, 5000u);
    cr_expect_eq(s.next_seq, 5001u);
    cr_expect_eq(s.lost, 0u);
    cr_expect_geq(s.fsyncs, 1u);
    cr_expect_leq(s.commits, 5000u);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    expect_seqs(check_all(got), 1, 5000);
    cr_expect_eq(rs.corrupt_records, 0u);
    cr_expect_eq(rs.records, 5000u);
}

Test(journal, sequence_continues_across_reopen_in_a_new_segment) {
    TempDir d;
    for (uint64_t round = 0; round < 3; ++round) {
        procmon_journal *j = open_journal(d.path);
        cr_expect_eq(stats_of(j).next_seq, round * 100 + 1);
        cr_assert_eq(jt::append_range(j, round * 100 + 1, 100), PROCMON_OK);
        cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    }
    cr_expect_eq(jt::segment_files(d.path).size(), 3u);
    std::vector<Read> got;
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    expect_seqs(check_all(got), 1, 300);
    // from the middle
    got.clear();
    cr_assert_eq(jt::read_all(d.path, got, nullptr, 150), PROCMON_OK);
    expect_seqs(check_all(got), 150, 300);
}

Test(journal, a_torn_tail_is_cut_at_open_and_nothing_before_it_is_lost) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    cr_assert_eq(jt::append_range(j, 1, 50), PROCMON_OK);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    const std::string seg = jt::segment_files(d.path).back();
    auto bytes = slurp(seg);
    const auto offs = record_offsets(bytes);
    // a record cut halfway: its first 20 bytes, as a crash mid-write leaves it
    std::vector<unsigned char> torn(bytes.begin() + static_cast<long>(offs[10]), bytes.begin() + static_cast<long>(offs[10]) + 20);
    bytes.insert(bytes.end(), torn.begin(), torn.end());
    spit(seg, bytes);

    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    expect_seqs(check_all(got), 1, 50);  // a reader waits on it: it may still be written

    j = open_journal(d.path);
    procmon_journal_stats s = stats_of(j);
    cr_expect_eq(s.recovered_truncated_bytes, 20u);
    cr_expect_eq(s.recovered_corrupt_records, 0u);
    cr_expect_eq(s.next_seq, 51u);
    cr_assert_eq(jt::append_range(j, 51, 10), PROCMON_OK);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    cr_expect_eq(slurp(seg).size(), bytes.size() - 20, "the tail was cut");
    got.clear();
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    expect_seqs(check_all(got), 1, 60);
    cr_expect_eq(rs.corrupt_records, 0u);
}

Test(journal, a_bit_flip_is_skipped_counted_and_reported_as_lost) {
    for (int where : {0, 2, 9, 20}) {  // length, CRC, seq, payload
        TempDir d;
        procmon_journal *j = open_journal(d.path);
        cr_assert_eq(jt::append_range(j, 1, 40), PROCMON_OK);
        cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
        const std::string seg = jt::segment_files(d.path).back();
        auto bytes = slurp(seg);
        const auto offs = record_offsets(bytes);
        bytes[offs[16] + static_cast<std::size_t>(where)] ^= 0x10;  // record 17
        spit(seg, bytes);

        std::vector<Read> got;
        procmon_journal_reader_stats rs{};
        cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
        std::vector<uint64_t> seqs = check_all(got);
        cr_assert_eq(seqs.size(), 39u, "flip at +%d: %zu records", where, seqs.size());
        cr_expect(std::find(seqs.begin(), seqs.end(), 17u) == seqs.end(), "the damaged record came back");
        cr_expect_eq(rs.corrupt_records, 1u);
        cr_expect_eq(rs.first_corrupt_offset, offs[16]);
        cr_expect_eq(rs.first_corrupt_segment, 1u);
        cr_expect_eq(rs.missing, 1u);
        bool lost_in_place = false;
        for (std::size_t i = 0; i + 1 < got.size(); ++i)
            if (got[i].e.type == PROCMON_EVENT_LOST && got[i].e.lost == 1 && got[i + 1].e.seq == 18) lost_in_place = true;
        cr_expect(lost_in_place, "a LOST of 1 comes just before seq 18");
        // One event per call: the LOST takes a call of its own, and the
        // record after it still comes next.
        std::vector<Read> one_by_one;
        cr_assert_eq(jt::read_all(d.path, one_by_one, nullptr, 0, 1), PROCMON_OK);
        cr_assert_eq(one_by_one.size(), got.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            cr_expect_eq(one_by_one[i].e.type, got[i].e.type, "event %zu", i);
            cr_expect_eq(one_by_one[i].e.seq, got[i].e.seq, "event %zu", i);
            cr_expect_eq(one_by_one[i].name, got[i].name, "event %zu", i);
        }

        // The writer counts it, keeps everything after it, and goes on.
        j = open_journal(d.path);
        procmon_journal_stats s = stats_of(j);
        cr_expect_eq(s.recovered_corrupt_records, 1u);
        cr_expect_eq(s.recovered_truncated_bytes, 0u);
        cr_expect_eq(s.next_seq, 41u);
        cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    }
}

// Random damage to a copy of a journal: the reader never crashes (ASan in
// CI), and whatever it returns is exactly what was written for that seq,
// in increasing order.
Test(journal, fuzzed_segments_never_return_garbage) {
    TempDir d;
    procmon_journal *j = open_journal(d.path, 0, PROCMON_FSYNC_NEVER);
    cr_assert_eq(jt::append_range(j, 1, 300), PROCMON_OK);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    const std::string seg = jt::segment_files(d.path).back();
    const auto good = slurp(seg);
    std::mt19937 rng(12345);
    for (int round = 0; round < 600; ++round) {
        auto bytes = good;
        switch (round % 4) {
        case 0:  // flips
            for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k)
                bytes[64 + rng() % (bytes.size() - 64)] ^= static_cast<unsigned char>(1u << (rng() % 8));
            break;
        case 1:  // truncation
            bytes.resize(64 + rng() % (bytes.size() - 64));
            break;
        case 2: {  // a run of garbage
            std::size_t at = 64 + rng() % (bytes.size() - 64), n = std::min<std::size_t>(1 + rng() % 300, bytes.size() - at);
            for (std::size_t k = 0; k < n; ++k) bytes[at + k] = static_cast<unsigned char>(rng());
            break;
        }
        default: {  // bytes inserted
            std::size_t at = 64 + rng() % (bytes.size() - 64);
            std::vector<unsigned char> junk(1 + rng() % 64);
            for (auto &b : junk) b = static_cast<unsigned char>(rng());
            bytes.insert(bytes.begin() + static_cast<long>(at), junk.begin(), junk.end());
        }
        }
        spit(seg, bytes);
        std::vector<Read> got;
        cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
        uint64_t last = 0;
        for (const Read &r : got) {
            if (r.e.type == PROCMON_EVENT_LOST && (r.e.flags & PROCMON_EVENT_FLAG_SYNTHESIZED)) continue;
            std::string why;
            cr_assert(jt::is_event_of(jt::view(r), r.e.seq, why), "round %d: %s", round, why.c_str());
            cr_assert_gt(r.e.seq, last, "round %d: out of order", round);
            last = r.e.seq;
        }
    }
}

Test(journal, a_second_writer_is_refused_in_this_process_and_another) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    procmon_journal *again = nullptr;
    cr_expect_eq(procmon_journal_open(&again, nullptr, d.path.c_str(), nullptr), PROCMON_ELOCKED);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "locked by another writer"), nullptr, "%s",
                  procmon_error_last()->message);
    pid_t pid = fork();
    if (pid == 0) {
        procmon_journal *other = nullptr;
        _exit(procmon_journal_open(&other, nullptr, d.path.c_str(), nullptr) == PROCMON_ELOCKED ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child was not refused");
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    cr_assert_eq(procmon_journal_open(&again, nullptr, d.path.c_str(), nullptr), PROCMON_OK, "free again after close");
    procmon_journal_close(again);
}

Test(journal, foreign_and_newer_segments_are_eformat) {
    TempDir d;
    spit(d.sub("00000000000000000001.pmj"), std::vector<unsigned char>(100, 'x'));
    procmon_journal *j = nullptr;
    cr_expect_eq(procmon_journal_open(&j, nullptr, d.path.c_str(), nullptr), PROCMON_EFORMAT);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "not a procmon journal"), nullptr, "%s",
                  procmon_error_last()->message);
    std::vector<Read> got;
    cr_expect_eq(jt::read_all(d.path, got), PROCMON_EFORMAT);

    TempDir n;
    j = open_journal(n.path);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    const std::string seg = jt::segment_files(n.path).back();
    auto bytes = slurp(seg);
    bytes[8] = 2;  // format version 2
    spit(seg, bytes);
    cr_expect_eq(procmon_journal_open(&j, nullptr, n.path.c_str(), nullptr), PROCMON_EFORMAT);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "journal format 2"), nullptr, "%s",
                  procmon_error_last()->message);
}

Test(journal, a_reader_follows_a_live_writer_across_segments, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path, PROCMON_JOURNAL_SEGMENT_MIN, PROCMON_FSYNC_NEVER);
    constexpr uint64_t kTotal = 20000;
    // One commit per batch (sync): a lagging writer would otherwise group
    // batches into commits of up to 4 MiB, and on a loaded machine the whole
    // run landed in a few segments ("segments > 10" failed one run in ten).
    std::thread writer([&] {
        for (uint64_t first = 1; first <= kTotal; first += 250) {
            jt::append_range(j, first, 250);
            procmon_journal_sync(j, 20000, nullptr);
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
    });
    procmon_journal_reader *r = nullptr;
    cr_assert_eq(procmon_journal_reader_open(&r, d.path.c_str(), nullptr), PROCMON_OK);
    uint64_t next = 1;
    procmon_event batch[128];
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (next <= kTotal && std::chrono::steady_clock::now() < give_up) {
        size_t n = 0;
        cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], 128, &n, 200), PROCMON_OK);
        for (size_t i = 0; i < n; ++i) {
            std::string why;
            cr_assert(jt::is_event_of(batch[i], next, why), "%s (type %u)", why.c_str(), batch[i].type);
            ++next;
        }
    }
    writer.join();
    cr_expect_eq(next, kTotal + 1);
    procmon_journal_reader_stats rs{};
    rs.size = sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    cr_expect_eq(rs.corrupt_records, 0u, "a write in progress was taken for corruption");
    procmon_journal_reader_close(r);
    cr_expect_gt(stats_of(j).segments, 10u);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
}

// A reader at the end of a segment when the writer adds to it and then
// starts the next, between the reader's read and its listing of the
// directory: it must read the additions before moving on, never report
// them missing. The listing (through the syscall table) stages that moment.
namespace {
std::function<void()> on_listing;
ssize_t staging_getdents64(int fd, void *buf, size_t n) {
    if (on_listing) {
        auto once = std::move(on_listing);
        on_listing = nullptr;
        once();
    }
    return pm_sys_default()->getdents64(fd, buf, n);
}
}  // namespace

Test(journal, a_reader_finishes_a_segment_that_grew_before_the_next_began) {
    TempDir src, d;
    record_run(src.path, 1, 12);
    record_run(src.path, 13, 3);
    const auto files = jt::segment_files(src.path);
    cr_assert_eq(files.size(), 2u);
    const auto first = slurp(files[0]), second = slurp(files[1]);
    const auto offs = record_offsets(first);
    const std::string seg1 = d.sub("00000000000000000001.pmj"), seg13 = d.sub("00000000000000000013.pmj");
    spit(seg1, std::vector<unsigned char>(first.begin(), first.begin() + static_cast<long>(offs[10])));  // records 1-10

    procmon_journal_reader *r = reader_past(d.path, 10);
    procmon_event batch[32];
    size_t n = 0;
    // The reader is at the end of segment 1. When it next lists the
    // directory, the writer has just finished segment 1 and begun 13.
    pm_sys_ops ops = *pm_sys_default();
    ops.getdents64 = staging_getdents64;
    pm_sys_set(&ops);
    on_listing = [&] {
        spit(seg1, first);
        spit(seg13, second);
    };
    std::vector<uint64_t> seqs;
    for (;;) {
        cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], 32, &n, 0), PROCMON_OK);
        if (n == 0) break;
        for (size_t i = 0; i < n; ++i) {
            cr_expect_neq(batch[i].type, static_cast<uint32_t>(PROCMON_EVENT_LOST), "reported missing at seq %llu",
                          static_cast<unsigned long long>(batch[i].seq));
            seqs.push_back(batch[i].seq);
        }
    }
    pm_sys_set(nullptr);
    cr_expect(on_listing == nullptr, "the reader never listed the directory");
    procmon_journal_reader_close(r);
    cr_expect(seqs == std::vector<uint64_t>({11, 12, 13, 14, 15}), "%zu records after the first ten", seqs.size());
}

// Retention on a simulated clock: an hour passes per commit, segments older
// than two hours go, and the size cap holds throughout.
Test(journal, retention_by_size_and_age_bounds_the_disk) {
    TempDir d;
    // Starts at the real time: segments found at open are dated by their files.
    std::atomic<uint64_t> now{static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count())};
    procmon::journal::WriterOptions wo;
    wo.fsync = PROCMON_FSYNC_NEVER;
    wo.segment_bytes = 64 * 1024;
    wo.max_bytes = 256 * 1024;
    wo.clock = [&] { return now.load(); };
    std::unique_ptr<procmon::journal::Writer> w;
    cr_assert_eq(procmon::journal::Writer::open(d.path, wo, nullptr, w), PROCMON_OK, "%s", procmon_error_last()->message);
    uint64_t max_disk = 0;
    for (uint64_t first = 1; first <= 30000; first += 500) {
        jt::Batch b(first, 500);
        cr_assert_eq(w->append(b.evs.data(), sizeof b.evs[0], 500), PROCMON_OK);
        cr_assert_eq(w->sync(10000, nullptr), PROCMON_OK);
        procmon_journal_stats s{};
        s.size = sizeof s;
        w->stats(s);
        max_disk = std::max(max_disk, s.disk_bytes);
        uint64_t on_disk = 0;
        for (const auto &f : jt::segment_files(d.path)) on_disk += std::filesystem::file_size(f);
        cr_assert_eq(on_disk, s.disk_bytes, "the stats' disk use is the files'");
    }
    procmon_journal_stats s{};
    s.size = sizeof s;
    w->stats(s);
    cr_expect_gt(s.segments_removed, 10u);
    for (const auto &f : jt::segment_files(d.path)) {  // named by their first record, as readers seek by name
        const auto bytes = slurp(f);
        if (bytes.size() <= procmon::journal::kHeaderBytes) continue;
        uint64_t first_seq, named = std::stoull(std::filesystem::path(f).stem().string());
        std::memcpy(&first_seq, bytes.data() + procmon::journal::kHeaderBytes + 8, 8);
        cr_expect_eq(first_seq, named, "%s starts at seq %llu", f.c_str(), static_cast<unsigned long long>(first_seq));
    }
    cr_expect_leq(max_disk, wo.max_bytes + 64 * 1024, "over the cap by more than one commit: %llu",
                  static_cast<unsigned long long>(max_disk));
    // what is left reads back, from the oldest kept, with nothing missing after it
    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    auto seqs = check_all(got);
    cr_assert(!seqs.empty());
    expect_seqs(seqs, seqs.front(), 30000);
    cr_expect_eq(rs.missing, 0u);

    // Age: with the size cap lifted, segments closed over 2 h ago go.
    cr_assert_eq(w->close(), PROCMON_OK);
    w.reset();
    wo.max_bytes = 0;
    wo.max_age_ns = 2 * 3600 * 1000000000ull;
    cr_assert_eq(procmon::journal::Writer::open(d.path, wo, nullptr, w), PROCMON_OK);
    for (uint64_t first = 30001; first <= 40000; first += 1000) {
        now += 3600 * 1000000000ull;
        jt::Batch b(first, 1000);
        cr_assert_eq(w->append(b.evs.data(), sizeof b.evs[0], 1000), PROCMON_OK);
        cr_assert_eq(w->sync(10000, nullptr), PROCMON_OK);
    }
    w->stats(s);
    // one segment per ~650 events, a commit of 1,000 an hour: the kept ones span the last 2-3 hours
    got.clear();
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    seqs = check_all(got);
    cr_expect_geq(seqs.front(), 40000u - 3000u, "segments older than 2 h are kept: first seq %llu",
                  static_cast<unsigned long long>(seqs.front()));
    expect_seqs(seqs, seqs.front(), 40000);
}

// ENOSPC from write(): an error that names itself, no partial record on
// disk, the events it cost journaled as one LOST, and recording resumes.
Test(journal, a_full_disk_is_an_error_then_a_lost_record_then_recording_resumes) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    cr_assert_eq(jt::append_range(j, 1, 100), PROCMON_OK);
    cr_assert_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_OK);
    fill_disk();
    jt::Synthetic a;
    jt::make_event(999, a);
    std::vector<procmon_event> evs(30, a.e);
    cr_assert_eq(procmon_journal_append(j, evs.data(), sizeof evs[0], evs.size()), PROCMON_OK);
    cr_expect_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_ENOSPC);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "No space left"), nullptr, "%s", procmon_error_last()->message);
    procmon_journal_stats s = stats_of(j);
    cr_expect_eq(s.last_error, PROCMON_ENOSPC);
    cr_expect_geq(s.write_errors, 1u);
    cr_expect_eq(s.next_seq, 101u, "failed writes take no sequence numbers");
    disk_full = false;
    uint64_t durable = 0;
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(jt::append_range(j, 102, 10), PROCMON_OK);  // seq 101 is the LOST record
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK);
    cr_expect_eq(durable, 111u);
    s = stats_of(j);
    cr_expect_eq(s.lost, 30u);
    pm_sys_set(nullptr);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);

    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    cr_expect_eq(rs.corrupt_records, 0u, "a failed write left a partial record");
    cr_assert_eq(got.size(), 111u);
    cr_expect_eq(got[100].e.type, PROCMON_EVENT_LOST);
    cr_expect_eq(got[100].e.seq, 101u);
    cr_expect_eq(got[100].e.lost, 30u);
    std::string why;
    cr_expect(jt::is_event_of(jt::view(got[101]), 102, why), "%s", why.c_str());
}

Test(journal, records_a_contexts_events) {
    TempDir d;
    procmon_ctx *ctx = nullptr;
    procmon_journal *j = record_my_children(d.path, ctx);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "sleep 0.2; exit 4", static_cast<char *>(nullptr));
        _exit(127);
    }
    waitpid(pid, nullptr, 0);
    // the exit reaches the journal within a moment
    std::vector<Read> got;
    for (int i = 0; i < 100; ++i) {
        cr_assert_eq(procmon_journal_sync(j, 5000, nullptr), PROCMON_OK);
        got.clear();
        jt::read_all(d.path, got);
        bool exited = false;
        for (const Read &r : got) exited |= r.e.pid == pid && r.e.type == PROCMON_EVENT_EXIT;
        if (exited) break;
        usleep(20000);
    }
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    procmon_close(ctx);
    std::vector<uint32_t> types;
    for (const Read &r : got)
        if (r.e.pid == pid) types.push_back(r.e.type);
    cr_assert_eq(types.size(), 3u, "%zu events for the child", types.size());
    cr_expect_eq(types[0], static_cast<uint32_t>(PROCMON_EVENT_START));
    cr_expect_eq(types[1], static_cast<uint32_t>(PROCMON_EVENT_EXEC));
    cr_expect_eq(types[2], static_cast<uint32_t>(PROCMON_EVENT_EXIT));
    for (const Read &r : got)
        if (r.e.pid == pid && r.e.type == PROCMON_EVENT_EXIT) cr_expect_eq(r.e.exit_code, 4);
}

// Close writes what the journal's subscription holds: the writer is held in
// a slow fdatasync while a child's events queue up, then close comes.
namespace {
int slow_fdatasync(int fd) {
    usleep(300000);
    return pm_sys_default()->fdatasync(fd);
}
}  // namespace

Test(journal, close_writes_the_events_still_queued) {
    TempDir d;
    procmon_ctx *ctx = nullptr;
    procmon_journal *j = record_my_children(d.path, ctx);
    pm_sys_ops ops = *pm_sys_default();
    ops.fdatasync = slow_fdatasync;
    pm_sys_set(&ops);
    cr_assert_eq(jt::append_range(j, 1, 1), PROCMON_OK);  // the writer commits it and sits in fdatasync
    usleep(50000);
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, nullptr, 0);
    usleep(150000);  // its events are in the journal's queue by now
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    pm_sys_set(nullptr);
    procmon_close(ctx);
    std::vector<Read> got;
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    int of_child = 0;
    for (const Read &r : got) of_child += r.e.pid == pid;
    cr_expect_eq(of_child, 2, "START and EXIT of the child: got %d", of_child);
}

// fsync "never": fdatasync only when sync() asks, not on every commit after.
Test(journal, fsync_never_syncs_only_when_asked) {
    TempDir d;
    procmon_journal *j = open_journal(d.path, 0, PROCMON_FSYNC_NEVER);
    cr_assert_eq(jt::append_range(j, 1, 10), PROCMON_OK);
    cr_assert_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_OK);
    const uint64_t after_sync = stats_of(j).fsyncs;
    cr_expect_geq(after_sync, 1u);
    for (uint64_t first = 11; first <= 200; first += 10) {
        cr_assert_eq(jt::append_range(j, first, 10), PROCMON_OK);
        usleep(2000);
    }
    for (int i = 0; i < 500 && stats_of(j).records < 200; ++i) usleep(2000);
    procmon_journal_stats s = stats_of(j);
    cr_expect_eq(s.records, 200u);
    cr_expect_eq(s.durable_seq, 200u, "never: durable once written");
    cr_expect_eq(s.fsyncs, after_sync, "%llu fsyncs after the one asked for", static_cast<unsigned long long>(s.fsyncs - after_sync));
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
}

Test(journal, bad_arguments_and_old_stats_sizes) {
    TempDir d;
    procmon_journal *j = nullptr;
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.segment_bytes = 1000;
    cr_expect_eq(procmon_journal_open(&j, nullptr, d.path.c_str(), &o), PROCMON_EINVAL);
    o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.max_bytes = PROCMON_JOURNAL_SEGMENT_DEFAULT;
    cr_expect_eq(procmon_journal_open(&j, nullptr, d.path.c_str(), &o), PROCMON_EINVAL, "max_bytes below two segments");
    o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.fsync = 7;
    cr_expect_eq(procmon_journal_open(&j, nullptr, d.path.c_str(), &o), PROCMON_EINVAL);
    o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.version = 9;
    cr_expect_eq(procmon_journal_open(&j, nullptr, d.path.c_str(), &o), PROCMON_EVERSION);
    cr_expect_eq(procmon_journal_open(&j, nullptr, nullptr, nullptr), PROCMON_EINVAL);
    procmon_journal_reader *r = nullptr;
    cr_expect_eq(procmon_journal_reader_open(&r, "/nonexistent/journal", nullptr), PROCMON_ENOENT);

    j = open_journal(d.path);
    procmon_event bad{};
    bad.type = PROCMON_EVENT_START | PROCMON_EVENT_EXIT;
    cr_expect_eq(procmon_journal_append(j, &bad, sizeof bad, 1), PROCMON_EINVAL);
    unsigned char buf[sizeof(procmon_journal_stats) + 8];
    std::memset(buf, 0xAB, sizeof buf);
    auto *st = reinterpret_cast<procmon_journal_stats *>(buf);
    st->size = 24;
    cr_assert_eq(procmon_journal_stats_get(st, j), PROCMON_OK);
    cr_expect_eq(st->next_seq, 1u);
    cr_expect_eq(buf[24], 0xAB, "wrote past the caller's size");
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    cr_expect_eq(procmon_journal_close(nullptr), PROCMON_OK);
    procmon_journal_reader_close(nullptr);
}
