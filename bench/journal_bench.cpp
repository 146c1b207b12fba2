// The journal's speed, each figure beside a reference measured in the same
// run on the same directory (these VMs drift, so read the ratios):
//   commits   single-event commits, each fdatasync'd     vs  write()+fdatasync() of the same bytes
//   group     events/s, batches of 1,000, fsync always    vs  write() of the same bytes, same chunks
//   replay    events/s read back through the reader       vs  read() of the segment files
//   recovery  procmon_journal_open on a journal of SIZE   vs  read() of its files
// and bytes per event. The device under DIR is printed (fsync costs are its).
//
//   journal_bench [--dir DIR] [--commits N] [--events N] [--recovery-mib M] [parts...]
//   parts: commits group replay recovery (default: all); DIR defaults to a
//   new directory under /var/tmp, removed afterwards.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "procmon.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void check(int rc, const char *what) {
    if (rc != PROCMON_OK) {
        std::fprintf(stderr, "%s: %s\n", what, procmon_error_last()->message);
        std::exit(1);
    }
}

// What a recorded EXEC looks like on a typical machine: a short name, a
// /usr/bin path, three arguments.
struct Sample {
    std::string argv = std::string("python3") + '\0' + "-m" + '\0' + "http.server" + '\0';
    procmon_event e{};
    Sample() {
        e.size = sizeof e;
        e.type = PROCMON_EVENT_EXEC;
        e.pid = 123456;
        e.ppid = 2345;
        e.uid = 1000;
        e.time_ns = 1763800000000000000ull;
        e.start_time_ns = e.time_ns - 1500000;
        e.start_ticks = 98765432;
        e.exit_code = -1;
        e.name = "python3";
        e.exe = "/usr/bin/python3.11";
        e.argv = argv.data();
        e.argv_len = argv.size();
        e.argc = 3;
    }
};

procmon_journal *open_journal(const std::string &dir, uint32_t fsync) {
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.fsync = fsync;
    procmon_journal *j = nullptr;
    check(procmon_journal_open(&j, nullptr, dir.c_str(), &o), "open");
    return j;
}

uint64_t dir_bytes(const std::string &dir) {
    uint64_t n = 0;
    for (const auto &f : fs::directory_iterator(dir))
        if (f.path().extension() == ".pmj") n += fs::file_size(f);
    return n;
}

// Reads every segment file once; returns bytes.
uint64_t read_files(const std::string &dir) {
    std::vector<char> buf(1 << 20);
    uint64_t n = 0;
    for (const auto &f : fs::directory_iterator(dir)) {
        if (f.path().extension() != ".pmj") continue;
        int fd = ::open(f.path().c_str(), O_RDONLY | O_CLOEXEC);
        ssize_t r;
        while ((r = ::read(fd, buf.data(), buf.size())) > 0) n += static_cast<uint64_t>(r);
        ::close(fd);
    }
    return n;
}

std::string device_of(const std::string &dir) {
    std::ifstream mi("/proc/self/mountinfo");
    std::string line, best_mount, best;
    const std::string path = fs::canonical(dir).string();
    while (std::getline(mi, line)) {
        std::istringstream in(line);
        std::string id, parent, devno, root, mount, opts, field;
        in >> id >> parent >> devno >> root >> mount >> opts;
        while (in >> field && field != "-") {
        }
        std::string type, source;
        in >> type >> source;
        if (path.compare(0, mount.size(), mount) == 0 && mount.size() >= best_mount.size()) {
            best_mount = mount;
            best = source + " (" + type + ", mounted on " + mount + ")";
        }
    }
    return best.empty() ? "unknown" : best;
}

