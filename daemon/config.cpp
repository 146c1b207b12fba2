#include "config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <toml++/toml.h>

#include "core/glob.hpp"
#include "metrics/groups.hpp"
#include "platform/users.hpp"
#include "protocol/frame.hpp"
#include "protocol/messages.hpp"

namespace procmon::daemon {

Permissions Permissions::everything() {
    Permissions p;
    p.see_others = PROCMON_FIELDS_ALL;
    p.signal_others = p.status_all = true;
    return p;
}

uint64_t Permissions::wire_bits() const {
    // kPermSeeOthers: at least one of the groups /proc guards from other users.
    constexpr uint64_t guarded =
        PROCMON_FIELD_EXE | PROCMON_FIELD_CWD | PROCMON_FIELD_FDS | PROCMON_FIELD_IO | PROCMON_FIELD_SMAPS;
    return (snapshot ? protocol::kPermSnapshot : 0) | (subscribe ? protocol::kPermSubscribe : 0) |
           (journal ? protocol::kPermJournal : 0) | ((see_others & guarded) ? protocol::kPermSeeOthers : 0) |
           (signal_others ? protocol::kPermSignalOthers : 0) | (status_all ? protocol::kPermStatusAll : 0);
}

Permissions Config::for_peer(uint32_t uid, uint32_t gid) const {
    if (uid == 0) return Permissions::everything();
    for (const AllowRule &rule : allow) {
        for (uint32_t u : rule.uids)
            if (u == uid) return rule.permissions;
        for (uint32_t g : rule.gids)
            if (g == gid) return rule.permissions;
    }
    return defaults;
}

namespace {

constexpr uint64_t kMaxMs = 24ull * 3600 * 1000;  // a day: any longer is a typo

// Walks the parsed document, collecting every fault with its position.
class Parser {
public:
    Parser(std::string path, std::vector<std::string> &errors) : path_(std::move(path)), errors_(errors) {}

    void error(const toml::source_region &where, const std::string &what) {
        std::ostringstream line;
        line << path_ << ':' << where.begin.line << ':' << where.begin.column << ": " << what;
        errors_.push_back(line.str());
    }

    // Every key of `t` must be one of `known`.
    void only_keys(const toml::table &t, const std::string &section, std::initializer_list<const char *> known) {
        for (auto &&[key, node] : t) {
            bool ok = false;
            for (const char *k : known) ok = ok || key.str() == k;
            if (ok) continue;
            std::string list;
            for (const char *k : known) list += list.empty() ? k : std::string(", ") + k;
            error(key.source(), "unknown key " + qualified(section, std::string(key.str())) + " (" +
                                    (section.empty() ? "sections" : "keys") + " here: " + list + ")");
        }
    }

    // A table under `name` in `t`, or null (absent, or not a table: said).
    const toml::table *section(const toml::table &t, const char *name) {
        const toml::node *n = t.get(name);
        if (n == nullptr) return nullptr;
        if (!n->is_table()) {
            error(n->source(), std::string(name) + ": must be a table ([" + name + "])");
            return nullptr;
        }
        return n->as_table();
    }

    template <class U>
    void unsigned_key(const toml::table &t, const std::string &sec, const char *key, uint64_t min, uint64_t max,
                      U &out) {
        const toml::node *n = t.get(key);
        if (n == nullptr) return;
        const auto *i = n->as_integer();
        if (i == nullptr) {
            error(n->source(), qualified(sec, key) + ": must be an integer");
            return;
        }
        const int64_t v = i->get();
        if (v < 0 || static_cast<uint64_t>(v) < min || static_cast<uint64_t>(v) > max) {
            error(n->source(), qualified(sec, key) + ": " + std::to_string(v) + " is out of range (" +
                                   std::to_string(min) + " to " + std::to_string(max) + ")");
            return;
        }
        out = static_cast<U>(v);
    }

