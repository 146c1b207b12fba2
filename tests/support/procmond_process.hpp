// procmond as a plain process, for the tests and benchmarks that need the
// real daemon (no systemd on these machines): started with its flags and
// its stderr in a log, a context opened on it once it answers, stopped by
// pid. Each caller decides what a failure means (an assertion, a message).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "procmon.h"

namespace procmon_test {

// Forks and execs `binary` with `args`, its stderr appended to `log`. The
// child's pid, or -1 when fork failed.
inline pid_t start_procmond(const std::string &binary, const std::vector<std::string> &args, const std::string &log) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, 2);
    std::vector<char *> argv{const_cast<char *>(binary.c_str())};
    for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
}

// A context on the daemon at `socket`, tried again every 20 ms until it
// answers (the socket file appears before the daemon listens on it) or
// timeout_ms pass: then nullptr, procmon_error_last() saying why.
// arena_cap_bytes as procmon_options' (0: the default).
inline procmon_ctx *connect_procmond(const std::string &socket, int timeout_ms, uint64_t arena_cap_bytes = 0) {
    procmon_options o;
    procmon_options_init(&o, PROCMON_OPTIONS_VERSION);
    o.endpoint = socket.c_str();
    o.arena_cap_bytes = arena_cap_bytes;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        procmon_ctx *ctx = nullptr;
        if (procmon_open(&ctx, &o) == PROCMON_OK) return ctx;
        if (std::chrono::steady_clock::now() > deadline) return nullptr;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Sends `sig` to the daemon and reaps it: its wait status.
inline int stop_procmond(pid_t pid, int sig = SIGTERM) {
    int status = 0;
    ::kill(pid, sig);
    waitpid(pid, &status, 0);
    return status;
}

}  // namespace procmon_test
