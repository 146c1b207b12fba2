// Hostile journal directories (issue 16): files named like segments that are
// not regular files, oversized events, a follower across writer runs that
// recorded nothing, a full disk, damaged headers and tails, a forked child
// holding the writer's lock. Whatever the directory holds, a reader and the
// writer's recovery end (never block, never spin), and say what they skipped.
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "journal/writer.hpp"
#include "journal_checks.hpp"
#include "platform/linux/sys_ops.h"

using jt::Read;
using jt::TempDir;
using namespace jt::checks;

namespace {

// What a reader or writer in a child process made of a directory.
struct Outcome {
    int rc = -1;
    uint64_t records = 0, lost_events = 0, lost = 0, missing = 0, corrupt = 0, skipped = 0, next_seq = 0;
    bool ended = false;  // false: still running after the deadline (killed), or crashed
    long max_rss_kib = 0;  // the child's peak resident memory
};

// Runs `f` in a child, killed if it takes longer than `seconds`: a reader
// blocked in open() of a FIFO, or spinning, must fail the test, not hang it.
Outcome in_child(const std::function<void(Outcome &)> &f, int seconds = 10) {
    int p[2];
    cr_assert_eq(pipe(p), 0);
    const pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        Outcome o;
        f(o);
        o.ended = true;
        const ssize_t w = write(p[1], &o, sizeof o);
        _exit(w == static_cast<ssize_t>(sizeof o) ? 0 : 1);
    }
    close(p[1]);
    Outcome o;
    pollfd pfd{p[0], POLLIN, 0};
    if (poll(&pfd, 1, seconds * 1000) == 1 && read(p[0], &o, sizeof o) != static_cast<ssize_t>(sizeof o)) o = Outcome{};
    kill(pid, SIGKILL);
    struct rusage ru {};
    wait4(pid, nullptr, 0, &ru);
    close(p[0]);
    o.max_rss_kib = ru.ru_maxrss;
    return o;
}

void read_dir(const std::string &dir, Outcome &o) {
    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    o.rc = jt::read_all(dir, got, &rs);
    for (const Read &r : got) {
        if (r.e.type == PROCMON_EVENT_LOST) {
            ++o.lost_events;
            o.lost += r.e.lost;
        } else {
            ++o.records;
        }
    }
    o.missing = rs.missing;
    o.corrupt = rs.corrupt_records;
    o.skipped = rs.skipped_files;
}

void open_writer(const std::string &dir, Outcome &o) {
    procmon_journal *j = nullptr;
    o.rc = procmon_journal_open(&j, nullptr, dir.c_str(), nullptr);
    if (o.rc != PROCMON_OK) return;
    const procmon_journal_stats s = stats_of(j);
    o.next_seq = s.next_seq;
    o.skipped = s.skipped_files;
    o.corrupt = s.recovered_corrupt_records;
    procmon_journal_close(j);
}

// Segments 1 (records 1-10), 11 (11-20) and 21 (21-30), by three writer runs.
void three_segments(const std::string &dir) {
    for (uint64_t first = 1; first <= 21; first += 10) record_run(dir, first, 10);
}

std::string seg(const TempDir &d, uint64_t first) { return d.sub(procmon::journal::segment_name(first).c_str()); }

// Every kind of file that is not a segment a journal directory can hold
// under a segment's name.
enum Kind { dangling_symlink, symlink_to_dir, symlink_loop, symlink_to_segment, fifo, socket_file, directory, device, zero_length };
constexpr Kind kKinds[] = {dangling_symlink, symlink_to_dir, symlink_loop, symlink_to_segment, fifo,
                           socket_file,      directory,      device,       zero_length};
const char *kind_name(Kind k) {
    static const char *names[] = {"dangling symlink", "symlink to a directory", "symlink loop", "symlink to a segment elsewhere",
                                  "FIFO", "socket", "directory", "device", "zero-length file"};
    return names[k];
}