    bool string_key(const toml::table &t, const std::string &sec, const char *key, std::string &out,
                    const toml::node *&node) {
        node = t.get(key);
        if (node == nullptr) return false;
        const auto *s = node->as_string();
        if (s == nullptr) {
            error(node->source(), qualified(sec, key) + ": must be a string");
            return false;
        }
        out = s->get();
        return true;
    }

    void bool_key(const toml::table &t, const std::string &sec, const char *key, bool &out) {
        const toml::node *n = t.get(key);
        if (n == nullptr) return;
        if (const auto *b = n->as_boolean()) out = b->get();
        else error(n->source(), qualified(sec, key) + ": must be true or false");
    }

    void absolute_path_key(const toml::table &t, const std::string &sec, const char *key, std::size_t max_len,
                           std::string &out) {
        std::string v;
        const toml::node *n = nullptr;
        if (!string_key(t, sec, key, v, n)) return;
        if (v.empty() || v[0] != '/') error(n->source(), qualified(sec, key) + ": \"" + v + "\" is not an absolute path");
        else if (v.size() > max_len)
            error(n->source(), qualified(sec, key) + ": \"" + v + "\" is longer than " + std::to_string(max_len) + " bytes");
        else out = v;
    }

    void socket(const toml::table &t, Config &c) {
        only_keys(t, "socket", {"path", "mode", "group"});
        absolute_path_key(t, "socket", "path", 107, c.socket.path);  // sockaddr_un's sun_path holds 108 with its NUL
        if (const toml::node *n = t.get("mode")) {
            if (n->is_integer()) {
                error(n->source(), "socket.mode: write the mode as a string of octal digits (\"0660\"): " +
                                       std::to_string(n->as_integer()->get()) + " is a decimal number in TOML");
            } else if (const auto *s = n->as_string()) {
                const std::string v = s->get();
                const bool octal = !v.empty() && v.size() <= 4 && v.find_first_not_of("01234567") == std::string::npos;
                const unsigned long mode = octal ? std::stoul(v, nullptr, 8) : 0;
                if (!octal || mode > 0777) error(n->source(), "socket.mode: \"" + v + "\" is not an octal mode");
                else c.socket.mode = static_cast<uint32_t>(mode);
            } else {
                error(n->source(), "socket.mode: must be a string of octal digits, as \"0660\"");
            }
        }
        if (const toml::node *n = t.get("group")) {
            uint32_t gid = 0;
            if (id_of(*n, "socket.group", false, gid)) c.socket.gid = gid;
        }
    }

    void limits(const toml::table &t, Config &c) {
        only_keys(t, "limits",
                  {"max_clients", "max_clients_per_uid", "max_request_bytes", "frame_timeout_ms", "max_queue"});
        unsigned_key(t, "limits", "max_clients", 1, 65536, c.limits.max_clients);
        unsigned_key(t, "limits", "max_clients_per_uid", 0, 65536, c.limits.max_clients_per_uid);
        unsigned_key(t, "limits", "max_request_bytes", 4096, protocol::kMaxRequestBytes, c.limits.max_request_bytes);
        unsigned_key(t, "limits", "frame_timeout_ms", 10, 3600000, c.limits.frame_timeout_ms);
        unsigned_key(t, "limits", "max_queue", PROCMON_QUEUE_MIN, PROCMON_QUEUE_MAX, c.limits.max_queue);
    }

