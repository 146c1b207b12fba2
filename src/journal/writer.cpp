#include "journal/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.hpp"
#include "journal/format.hpp"
#include "journal/segments.hpp"
#include "platform/fork_guard.hpp"

namespace procmon::journal {
namespace {

constexpr const char *kOpen = "procmon_journal_open";
constexpr std::size_t kCommitBytes = 4u << 20;  // a group commit is cut at about this much
constexpr int kRetryMs = 100;                   // after a failed write

uint64_t wall_ns() { return static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime)); }
uint64_t mono_ns() { return static_cast<uint64_t>(platform::now_ns(platform::Clock::monotonic)); }

}  // namespace

Writer::Writer(std::string dir, WriterOptions opts, std::shared_ptr<events::Subscription> source)
    : dir_(std::move(dir)), opts_(std::move(opts)), source_(std::move(source)) {
    if (!opts_.clock) opts_.clock = wall_ns;
    max_bytes_ = opts_.max_bytes;
    max_age_ns_ = opts_.max_age_ns;
}

int Writer::open(const std::string &dir, WriterOptions opts, std::shared_ptr<events::Subscription> source,
                 std::unique_ptr<Writer> &out) {
    auto w = std::make_unique<Writer>(dir, std::move(opts), std::move(source));
    if (!w->waker_.ok()) return fail(PROCMON_EIO, errno, "%s: eventfd: %s", kOpen, std::strerror(errno));
    if (int rc = w->recover(); rc != PROCMON_OK) return rc;
    if (!w->start_segment()) {
        std::lock_guard<std::mutex> lock(w->mutex_);
        return fail(w->last_error_, 0, "%s: %s", kOpen, w->error_text_.c_str());
    }
    w->thread_ = std::thread([p = w.get()] { p->run(); });
    out = std::move(w);
    return PROCMON_OK;
}

Writer::~Writer() {
    close();
    if (lock_.valid()) platform::close_parent_only(lock_);  // releases the lock
}

// ------------------------------------------------------------ recovery