// Makes `path` a file of kind k; `elsewhere` is another journal's directory.
void make(Kind k, const std::string &path, const TempDir &elsewhere) {
    int rc = 0;
    switch (k) {
    case dangling_symlink: rc = symlink("/nonexistent/x.pmj", path.c_str()); break;
    case symlink_to_dir: rc = symlink(elsewhere.path.c_str(), path.c_str()); break;
    case symlink_loop: rc = symlink(path.c_str(), path.c_str()); break;
    case symlink_to_segment: rc = symlink(jt::segment_files(elsewhere.path).front().c_str(), path.c_str()); break;
    case fifo: rc = mkfifo(path.c_str(), 0644); break;
    case socket_file: {
        const int s = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        cr_assert_lt(path.size(), sizeof a.sun_path);
        std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
        rc = bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
        close(s);
        break;
    }
    case directory: rc = mkdir(path.c_str(), 0755); break;
    case device: rc = mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)); break;  // /dev/null's
    case zero_length: rc = close(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)); break;
    }
    cr_assert_eq(rc, 0, "make a %s at %s: %s", kind_name(k), path.c_str(), std::strerror(errno));
}

// For each kind: a three-segment journal with a file of that kind named as
// the segment starting at `first` (in place of the segment there, if any).
void with_each_kind(uint64_t first, const std::function<void(Kind, const TempDir &)> &check) {
    TempDir other;
    three_segments(other.path);
    for (Kind k : kKinds) {
        TempDir d;
        three_segments(d.path);
        unlink(seg(d, first).c_str());
        make(k, seg(d, first), other);
        check(k, d);
    }
}

}  // namespace

// The second segment replaced by something else: the reader returns the
// first and third segments' records with a LOST of 10 between (no spin, no
// block), the writer recovers past it, and both count what they skipped.
Test(hostile, a_file_of_any_type_in_a_segments_place_is_skipped_and_reported, .timeout = 120) {
    with_each_kind(11, [](Kind k, const TempDir &d) {
        const bool regular = k == zero_length;
        for (int pass = 0; pass < 2; ++pass) {  // before and after a writer ran on it
            Outcome r = in_child([&](Outcome &o) { read_dir(d.path, o); });
            cr_assert(r.ended, "%s: the reader hung (pass %d)", kind_name(k), pass);
            cr_expect_eq(r.rc, PROCMON_OK, "%s: reader status %d", kind_name(k), r.rc);
            cr_expect_eq(r.records, 20u, "%s: %llu records", kind_name(k), static_cast<unsigned long long>(r.records));
            cr_expect_eq(r.lost, 10u, "%s: %llu lost", kind_name(k), static_cast<unsigned long long>(r.lost));
            cr_expect_eq(r.missing, 10u, "%s", kind_name(k));
            cr_expect_eq(r.skipped, regular ? 0u : 1u, "%s: %llu skipped", kind_name(k), static_cast<unsigned long long>(r.skipped));
            cr_expect_eq(r.corrupt, regular ? 1u : 0u, "%s: %llu corrupt", kind_name(k), static_cast<unsigned long long>(r.corrupt));
            if (pass == 1) break;
            Outcome w = in_child([&](Outcome &o) { open_writer(d.path, o); });
            cr_assert(w.ended, "%s: the writer's recovery hung", kind_name(k));
            cr_expect_eq(w.rc, PROCMON_OK, "%s: writer status %d", kind_name(k), w.rc);
            cr_expect_eq(w.next_seq, 31u, "%s", kind_name(k));
            cr_expect_eq(w.skipped, regular ? 0u : 1u, "%s: the writer skipped %llu", kind_name(k),
                         static_cast<unsigned long long>(w.skipped));
        }
    });
}

