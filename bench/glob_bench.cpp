// procmon's glob matcher against glibc's fnmatch(3), the one it replaced,
// on the name globs users type (--name, pgrep-like) over typical process
// names. Prints ns per match for each and the ratio (same run: the
// machines are shared and noisy). Usage: glob_bench [rounds]
#include <fnmatch.h>

#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/glob.hpp"

namespace {

const char *const kNames[] = {
    "systemd", "kthreadd", "rcu_gp", "kworker/0:1-events", "kworker/u8:2-flush-259:0", "ksoftirqd/0", "migration/1",
    "systemd-journald", "systemd-udevd", "systemd-logind", "dbus-daemon", "NetworkManager", "sshd", "cron", "rsyslogd",
    "nginx", "nginx: worker process", "postgres", "postgres: checkpointer", "python3.11", "node", "java", "bash", "zsh",
    "tmux: server", "containerd", "containerd-shim-runc-v2", "dockerd", "kubelet", "prometheus", "gunicorn", "redis-server",
    "idle_child", "procmon", "chrome", "firefox-esr", "Xwayland", "pipewire", "wireplumber", "gnome-shell"};

const char *const kPatterns[] = {"nginx", "nginx*", "*sh", "python3*", "kworker/*", "*[0-9]", "[a-z]*d", "*worker*",
                                 "ss?d", "systemd-*", "*-server", "[!k]*", "postgres*", "[[:upper:]]*"};

template <class Match>
double ns_per_match(Match match, int rounds, long &hits) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const char *p : kPatterns)
            for (const char *n : kNames) hits += match(p, n);
    const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    return ns / (double(rounds) * (sizeof kPatterns / sizeof *kPatterns) * (sizeof kNames / sizeof *kNames));
}

}  // namespace

int main(int argc, char **argv) {
    std::setlocale(LC_ALL, "C");  // fnmatch at its fastest: bytes, no wide-character conversion
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 20000;
    long hits_fn = 0, hits_pm = 0;
    auto fn = [](const char *p, const char *n) { return fnmatch(p, n, 0) == 0; };
    auto pm = [](const char *p, const char *n) { return procmon::glob_match(p, n); };
    ns_per_match(fn, rounds / 10 + 1, hits_fn);  // warm up
    ns_per_match(pm, rounds / 10 + 1, hits_pm);
    hits_fn = hits_pm = 0;
    double best_fn = 1e18, best_pm = 1e18;
    for (int i = 0; i < 5; ++i) {  // interleaved, best of five
        best_fn = std::min(best_fn, ns_per_match(fn, rounds, hits_fn));
        best_pm = std::min(best_pm, ns_per_match(pm, rounds, hits_pm));
    }
    if (hits_fn != hits_pm) {
        std::fprintf(stderr, "verdicts differ: fnmatch %ld matches, procmon %ld\n", hits_fn, hits_pm);
        return 1;
    }
    std::printf("fnmatch(3)          %7.1f ns/match\n", best_fn);
    std::printf("procmon glob_match  %7.1f ns/match\n", best_pm);
    std::printf("ratio procmon/fnmatch %.2f (%zu patterns x %zu names, %d rounds)\n", best_pm / best_fn,
                sizeof kPatterns / sizeof *kPatterns, sizeof kNames / sizeof *kNames, rounds);
    return 0;
}