int Writer::recover() {
    const char *dir = dir_.c_str();
    if (!platform::make_directory(dir))
        return fail(status_from_errno(errno), errno, "%s: create %s: %s", kOpen, dir, std::strerror(errno));
    dirfile_ = platform::open_directory(dir);
    if (!dirfile_.valid()) return fail(status_from_errno(errno), errno, "%s: open %s: %s", kOpen, dir, std::strerror(errno));
    // Regular files only, as segments: a FIFO or a symlink here is not ours to open.
    // The lock file is kept from forked children: see fork_guard.hpp.
    std::unique_lock<std::mutex> no_fork = platform::no_fork_meanwhile();
    switch (platform::open_regular(dirfile_, "LOCK", platform::Access::read_write_create, lock_)) {
    case platform::Opened::ok: break;
    case platform::Opened::not_regular:
        return fail(PROCMON_EFORMAT, 0, "%s: %s/LOCK is not a regular file: a journal directory holds regular files only",
                    kOpen, dir);
    case platform::Opened::gone:
    case platform::Opened::failed:
        return fail(status_from_errno(errno), errno, "%s: create %s/LOCK: %s", kOpen, dir, std::strerror(errno));
    }
    switch (platform::lock_exclusive(lock_)) {
    case platform::Lock::held: break;
    case platform::Lock::busy:
        return fail(PROCMON_ELOCKED, errno, "%s: %s is locked by another writer (flock on %s/LOCK)", kOpen, dir, dir);
    case platform::Lock::failed:
        return fail(status_from_errno(errno), errno, "%s: lock %s/LOCK: %s", kOpen, dir, std::strerror(errno));
    }
    platform::parent_only(lock_, no_fork);
    platform::boot_id(boot_id_);  // zeros when the OS does not tell

    std::vector<SegmentFile> files;
    std::vector<std::string> odd;  // not regular files: left alone, counted
    if (int rc = list_segments(dirfile_, dir, kOpen, files, &odd); rc != PROCMON_OK) return rc;
    skipped_ = odd.size();
    uint64_t last = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const SegmentFile &f = files[i];
        const bool newest = i + 1 == files.size();
        platform::File file;
        switch (platform::open_regular(dirfile_, f.name.c_str(), newest ? platform::Access::read_write : platform::Access::read,
                                       file)) {
        case platform::Opened::ok: break;
        case platform::Opened::not_regular: ++skipped_; continue;
        case platform::Opened::gone: continue;
        case platform::Opened::failed:
            return fail(status_from_errno(errno), errno, "%s: open %s/%s: %s", kOpen, dir, f.name.c_str(), std::strerror(errno));
        }
        platform::FileInfo st;  // dates the segment by its last write
        platform::info(file, st);
        unsigned char head[kHeaderBytes];
        const int64_t got = platform::read_at(file, head, sizeof head, 0);
        if (got < 0) return fail(PROCMON_EIO, errno, "%s: read %s/%s: %s", kOpen, dir, f.name.c_str(), std::strerror(errno));
        SegmentHeader h;
        uint32_t version = 0;
        switch (decode_header(head, static_cast<std::size_t>(got), h, version)) {
        case HeaderCheck::ok: break;
        case HeaderCheck::bad_magic:
            return fail(PROCMON_EFORMAT, 0, "%s: %s/%s is not a procmon journal segment", kOpen, dir, f.name.c_str());
        case HeaderCheck::newer_version:
            return fail(PROCMON_EFORMAT, 0, "%s: %s/%s has journal format %u; this library reads up to %u", kOpen, dir,
                        f.name.c_str(), version, kFormatVersion);
        case HeaderCheck::short_file:
        case HeaderCheck::bad_crc:
            if (newest) {  // created, then the crash: nothing in it was ever acknowledged
                truncated_ += st.size;
                platform::unlink(dirfile_, f.name.c_str());
            } else {
                ++corrupt_;  // readers skip it whole
                segments_.push_back({f.first_seq, f.name, st.size, st.modified_ns});
            }
            continue;
        }
        uint64_t seg_last = std::max(last, h.first_seq - 1);
        bool any = false;
        SegmentScanner scan(file);
        for (bool done = false; !done;) {
            switch (scan.next(seg_last)) {
            case SegmentScanner::Step::record:
                seg_last = scan.record().seq;
                any = true;
                break;
            case SegmentScanner::Step::corrupt:
                ++corrupt_;
                break;
            case SegmentScanner::Step::incomplete:
                if (newest) {  // a torn tail: cut it
                    truncated_ += st.size - scan.offset();
                    if (!platform::truncate(file, scan.offset()))
                        return fail(status_from_errno(errno), errno, "%s: truncate the torn tail of %s/%s: %s", kOpen,
                                    dir, f.name.c_str(), std::strerror(errno));
                    st.size = scan.offset();
                } else {
                    ++corrupt_;
                }
                done = true;
                break;
            case SegmentScanner::Step::end: done = true; break;
            case SegmentScanner::Step::io_error:
                return fail(PROCMON_EIO, errno, "%s: read %s/%s: %s", kOpen, dir, f.name.c_str(), std::strerror(errno));
            }
        }
        if (newest && !any) {  // only a header: its name would clash with the next segment's
            platform::unlink(dirfile_, f.name.c_str());
            continue;
        }
        last = seg_last;
        segments_.push_back({f.first_seq, f.name, st.size, st.modified_ns});
    }
    next_seq_ = last + 1;
    written_seq_ = durable_seq_ = last;  // what recovery found is on disk
    uint64_t bytes = 0;
    for (const Segment &s : segments_) bytes += s.bytes;
    disk_bytes_ = bytes;
    segment_count_ = segments_.size();
    return PROCMON_OK;
}

// ------------------------------------------------------------ segments

bool Writer::start_segment() {
    const uint64_t first = buf_.empty() ? next_seq_.load() : batch_first_seq_;  // the records about to be written
    const std::string name = segment_name(first);
    platform::File file = platform::create_new(dirfile_, name.c_str());
    if (!file.valid() && errno == EEXIST) {
        // Left by a commit that failed before any record of it landed:
        // nothing to keep. Anything but a regular file is not ours to remove.
        if (platform::kind_of(dirfile_, name.c_str()) == platform::Kind::other) {
            failed(PROCMON_EFORMAT, EEXIST,
                   ("create segment " + name + ": the name is taken by something that is not a regular file").c_str());
            return false;
        }
        platform::unlink(dirfile_, name.c_str());
        file = platform::create_new(dirfile_, name.c_str());
    }
    if (!file.valid()) {
        failed(status_from_errno(errno), errno, ("create segment " + name).c_str());
        return false;
    }
    SegmentHeader h;
    h.first_seq = first;
    h.created_ns = opts_.clock();
    std::memcpy(h.boot_id, boot_id_, sizeof h.boot_id);
    unsigned char head[kHeaderBytes];
    encode_header(h, head);
    bool ok = platform::write_all(file, head, sizeof head);
    if (ok && opts_.fsync != PROCMON_FSYNC_NEVER)  // the file and its name survive a crash
        ok = platform::datasync(file) && platform::sync_directory(dirfile_);
    if (!ok) {
        const int err = errno;
        file.close();
        platform::unlink(dirfile_, name.c_str());
        failed(status_from_errno(err), err, ("write the header of segment " + name).c_str());
        return false;
    }
    file_ = std::move(file);
    segments_.push_back({first, name, kHeaderBytes, 0});
    segment_count_ = segments_.size();
    disk_bytes_ += kHeaderBytes;
    return true;
}