// The same where the next segment would go: the reader reads everything
// before it; the writer cannot start its segment there and says why, except
// for an empty file (a segment created and never written: recovery removes it).
Test(hostile, a_file_of_any_type_in_the_next_segments_place, .timeout = 120) {
    with_each_kind(31, [](Kind k, const TempDir &d) {
        const bool regular = k == zero_length;
        Outcome r = in_child([&](Outcome &o) { read_dir(d.path, o); });
        cr_assert(r.ended, "%s: the reader hung", kind_name(k));
        cr_expect_eq(r.rc, PROCMON_OK, "%s: reader status %d", kind_name(k), r.rc);
        cr_expect_eq(r.records, 30u, "%s: %llu records", kind_name(k), static_cast<unsigned long long>(r.records));
        cr_expect_eq(r.lost_events, 0u, "%s", kind_name(k));
        cr_expect_eq(r.skipped, regular ? 0u : 1u, "%s: %llu skipped", kind_name(k), static_cast<unsigned long long>(r.skipped));
        Outcome w = in_child([&](Outcome &o) {
            open_writer(d.path, o);
            if (o.rc != PROCMON_OK && std::strstr(procmon_error_last()->message, "not a regular file") == nullptr) o.rc = -2;
        });
        cr_assert(w.ended, "%s: the writer's recovery hung", kind_name(k));
        cr_expect_eq(w.rc, regular ? PROCMON_OK : PROCMON_EFORMAT, "%s: writer status %d", kind_name(k), w.rc);
    });
}

// A segment the reader may not open is an error that names it, never a hang
// (as root, the test drops to nobody in a child: root reads anything).
Test(hostile, an_unreadable_segment_is_an_error_naming_it, .timeout = 60) {
    TempDir d;
    three_segments(d.path);
    // everything else open to nobody, the writer's lock and newest segment included
    cr_assert_eq(chmod(d.path.c_str(), 0777), 0);
    cr_assert_eq(chmod(d.sub("LOCK").c_str(), 0666), 0);
    for (const auto &f : jt::segment_files(d.path)) cr_assert_eq(chmod(f.c_str(), 0666), 0);
    cr_assert_eq(chmod(seg(d, 11).c_str(), 0), 0);
    Outcome r = in_child([&](Outcome &o) {
        if (getuid() == 0 && setuid(65534) != 0) _exit(3);
        read_dir(d.path, o);
        if (o.rc != PROCMON_OK && std::strstr(procmon_error_last()->message, "00000000000000000011.pmj") == nullptr) o.rc = -2;
    });
    cr_assert(r.ended, "the reader hung");
    cr_expect_eq(r.rc, PROCMON_EPERM, "reader status %d", r.rc);
    Outcome w = in_child([&](Outcome &o) {
        if (getuid() == 0 && setuid(65534) != 0) _exit(3);
        open_writer(d.path, o);
    });
    cr_assert(w.ended, "the writer hung");
    cr_expect_eq(w.rc, PROCMON_EPERM, "writer status %d", w.rc);
}

// A segment removed (by retention) between the reader's listing and its
// opening of it: passed over, its records reported LOST, and the reader
// ends. (A name that stayed but could not be opened, a dangling symlink,
// made the reader keep the segment it had finished and loop at full CPU.)
// The open (through the syscall table) stages the moment.
namespace {
std::string vanishing;
int vanishing_openat(int dirfd, const char *path, int flags) {
    if (!vanishing.empty() && vanishing.find(path) != std::string::npos) unlinkat(dirfd, path, 0);
    return pm_sys_default()->openat(dirfd, path, flags);
}
}  // namespace

Test(hostile, a_segment_removed_before_the_reader_opens_it_is_passed_over, .timeout = 60) {
    TempDir d;
    three_segments(d.path);
    Outcome r = in_child([&](Outcome &o) {
        vanishing = procmon::journal::segment_name(11);
        pm_sys_ops ops = *pm_sys_default();
        ops.openat = vanishing_openat;
        pm_sys_set(&ops);
        read_dir(d.path, o);
    });
    cr_assert(r.ended, "the reader hung");
    cr_expect_eq(r.rc, PROCMON_OK);
    cr_expect_eq(r.records, 20u);
    cr_expect_eq(r.lost, 10u);
    cr_expect_eq(r.skipped, 0u, "a file removed is not one skipped");
}

