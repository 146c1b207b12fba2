// libFuzzer target: the journal reader, and the writer's recovery, over a
// whole directory the input describes: segments of valid records with
// damage in them, raw bytes, and files of every other type named like
// segments. Whatever the directory holds, reading it all with timeout 0
// must end (a bounded number of calls: never a spin, and never a block, which
// libFuzzer's -timeout catches), never crash (ASan, UBSan), and stay within
// the memory libFuzzer allows (-rss_limit_mb, -malloc_limit_mb).
//
// Input: byte 0, options: bit 0, then open a writer on the directory (its
// recovery reads it all too, and cuts or creates files); bit 1, read from
// the sequence number in byte 1. Then files until the input ends, each:
//   u8 kind, u8 name (0: LOCK, 255: a name no segment has, else the segment
//   of that first sequence number), u16 content length (little-endian, cut
//   at the input's end), the content.
// Kinds (kind % 10): 0 a segment: a valid header, then the content as ops;
//   1 a regular file of the content's bytes; 2 a FIFO; 3 a dangling symlink;
//   4 a symlink to the name in the content's first byte; 5 a symlink loop;
//   6 a directory; 7 a socket; 8 a device (/dev/null's; a FIFO if mknod is
//   refused); 9 an empty file.
// Segment ops (op % 5): 0 a record: u8 seq step (0 repeats one: the
//   sequence goes back), u8 type and flags, u8 argv length n, n bytes;
//   1 raw bytes: u8 n, n bytes; 2 cut the last u8 bytes; 3 flip: u16
//   offset, u8 mask; 4 a hole: u8 times 1 KiB of zeros (to 256 KiB at most).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "journal/format.hpp"
#include "procmon.h"

namespace {

namespace jf = procmon::journal;

struct Input {
    const uint8_t *p, *end;
    bool empty() const { return p >= end; }
    std::size_t size() const { return static_cast<std::size_t>(end - p); }
    uint8_t u8() { return p < end ? *p++ : 0; }
    uint16_t u16() {
        const uint16_t lo = u8();
        return static_cast<uint16_t>(lo | u8() << 8);
    }
    Input take(std::size_t n) {
        n = std::min(n, size());
        const Input part{p, p + n};
        p += n;
        return part;
    }
};

// One directory for the whole run, emptied before each input (tmpfs if any).
const std::string &dir() {
    static const std::string d = [] {
        std::string t = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/procmon-fuzz-XXXXXX";
        if (mkdtemp(t.data()) == nullptr) std::abort();
        return t;
    }();
    return d;
}

void empty_dir() {
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(dir(), ec)) std::filesystem::remove_all(entry.path(), ec);
}

std::string name_of(uint8_t n) {
    if (n == 0) return "LOCK";
    if (n == 255) return "00000000000000000255.pmj.tmp";
    return jf::segment_name(n);
}

std::vector<unsigned char> segment(uint64_t first, Input in) {
    std::vector<unsigned char> out(jf::kHeaderBytes);
    jf::SegmentHeader h;
    h.first_seq = first;
    h.created_ns = 1;
    jf::encode_header(h, out.data());
    uint64_t seq = first - 1;
    while (!in.empty()) {
        switch (in.u8() % 5) {
        case 0: {
            seq += in.u8();
            static const uint32_t types[] = {PROCMON_EVENT_START, PROCMON_EVENT_EXEC, PROCMON_EVENT_EXIT,
                                             PROCMON_EVENT_UID,   PROCMON_EVENT_COMM, PROCMON_EVENT_LOST};
            const uint8_t t = in.u8();
            procmon_event e{};
            e.size = sizeof e;
            e.type = types[t % 6];
            e.flags = t / 6 % 32;
            e.pid = static_cast<int32_t>(seq);
            e.time_ns = seq * 1000;
            e.lost = t;
            e.name = "fuzz";
            e.exe = "/fuzz";
            const Input argv = in.take(in.u8());
            e.argv = reinterpret_cast<const char *>(argv.p);
            e.argv_len = argv.size();
            jf::append_record(out, seq, e);
            break;
        }
        case 1: {
            const Input raw = in.take(in.u8());
            out.insert(out.end(), raw.p, raw.end);
            break;
        }
        case 2: out.resize(out.size() - std::min<std::size_t>(out.size(), in.u8())); break;
        case 3: {
            const std::size_t at = in.u16();
            const uint8_t mask = in.u8();
            if (!out.empty()) out[at % out.size()] ^= mask;
            break;
        }
        default:  // at most 256 KiB a segment: the reader's windows are unit-tested at their size
            out.resize(std::min<std::size_t>(out.size() + std::size_t{in.u8()} * 1024, std::max<std::size_t>(out.size(), 256u << 10)), 0);
            break;
        }
    }
    return out;
}

