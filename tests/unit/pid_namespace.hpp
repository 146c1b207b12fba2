// PID reuse without luck: a body run as pid 1 of a new PID namespace, with a
// /proc of its own (in a new mount namespace, nothing propagated back). No
// other process forks there, so after next_pid_is(pid) the next fork gets
// exactly that pid: on the host, ns_last_pid races every fork on the machine
// and a test that retried 20 times still lost on a busy one (issue 16).
//
// The body runs in a forked process: no Criterion macro may be used in it.
// It returns "" when all is well, else what went wrong (Checks collects it),
// which test_in_new_pid_namespace reports. Needs CAP_SYS_ADMIN (root).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

// What went wrong in a body, one line each.
struct Checks {
    std::string failed;
    bool expect(bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4))) {
        if (ok) return true;
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        failed += failed.empty() ? "" : "; ";
        failed += line;
        return false;
    }
};

struct PidNamespaceRun {
    bool ran = false;     // false: the namespace could not be made (message says why)
    std::string message;  // ran: "" = the body passed, else what it reported
};

// In the namespace: the next process forked gets `pid`.
inline bool next_pid_is(pid_t pid) {
    FILE *f = std::fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (f == nullptr) return false;
    const bool ok = std::fprintf(f, "%d", pid - 1) > 0;
    return std::fclose(f) == 0 && ok;
}

template <class Body>
PidNamespaceRun in_new_pid_namespace(Body body) {
    PidNamespaceRun out;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        out.message = std::string("pipe: ") + std::strerror(errno);
        return out;
    }
    // Each message starts with 'S' (setup refused) or 'R' (the body's report).
    auto say = [&](char kind, const std::string &text) {
        std::string m = kind + text;
        if (write(pipefd[1], m.data(), m.size()) < 0) {
        }
    };
    const pid_t helper = fork();
    if (helper == 0) {
        close(pipefd[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that times out takes its namespace with it
        if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
            say('S', std::string("unshare(CLONE_NEWPID | CLONE_NEWNS): ") + std::strerror(errno));
            _exit(0);
        }
        const pid_t init = fork();  // pid 1 of the new namespace
        if (init == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
                say('S', std::string("mount a /proc for the namespace: ") + std::strerror(errno));
                _exit(0);
            }
            say('R', body());
            _exit(0);
        }
        int status = 0;
        if (init < 0) say('S', std::string("fork in the namespace: ") + std::strerror(errno));
        else if (waitpid(init, &status, 0) == init && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            say('R', "the namespace's pid 1 ended with status " + std::to_string(status));
        _exit(0);
    }
    close(pipefd[1]);
    std::string got;
    char buf[4096];
    for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) != 0;)
        if (n > 0) got.append(buf, static_cast<std::size_t>(n));
        else if (errno != EINTR) break;
    close(pipefd[0]);
    if (helper > 0) waitpid(helper, nullptr, 0);
    if (helper < 0) {
        out.message = std::string("fork: ") + std::strerror(errno);
    } else if (got.empty()) {
        out.ran = true;
        out.message = "the namespace's pid 1 reported nothing (killed?)";
    } else {
        out.ran = got[0] == 'R';
        out.message = got.substr(1);
    }
    return out;
}

// A whole test: skipped without root or without a namespace (saying why),
// else failed with what the body reported.
inline void test_in_new_pid_namespace(std::string (*body)()) {
    if (geteuid() != 0) cr_skip_test("needs root: a PID namespace and ns_last_pid");
    static char report[4096];  // not on the heap: a skip leaves this function by longjmp
    bool ran;
    {
        const PidNamespaceRun run = in_new_pid_namespace(body);
        ran = run.ran;
        std::snprintf(report, sizeof report, "%s", run.message.c_str());
    }
    if (!ran) cr_skip_test("no PID namespace of its own: %s", report);
    cr_expect(report[0] == '\0', "%s", report);
}