// An event whose record would exceed the format's 16 MiB payload: refused
// at append (alone or in the middle of a batch: nothing of the batch is
// queued), so nothing is acknowledged that cannot be read back. It used to
// be accepted, reported durable, unreadable, and cut by the next recovery.
Test(hostile, an_event_too_large_for_a_record_is_refused_at_append, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    jt::Batch b(1, 3);
    const std::string huge(17u << 20, 'a');  // 17 MiB of argv
    procmon_event big = b.evs[1];
    big.argv = huge.data();
    big.argv_len = huge.size();
    cr_expect_eq(procmon_journal_append(j, &big, sizeof big, 1), PROCMON_EINVAL);
    cr_expect_neq(std::strstr(procmon_error_last()->message, "16777216"), nullptr, "%s", procmon_error_last()->message);
    b.evs[1] = big;
    cr_expect_eq(procmon_journal_append(j, b.evs.data(), sizeof b.evs[0], 3), PROCMON_EINVAL, "in the middle of a batch");
    uint64_t durable = 99;
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK);
    cr_expect_eq(durable, 0u, "nothing was written");
    cr_expect_eq(stats_of(j).next_seq, 1u);
    // the largest that fits is taken, and reads back whole
    big.argv_len = procmon::journal::kMaxPayload - procmon::journal::kMaxFixedPayload - std::strlen(big.name) - std::strlen(big.exe);
    cr_assert_eq(procmon_journal_append(j, &big, sizeof big, 1), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK);
    cr_expect_eq(durable, 1u);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    std::vector<Read> got;
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    cr_assert_eq(got.size(), 1u);
    cr_expect_eq(got[0].argv.size(), big.argv_len);
    j = open_journal(d.path);
    cr_expect_eq(stats_of(j).next_seq, 2u, "recovery kept it");
    procmon_journal_close(j);
}

// The writer's own path (the context's events, here through the internal
// append that skips the C ABI's check): an event too large for a record is
// written with its argv cut to fit and flagged, never as an unreadable record.
Test(hostile, the_writer_cuts_an_argv_too_large_for_a_record_and_flags_it, .timeout = 60) {
    TempDir d;
    std::unique_ptr<procmon::journal::Writer> w;
    cr_assert_eq(procmon::journal::Writer::open(d.path, {}, nullptr, w), PROCMON_OK, "%s", procmon_error_last()->message);
    std::string huge;
    for (int i = 0; huge.size() < (17u << 20); ++i) huge += "argument-" + std::to_string(i) + '\0';
    jt::Batch b(1, 3);
    b.evs[1].argv = huge.data();
    b.evs[1].argv_len = huge.size();
    b.evs[1].argc = 0;
    for (char c : huge) b.evs[1].argc += c == '\0';
    cr_assert_eq(w->append(b.evs.data(), sizeof b.evs[0], 3), PROCMON_OK);
    uint64_t durable = 0;
    cr_assert_eq(w->sync(10000, &durable), PROCMON_OK);
    cr_expect_eq(durable, 3u);
    cr_assert_eq(w->close(), PROCMON_OK);
    w.reset();
    std::vector<Read> got;
    procmon_journal_reader_stats rs{};
    cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
    cr_assert_eq(got.size(), 3u, "%zu records read back", got.size());
    cr_expect_eq(rs.corrupt_records, 0u);
    const Read &cut = got[1];
    cr_expect(cut.e.flags & procmon::journal::kFlagArgvCut, "flags 0x%x", cut.e.flags);
    cr_expect_lt(cut.argv.size(), huge.size());
    cr_expect_gt(cut.argv.size(), (16u << 20) - 1024);
    cr_expect_eq(cut.argv.back(), '\0', "the cut argument stays terminated");
    cr_expect_eq(huge.compare(0, cut.argv.size() - 1, cut.argv, 0, cut.argv.size() - 1), 0, "a prefix of the argv");
    cr_expect_eq(cut.e.argc, static_cast<uint32_t>(std::count(cut.argv.begin(), cut.argv.end(), '\0')));
    std::string why;
    cr_expect(jt::is_event_of(jt::view(got[2]), 3, why), "%s", why.c_str());
    procmon_journal *j = open_journal(d.path);
    cr_expect_eq(stats_of(j).next_seq, 4u, "recovery kept all three");
    procmon_journal_close(j);
}