    void context(const toml::table &t, Config &c) {
        only_keys(t, "context", {"arena_cap_bytes", "event_source", "poll_interval_ms", "high_watermark_percent",
                                 "low_watermark_percent"});
        unsigned_key(t, "context", "arena_cap_bytes", PROCMON_MIN_ARENA_CAP, PROCMON_MAX_ARENA_CAP,
                     c.context.arena_cap_bytes);
        std::string source;
        const toml::node *n = nullptr;
        if (string_key(t, "context", "event_source", source, n) &&
            procmon_source_from_name(source.c_str(), &c.context.event_source) != PROCMON_OK)
            error(n->source(), "context.event_source: \"" + source + "\" is not auto, polling or netlink");
        unsigned_key(t, "context", "poll_interval_ms", 10, kMaxMs, c.context.poll_interval_ms);
        unsigned_key(t, "context", "high_watermark_percent", 1, 100, c.context.high_watermark_percent);
        unsigned_key(t, "context", "low_watermark_percent", 1, 99, c.context.low_watermark_percent);
        if (c.context.low_watermark_percent >= c.context.high_watermark_percent) {
            const toml::node *low = t.get("low_watermark_percent");
            error(low ? low->source() : t.source(),
                  "context.low_watermark_percent: " + std::to_string(c.context.low_watermark_percent) +
                      " must be below high_watermark_percent (" + std::to_string(c.context.high_watermark_percent) + ")");
        }
    }

    void journal(const toml::table &t, Config &c) {
        only_keys(t, "journal", {"dir", "fsync", "fsync_interval_ms", "segment_bytes", "max_bytes", "max_age_ms"});
        absolute_path_key(t, "journal", "dir", 4000, c.journal.dir);
        std::string fsync;
        const toml::node *n = nullptr;
        if (string_key(t, "journal", "fsync", fsync, n)) {
            if (fsync == "always") c.journal.fsync = PROCMON_FSYNC_ALWAYS;
            else if (fsync == "interval") c.journal.fsync = PROCMON_FSYNC_INTERVAL;
            else if (fsync == "never") c.journal.fsync = PROCMON_FSYNC_NEVER;
            else error(n->source(), "journal.fsync: \"" + fsync + "\" is not always, interval or never");
        }
        unsigned_key(t, "journal", "fsync_interval_ms", 1, kMaxMs, c.journal.fsync_interval_ms);
        unsigned_key(t, "journal", "segment_bytes", PROCMON_JOURNAL_SEGMENT_MIN, 1ull << 40, c.journal.segment_bytes);
        unsigned_key(t, "journal", "max_bytes", 0, UINT64_MAX >> 1, c.journal.max_bytes);
        unsigned_key(t, "journal", "max_age_ms", 0, UINT64_MAX >> 21, c.journal.max_age_ms);  // fits in ns
        if (c.journal.max_bytes != 0 && c.journal.max_bytes < 2 * c.journal.segment_bytes)
            error(t.get("max_bytes")->source(), "journal.max_bytes: " + std::to_string(c.journal.max_bytes) +
                                                    " is below two segments (2 * segment_bytes = " +
                                                    std::to_string(2 * c.journal.segment_bytes) + "); 0 is unlimited");
    }

    // The permission keys of [default] or of one [[allow]] rule.
    void metrics(const toml::table &t, Config &c) {
        only_keys(t, "metrics", {"listen", "refresh_interval_ms", "max_groups", "read", "group"});
        std::string listen;
        const toml::node *n = nullptr;
        if (string_key(t, "metrics", "listen", listen, n)) {
            sockaddr_storage addr{};
            std::string why;
            if (parse_listen_address(listen, addr, why)) c.metrics.listen = listen;
            else error(n->source(), "metrics.listen: " + why);
        }
        unsigned_key(t, "metrics", "refresh_interval_ms", 100, 3600 * 1000, c.metrics.refresh_interval_ms);
        unsigned_key(t, "metrics", "max_groups", 1, 100000, c.metrics.max_groups);
        if (const toml::node *r = t.get("read")) {
            const auto *list = r->as_array();
            if (list == nullptr) {
                error(r->source(), "metrics.read: must be an array, as [\"fds\", \"io\", \"ctxsw\", \"pss\"]");
            } else {
                c.metrics.read = 0;
                for (const toml::node &e : *list) {
                    const auto *s = e.as_string();
                    const std::string v = s ? s->get() : std::string();
                    if (v == "fds") c.metrics.read |= PROCMON_FIELD_FDS;
                    else if (v == "io") c.metrics.read |= PROCMON_FIELD_IO;
                    else if (v == "ctxsw") c.metrics.read |= PROCMON_FIELD_CTXSW;
                    else if (v == "pss") c.metrics.read |= PROCMON_FIELD_SMAPS;
                    else error(e.source(), "metrics.read: " + (s ? "\"" + v + "\"" : std::string("a value")) +
                                               " is not fds, io, ctxsw or pss");
                }
            }
        }
        if (const toml::node *g = t.get("group")) metrics_groups(*g, c);
    }

