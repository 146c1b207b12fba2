// Writes the seeds of frame_server_fuzz and frame_client_fuzz
// (tests/fuzz/corpus/<target>/) from the real encoders: one file a
// conversation, the frames one side receives, back to back.
// Usage: make_frame_seeds CORPUS_DIR
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/messages.hpp"

using namespace procmon::protocol;
using Bytes = std::vector<unsigned char>;

namespace {

std::string corpus;
int failures = 0;

void write(const char *target, const char *name, const Bytes &b) {
    const std::string path = corpus + "/" + target + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) {
        std::fprintf(stderr, "make_frame_seeds: cannot write %s\n", path.c_str());
        ++failures;
    }
}

void server_seeds() {
    const char *t = "frame_server_fuzz";
    Bytes b;
    encode(b, Hello{1, 1, kCapAll, "procmon 0.4.0 (pid 123)"});
    write(t, "hello", b);
    encode(b, Ping{42}, Type::ping);
    Enumerate all;
    encode(b, all);
    write(t, "hello_ping_enumerate", b);

    Enumerate some;
    some.fields = 0x3FF;
    some.uid = 1000;
    some.name_glob = "bash*";
    some.cmdline_glob = "*--config*";
    some.has_pids = true;
    some.pids = {1, 2, 300, 65536, 4194304};
    b.clear();
    encode(b, some);
    write(t, "enumerate_filtered", b);

    b.clear();
    for (Type e : {Type::system, Type::stats, Type::status, Type::clients}) encode_empty(b, e);
    write(t, "empty_requests", b);

    b.clear();
    encode(b, Signal{1234, 987654321, 15});
    write(t, "signal", b);

    b.clear();
    encode(b, Subscribe{0x7, 0x4, -1, 1, 4096, "sshd", std::nullopt, 123456789});
    write(t, "subscribe_history", b);

    b = {0x01, 0x00, 0x10, 0x00};  // 1 MiB + 1: refused on its 4th byte
    write(t, "too_large", b);
    b = {0, 0, 0, 0};
    write(t, "empty_length", b);
}

void client_seeds() {
    const char *t = "frame_client_fuzz";
    Bytes b;
    encode(b, Welcome{1, kCapAll, 0x3F, "procmond 0.4.0", 123, 1000, 1000, 1u << 20});
    encode(b, Ping{42}, Type::pong);
    write(t, "welcome_pong", b);

    static const char argv[] = "/usr/bin/sleep\0" "100\0";
    procmon_process p[2]{};
    for (int i = 0; i < 2; ++i) {
        p[i].size = sizeof p[i];
        p[i].valid = 0x3FF;
        p[i].pid = i + 1;
        p[i].state = 'S';
        p[i].name = i ? "sleep" : "init";
        p[i].exe = i ? "/usr/bin/sleep" : "/sbin/init";
        p[i].argv = argv;
        p[i].argv_len = sizeof argv;
        p[i].argc = 2;
        p[i].cwd = "/";
        p[i].cgroup = "/user.slice";
        p[i].container_id = "";
        p[i].full_name = p[i].name;
        p[i].cpu_percent = 0.5;
    }
    b.clear();
    encode_snapshot(b, p, 2);
    write(t, "snapshot", b);

    procmon_system sys{};
    sys.size = sizeof sys;
    sys.cpus = 2, sys.mem_total_bytes = 8u << 30, sys.load1 = 0.25, sys.processes = 120;
    procmon_stats st{};
    st.size = sizeof st;
    st.arena_cap_bytes = 64u << 20, st.source_reason = "netlink", st.allocator = "mimalloc arena", st.source_name = "netlink";
    b.clear();
    encode(b, sys);
    encode(b, st);
    encode_empty(b, Type::done);
    write(t, "system_stats_done", b);

    procmon_event e[2]{};
    e[0].size = e[1].size = sizeof e[0];
    e[0].type = PROCMON_EVENT_LOST, e[0].seq = 10, e[0].lost = 3, e[0].name = e[0].exe = e[0].argv = "";
    e[1].type = PROCMON_EVENT_EXEC, e[1].seq = 11, e[1].pid = 77, e[1].ppid = 1, e[1].uid = 1000;
    e[1].name = "longer-program-", e[1].exe = "/opt/longer-program-name (deleted)";
    e[1].argv = argv, e[1].argv_len = sizeof argv, e[1].argc = 2;
    b.clear();
    encode(b, Subscribed{10});
    encode_events(b, e, 2);
    encode(b, HistoryEnd{11});
    write(t, "subscribed_events_history_end", b);

    procmon_daemon_status ds{};
    ds.size = sizeof ds;
    ds.protocol_version = 1, ds.daemon_version = "0.4.0", ds.daemon_pid = 99, ds.clients = 2;
    ds.config_path = "/etc/procmond.toml", ds.source_name = "netlink", ds.config_generation = 1;
    std::vector<procmon_daemon_client> clients(2);
    for (auto &c : clients) c.size = sizeof c, c.kind = PROCMON_CLIENT_REQUESTS, c.pid = 500, c.uid = 1000;
    b.clear();
    encode(b, ds);
    encode(b, clients);
    write(t, "status_clients", b);

    b.clear();
    encode(b, Error{PROCMON_EPROTO, "no protocol version in common"});
    write(t, "error", b);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_frame_seeds CORPUS_DIR\n");
        return 2;
    }
    corpus = argv[1];
    server_seeds();
    client_seeds();
    return failures ? 1 : 0;
}