void write_file(const std::string &path, const unsigned char *p, std::size_t n) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return;  // the name is taken already
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w <= 0) break;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    close(fd);
}

void make(uint8_t kind, uint8_t name, Input content) {
    const std::string path = dir() + "/" + name_of(name);
    switch (kind % 10) {
    case 0: {
        const auto bytes = segment(name == 0 || name == 255 ? 1 : name, content);
        write_file(path, bytes.data(), bytes.size());
        break;
    }
    case 1: write_file(path, content.p, content.size()); break;
    case 2: mkfifo(path.c_str(), 0644); break;
    case 3: (void)!symlink("/nonexistent/x.pmj", path.c_str()); break;
    case 4: (void)!symlink(name_of(content.u8()).c_str(), path.c_str()); break;
    case 5: (void)!symlink(name_of(name).c_str(), path.c_str()); break;
    case 6: mkdir(path.c_str(), 0755); break;
    case 7: {
        const int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (s >= 0 && path.size() < sizeof a.sun_path) {
            std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
            (void)!bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
        }
        if (s >= 0) close(s);
        break;
    }
    case 8:
        if (mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) mkfifo(path.c_str(), 0644);
        break;
    default: write_file(path, nullptr, 0); break;
    }
}

// Reads everything there is now; an input of n bytes holds fewer than n
// records, each at most one LOST before it: more calls than that is a spin.
void read_all(uint64_t from_seq, std::size_t input_bytes) {
    procmon_journal_read_options ro = PROCMON_JOURNAL_READ_OPTIONS_INIT;
    ro.from_seq = from_seq;
    procmon_journal_reader *r = nullptr;
    if (procmon_journal_reader_open(&r, dir().c_str(), &ro) != PROCMON_OK) return;
    procmon_event batch[16];
    uint64_t check = 0;
    for (std::size_t calls = 0;; ++calls) {
        if (calls > 2 * input_bytes + 16) std::abort();
        size_t n = 0;
        if (procmon_journal_reader_next(r, batch, sizeof batch[0], 16, &n, 0) != PROCMON_OK || n == 0) break;
        for (size_t i = 0; i < n; ++i) {  // every string the reader returns is readable (ASan)
            check += std::strlen(batch[i].name) + std::strlen(batch[i].exe) + std::strlen(batch[i].full_name);
            for (size_t k = 0; k < batch[i].argv_len; ++k) check += static_cast<unsigned char>(batch[i].argv[k]);
        }
    }
    procmon_journal_reader_stats rs{};
    rs.size = sizeof rs;
    procmon_journal_reader_stats_get(&rs, r);
    procmon_journal_reader_close(r);
    if (check == 1) std::abort();  // keeps the loop above from being optimised away; never so
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in{data, data + size};
    const uint8_t options = in.u8();
    const uint64_t from_seq = options & 2 ? in.u8() : 0;
    empty_dir();
    for (int files = 0; !in.empty() && files < 16; ++files) {
        const uint8_t kind = in.u8(), name = in.u8();
        make(kind, name, in.take(in.u16()));
    }
    read_all(from_seq, size);
    if (options & 1) {
        procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
        o.fsync = PROCMON_FSYNC_NEVER;
        procmon_journal *j = nullptr;
        if (procmon_journal_open(&j, nullptr, dir().c_str(), &o) == PROCMON_OK) procmon_journal_close(j);
        read_all(from_seq, size + 64);  // and what recovery left
    }
    return 0;
}