// A follower across writer runs, the first recording nothing: the next
// run's recovery removes the header-only segment and starts one under the
// same name. The follower used to wait on the removed file for good (of 610
// records written by the next two runs, it saw the last 305).
Test(hostile, a_follower_goes_on_after_a_run_that_recorded_nothing, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path, 0, PROCMON_FSYNC_NEVER);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);  // nothing recorded
    procmon_journal_reader *r = nullptr;
    cr_assert_eq(procmon_journal_reader_open(&r, d.path.c_str(), nullptr), PROCMON_OK);
    std::vector<uint64_t> seen;
    uint64_t lost = 0;
    std::atomic<bool> stop{false};
    std::thread follower([&] {
        procmon_event batch[64];
        while (!stop) {
            size_t n = 0;
            if (procmon_journal_reader_next(r, batch, sizeof batch[0], 64, &n, 100) != PROCMON_OK) return;
            for (size_t i = 0; i < n; ++i) {
                if (batch[i].type == PROCMON_EVENT_LOST) lost += batch[i].lost;
                else seen.push_back(batch[i].seq);
            }
        }
    });
    for (uint64_t first : {1u, 306u}) {
        usleep(200000);  // the follower waits at the end of what there is
        j = open_journal(d.path, 0, PROCMON_FSYNC_NEVER);
        cr_assert_eq(stats_of(j).next_seq, first);
        for (uint64_t k = first; k < first + 305; k += 61) {
            cr_assert_eq(jt::append_range(j, k, 61), PROCMON_OK);
            usleep(10000);
        }
        cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    }
    for (int i = 0; i < 100 && seen.size() < 610; ++i) usleep(50000);
    stop = true;
    follower.join();
    procmon_journal_reader_close(r);
    cr_expect_eq(seen.size(), 610u, "the follower saw %zu of 610 records (%llu reported lost)", seen.size(),
                 static_cast<unsigned long long>(lost));
    cr_expect_eq(lost, 0u);
    for (std::size_t i = 0; i < seen.size(); ++i) cr_assert_eq(seen[i], i + 1);
}

// The same name, a new file holding what was read and more (a copy renamed
// over it, as rsync does): the follower reads on from where it was, with
// nothing reported corrupt or missing.
Test(hostile, a_follower_reads_on_in_a_segment_renamed_over_by_a_longer_copy, .timeout = 60) {
    TempDir src, d;
    record_run(src.path, 1, 20);
    const auto whole = slurp(jt::segment_files(src.path).front());
    const auto offs = record_offsets(whole);
    spit(seg(d, 1), std::vector<unsigned char>(whole.begin(), whole.begin() + static_cast<long>(offs[10])));  // 1-10
    procmon_journal_reader *r = reader_past(d.path, 10);
    procmon_event batch[32];
    size_t n = 0;
    spit(d.sub("copy.tmp"), whole);
    cr_assert_eq(rename(d.sub("copy.tmp").c_str(), seg(d, 1).c_str()), 0);
    std::vector<uint64_t> seqs;
    for (int i = 0; i < 3; ++i) {
        cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], 32, &n, 0), PROCMON_OK);
        for (size_t k = 0; k < n; ++k) seqs.push_back(batch[k].type == PROCMON_EVENT_LOST ? 0 : batch[k].seq);
    }
    procmon_journal_reader_stats rs{};
    rs.size = sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    procmon_journal_reader_close(r);
    cr_expect(seqs == std::vector<uint64_t>({11, 12, 13, 14, 15, 16, 17, 18, 19, 20}), "%zu events after the first ten",
              seqs.size());
    cr_expect_eq(rs.corrupt_records, 0u);
    cr_expect_eq(rs.missing, 0u);
}

