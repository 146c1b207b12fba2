// The journal's writer: owns a directory (flock), recovers it at open, and
// runs one thread that takes events from a subscription of its own and from
// procmon_journal_append, and writes them as group commits to the active
// segment, with the fsync policy, rotation and retention of its options.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/subscription.hpp"
#include "platform/files.hpp"
#include "platform/platform.hpp"
#include "procmon.h"

namespace procmon::journal {

struct WriterOptions {
    uint32_t fsync = PROCMON_FSYNC_ALWAYS;
    uint32_t fsync_interval_ms = 1000;
    uint32_t queue_capacity = PROCMON_QUEUE_DEFAULT;  // appended events waiting
    uint64_t segment_bytes = PROCMON_JOURNAL_SEGMENT_DEFAULT;
    uint64_t max_bytes = 0;   // 0 = unlimited
    uint64_t max_age_ns = 0;  // 0 = unlimited
    // Wall clock in ns, for segment times and retention by age (tests
    // simulate it). Called on the writer's thread and in open.
    std::function<uint64_t()> clock;
};

class Writer {
public:
    // Locks and recovers `dir`, then starts the thread. `source` (may be
    // null) is a subscription the writer drains. Status code, thread's error set.
    static int open(const std::string &dir, WriterOptions opts, std::shared_ptr<events::Subscription> source,
                    std::unique_ptr<Writer> &out);
    ~Writer();
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    int append(const procmon_event *events, std::size_t stride, std::size_t n);  // any thread
    int sync(int timeout_ms, uint64_t *durable_seq);                             // any thread
    void stats(procmon_journal_stats &out) const;                                 // any thread
    // The last record in a file, where a reader finds it (next_seq also
    // counts what is still buffered here, and a failed commit takes back). Any thread.
    uint64_t written_seq() const { return written_seq_; }
    // Replaces the retention limits (a daemon's config reload); the writer
    // applies them at once, in its next retention pass. Any thread.
    void set_retention(uint64_t max_bytes, uint64_t max_age_ns);
    // Called on the writer's thread with each fsync's duration (a daemon's
    // latency histogram); empty: none. Any thread.
    void set_sync_observer(std::function<void(uint64_t ns)> observer);
    // Writes what is queued, syncs, stops the thread and unlocks. Returns
    // the status of a final write or sync that failed.
    int close();

    Writer(std::string dir, WriterOptions opts, std::shared_ptr<events::Subscription> source);

private:
    struct Segment {
        uint64_t first_seq;
        std::string name;
        uint64_t bytes;
        uint64_t closed_ns;  // 0 while active
    };
    // An appended event, its strings at offsets into Inbox::strings.
    struct Copied {
        procmon_event e;
        std::size_t name, exe, argv;
    };
    struct Inbox {
        std::vector<Copied> events;
        std::vector<char> strings;
    };

    int recover();
    void run();
    bool step(std::vector<procmon_event> &popped, bool &source_open, bool &failing);
    void encode(const procmon_event &e);
    bool commit();                      // buf_ to the active segment; false on failure (counted)
    void drop_batch();                  // buf_ not written: its events count as lost, its seqs are reused
    bool start_segment();               // a new active segment at next_seq_
    bool datasync();
    void retain();                      // retention by size and age
    void failed(int code, int err, const char *what);

    const std::string dir_;
    WriterOptions opts_;
    std::shared_ptr<events::Subscription> source_;
    platform::File dirfile_, lock_, file_;  // file_: the active segment, invalid between segments
    unsigned char boot_id_[16] = {};

    // writer thread only
    std::deque<Segment> segments_;  // oldest first; the last is active when file_ is valid
    std::vector<unsigned char> buf_;
    uint64_t batch_first_seq_ = 0;  // buf_'s first record; to undo a failed commit:
    uint64_t batch_weight_ = 0;     //   events it stands for (a LOST record: its count)
    uint64_t batch_records_ = 0, batch_lost_ = 0;
    uint64_t pending_lost_ = 0;     // events a failed write could not store: the next commit says so
    std::atomic<uint64_t> written_seq_{0};  // last seq in the active segment's file
    uint64_t last_sync_ns_ = 0;
    uint64_t retry_at_ns_ = 0;      // while writes fail: the next try (monotonic)
    bool dirty_ = false;            // written since the last fdatasync

    std::thread thread_;
    platform::Waker waker_;
    mutable std::mutex mutex_;
    std::condition_variable room_, done_;
    Inbox inbox_;
    Inbox taking_;            // writer thread: the inbox being encoded,
    std::size_t taken_ = 0;   //   and how much of it is in buf_ or on disk
    bool stop_ = false;
    uint64_t sync_requested_ = 0, sync_done_ = 0;  // generations
    int sync_status_ = PROCMON_OK;
    int close_status_ = PROCMON_OK;
    std::string error_text_;  // the last failure, for sync's and open's messages

    std::atomic<uint64_t> next_seq_{1}, durable_seq_{0}, records_{0}, lost_{0}, bytes_written_{0}, commits_{0},
        fsyncs_{0}, write_errors_{0}, segment_count_{0}, disk_bytes_{0}, segments_removed_{0}, truncated_{0},
        corrupt_{0}, skipped_{0};
    std::atomic<int> last_error_{PROCMON_OK};
    // opts_'s retention, changed by set_retention while the thread runs
    std::atomic<uint64_t> max_bytes_{0}, max_age_ns_{0};
    std::mutex observer_mutex_;
    std::function<void(uint64_t)> sync_observer_;
};

}  // namespace procmon::journal
