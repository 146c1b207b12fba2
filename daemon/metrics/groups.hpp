// Which group a process counts in, for /metrics: the config's
// [[metrics.group]] rules, first match wins, and "other" for a process no
// rule takes, so that nothing is ever dropped (docs/metrics.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config.hpp"

namespace procmon::daemon::metrics {

inline constexpr std::string_view kOtherGroup = "other";

// Whether `name` is a fixed name or a template using only the known
// placeholders ({{.Comm}} {{.ExeBase}} {{.ExeFull}} {{.Username}}
// {{.ContainerID}}); false with `why`.
bool check_group_name(const std::string &name, std::string &why);

// What the rules look at of one process. Absent facts never match a
// matcher that needs them (an exit whose exe was not read is not put in an
// exe group by a guess).
struct ProcessFacts {
    std::string_view name;     // the name users see (full_name)
    std::string_view exe;      // "" when unknown
    const char *argv = nullptr;  // NUL-separated, argv_len bytes
    std::size_t argv_len = 0;
    std::string_view cgroup;   // "" when unknown
    std::string_view container_id;
    uint32_t uid = UINT32_MAX;  // effective; UINT32_MAX when unknown
};

class Classifier {
public:
    explicit Classifier(std::vector<MetricsGroup> groups) : groups_(std::move(groups)) {}

    // The first group whose matchers all match and whose name is not ""
    // once expanded; "other" when none does.
    std::string classify(const ProcessFacts &p);

    // Whether any rule looks at the cgroup (then refreshes read it).
    bool needs_cgroup() const;

private:
    bool matches(const MetricsGroup &g, const ProcessFacts &p);
    std::string expand(const std::string &name, const ProcessFacts &p);
    const std::string &username(uint32_t uid);

    std::vector<MetricsGroup> groups_;
    std::string line_;  // argv joined, reused
    std::unordered_map<uint32_t, std::string> usernames_;
};

}  // namespace procmon::daemon::metrics
