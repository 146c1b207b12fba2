// A journal reader: the records of a directory's segments in sequence
// order, from a sequence number or a time, stepping over corruption (counted,
// and reported to the caller as LOST for the sequence numbers it swallowed),
// and following a live writer (tail -f) when asked to wait.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "journal/segments.hpp"
#include "platform/files.hpp"
#include "procmon.h"

namespace procmon::journal {

class Reader {
public:
    static int open(const std::string &dir, uint64_t from_seq, uint64_t from_time_ns, std::unique_ptr<Reader> &out);
    Reader(const Reader &) = delete;
    Reader &operator=(const Reader &) = delete;

    // As procmon_journal_reader_next. Status code, thread's error set.
    // max_bytes bounds what one call holds (procmond's subscriber: a frame):
    // it stops taking records once their strings reach it, after one at least.
    int next(void *out, std::size_t stride, std::size_t max, std::size_t &n, int timeout_ms,
             std::size_t max_bytes = SIZE_MAX);
    // As procmon_journal_reader_wait: PROCMON_OK once next(…, 0) would
    // return an event, ETIMEDOUT, EINTR. Thread's error set.
    int wait(int timeout_ms);
    // As procmon_journal_reader_wake: any thread, async-signal-safe (an
    // atomic store and an eventfd write). The next next() or wait() returns
    // EINTR at once, or the one waiting does; kept until one takes it.
    void wake();
    // Ready when the directory changed since the last next() or wait();
    // invalid when the OS cannot watch it.
    platform::WaitHandle changes() const { return watch_ ? watch_->handle() : platform::WaitHandle(); }
    void stats(procmon_journal_reader_stats &out) const;

    Reader(std::string dir, uint64_t from_seq, uint64_t from_time_ns);

private:
    enum class Moved { yes, no, error };
    Moved move_to_next_segment();  // the segment after the current one, if any
    Moved open_first(const std::vector<SegmentFile> &files, std::size_t i);  // files[i], or the first after it that opens
    enum class Opened { yes, later, skipped, error };
    Opened open_segment(const SegmentFile &f, bool newest);
    void leave_segment();
    bool directory_unchanged();  // since the last listing at the end of the data: no need to list again
    bool replaced() const;  // the current segment's name now names another file, or none
    void skipped(const std::vector<std::string> &names);
    void corrupt(uint64_t segment, uint64_t offset, uint64_t bytes);
    // What next() returns, waiting as it does.
    struct Out;
    int gather(std::vector<Out> &out, std::vector<char> &strings, std::size_t max, std::size_t max_bytes, int timeout_ms,
               bool interruptible);
    platform::Wait pause(int timeout_ms);  // until the directory changes, a wake, or timeout_ms
    bool take_wake();  // whether a wake() was pending (now taken)

    const std::string dir_;
    const uint64_t from_seq_, from_time_ns_;
    platform::File dirfile_, file_;  // the directory, the current segment (invalid between segments)
    std::unique_ptr<platform::DirectoryWatch> watch_;
    platform::Waker waker_;           // ready while a wake() is pending: ends a pause at once
    std::atomic<bool> woken_{false};  // the wake itself, the waker only rouses a pause
    uint64_t segment_first_ = 0;  // the current segment, or the last one passed over
    std::string segment_name_;    // the current segment's
    bool again_ = true;           // the segment at segment_first_ is still to be opened (not yet created)
    bool finished_ = false;       // the current one will not grow: a newer segment exists
    // The directory as it was when last listed at the end of the data: while
    // its mtime stays, no segment was created, removed or renamed since, so
    // a follower woken for each new record need not list it again.
    uint64_t listed_dir_mtime_ns_ = 0;
    uint64_t listed_at_ns_ = 0;
    uint64_t listed_segment_ = 0;  // the segment whose end that listing found no newer one after
    std::unique_ptr<SegmentScanner> scan_;
    struct Torn {
        uint64_t offset = 0, bytes = 0;
    } torn_;                      // an unfinished record at the end of a finished segment: corrupt once left
    std::set<std::string> skipped_;  // names like a segment's that are not regular files
    uint64_t last_seq_ = 0;   // last record read (returned or skipped)
    uint64_t resume_after_ = 0;  // records up to this one were returned from an earlier file of the same name
    uint64_t expected_ = 0;   // the seq that should come next; 0 = any

    // What the last next() returned points here.
    struct Out {
        procmon_event e;
        std::size_t name, exe, argv, full_name;  // offsets into the strings
    };
    std::vector<Out> out_;
    std::vector<char> strings_;
    // What wait() found, for the next next().
    std::vector<Out> ahead_;
    std::vector<char> ahead_strings_;

    procmon_journal_reader_stats stats_{};
};

}  // namespace procmon::journal
