// procmond's configuration (docs/daemon.md, daemon/procmond.toml): parsed
// from TOML into an immutable, validated Config. Every error names
// file:line:column and says what is wrong; an unknown key is an error, so a
// typo never passes unnoticed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "procmon.h"

struct sockaddr_storage;

namespace procmon::daemon {

// What /proc shows any user of another user's process: exe, cwd, fds, io
// and smaps need ptrace access, so they are not in it.
constexpr uint64_t kPublicFields = PROCMON_FIELD_BASIC | PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY |
                                   PROCMON_FIELD_SCHED | PROCMON_FIELD_IDS | PROCMON_FIELD_ARGV |
                                   PROCMON_FIELD_CTXSW | PROCMON_FIELD_CGROUP;

// What one peer may do.
struct Permissions {
    bool connect = true;
    bool snapshot = true;
    bool subscribe = true;
    bool journal = true;  // subscribe from a sequence number, and history
    uint64_t see_others = kPublicFields;  // field groups of other users' processes
    bool signal_others = false;
    bool status_all = false;

    static Permissions everything();  // root's
    uint64_t wire_bits() const;       // protocol::kPerm* for the welcome
};

struct AllowRule {
    std::vector<uint32_t> uids, gids;  // a peer matches by its uid or its primary gid
    Permissions permissions;           // keys the rule leaves unset come from [default]
};

// One [[metrics.group]]: a process is in it when every matcher given
// matches (any glob of a list may); `name` is fixed or a template
// ({{.Comm}} ...) expanded per process (docs/metrics.md).
struct MetricsGroup {
    std::string name;
    std::vector<std::string> comm, exe, cmdline, cgroup;  // fnmatch globs
    std::vector<uint32_t> uids;                           // effective uid
    bool has_uids = false;
};

struct Config {
    std::string path;  // "" when running on defaults

    struct {
        std::string path = "/run/procmond.sock";
        uint32_t mode = 0666;
        int64_t gid = -1;  // -1: leave the group alone
    } socket;
    struct {
        uint32_t max_clients = 256;         // root is never refused (but its connections count)
        uint32_t max_clients_per_uid = 32;  // 0: no limit per uid
        uint32_t max_request_bytes = 1u << 20;
        uint32_t frame_timeout_ms = 5000;
        uint32_t max_queue = 65536;
    } limits;
    struct {
        uint64_t arena_cap_bytes = 256ull << 20;
        uint32_t event_source = PROCMON_SOURCE_AUTO;
        uint32_t poll_interval_ms = 1000;
        uint32_t high_watermark_percent = 75;
        uint32_t low_watermark_percent = 25;
    } context;
    struct {
        std::string dir = "/var/lib/procmond/journal";
        uint32_t fsync = PROCMON_FSYNC_INTERVAL;
        uint32_t fsync_interval_ms = 1000;
        uint64_t segment_bytes = PROCMON_JOURNAL_SEGMENT_DEFAULT;
        uint64_t max_bytes = 0;   // 0 = unlimited
        uint64_t max_age_ms = 0;  // 0 = unlimited
    } journal;
    struct {
        std::string listen;  // "ADDR:PORT" of the HTTP endpoint; "" = none
        uint32_t refresh_interval_ms = 15000;  // Prometheus's default scrape interval
        uint32_t max_groups = 500;
        uint64_t read = PROCMON_FIELD_FDS | PROCMON_FIELD_IO | PROCMON_FIELD_CTXSW;  // opt-in readings
        std::vector<MetricsGroup> groups;
    } metrics;
    Permissions defaults;
    std::vector<AllowRule> allow;

    // Root may do everything; else the first [[allow]] rule naming the uid
    // or the gid, else [default].
    Permissions for_peer(uint32_t uid, uint32_t gid) const;
};

// The config in `text`, read from `path` (named in errors). Null with one
// line per fault in `errors` ("FILE:LINE:COLUMN: what is wrong") when it
// does not parse or validate.
std::shared_ptr<const Config> parse_config(const std::string &path, const std::string &text,
                                           std::vector<std::string> &errors);

// Reads and parses the file; a file that cannot be read is one error.
std::shared_ptr<const Config> load_config(const std::string &path, std::vector<std::string> &errors);

// "ADDR:PORT" (IPv4, or [IPv6]; port 0 to 65535) as a socket address: false
// with `why` when it is not one.
bool parse_listen_address(const std::string &text, struct sockaddr_storage &out, std::string &why);

// The file's bytes into `out`; false with `error` saying why.
bool read_file(const std::string &path, std::string &out, std::string &error);

// What the command line sets over the file, kept by every reload ("" = the
// file's): --socket and --metrics.
struct Overrides {
    std::string socket_path;
    std::string metrics_listen;
    void apply(Config &c) const {
        if (!socket_path.empty()) c.socket.path = socket_path;
        if (!metrics_listen.empty()) c.metrics.listen = metrics_listen;
    }
};

// The keys whose change needs a restart, as "socket.path", with their old
// and new values differing: a reload keeps the old values of these.
std::vector<std::string> restart_keys_changed(const Config &running, const Config &loaded);

}  // namespace procmon::daemon
