#include "journal/segments.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace procmon::journal {
namespace {

constexpr std::size_t kChunk = 1u << 20;

}  // namespace

int list_segments(const platform::File &dirfile, const char *dir, const char *fn, std::vector<SegmentFile> &out,
                  std::vector<std::string> *skipped) {
    out.clear();
    if (skipped) skipped->clear();
    std::vector<platform::DirEntry> entries;
    uint64_t first;
    if (!platform::list_directory(dirfile, [&first](const char *name) { return parse_segment_name(name, first); }, entries))
        return fail(status_from_errno(errno), errno, "%s: list %s: %s", fn, dir, std::strerror(errno));
    for (platform::DirEntry &e : entries) {
        parse_segment_name(e.name.c_str(), first);
        if (e.regular) out.push_back({first, std::move(e.name)});
        else if (skipped) skipped->push_back(std::move(e.name));
    }
    std::sort(out.begin(), out.end(), [](const SegmentFile &a, const SegmentFile &b) { return a.first_seq < b.first_seq; });
    return PROCMON_OK;
}

SegmentScanner::SegmentScanner(const platform::File &file, uint64_t offset) : file_(file), offset_(offset) {
    // Advice only (its failure changes nothing): read front to back, and
    // start reading the whole file now, so the disk works while we check
    // CRCs (cold recovery of 1 GiB: 1.3 s median without, see PERFORMANCE.md).
    platform::will_read(file, offset);
}

bool SegmentScanner::fill(std::size_t want) {
    if (len_ - pos_ >= want) return true;
    if (eof_) return false;
    if (pos_ > 0) {  // keep what is unread at the front
        std::memmove(buf_.get(), buf_.get() + pos_, len_ - pos_);
        len_ -= pos_;
        pos_ = 0;
    }
    const std::size_t need = std::max(want, kChunk);
    if (cap_ < need) {  // not zero-filled: only what pread writes is touched (a small segment, a few pages)
        auto bigger = std::make_unique_for_overwrite<unsigned char[]>(need);
        if (len_ > 0) std::memcpy(bigger.get(), buf_.get(), len_);
        buf_ = std::move(bigger);
        cap_ = need;
    }
    while (len_ < want || len_ < cap_) {
        const int64_t r = platform::read_at(file_, buf_.get() + len_, cap_ - len_, offset_ + len_);
        if (r < 0) return false;
        if (r == 0) {
            eof_ = true;
            break;
        }
        len_ += static_cast<std::size_t>(r);
        if (len_ >= want) break;
    }
    return len_ - pos_ >= want;
}

void SegmentScanner::unread() {
    pos_ -= record_.total;
    offset_ -= record_.total;
}

SegmentScanner::Step SegmentScanner::next(uint64_t last_seq) {
    errno = 0;
    eof_ = false;  // look again: a writer may have appended
    if (!fill(kRecordHeaderBytes)) {
        if (errno != 0 && !eof_) return Step::io_error;
        if (len_ == pos_) return Step::end;
    }
    RecordCheck c = check_record(buf_.get() + pos_, len_ - pos_, record_);
    if (c == RecordCheck::incomplete && len_ - pos_ >= kRecordHeaderBytes) {
        uint32_t payload;
        std::memcpy(&payload, buf_.get() + pos_, 4);
        if (!fill(kRecordHeaderBytes + payload) && errno != 0 && !eof_) return Step::io_error;
        c = check_record(buf_.get() + pos_, len_ - pos_, record_);
    }
    if (c == RecordCheck::ok && decode_event(record_.payload, record_.payload_len, event_) && record_.seq > last_seq) {
        const std::size_t total = record_.total;
        pos_ += total;
        offset_ += total;
        return Step::record;
    }
    return resync_forward(last_seq);  // not a record that follows: is there an intact one further on?
}

SegmentScanner::Step SegmentScanner::resync_forward(uint64_t last_seq) {
    // In windows of a bounded size (a damaged tail may be gigabytes): a
    // window holds a whole record past each start it searches, until the
    // last one, which reaches the end of the file.
    constexpr std::size_t kReach = kRecordHeaderBytes + kMaxPayload, kWindow = kReach + kChunk;
    const uint64_t start = offset_;
    std::size_t from = 1;  // relative to offset_
    if (searched_.start == start && searched_.last_seq == last_seq && searched_.clean_to > start + 1) {
        pos_ = len_ = 0;
        offset_ = searched_.clean_to;
        from = 0;
    }
    for (;;) {
        platform::FileInfo fi;
        if (!platform::info(file_, fi)) return Step::io_error;
        const uint64_t size = fi.size;
        errno = 0;
        if (!fill(static_cast<std::size_t>(std::min<uint64_t>(kWindow, size > offset_ ? size - offset_ : 0))) &&
            errno != 0 && !eof_)
            return Step::io_error;
        const std::size_t avail = len_ - pos_;
        const bool last = avail < kWindow;
        const std::size_t limit = last ? avail : avail - kReach;
        const std::size_t at = resync(buf_.get() + pos_, avail, from, limit, last_seq);
        if (at != kNotFound) {
            corrupt_offset_ = start;
            corrupt_bytes_ = offset_ + at - start;
            pos_ += at;
            offset_ += at;
            return Step::corrupt;
        }
        if (last) {  // nothing intact up to the end: perhaps a record being written
            searched_ = {start, last_seq, offset_ + (avail > kReach ? avail - kReach : 0)};
            pos_ = len_ = 0;
            offset_ = start;
            return Step::incomplete;
        }
        pos_ += limit;
        offset_ += limit;
        from = 0;
    }
}

}  // namespace procmon::journal