// While the disk is full and events flow, the writer retries every 100 ms
// (docs/journal.md), not at every event: it used to try about 900 times a
// second (write errors 32 -> 1,815 in 2 s).
Test(hostile, a_full_disk_is_retried_every_100_ms_while_events_flow, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    fill_disk();
    cr_assert_eq(jt::append_range(j, 1, 1), PROCMON_OK);
    cr_expect_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_ENOSPC);
    const uint64_t before = stats_of(j).write_errors;
    uint64_t appended = 1;
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2); std::chrono::steady_clock::now() < end;) {
        cr_assert_eq(jt::append_range(j, ++appended, 1), PROCMON_OK);  // an event a millisecond
        usleep(1000);
    }
    const uint64_t tries = stats_of(j).write_errors - before;
    cr_expect_leq(tries, 25u, "%llu failed writes in 2 s of %llu events", static_cast<unsigned long long>(tries),
                  static_cast<unsigned long long>(appended));
    cr_expect_geq(tries, 10u, "retried at all: %llu", static_cast<unsigned long long>(tries));
    disk_full = false;
    uint64_t durable = 0;
    cr_assert_eq(procmon_journal_sync(j, 10000, &durable), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    pm_sys_set(nullptr);
    std::vector<Read> got;
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    uint64_t lost = 0, records = 0;
    for (const Read &r : got) r.e.type == PROCMON_EVENT_LOST ? lost += r.e.lost : ++records;
    cr_expect_eq(lost + records, appended, "every event written or counted lost: %llu + %llu of %llu",
                 static_cast<unsigned long long>(records), static_cast<unsigned long long>(lost),
                 static_cast<unsigned long long>(appended));
}

// Two kinds of LOST: the writer's own (events it could not record: a full
// disk, a queue that overflowed), stored as records; and the reader's, for
// sequence numbers missing from the journal (flag SYNTHESIZED). The writer
// used to flag its own SYNTHESIZED too, and replay called them "missing
// from the journal". A journal written so still reads as the writer's.
Test(hostile, the_writers_lost_records_and_the_readers_gaps_are_told_apart, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    cr_assert_eq(jt::append_range(j, 1, 20), PROCMON_OK);
    cr_assert_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_OK);
    fill_disk();
    cr_assert_eq(jt::append_range(j, 1000, 5), PROCMON_OK);
    cr_expect_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_ENOSPC);
    disk_full = false;
    cr_assert_eq(procmon_journal_sync(j, 10000, nullptr), PROCMON_OK);  // seq 21: the writer's LOST of 5
    pm_sys_set(nullptr);
    procmon_event old_lost{};  // as a writer before the fix stored its own
    old_lost.size = sizeof old_lost;
    old_lost.type = PROCMON_EVENT_LOST;
    old_lost.flags = PROCMON_EVENT_FLAG_SYNTHESIZED;
    old_lost.lost = 3;
    cr_assert_eq(procmon_journal_append(j, &old_lost, sizeof old_lost, 1), PROCMON_OK);  // seq 22
    cr_assert_eq(jt::append_range(j, 23, 5), PROCMON_OK);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    const std::string file = jt::segment_files(d.path).front();
    auto bytes = slurp(file);
    bytes[record_offsets(bytes)[4] + 20] ^= 0x10;  // seq 5 damaged: the reader's LOST of 1
    spit(file, bytes);

    std::vector<Read> got;
    cr_assert_eq(jt::read_all(d.path, got), PROCMON_OK);
    std::vector<std::pair<uint64_t, uint32_t>> losts;  // (lost, flags)
    for (const Read &r : got)
        if (r.e.type == PROCMON_EVENT_LOST) losts.emplace_back(r.e.lost, r.e.flags);
    cr_assert_eq(losts.size(), 3u);
    cr_expect_eq(losts[0].first, 1u);
    cr_expect_eq(losts[0].second, static_cast<uint32_t>(PROCMON_EVENT_FLAG_SYNTHESIZED), "the reader's gap");
    cr_expect_eq(losts[1].first, 5u);
    cr_expect_eq(losts[1].second, 0u, "the writer's own: flags 0x%x", losts[1].second);
    cr_expect_eq(losts[2].first, 3u);
    cr_expect_eq(losts[2].second, 0u, "stored by an older writer: flags 0x%x", losts[2].second);