bool Writer::datasync() {
    if (!file_.valid() || !dirty_) return true;
    ++fsyncs_;
    const uint64_t started = mono_ns();
    if (!platform::datasync(file_)) {
        failed(status_from_errno(errno), errno, "fdatasync");
        return false;
    }
    dirty_ = false;
    last_sync_ns_ = mono_ns();
    {
        std::lock_guard<std::mutex> lock(observer_mutex_);
        if (sync_observer_) sync_observer_(last_sync_ns_ - started);
    }
    durable_seq_ = written_seq_.load();
    return true;
}

void Writer::set_sync_observer(std::function<void(uint64_t ns)> observer) {
    std::lock_guard<std::mutex> lock(observer_mutex_);
    sync_observer_ = std::move(observer);
}

void Writer::retain() {
    const uint64_t max_bytes = max_bytes_, max_age_ns = max_age_ns_;
    if (max_bytes == 0 && max_age_ns == 0) return;
    const uint64_t now = opts_.clock();
    while (segments_.size() > 1) {  // never the newest
        const Segment &old = segments_.front();
        const bool too_big = max_bytes && disk_bytes_ > max_bytes;
        const bool too_old = max_age_ns && old.closed_ns && old.closed_ns + max_age_ns < now;
        if (!too_big && !too_old) break;
        if (!platform::unlink(dirfile_, old.name.c_str()) && errno != ENOENT) {
            failed(status_from_errno(errno), errno, ("remove old segment " + old.name).c_str());
            break;
        }
        disk_bytes_ -= old.bytes;
        ++segments_removed_;
        segments_.pop_front();
        segment_count_ = segments_.size();
    }
}

void Writer::failed(int code, int err, const char *what) {
    ++write_errors_;
    last_error_ = code;
    std::lock_guard<std::mutex> lock(mutex_);
    error_text_ = dir_ + ": " + what + ": " + std::strerror(err);
}

// ------------------------------------------------------------ writing

void Writer::encode(const procmon_event &in) {
    if (payload_bound(in) > kMaxPayload) {  // never a record that cannot be read back
        procmon_event e = in;
        std::string copy;
        if (cut_to_fit(e, copy)) encode(e);
        else ++pending_lost_;  // not even without argv: journaled as lost by the next pass
        return;
    }
    const procmon_event &e = in;
    if (buf_.empty()) batch_first_seq_ = next_seq_;
    append_record(buf_, next_seq_++, e);
    batch_weight_ += e.type == PROCMON_EVENT_LOST ? e.lost : 1;
    ++batch_records_;
    if (e.type == PROCMON_EVENT_LOST) batch_lost_ += e.lost;
}

void Writer::drop_batch() {
    if (buf_.empty()) return;
    next_seq_ = batch_first_seq_;  // the sequence stays gapless on disk
    pending_lost_ += batch_weight_;
    buf_.clear();
    batch_weight_ = batch_records_ = batch_lost_ = 0;
}