    void metrics_groups(const toml::node &n, Config &c) {
        const auto *groups = n.as_array();
        if (groups == nullptr) {
            error(n.source(), "metrics.group: must be an array of tables ([[metrics.group]])");
            return;
        }
        for (const toml::node &g : *groups) {
            const auto *t = g.as_table();
            if (t == nullptr) {
                error(g.source(), "metrics.group: each group must be a table ([[metrics.group]])");
                continue;
            }
            only_keys(*t, "metrics.group", {"name", "comm", "exe", "cmdline", "user", "cgroup"});
            MetricsGroup group;
            const toml::node *name = nullptr;
            if (!string_key(*t, "metrics.group", "name", group.name, name)) {
                if (name == nullptr) error(t->source(), "metrics.group: a group needs a name (fixed, or a template "
                                                        "as \"{{.Comm}}\")");
                continue;
            }
            std::string why;
            if (!metrics::check_group_name(group.name, why)) error(name->source(), "metrics.group.name: " + why);
            globs(*t, "comm", group.comm);
            globs(*t, "exe", group.exe);
            globs(*t, "cmdline", group.cmdline);
            globs(*t, "cgroup", group.cgroup);
            if (const toml::node *u = t->get("user")) {
                group.has_uids = true;
                if (const auto *list = u->as_array(); list != nullptr && list->empty()) {
                    error(u->source(), "metrics.group.user: must name at least one user (leave the key out to match "
                                       "every user)");
                } else if (list != nullptr) {
                    for (const toml::node &e : *list) {
                        uint32_t id = 0;
                        if (id_of(e, "metrics.group.user", true, id)) group.uids.push_back(id);
                    }
                } else {
                    error(u->source(), "metrics.group.user: must be an array, as [\"www-data\", 0]");
                }
            }
            c.metrics.groups.push_back(std::move(group));
        }
    }

    void globs(const toml::table &t, const char *key, std::vector<std::string> &out) {
        const toml::node *n = t.get(key);
        if (n == nullptr) return;
        const auto *list = n->as_array();
        if (list == nullptr || list->empty()) {
            // Empty, it would match nothing while an absent key matches
            // everything: say which was meant.
            error(n->source(), std::string("metrics.group.") + key +
                                   ": must be a non-empty array of globs, as [\"nginx*\"] (leave the key out to "
                                   "match every process)");
            return;
        }
        for (const toml::node &e : *list) {
            const auto *s = e.as_string();
            std::string why;
            if (s == nullptr) error(e.source(), std::string("metrics.group.") + key + ": each glob must be a string");
            else if (!glob_is_valid(s->get().c_str(), why))
                error(e.source(), std::string("metrics.group.") + key + ": \"" + s->get() + "\": " + why);
            else out.push_back(s->get());
        }
    }

