// The stub backend's files: there is no file system it knows how to reach,
// so every call fails with ENOSYS (the journal then reports "function not
// implemented" for the step it tried), and nothing pretends to succeed.
#include <cerrno>

#include "platform/files.hpp"

namespace procmon::platform {
namespace {

template <typename T>
T unsupported(T result) {
    errno = ENOSYS;
    return result;
}

}  // namespace

File &File::operator=(File &&o) noexcept {
    if (this != &o) {
        native_ = o.native_;
        o.native_ = -1;
    }
    return *this;
}

void File::close() { native_ = -1; }  // nothing is ever opened here

bool make_directory(const char *) { return unsupported(false); }
File open_directory(const char *) { return unsupported(File()); }
Kind kind_of(const File &, const char *) { return unsupported(Kind::failed); }
bool list_directory(const File &, const std::function<bool(const char *)> &, std::vector<DirEntry> &) {
    return unsupported(false);
}
bool sync_directory(const File &) { return unsupported(false); }
bool unlink(const File &, const char *) { return unsupported(false); }

DirectoryWatch::DirectoryWatch(const char *) {}  // invalid: the caller polls
void DirectoryWatch::drain() {}

Opened open_regular(const File &, const char *, Access, File &) { return unsupported(Opened::failed); }
File create_new(const File &, const char *) { return unsupported(File()); }
Lock lock_exclusive(const File &) { return unsupported(Lock::failed); }
bool info(const File &, FileInfo &) { return unsupported(false); }
bool info(const File &, const char *, FileInfo &) { return unsupported(false); }
int64_t read_at(const File &, void *, std::size_t, uint64_t) { return unsupported(int64_t{-1}); }
int64_t read_some(const File &, void *, std::size_t) { return unsupported(int64_t{-1}); }
bool write_all(const File &, const void *, std::size_t) { return unsupported(false); }
bool datasync(const File &) { return unsupported(false); }
bool truncate(const File &, uint64_t) { return unsupported(false); }
void will_read(const File &, uint64_t) {}
bool boot_id(unsigned char[16]) { return false; }

}  // namespace procmon::platform