bool Writer::commit() {
    if (buf_.empty()) return true;
    if (!file_.valid() && !start_segment()) {
        drop_batch();
        return false;
    }
    Segment &seg = segments_.back();
    if (!platform::write_all(file_, buf_.data(), buf_.size())) {
        const int err = errno;
        // Leave no partial record: cut back to the last whole commit, or
        // if even that fails, leave this segment and start another.
        if (!platform::truncate(file_, seg.bytes)) {
            datasync();  // what this segment holds before the torn bytes stays durable
            file_.close();
            seg.closed_ns = opts_.clock();
        }
        failed(status_from_errno(err), err, ("write segment " + seg.name).c_str());
        drop_batch();
        return false;
    }
    seg.bytes += buf_.size();
    disk_bytes_ += buf_.size();
    bytes_written_ += buf_.size();
    ++commits_;
    records_ += batch_records_;
    lost_ += batch_lost_;
    written_seq_ = next_seq_ - 1;
    dirty_ = true;
    buf_.clear();
    batch_weight_ = batch_records_ = batch_lost_ = 0;
    bool ok = true;
    if (opts_.fsync == PROCMON_FSYNC_ALWAYS) ok = datasync();
    else if (opts_.fsync == PROCMON_FSYNC_NEVER) durable_seq_ = written_seq_.load();
    if (seg.bytes >= opts_.segment_bytes) {  // full: the next commit starts a new one
        if (opts_.fsync != PROCMON_FSYNC_NEVER) ok = datasync() && ok;
        file_.close();
        seg.closed_ns = opts_.clock();
    }
    retain();
    return ok;
}

void Writer::run() {
    std::vector<procmon_event> popped(512);
    bool source_open = source_ != nullptr;
    bool failing = false;
    for (;;) {
        try {
            if (step(popped, source_open, failing)) return;
        } catch (const std::exception &e) {
            // Out of memory, most likely: what this pass held is counted and
            // journaled as lost once writing works again; never a silent gap.
            drop_batch();
            pending_lost_ += taking_.events.size() - std::min(taken_, taking_.events.size());
            taking_ = Inbox{};
            taken_ = 0;
            ++write_errors_;
            last_error_ = PROCMON_ENOMEM;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                error_text_ = dir_ + ": " + e.what();
            }
            failing = true;
            retry_at_ns_ = mono_ns() + kRetryMs * 1000000ull;
            std::lock_guard<std::mutex> lock(mutex_);
            if (stop_) {
                close_status_ = PROCMON_ENOMEM;
                sync_done_ = sync_requested_;
                sync_status_ = PROCMON_ENOMEM;
                done_.notify_all();
                return;
            }
        }
    }
}

// One pass of the writer's thread; true once it is to stop.
bool Writer::step(std::vector<procmon_event> &popped, bool &source_open, bool &failing) {
    auto ms_until = [](uint64_t due) {
        const uint64_t now = mono_ns();
        return due > now ? static_cast<int>((due - now) / 1000000u) + 1 : 0;
    };
    int timeout = 1000;  // retention by age, at least
    if (failing) timeout = ms_until(retry_at_ns_);
    else if (opts_.fsync == PROCMON_FSYNC_INTERVAL && dirty_)
        timeout = ms_until(last_sync_ns_ + uint64_t{opts_.fsync_interval_ms} * 1000000u);
    // While writes fail, one try every kRetryMs, however fast events come:
    // they wait in the queues meanwhile (the subscription's drops become a
    // LOST record), and only a close does not wait for the next try.
    const bool drain_source = source_open && !failing;
    platform::wait_any({waker_.handle(), drain_source ? source_->handle() : platform::WaitHandle()}, timeout);
    waker_.drain();
    if (failing && mono_ns() < retry_at_ns_) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!stop_) return false;
    }

    Inbox &in = taking_;
    in = Inbox{};
    taken_ = 0;
    uint64_t want_sync;
    bool stopping, sync_asked;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::swap(in, inbox_);
        want_sync = sync_requested_;
        sync_asked = want_sync > sync_done_;
        stopping = stop_;
    }
    room_.notify_all();

    bool ok = true;
    if (pending_lost_ > 0) {  // what failed writes could not store, said first
        procmon_event lost{};
        lost.size = sizeof lost;
        lost.type = PROCMON_EVENT_LOST;  // not SYNTHESIZED: that is a reader's gap
        lost.time_ns = wall_ns();
        lost.lost = pending_lost_;
        pending_lost_ = 0;
        encode(lost);
    }
    while (source_open) {
        std::size_t n = 0;
        if (source_->pop(popped.data(), sizeof popped[0], popped.size(), n, 0) != PROCMON_OK) {
            source_open = false;  // the context was closed: appends only from now on
            break;
        }
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) encode(popped[i]);
        if (buf_.size() >= kCommitBytes) ok = commit() && ok;
    }
    for (Copied &c : in.events) {
        c.e.name = in.strings.data() + c.name;
        c.e.exe = in.strings.data() + c.exe;
        c.e.argv = in.strings.data() + c.argv;
        encode(c.e);
        ++taken_;
        if (buf_.size() >= kCommitBytes) ok = commit() && ok;
    }
    in = Inbox{};  // its strings are no longer needed
    ok = commit() && ok;
    if (opts_.fsync == PROCMON_FSYNC_INTERVAL && dirty_ &&
        mono_ns() >= last_sync_ns_ + uint64_t{opts_.fsync_interval_ms} * 1000000u)
        ok = datasync() && ok;
    if (sync_asked || stopping) ok = datasync() && ok;  // whatever the policy
    failing = !ok || pending_lost_ > 0;
    if (failing) retry_at_ns_ = mono_ns() + kRetryMs * 1000000ull;
    retain();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (want_sync > sync_done_) {
            sync_done_ = want_sync;
            sync_status_ = failing ? last_error_.load() : PROCMON_OK;
        }
        if (stopping) close_status_ = failing ? last_error_.load() : PROCMON_OK;
    }
    done_.notify_all();
    return stopping;
}