    void permissions(const toml::table &t, const std::string &sec, Permissions &p) {
        bool_key(t, sec, "connect", p.connect);
        bool_key(t, sec, "snapshot", p.snapshot);
        bool_key(t, sec, "subscribe", p.subscribe);
        bool_key(t, sec, "journal", p.journal);
        bool_key(t, sec, "signal_others", p.signal_others);
        bool_key(t, sec, "status_all", p.status_all);
        const toml::node *n = t.get("see_others");
        if (n == nullptr) return;
        const auto *groups = n->as_array();
        if (groups == nullptr) {
            error(n->source(), sec + ".see_others: must be an array of field group names, as [\"basic\", \"cpu\"]");
            return;
        }
        p.see_others = PROCMON_FIELD_BASIC;  // always shown: /proc/<pid>/stat is anyone's
        for (const toml::node &g : *groups) {
            const auto *name = g.as_string();
            uint64_t bits = 0;
            if (name == nullptr || procmon_field_from_name(name->get().c_str(), &bits) != PROCMON_OK) {
                error(g.source(), sec + ".see_others: " + (name ? "\"" + name->get() + "\"" : std::string("a value")) +
                                      " is not a field group (basic, cpu, memory, sched, ids, exe, argv, cwd, fds, "
                                      "io, ctxsw, cgroup, smaps, default, all)");
                continue;
            }
            p.see_others |= bits;
        }
    }

    void allow_rules(const toml::node &n, Config &c) {
        const auto *rules = n.as_array();
        if (rules == nullptr) {
            error(n.source(), "allow: must be an array of tables ([[allow]])");
            return;
        }
        for (const toml::node &r : *rules) {
            const auto *t = r.as_table();
            if (t == nullptr) {
                error(r.source(), "allow: each rule must be a table ([[allow]])");
                continue;
            }
            only_keys(*t, "allow", {"users", "groups", "connect", "snapshot", "subscribe", "journal", "see_others",
                                    "signal_others", "status_all"});
            AllowRule rule;
            rule.permissions = c.defaults;
            ids(*t, "users", true, rule.uids);
            ids(*t, "groups", false, rule.gids);
            permissions(*t, "allow", rule.permissions);
            if (rule.uids.empty() && rule.gids.empty())
                error(t->source(), "allow: a rule must name users or groups, else it matches no one");
            c.allow.push_back(std::move(rule));
        }
    }

private:
    static std::string qualified(const std::string &sec, const std::string &key) {
        return sec.empty() ? key : sec + "." + key;
    }

    // A user (uid) or group (gid): a name to look up, or a number.
    bool id_of(const toml::node &n, const std::string &what, bool user, uint32_t &out) {
        if (const auto *i = n.as_integer()) {
            if (i->get() < 0 || i->get() > UINT32_MAX - 1) {
                error(n.source(), what + ": " + std::to_string(i->get()) + " is not a " + (user ? "uid" : "gid"));
                return false;
            }
            out = static_cast<uint32_t>(i->get());
            return true;
        }
        const auto *s = n.as_string();
        if (s == nullptr) {
            error(n.source(), what + ": must be a " + (user ? "user" : "group") + " name or a number");
            return false;
        }
        const std::string name = s->get();
        const platform::UserLookup found = user ? platform::user_id(name, out) : platform::group_id(name, out);
        if (found == platform::UserLookup::found) return true;
        if (found == platform::UserLookup::none)
            error(n.source(), what + ": no " + (user ? "user" : "group") + " is named \"" + name + "\"");
        else
            error(n.source(), what + ": looking up \"" + name + "\": " + std::strerror(errno));
        return false;
    }

    void ids(const toml::table &t, const char *key, bool users, std::vector<uint32_t> &out) {
        const toml::node *n = t.get(key);
        if (n == nullptr) return;
        const auto *list = n->as_array();
        if (list == nullptr) {
            error(n->source(), std::string("allow.") + key + ": must be an array, as [\"alice\", 1000]");
            return;
        }
        for (const toml::node &e : *list) {
            uint32_t id = 0;
            if (id_of(e, std::string("allow.") + key, users, id)) out.push_back(id);
        }
    }

