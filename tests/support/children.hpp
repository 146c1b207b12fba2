// Child processes for tests, always reaped. A child is "ready" once the
// readiness pipe closes: at exec (the pipe is close-on-exec) or when a forked
// child calls Child::signal_ready(). It lives until stdin reaches EOF (exec'd
// helpers) or until the parent drops it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "procmon_raii.hpp"

#ifndef PROCMON_TEST_IDLE_CHILD
#error "build with -DPROCMON_TEST_IDLE_CHILD=\"path/to/idle_child\""
#endif

// Polls until pid's state letter in /proc is `state` (a zombie takes a
// moment to show); false after about a second.
inline bool wait_for_state(pid_t pid, char state) {
    for (int i = 0; i < 500; ++i) {
        const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
        const std::size_t close = stat.rfind(')');
        if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == state) return true;
        usleep(2000);
    }
    return false;
}

class Child {
public:
    Child() = default;
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    Child(Child &&o) noexcept { *this = std::move(o); }
    Child &operator=(Child &&o) noexcept {
        std::swap(pid_, o.pid_);
        std::swap(stdin_, o.stdin_);
        std::swap(control_, o.control_);
        return *this;
    }
    ~Child() { stop(); }

    pid_t pid() const { return pid_; }

    // Runs `setup` in a forked child, which then waits for the parent to let
    // go. `setup` must call Child::ready_fd() closing (signal_ready) itself or
    // return, after which readiness is signalled. `control` is a pipe the
    // parent can write to (Child::send) and the child read from (fd passed).
    static Child fork_with(const std::function<void(int control_fd)> &setup) {
        int ready[2], control[2];
        if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(control, O_CLOEXEC) != 0) std::abort();
        Child c;
        c.pid_ = fork();
        if (c.pid_ < 0) std::abort();
        if (c.pid_ == 0) {
            close(ready[0]);
            close(control[1]);
            ready_fd_ = ready[1];
            setup(control[0]);
            signal_ready();
            char b;
            while (read(control[0], &b, 1) > 0) {
            }
            _exit(0);
        }
        close(ready[1]);
        close(control[0]);
        c.control_ = control[1];
        wait_closed(ready[0]);
        return c;
    }

    // Execs the idle_child helper with exactly these argv bytes (argv[0]
    // included) and optional comm; returns once the exec happened.
    static Child exec_idle(const std::vector<std::string> &argv, const char *comm = nullptr) {
        int ready[2], in[2];
        if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) std::abort();
        std::vector<char *> args;
        for (const std::string &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        Child c;
        c.pid_ = fork();
        if (c.pid_ < 0) std::abort();
        if (c.pid_ == 0) {
            dup2(in[0], 0);
            if (comm != nullptr) setenv("IDLE_CHILD_COMM", comm, 1);
            execv(PROCMON_TEST_IDLE_CHILD, args.data());
            _exit(127);
        }
        close(ready[1]);
        close(in[0]);
        c.stdin_ = in[1];
        wait_closed(ready[0]);
        if (comm != nullptr) c.wait_for_comm(comm);
        return c;
    }

    // In a forked child: tell the parent setup is done (idempotent).
    static void signal_ready() {
        if (ready_fd_ >= 0) close(ready_fd_);
        ready_fd_ = -1;
    }

    // Parent: send one byte on the control pipe.
    void send(char b) const {
        if (write(control_, &b, 1) != 1) std::abort();
    }

    // Ends the child (EOF on its pipes, then SIGKILL if it lingers) and reaps it.
    void stop() {
        if (pid_ <= 0) return;
        if (stdin_ >= 0) close(stdin_);
        if (control_ >= 0) close(control_);
        stdin_ = control_ = -1;
        int status;
        for (int i = 0; i < 200; ++i) {  // up to 2 s to exit by itself
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            usleep(10000);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    // Reap a child that already exited (zombie tests).
    int reap() {
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        if (control_ >= 0) close(control_);
        if (stdin_ >= 0) close(stdin_);
        control_ = stdin_ = -1;
        return status;
    }

private:
    static void wait_closed(int fd) {
        char b;
        while (read(fd, &b, 1) > 0 || errno == EINTR) {
        }
        close(fd);
    }
    // The helper renames itself right after exec: wait until it has.
    void wait_for_comm(const char *comm) const {
        std::string want(comm, std::min<std::size_t>(std::string(comm).size(), 15));
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/comm", pid_);
        for (int i = 0; i < 500; ++i) {
            FILE *f = std::fopen(path, "r");
            if (f != nullptr) {
                char buf[64] = {};
                std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
                std::fclose(f);
                if (n > 0 && std::string(buf, n - 1) == want) return;  // drop the '\n'
            }
            usleep(2000);
        }
    }

    pid_t pid_ = -1;
    int stdin_ = -1;
    int control_ = -1;
    static inline int ready_fd_ = -1;
};