#ifdef PROCMON_TEST_CLI
    // and procmon replay says which is which
    const std::string cmd = std::string(PROCMON_TEST_CLI) + " replay " + d.path + " 2>&1 >/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    cr_assert(p != nullptr);
    std::string err;
    char line[512];
    while (fgets(line, sizeof line, p)) err += line;
    pclose(p);
    cr_expect_neq(err.find("1 events lost (missing from the journal"), std::string::npos, "%s", err.c_str());
    cr_expect_neq(err.find("5 events lost (not recorded"), std::string::npos, "%s", err.c_str());
    cr_expect_neq(err.find("3 events lost (not recorded"), std::string::npos, "%s", err.c_str());
#endif
}

// A damaged header: the whole segment is lost to readers, counted as
// corruption and, by its name (its first sequence number), as LOST. On the
// oldest segment it used to give no LOST and missing = 0.
Test(hostile, a_damaged_header_shows_its_segments_records_as_lost, .timeout = 60) {
    for (uint64_t damaged : {1u, 11u}) {
        TempDir d;
        three_segments(d.path);
        auto bytes = slurp(seg(d, damaged));
        bytes[20] ^= 0x01;  // in the first seq: the header's CRC fails
        spit(seg(d, damaged), bytes);
        std::vector<Read> got;
        procmon_journal_reader_stats rs{};
        cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
        const std::vector<uint64_t> seqs = check_all(got);
        cr_expect_eq(seqs.size(), 20u, "header of %llu damaged: %zu records", static_cast<unsigned long long>(damaged),
                     seqs.size());
        cr_expect_eq(rs.corrupt_records, 1u);
        cr_expect_eq(rs.corrupt_bytes, bytes.size());
        cr_expect_eq(rs.first_corrupt_segment, damaged);
        cr_expect_eq(rs.missing, 10u, "header of %llu damaged: %llu missing", static_cast<unsigned long long>(damaged),
                     static_cast<unsigned long long>(rs.missing));
        const auto lost = std::find_if(got.begin(), got.end(), [](const Read &r) { return r.e.type == PROCMON_EVENT_LOST; });
        cr_assert(lost != got.end(), "header of %llu damaged: no LOST", static_cast<unsigned long long>(damaged));
        cr_expect_eq(lost->e.lost, 10u);
        cr_expect_eq(lost->e.seq, damaged + 9, "the LOST stands for the segment's records");
        cr_expect_eq((lost + 1)->e.seq, damaged + 10);
    }
}

// A damaged tail of 256 MiB (a hole: zeros) after the last record: the
// reader looks for an intact record after it in bounded windows, and so
// does the writer's recovery, which cuts it. The reader used to read it
// all into memory (263 MiB resident).
Test(hostile, a_damaged_tail_is_scanned_in_bounded_memory, .timeout = 120) {
    TempDir d;
    record_run(d.path, 1, 10);
    const std::string file = jt::segment_files(d.path).front();
    const off_t size = static_cast<off_t>(slurp(file).size());
    cr_assert_eq(truncate(file.c_str(), size + (256 << 20)), 0);
    for (int round = 0; round < 2; ++round) {  // the reader; then the writer's recovery
        Outcome o = in_child([&](Outcome &out) { round == 0 ? read_dir(d.path, out) : open_writer(d.path, out); }, 60);
        cr_assert(o.ended, "round %d hung", round);
        cr_expect_eq(o.rc, PROCMON_OK, "round %d: status %d", round, o.rc);
        if (round == 0) cr_expect_eq(o.records, 10u);
        else cr_expect_eq(o.next_seq, 11u);
        cr_expect_lt(o.max_rss_kib, 128 * 1024, "round %d: %ld KiB resident", round, o.max_rss_kib);
    }
    cr_expect_eq(slurp(file).size(), static_cast<std::size_t>(size), "recovery cut the tail");
}