    std::string path_;
    std::vector<std::string> &errors_;
};

}  // namespace

std::shared_ptr<const Config> parse_config(const std::string &path, const std::string &text,
                                           std::vector<std::string> &errors) {
    Parser parser(path, errors);
    toml::table doc;
    try {
        doc = toml::parse(text, path);
    } catch (const toml::parse_error &e) {
        parser.error(e.source(), std::string(e.description()));
        return nullptr;
    }
    auto c = std::make_shared<Config>();
    c->path = path;
    parser.only_keys(doc, "", {"socket", "limits", "context", "journal", "metrics", "default", "allow"});
    if (const toml::table *t = parser.section(doc, "socket")) parser.socket(*t, *c);
    if (const toml::table *t = parser.section(doc, "limits")) parser.limits(*t, *c);
    if (const toml::table *t = parser.section(doc, "context")) parser.context(*t, *c);
    if (const toml::table *t = parser.section(doc, "journal")) parser.journal(*t, *c);
    if (const toml::table *t = parser.section(doc, "metrics")) parser.metrics(*t, *c);
    if (const toml::table *t = parser.section(doc, "default")) {
        parser.only_keys(*t, "default", {"connect", "snapshot", "subscribe", "journal", "see_others", "signal_others",
                                         "status_all"});
        parser.permissions(*t, "default", c->defaults);
    }
    if (const toml::node *n = doc.get("allow")) parser.allow_rules(*n, *c);  // after [default]: rules start from it
    if (!errors.empty()) return nullptr;
    return c;
}

bool parse_listen_address(const std::string &text, sockaddr_storage &out, std::string &why) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        why = "\"" + text + "\" is not ADDR:PORT (as 127.0.0.1:9464 or [::1]:9464)";
        return false;
    }
    std::string host = text.substr(0, colon);
    const std::string port_text = text.substr(colon + 1);
    char *end = nullptr;
    errno = 0;
    const unsigned long port = std::strtoul(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || errno != 0 || port > 65535 || port_text[0] == '-' ||
        port_text[0] == '+') {
        why = "\"" + port_text + "\" in \"" + text + "\" is not a port (0 to 65535)";
        return false;
    }
    out = {};
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        auto *a6 = reinterpret_cast<sockaddr_in6 *>(&out);
        if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons(static_cast<uint16_t>(port));
            return true;
        }
    } else {
        auto *a4 = reinterpret_cast<sockaddr_in *>(&out);
        if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
            a4->sin_family = AF_INET;
            a4->sin_port = htons(static_cast<uint16_t>(port));
            return true;
        }
    }
    why = "\"" + host + "\" in \"" + text + "\" is not an IPv4 address or a bracketed IPv6 one ([::1])";
    return false;
}

bool read_file(const std::string &path, std::string &out, std::string &error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream all;
    all << in.rdbuf();
    if (in.bad()) {
        error = path + ": read failed: " + std::strerror(errno);
        return false;
    }
    out = all.str();
    return true;
}

std::shared_ptr<const Config> load_config(const std::string &path, std::vector<std::string> &errors) {
    std::string text, why;
    if (!read_file(path, text, why)) {
        errors.push_back(why);
        return nullptr;
    }
    return parse_config(path, text, errors);
}

std::vector<std::string> restart_keys_changed(const Config &running, const Config &loaded) {
    std::vector<std::string> keys;
    auto check = [&](bool differs, const char *key) {
        if (differs) keys.emplace_back(key);
    };
    check(running.socket.path != loaded.socket.path, "socket.path");
    check(running.journal.dir != loaded.journal.dir, "journal.dir");
    check(running.journal.fsync != loaded.journal.fsync, "journal.fsync");
    check(running.journal.fsync_interval_ms != loaded.journal.fsync_interval_ms, "journal.fsync_interval_ms");
    check(running.journal.segment_bytes != loaded.journal.segment_bytes, "journal.segment_bytes");
    check(running.context.arena_cap_bytes != loaded.context.arena_cap_bytes, "context.arena_cap_bytes");
    check(running.context.event_source != loaded.context.event_source, "context.event_source");
    check(running.metrics.listen != loaded.metrics.listen, "metrics.listen");
    return keys;
}

}  // namespace procmon::daemon
