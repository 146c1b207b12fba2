// Files and directories as the journal uses them, portable above this line
// (libgit2's p_* layer, mimalloc's prim.h): each OS implements them in
// src/platform/<os>/files.cpp. A call that fails returns false (or -1) with
// errno set to a POSIX error number (a port maps its OS's errors to them),
// so callers keep their exact messages with std::strerror(errno).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "platform/platform.hpp"

namespace procmon::platform {

// An open file or directory; closed when it goes. Move-only.
class File {
public:
    File() = default;
    ~File() { close(); }
    File(File &&o) noexcept : native_(o.native_) { o.native_ = -1; }
    File &operator=(File &&o) noexcept;
    File(const File &) = delete;
    File &operator=(const File &) = delete;

    bool valid() const { return native_ >= 0; }
    void close();
    // The OS's handle (POSIX: the fd), for the OS layer and the fork guard.
    intptr_t native() const { return native_; }
    static File adopt(intptr_t native) { return File(native); }

private:
    explicit File(intptr_t native) : native_(native) {}
    intptr_t native_ = -1;
};

// ------------------------------------------------------------ directories

// Creates the directory `path` (one level); true also when it exists.
bool make_directory(const char *path);
File open_directory(const char *path);  // invalid on failure

// What a name in a directory is, without following a symlink.
enum class Kind { regular, other, gone /* no such name */, failed };
Kind kind_of(const File &dir, const char *name);

struct DirEntry {
    std::string name;
    bool regular;  // a regular file, not a symlink to one
};
// The entries of `dir` whose names `wanted` accepts, in the OS's order; an
// entry removed while listing may be missing.
bool list_directory(const File &dir, const std::function<bool(const char *name)> &wanted, std::vector<DirEntry> &out);

// Makes the directory's entries (files created or removed in it) durable.
bool sync_directory(const File &dir);

bool unlink(const File &dir, const char *name);

// A handle that becomes ready when the directory's files change (created,
// written, renamed into it, closed after writing). Invalid when the OS
// cannot watch it: then the caller polls.
class DirectoryWatch {
public:
    explicit DirectoryWatch(const char *path);
    DirectoryWatch(const DirectoryWatch &) = delete;
    DirectoryWatch &operator=(const DirectoryWatch &) = delete;
    WaitHandle handle() const { return WaitHandle::from_native(file_.valid() ? file_.native() : -1); }
    // Not ready again until the next change.
    void drain();

private:
    File file_;
};

// ------------------------------------------------------------ files

// Opens `name` in `dir` never blocking (a FIFO) and never through a symlink,
// and keeps it only if it is a regular file (a name may have been swapped
// since a listing). errno set when failed.
enum class Access { read, read_write, read_write_create /* made, 0644, when missing */ };
enum class Opened { ok, gone, not_regular, failed };
Opened open_regular(const File &dir, const char *name, Access access, File &out);

// Creates `name` in `dir` for writing; fails with EEXIST if it exists.
File create_new(const File &dir, const char *name);

// An exclusive advisory lock for as long as the file is open, not waiting.
enum class Lock { held, busy /* another holder */, failed };
Lock lock_exclusive(const File &f);

struct FileInfo {
    uint64_t size = 0;
    uint64_t modified_ns = 0;     // last write, ns since the epoch
    uint64_t device = 0, id = 0;  // equal for two handles to the same file
};
bool info(const File &f, FileInfo &out);
bool info(const File &dir, const char *name, FileInfo &out);  // not following a symlink

// Reads up to n bytes at offset: the count (0 at the end) or -1.
int64_t read_at(const File &f, void *buf, std::size_t n, uint64_t offset);
// Reads up to n bytes at the file's position: the count or -1.
int64_t read_some(const File &f, void *buf, std::size_t n);
// Writes all of [p, p + n) at the file's position.
bool write_all(const File &f, const void *p, std::size_t n);
// Makes the file's data durable (not its name: sync_directory).
bool datasync(const File &f);
// Cuts the file to `size` bytes; the next write goes there.
bool truncate(const File &f, uint64_t size);
// Advice only: the file is read front to back from `offset`, soon.
void will_read(const File &f, uint64_t offset);

// This boot's id (16 bytes); false when the OS does not tell.
bool boot_id(unsigned char out[16]);

}  // namespace procmon::platform