// Damage of every size around the scanner's windows (1 MiB searched per
// window at first, then one window's worth of 17 MiB), with intact records
// after it: found, the damage counted once, nothing reported missing. And a
// damaged tail that a writer goes on after: the search resumes where the
// last one had to stop, and finds what was added.
Test(hostile, records_after_damage_of_any_size_are_found, .timeout = 120) {
    TempDir src;
    record_run(src.path, 1, 20);
    const auto whole = slurp(jt::segment_files(src.path).front());
    const std::size_t cut = record_offsets(whole)[10];
    const std::size_t mib = 1u << 20;
    for (std::size_t hole : {mib - 1, mib, mib + 1, 17 * mib + 15, 17 * mib + 17, 40 * mib}) {
        TempDir d;
        std::vector<unsigned char> bytes(whole.begin(), whole.begin() + static_cast<long>(cut));
        bytes.resize(bytes.size() + hole, 0);
        bytes.insert(bytes.end(), whole.begin() + static_cast<long>(cut), whole.end());
        spit(seg(d, 1), bytes);
        std::vector<Read> got;
        procmon_journal_reader_stats rs{};
        cr_assert_eq(jt::read_all(d.path, got, &rs), PROCMON_OK);
        cr_expect_eq(check_all(got).size(), 20u, "hole of %zu: %zu records", hole, got.size());
        cr_expect_eq(rs.corrupt_records, 1u, "hole of %zu", hole);
        cr_expect_eq(rs.corrupt_bytes, hole, "hole of %zu: %llu corrupt bytes", hole,
                     static_cast<unsigned long long>(rs.corrupt_bytes));
        cr_expect_eq(rs.missing, 0u);
    }
    // the tail: 10 records, 40 MiB of zeros; then records 11-20 after them
    TempDir d;
    std::vector<unsigned char> bytes(whole.begin(), whole.begin() + static_cast<long>(cut));
    bytes.resize(bytes.size() + 40 * mib, 0);
    spit(seg(d, 1), bytes);
    procmon_journal_reader *r = reader_past(d.path, 10);
    procmon_event batch[32];
    size_t n = 0;
    cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], 32, &n, 0), PROCMON_OK);
    cr_expect_eq(n, 0u, "a tail not yet whole is waited for");
    bytes.insert(bytes.end(), whole.begin() + static_cast<long>(cut), whole.end());
    spit(seg(d, 1), bytes);
    cr_assert_eq(procmon_journal_reader_next(r, batch, sizeof batch[0], 32, &n, 0), PROCMON_OK);
    cr_expect_eq(n, 10u);
    cr_expect_eq(n > 0 ? batch[0].seq : 0, 11u);
    procmon_journal_reader_stats rs{};
    rs.size = sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    cr_expect_eq(rs.corrupt_bytes, 40 * mib);
    procmon_journal_reader_close(r);
}

// A child forked without exec shares the writer's open file description,
// so its flock: it used to keep the directory locked after the parent
// closed its journal (ELOCKED for the next writer while the child lived).
Test(hostile, a_forked_child_does_not_keep_the_writers_lock, .timeout = 60) {
    TempDir d;
    procmon_journal *j = open_journal(d.path);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    const pid_t pid = fork();
    if (pid == 0) {
        // fork's child handlers have run by now: say so, then live on
        close(ready[0]);
        close(ready[1]);
        sleep(10);
        _exit(0);
    }
    // Until the child first runs it still shares the lock (its handler runs
    // then): wait for that, or a loaded machine sees ELOCKED in between.
    close(ready[1]);
    char b;
    while (read(ready[0], &b, 1) > 0) {
    }
    close(ready[0]);
    cr_assert_eq(procmon_journal_close(j), PROCMON_OK);
    procmon_journal *again = nullptr;
    const int rc = procmon_journal_open(&again, nullptr, d.path.c_str(), nullptr);
    const std::string message = procmon_error_last()->message;
    // while this one holds it, a child forked now cannot take it
    const pid_t other = fork();
    if (other == 0) {
        procmon_journal *mine = nullptr;
        _exit(procmon_journal_open(&mine, nullptr, d.path.c_str(), nullptr) == PROCMON_ELOCKED ? 0 : 1);
    }
    int status = 0;
    waitpid(other, &status, 0);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    cr_expect_eq(rc, PROCMON_OK, "a new writer while the child lives: %s", message.c_str());
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child was not refused");
    if (rc == PROCMON_OK) procmon_journal_close(again);
}
