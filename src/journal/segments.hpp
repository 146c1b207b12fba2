// The files of a journal directory: listing its segments, and reading one
// segment's records in order, with the corruption in between reported and
// stepped over. Used by the writer (recovery at open) and by readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "journal/format.hpp"
#include "platform/files.hpp"

namespace procmon::journal {

struct SegmentFile {
    uint64_t first_seq;
    std::string name;
};

// A journal directory holds regular files only. Its segments (regular files
// named like one), by first seq; the names of other files named like one
// (symlinks, FIFOs, sockets, directories, devices) go to `skipped` if given:
// they are never opened. Status code, thread's error set (`fn` names the
// caller) on failure.
int list_segments(const platform::File &dirfile, const char *dir, const char *fn, std::vector<SegmentFile> &out,
                  std::vector<std::string> *skipped = nullptr);

// Reads one open segment's records after its header, buffered; the file
// stays the caller's and must outlive the scanner. A record that is bad (length or CRC), does not decode, or
// does not follow `last_seq` is corruption: the scanner looks for the next
// intact record after it and reports the bytes in between.
class SegmentScanner {
public:
    // Tells the OS the file is read front to back (a wider readahead).
    explicit SegmentScanner(const platform::File &file, uint64_t offset = kHeaderBytes);

    enum class Step {
        record,      // `record`/`event` hold the next record; offset() is past it
        end,         // no bytes left after offset()
        corrupt,     // bytes [corrupt_offset(), + corrupt_bytes()) skipped, offset() past them; call again
        incomplete,  // from offset() on: a record not (yet) whole, and nothing intact after it
        io_error,    // errno set
    };
    Step next(uint64_t last_seq);

    uint64_t offset() const { return offset_; }
    uint64_t corrupt_offset() const { return corrupt_offset_; }
    uint64_t corrupt_bytes() const { return corrupt_bytes_; }
    const RecordView &record() const { return record_; }
    const procmon_event &event() const { return event_; }  // strings valid until the next call
    // Steps back over the record just returned, so the next call returns
    // it again (its bytes are still buffered).
    void unread();

private:
    bool fill(std::size_t want);  // at least `want` bytes buffered from offset_, if the file has them
    Step resync_forward(uint64_t last_seq);  // the next intact record after a bad one at offset_

    const platform::File &file_;
    uint64_t offset_;               // of buf_[pos_]
    std::unique_ptr<unsigned char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t pos_ = 0, len_ = 0;  // buffered: buf_[pos_, len_)
    bool eof_ = false;
    RecordView record_;
    procmon_event event_{};
    uint64_t corrupt_offset_ = 0, corrupt_bytes_ = 0;
    // A damage that ran to the end of the file last time: from `start`
    // (after last_seq), no record can begin before `clean_to` (the bytes
    // there are whole and will not change), so the search goes on there.
    struct {
        uint64_t start = 0, last_seq = 0, clean_to = 0;
    } searched_;
};

}  // namespace procmon::journal