// ------------------------------------------------------------ callers

int Writer::append(const procmon_event *events, std::size_t stride, std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < n; ++i) {
        while (inbox_.events.size() >= opts_.queue_capacity && !stop_) {
            waker_.wake();
            room_.wait(lock);
        }
        if (stop_) return fail(PROCMON_ECLOSED, 0, "procmon_journal_append: the journal is closed");
        const procmon_event ev = event_at(events, stride, i);
        const procmon_event *e = &ev;
        Copied c{ev, 0, 0, 0};
        c.name = append_string(inbox_.strings, e->name, e->name ? std::strlen(e->name) : 0);
        c.exe = append_string(inbox_.strings, e->exe, e->exe ? std::strlen(e->exe) : 0);
        c.argv = append_string(inbox_.strings, e->argv, e->argv ? e->argv_len : 0);
        c.e.argv_len = e->argv ? e->argv_len : 0;
        inbox_.events.push_back(c);
    }
    lock.unlock();
    waker_.wake();
    return PROCMON_OK;
}

int Writer::sync(int timeout_ms, uint64_t *durable_seq) {
    constexpr const char *fn = "procmon_journal_sync";
    std::unique_lock<std::mutex> lock(mutex_);
    if (stop_) return fail(PROCMON_ECLOSED, 0, "%s: the journal is closed", fn);
    const uint64_t gen = ++sync_requested_;
    waker_.wake();
    auto done = [&] { return sync_done_ >= gen; };
    if (timeout_ms < 0) done_.wait(lock, done);
    else if (!done_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done))
        return fail(PROCMON_ETIMEDOUT, 0, "%s: not durable within %d ms", fn, timeout_ms);
    if (durable_seq) *durable_seq = durable_seq_;
    if (sync_status_ != PROCMON_OK) return fail(sync_status_, 0, "%s: %s", fn, error_text_.c_str());
    return PROCMON_OK;
}

int Writer::close() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    room_.notify_all();
    waker_.wake();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    return close_status_;
}

void Writer::set_retention(uint64_t max_bytes, uint64_t max_age_ns) {
    max_bytes_ = max_bytes;
    max_age_ns_ = max_age_ns;
    waker_.wake();  // a pass now, not at the next event
}

void Writer::stats(procmon_journal_stats &out) const {
    procmon_journal_stats s{};
    s.last_error = last_error_;
    // durable_seq before next_seq: durable_seq only grows and is below
    // next_seq at every instant, so a next_seq loaded after it is above it.
    // Loaded the other way round, a commit and an fsync between the two
    // loads showed durable_seq >= next_seq (a loaded machine, issue 16).
    s.durable_seq = durable_seq_;
    s.next_seq = next_seq_;
    s.records = records_;
    s.lost = lost_;
    s.bytes_written = bytes_written_;
    s.commits = commits_;
    s.fsyncs = fsyncs_;
    s.write_errors = write_errors_;
    s.segments = segment_count_;
    s.disk_bytes = disk_bytes_;
    s.segments_removed = segments_removed_;
    s.recovered_truncated_bytes = truncated_;
    s.recovered_corrupt_records = corrupt_;
    s.skipped_files = skipped_;
    s.size = out.size < sizeof s ? out.size : static_cast<uint32_t>(sizeof s);
    std::memcpy(&out, &s, s.size);
}

}  // namespace procmon::journal