void commits(const std::string &dir, int n) {
    const std::string jdir = dir + "/commits";
    procmon_journal *j = open_journal(jdir, PROCMON_FSYNC_ALWAYS);
    Sample s;
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        check(procmon_journal_append(j, &s.e, sizeof s.e, 1), "append");
        check(procmon_journal_sync(j, -1, nullptr), "sync");
    }
    const double secs = since(t0);
    procmon_journal_stats st{};
    st.size = sizeof st;
    procmon_journal_stats_get(&st, j);
    const uint64_t record = st.bytes_written / st.records;
    check(procmon_journal_close(j), "close");
    // reference: the same bytes with write() + fdatasync() on the same filesystem
    std::vector<char> bytes(record, 'x');
    int fd = ::open((dir + "/reference").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto t1 = Clock::now();
    for (int i = 0; i < n; ++i)
        if (::write(fd, bytes.data(), bytes.size()) < 0 || ::fdatasync(fd) != 0) std::exit(1);
    const double ref = since(t1);
    ::close(fd);
    ::unlink((dir + "/reference").c_str());
    std::printf("commits: %d single-event fsync'd commits: %.0f/s (%llu fsyncs); write+fdatasync of %llu bytes: "
                "%.0f/s; ratio %.2f (1 = the device's own rate)\n",
                n, n / secs, static_cast<unsigned long long>(st.fsyncs), static_cast<unsigned long long>(record),
                n / ref, (n / secs) / (n / ref));
}

void group(const std::string &dir, int n) {
    const std::string jdir = dir + "/group";
    procmon_journal *j = open_journal(jdir, PROCMON_FSYNC_ALWAYS);
    Sample s;
    std::vector<procmon_event> batch(1000, s.e);
    auto t0 = Clock::now();
    for (int done = 0; done < n; done += 1000) check(procmon_journal_append(j, batch.data(), sizeof batch[0], 1000), "append");
    check(procmon_journal_sync(j, -1, nullptr), "sync");
    const double secs = since(t0);
    procmon_journal_stats st{};
    st.size = sizeof st;
    procmon_journal_stats_get(&st, j);
    check(procmon_journal_close(j), "close");
    const double per_event = static_cast<double>(st.bytes_written) / static_cast<double>(st.records);
    // reference: write() of the same bytes in the same commits' sizes, one fdatasync at the end
    const std::size_t chunk = static_cast<std::size_t>(st.bytes_written / std::max<uint64_t>(st.commits, 1));
    std::vector<char> bytes(chunk, 'x');
    int fd = ::open((dir + "/reference").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto t1 = Clock::now();
    for (uint64_t c = 0; c < st.commits; ++c)
        if (::write(fd, bytes.data(), bytes.size()) < 0) std::exit(1);
    ::fdatasync(fd);
    const double ref = since(t1);
    ::close(fd);
    ::unlink((dir + "/reference").c_str());
    std::printf("group: %d events in batches of 1,000, fsync always: %.0f events/s (%llu commits, %llu fsyncs, %.1f "
                "bytes/event); write() of the same bytes: %.0f events/s; ratio %.2f\n",
                n, n / secs, static_cast<unsigned long long>(st.commits), static_cast<unsigned long long>(st.fsyncs),
                per_event, n / ref, (n / secs) / (n / ref));
}

void replay(const std::string &dir) {
    const std::string jdir = dir + "/group";
    procmon_journal_reader *r = nullptr;
    check(procmon_journal_reader_open(&r, jdir.c_str(), nullptr), "reader");
    std::vector<procmon_event> batch(4096);
    uint64_t n = 0;
    auto t0 = Clock::now();
    for (;;) {
        size_t got = 0;
        check(procmon_journal_reader_next(r, batch.data(), sizeof batch[0], batch.size(), &got, 0), "next");
        if (got == 0) break;
        n += got;
    }
    const double secs = since(t0);
    procmon_journal_reader_close(r);
    auto t1 = Clock::now();
    const uint64_t bytes = read_files(jdir);
    const double ref = since(t1);
    const double mib = static_cast<double>(bytes) / 1048576.0;
    std::printf("replay: %llu events: %.0f events/s (%.0f MiB/s); read() of the %.1f MiB: %.0f MiB/s; ratio %.2f\n",
                static_cast<unsigned long long>(n), static_cast<double>(n) / secs, mib / secs, mib, mib / ref, ref / secs);
}

void recovery(const std::string &dir, uint64_t mib) {
    const std::string jdir = dir + "/recovery";
    procmon_journal *j = open_journal(jdir, PROCMON_FSYNC_NEVER);
    Sample s;
    std::vector<procmon_event> batch(5000, s.e);
    auto t0 = Clock::now();
    while (dir_bytes(jdir) < mib << 20) {
        for (int k = 0; k < 100; ++k) check(procmon_journal_append(j, batch.data(), sizeof batch[0], batch.size()), "append");
        check(procmon_journal_sync(j, -1, nullptr), "sync");
    }
    check(procmon_journal_close(j), "close");
    const double filled = since(t0);
    const uint64_t bytes = dir_bytes(jdir);
    // Warm (the files were just written), then cold when this process may
    // drop the page cache (root): the reference read each time the same way.
    auto drop = [] {
        ::sync();
        std::ofstream dc("/proc/sys/vm/drop_caches");
        dc << "3\n";
        return static_cast<bool>(dc.flush());
    };
    auto reopen = [&](uint64_t *records) {
        auto t = Clock::now();
        check(procmon_journal_open(&j, nullptr, jdir.c_str(), nullptr), "reopen");
        const double secs = since(t);
        procmon_journal_stats st{};
        st.size = sizeof st;
        procmon_journal_stats_get(&st, j);
        procmon_journal_close(j);
        *records = st.next_seq - 1;
        return secs;
    };
    auto reference = [&] {
        auto t = Clock::now();
        read_files(jdir);
        return since(t);
    };
    uint64_t records = 0;
    const double warm = reopen(&records), warm_ref = reference();
    std::printf("recovery, warm page cache: open of a %.0f MiB journal (%llu records, written in %.1f s): %.2f s; "
                "read() of its files: %.2f s; ratio %.2f\n",
                static_cast<double>(bytes) / 1048576.0, static_cast<unsigned long long>(records), filled, warm, warm_ref,
                warm / warm_ref);
    // Cold: the page cache dropped before each, recovery and the bare read
    // alternating first, since the disk's own state (the host flushing what
    // was just written) can slow whichever comes first.
    if (!drop()) {
        std::printf("recovery, cold: not measured (dropping the page cache needs root)\n");
        return;
    }
    std::vector<double> cold, cold_ref;
    for (int round = 0; round < 4; ++round) {
        drop();
        if (round % 2 == 0) cold.push_back(reopen(&records));
        else cold_ref.push_back(reference());
        drop();
        if (round % 2 == 0) cold_ref.push_back(reference());
        else cold.push_back(reopen(&records));
    }
    std::sort(cold.begin(), cold.end());
    std::sort(cold_ref.begin(), cold_ref.end());
    std::printf("recovery, cold page cache (4 each, alternating): open %.2f / %.2f / %.2f / %.2f s; read() of the files "
                "%.2f / %.2f / %.2f / %.2f s; ratio of the medians %.2f\n",
                cold[0], cold[1], cold[2], cold[3], cold_ref[0], cold_ref[1], cold_ref[2], cold_ref[3],
                (cold[1] + cold[2]) / (cold_ref[1] + cold_ref[2]));
}

}  // namespace

