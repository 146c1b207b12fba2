#include "journal/reader.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.hpp"
#include "core/names.hpp"
#include "platform/platform.hpp"

namespace procmon::journal {
namespace {

constexpr const char *kNext = "procmon_journal_reader_next";

}  // namespace

Reader::Reader(std::string dir, uint64_t from_seq, uint64_t from_time_ns)
    : dir_(std::move(dir)), from_seq_(from_seq), from_time_ns_(from_time_ns) {
    expected_ = from_seq;  // a start older than what is kept shows as LOST
}

int Reader::open(const std::string &dir, uint64_t from_seq, uint64_t from_time_ns, std::unique_ptr<Reader> &out) {
    constexpr const char *fn = "procmon_journal_reader_open";
    auto r = std::make_unique<Reader>(dir, from_seq, from_time_ns);
    r->dirfile_ = platform::open_directory(dir.c_str());
    if (!r->dirfile_.valid())
        return fail(status_from_errno(errno), errno, "%s: open %s: %s", fn, dir.c_str(), std::strerror(errno));
    std::vector<SegmentFile> files;
    std::vector<std::string> odd;
    if (int rc = list_segments(r->dirfile_, dir.c_str(), fn, files, &odd); rc != PROCMON_OK) return rc;
    r->skipped(odd);
    // Start in the newest segment that begins at or before from_seq.
    std::size_t start = 0;
    for (std::size_t i = 0; i < files.size(); ++i)
        if (files[i].first_seq <= from_seq) start = i;
    if (r->open_first(files, start) == Moved::error) return last_error()->code;
    r->watch_ = std::make_unique<platform::DirectoryWatch>(dir.c_str());  // if it cannot, following polls
    out = std::move(r);
    return PROCMON_OK;
}

void Reader::skipped(const std::vector<std::string> &names) {
    skipped_.insert(names.begin(), names.end());
    stats_.skipped_files = skipped_.size();
}

void Reader::leave_segment() {
    if (torn_.bytes > 0) corrupt(segment_first_, torn_.offset, torn_.bytes);  // a torn record nobody will finish
    torn_ = {};
    scan_.reset();
    file_.close();
}

Reader::Opened Reader::open_segment(const SegmentFile &f, bool newest) {
    platform::File file;
    switch (platform::open_regular(dirfile_, f.name.c_str(), platform::Access::read, file)) {
    case platform::Opened::ok: break;
    case platform::Opened::not_regular: skipped({f.name}); [[fallthrough]];
    case platform::Opened::gone:  // removed by retention meanwhile: the next one will do
        leave_segment();
        segment_first_ = f.first_seq;
        again_ = false;
        return Opened::skipped;
    case platform::Opened::failed:
        fail(status_from_errno(errno), errno, "%s: open %s/%s: %s", kNext, dir_.c_str(), f.name.c_str(), std::strerror(errno));
        return Opened::error;
    }
    unsigned char head[kHeaderBytes];
    const int64_t got = platform::read_at(file, head, sizeof head, 0);
    SegmentHeader h;
    uint32_t version = 0;
    const HeaderCheck c = got < 0 ? HeaderCheck::short_file : decode_header(head, static_cast<std::size_t>(got), h, version);
    if (c == HeaderCheck::bad_magic || c == HeaderCheck::newer_version) {
        fail(PROCMON_EFORMAT, 0,
             c == HeaderCheck::bad_magic ? "%s: %s/%s is not a procmon journal segment"
                                         : "%s: %s/%s has a newer journal format than this library's",
             kNext, dir_.c_str(), f.name.c_str());
        return Opened::error;
    }
    const bool same_name = file_.valid() && f.name == segment_name_;
    leave_segment();
    segment_first_ = f.first_seq;
    segment_name_ = f.name;
    again_ = finished_ = false;
    if (c == HeaderCheck::ok) {
        if (expected_ == 0) expected_ = h.first_seq;  // so a damaged first record shows as LOST
        if (same_name && h.first_seq > 0 && last_seq_ >= h.first_seq) {  // a copy of what we read, and more?
            resume_after_ = last_seq_;
            last_seq_ = h.first_seq - 1;
        }
        file_ = std::move(file);
        scan_ = std::make_unique<SegmentScanner>(file_);
        return Opened::yes;
    }
    platform::FileInfo fi;
    platform::info(file, fi);
    if (!newest) {  // unreadable header: the whole segment is lost to us
        corrupt(f.first_seq, 0, fi.size);
        if (expected_ == 0) expected_ = f.first_seq;  // its name says where it began: its records show as LOST
        return Opened::skipped;
    }
    again_ = true;  // being created: look again later
    return Opened::later;
}

Reader::Moved Reader::open_first(const std::vector<SegmentFile> &files, std::size_t i) {
    for (; i < files.size(); ++i) {
        switch (open_segment(files[i], i + 1 == files.size())) {
        case Opened::yes: return Moved::yes;
        case Opened::later: return Moved::no;
        case Opened::skipped: continue;
        case Opened::error: return Moved::error;
        }
    }
    return Moved::no;
}

Reader::Moved Reader::move_to_next_segment() {
    std::vector<SegmentFile> files;
    std::vector<std::string> odd;
    if (list_segments(dirfile_, dir_.c_str(), kNext, files, &odd) != PROCMON_OK) return Moved::error;
    skipped(odd);
    std::size_t i = 0;
    while (i < files.size() && (files[i].first_seq < segment_first_ || (files[i].first_seq == segment_first_ && !again_))) ++i;
    return open_first(files, i);
}

bool Reader::directory_unchanged() {
    // A directory's mtime changes when an entry is created, removed or
    // renamed, not when a file in it grows. Timestamps come from a coarse
    // clock (a few ms), so an mtime is trusted only when the listing that
    // saw it began well after it: a change after that listing then has a
    // later mtime. A clock that steps back only makes it list again.
    constexpr uint64_t kCoarseMarginNs = 50'000'000;
    platform::FileInfo dir;
    const uint64_t now = static_cast<uint64_t>(platform::now_ns(platform::Clock::realtime));
    if (!platform::info(dirfile_, dir)) return false;
    if (listed_segment_ == segment_first_ && dir.modified_ns == listed_dir_mtime_ns_ &&
        listed_at_ns_ > dir.modified_ns + kCoarseMarginNs && now >= listed_at_ns_)
        return true;
    listed_dir_mtime_ns_ = dir.modified_ns;
    listed_at_ns_ = now;  // taken before the listing that follows
    listed_segment_ = segment_first_;
    return false;
}

bool Reader::replaced() const {
    platform::FileInfo mine, named;
    if (!platform::info(file_, mine)) return false;
    if (!platform::info(dirfile_, segment_name_.c_str(), named)) return errno == ENOENT;
    return named.id != mine.id || named.device != mine.device;
}

void Reader::corrupt(uint64_t segment, uint64_t offset, uint64_t bytes) {
    if (stats_.corrupt_records++ == 0) {
        stats_.first_corrupt_segment = segment;
        stats_.first_corrupt_offset = offset;
    }
    stats_.corrupt_bytes += bytes;
}

void Reader::wake() {
    woken_.store(true, std::memory_order_release);
    waker_.wake();
}

bool Reader::take_wake() {
    if (!woken_.exchange(false, std::memory_order_acq_rel)) return false;
    waker_.drain();
    if (woken_.load(std::memory_order_acquire)) waker_.wake();  // another came meanwhile: keep it seen
    return true;
}

platform::Wait Reader::pause(int timeout_ms) {
    const platform::WaitHandle h = changes();
    // Without a watch, the directory is looked at again every 20 ms; the
    // waker still ends the wait at once, and a signal does too.
    const platform::Wait w = platform::wait_any({h, waker_.handle()},
                                                h.valid() ? timeout_ms : std::min(timeout_ms < 0 ? 20 : timeout_ms, 20));
    if (w == platform::Wait::ready && watch_) watch_->drain();
    return w;
}

int Reader::next(void *dst, std::size_t stride, std::size_t max, std::size_t &n, int timeout_ms, std::size_t max_bytes) {
    n = 0;
    out_.clear();
    strings_.clear();
    if (take_wake()) return fail(PROCMON_EINTR, EINTR, "%s: woken by procmon_journal_reader_wake", kNext);
    if (watch_) watch_->drain();  // what comes after this call makes changes() ready again
    // First what wait() found: the events, and the strings they point into.
    const std::size_t early = std::min(max, ahead_.size());
    if (early > 0) {
        out_.assign(ahead_.begin(), ahead_.begin() + static_cast<std::ptrdiff_t>(early));
        strings_ = ahead_strings_;
        ahead_.erase(ahead_.begin(), ahead_.begin() + static_cast<std::ptrdiff_t>(early));
        if (ahead_.empty()) ahead_strings_.clear();
    }
    if (ahead_.empty() && out_.size() < max)
        if (int rc = gather(out_, strings_, max, max_bytes, timeout_ms, false); rc != PROCMON_OK) return rc;
    const std::size_t written = std::min(stride, sizeof(procmon_event));
    for (const Out &o : out_) {
        procmon_event e = o.e;
        e.size = static_cast<uint32_t>(written);
        e.name = strings_.data() + o.name;
        e.exe = strings_.data() + o.exe;
        e.argv = strings_.data() + o.argv;
        e.full_name = strings_.data() + o.full_name;
        std::memcpy(static_cast<char *>(dst) + n * stride, &e, written);
        ++n;
    }
    return PROCMON_OK;
}

int Reader::wait(int timeout_ms) {
    if (take_wake()) return fail(PROCMON_EINTR, EINTR, "procmon_journal_reader_wait: woken by procmon_journal_reader_wake");
    if (watch_) watch_->drain();
    if (ahead_.empty())
        if (int rc = gather(ahead_, ahead_strings_, 1, SIZE_MAX, timeout_ms, true); rc != PROCMON_OK) return rc;
    if (ahead_.empty())
        return fail(PROCMON_ETIMEDOUT, 0, "procmon_journal_reader_wait: no event within %d ms", timeout_ms);
    return PROCMON_OK;
}

int Reader::gather(std::vector<Out> &out, std::vector<char> &strings, std::size_t max, std::size_t max_bytes,
                   int timeout_ms, bool interruptible) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    while (out.size() < max && strings.size() < max_bytes) {
        if (!scan_) {
            const Moved m = move_to_next_segment();
            if (m == Moved::error) return last_error()->code;
            if (m == Moved::yes) continue;
        } else {
            const SegmentScanner::Step step = scan_->next(last_seq_);
            if (step == SegmentScanner::Step::record) {
                const procmon_event &e = scan_->event();
                const uint64_t seq = scan_->record().seq;
                if (seq <= resume_after_) {  // returned before, from the file this name named then
                    last_seq_ = seq;
                    continue;
                }
                const bool gap = expected_ != 0 && seq > expected_;
                if (seq < from_seq_ || e.time_ns < from_time_ns_) {  // before the window: neither it nor its gap
                    last_seq_ = seq;
                    if (seq >= from_seq_) expected_ = seq + 1;
                    continue;
                }
                if (gap) {  // corruption or retention swallowed these: say how many
                    Out lost{};
                    lost.e.size = sizeof lost.e;
                    lost.e.type = PROCMON_EVENT_LOST;
                    lost.e.flags = PROCMON_EVENT_FLAG_SYNTHESIZED;
                    lost.e.seq = seq - 1;
                    lost.e.time_ns = e.time_ns;
                    lost.e.lost = seq - expected_;
                    lost.name = lost.exe = lost.argv = lost.full_name = append_string(strings, "", 0);
                    out.push_back(lost);
                    stats_.missing += seq - expected_;
                    expected_ = seq;
                    if (out.size() == max) {  // no room left: this record comes first next time
                        scan_->unread();
                        continue;
                    }
                }
                // The full name is not stored: the rule derives it from what is.
                const std::string_view full = full_name(e.name, e.argv, e.argv_len, e.exe);
                Out o{e, append_string(strings, e.name, std::strlen(e.name)),
                      append_string(strings, e.exe, std::strlen(e.exe)), append_string(strings, e.argv, e.argv_len),
                      append_string(strings, full.data(), full.size())};
                o.e.seq = seq;
                // SYNTHESIZED on a LOST is this reader's gap; a stored one is
                // the writer's (before 0.2 it flagged its own so too).
                if (e.type == PROCMON_EVENT_LOST) o.e.flags &= ~uint32_t{PROCMON_EVENT_FLAG_SYNTHESIZED};
                out.push_back(o);
                ++stats_.records;
                last_seq_ = seq;
                expected_ = seq + 1;
                continue;
            }
            if (step == SegmentScanner::Step::corrupt) {
                corrupt(segment_first_, scan_->corrupt_offset(), scan_->corrupt_bytes());
                continue;
            }
            if (step == SegmentScanner::Step::io_error)
                return fail(PROCMON_EIO, errno, "%s: read %s: %s", kNext, dir_.c_str(), std::strerror(errno));
            // End or incomplete: the writer may still be appending here,
            // unless a newer segment exists. It never appends to a segment
            // once it has started the next, so on first seeing a newer one,
            // read this one again before leaving it: it may have grown
            // between our reaching its end and the next one appearing.
            // Nor does it append to a file whose name now names another
            // (a header-only segment removed by the next run's recovery and
            // started again under the same name): that name is read anew.
            if (!finished_) {
                if (!directory_unchanged()) {  // else nothing newer: this segment is still the one written
                    std::vector<SegmentFile> files;
                    if (list_segments(dirfile_, dir_.c_str(), kNext, files) != PROCMON_OK) return last_error()->code;
                    finished_ = !files.empty() && files.back().first_seq > segment_first_;
                    if (!finished_ && replaced()) finished_ = again_ = true;
                    if (finished_) {
                        listed_at_ns_ = 0;  // that listing found a newer segment: it vouches for nothing next
                        continue;
                    }
                }
            } else {
                const uint64_t at = scan_->offset();
                platform::FileInfo fi;
                platform::info(file_, fi);
                const uint64_t size = fi.size;
                torn_ = step == SegmentScanner::Step::incomplete && size > at ? Torn{at, size - at} : Torn{};
                const Moved m = move_to_next_segment();
                if (m == Moved::error) return last_error()->code;
                if (m == Moved::yes) continue;
            }
        }
        // Nothing more now.
        if (!out.empty() || timeout_ms == 0) break;
        if (take_wake())
            return fail(PROCMON_EINTR, EINTR, "%s: woken by procmon_journal_reader_wake",
                        interruptible ? "procmon_journal_reader_wait" : kNext);
        int left = -1;
        if (timeout_ms > 0) {
            left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count());
            if (left <= 0) break;
        }
        if (pause(left < 0 ? 1000 : std::min(left, 1000)) == platform::Wait::interrupted && interruptible)
            return fail(PROCMON_EINTR, EINTR, "procmon_journal_reader_wait: interrupted by a signal");
    }
    return PROCMON_OK;
}

void Reader::stats(procmon_journal_reader_stats &out) const {
    procmon_journal_reader_stats s = stats_;
    s.size = out.size < sizeof s ? out.size : static_cast<uint32_t>(sizeof s);
    std::memcpy(&out, &s, s.size);
}

}  // namespace procmon::journal
