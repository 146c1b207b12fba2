#include "groups.hpp"

#include "core/glob.hpp"
#include "core/names.hpp"
#include "platform/users.hpp"

namespace procmon::daemon::metrics {

namespace {

constexpr std::string_view kPlaceholders[] = {"Comm", "ExeBase", "ExeFull", "Username", "ContainerID"};

bool any_glob(const std::vector<std::string> &globs, const char *text) {
    for (const std::string &g : globs)
        if (glob_match(g.c_str(), text)) return true;
    return false;
}

std::string_view base_name(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool check_group_name(const std::string &name, std::string &why) {
    if (name.empty()) {
        why = "a group's name must not be empty";
        return false;
    }
    for (std::size_t at = name.find("{{"); at != std::string::npos; at = name.find("{{", at + 2)) {
        const auto end = name.find("}}", at);
        if (end == std::string::npos) {
            why = "\"" + name + "\": \"{{\" at offset " + std::to_string(at) + " is not closed by \"}}\"";
            return false;
        }
        const std::string_view inner = std::string_view(name).substr(at + 2, end - at - 2);
        bool known = false;
        for (std::string_view p : kPlaceholders) known = known || inner == "." + std::string(p);
        if (!known) {
            why = "\"" + name + "\": {{" + std::string(inner) +
                  "}} is not a placeholder ({{.Comm}} {{.ExeBase}} {{.ExeFull}} {{.Username}} {{.ContainerID}})";
            return false;
        }
    }
    return true;
}

bool Classifier::needs_cgroup() const {
    for (const MetricsGroup &g : groups_)
        if (!g.cgroup.empty() || g.name.find("{{.ContainerID}}") != std::string::npos) return true;
    return false;
}

const std::string &Classifier::username(uint32_t uid) {
    auto it = usernames_.find(uid);
    if (it != usernames_.end()) return it->second;
    std::string name;
    if (platform::user_name(uid, name) != platform::UserLookup::found) name = std::to_string(uid);
    if (usernames_.size() >= 4096) usernames_.clear();  // bounded: uids come from processes
    return usernames_.emplace(uid, std::move(name)).first->second;
}

bool Classifier::matches(const MetricsGroup &g, const ProcessFacts &p) {
    if (!g.comm.empty()) {
        const std::string name(p.name);
        if (p.name.empty() || !any_glob(g.comm, name.c_str())) return false;
    }
    if (!g.exe.empty()) {
        const std::string exe(p.exe);
        if (p.exe.empty() || !any_glob(g.exe, exe.c_str())) return false;
    }
    if (!g.cmdline.empty()) {
        if (p.argv == nullptr || p.argv_len == 0) return false;
        if (!any_glob(g.cmdline, join_argv(p.argv, p.argv_len, line_))) return false;
    }
    if (!g.cgroup.empty()) {
        const std::string cgroup(p.cgroup);
        if (p.cgroup.empty() || !any_glob(g.cgroup, cgroup.c_str())) return false;
    }
    if (g.has_uids) {
        bool found = false;
        for (uint32_t u : g.uids) found = found || (p.uid != UINT32_MAX && u == p.uid);
        if (!found) return false;
    }
    return true;
}

std::string Classifier::expand(const std::string &name, const ProcessFacts &p) {
    if (name.find("{{") == std::string::npos) return name;
    std::string out;
    std::size_t from = 0;
    for (std::size_t at = name.find("{{"); at != std::string::npos; at = name.find("{{", from)) {
        out.append(name, from, at - from);
        const auto end = name.find("}}", at);  // check_group_name saw every one closed
        const std::string_view key = std::string_view(name).substr(at + 3, end - at - 3);
        std::string_view value;
        if (key == "Comm") value = p.name;
        else if (key == "ExeBase") value = base_name(p.exe);
        else if (key == "ExeFull") value = p.exe;
        else if (key == "Username") value = p.uid == UINT32_MAX ? std::string_view() : username(p.uid);
        else if (key == "ContainerID") value = p.container_id.substr(0, 12);
        if (value.empty()) return {};  // unknown: this group does not take the process
        out.append(value);
        from = end + 2;
    }
    out.append(name, from, std::string::npos);
    return out;
}

std::string Classifier::classify(const ProcessFacts &p) {
    for (const MetricsGroup &g : groups_) {
        if (!matches(g, p)) continue;
        std::string name = expand(g.name, p);
        if (!name.empty()) return name;
    }
    return std::string(kOtherGroup);
}

}  // namespace procmon::daemon::metrics