int main(int argc, char **argv) {
    std::string dir;
    int n_commits = 2000, n_events = 1000000;
    uint64_t mib = 1024;
    std::vector<std::string> parts;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else if (a == "--commits" && i + 1 < argc) n_commits = std::atoi(argv[++i]);
        else if (a == "--events" && i + 1 < argc) n_events = std::atoi(argv[++i]);
        else if (a == "--recovery-mib" && i + 1 < argc) mib = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "commits" || a == "group" || a == "replay" || a == "recovery") parts.push_back(a);
        else {
            std::fprintf(stderr, "usage: journal_bench [--dir DIR] [--commits N] [--events N] [--recovery-mib M] "
                                 "[commits] [group] [replay] [recovery]\n");
            return 2;
        }
    }
    if (parts.empty()) parts = {"commits", "group", "replay", "recovery"};
    bool temporary = dir.empty();
    if (temporary) {
        char tmpl[] = "/var/tmp/procmon-journal-bench-XXXXXX";
        dir = mkdtemp(tmpl);
    }
    std::printf("journal_bench: %s; device %s; procmon %s\n", dir.c_str(), device_of(dir).c_str(), procmon_version_string());
    for (const std::string &p : parts) {
        if (p == "commits") commits(dir, n_commits);
        else if (p == "group") group(dir, n_events);
        else if (p == "replay") {
            if (!fs::exists(dir + "/group")) group(dir, n_events);
            replay(dir);
        } else recovery(dir, mib);
    }
    if (temporary) fs::remove_all(dir);
    return 0;
}
