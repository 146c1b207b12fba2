// N idle child processes for benchmarks: each is /bin/cat reading a pipe we
// hold. Closing the pipe ends them all, and so does our own death (the read
// end sees EOF), so none outlives the benchmark. The destructor reaps them.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

extern char **environ;

class IdleChildren {
public:
    IdleChildren() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) std::perror("pipe"), std::exit(1);
        read_end_ = fds[0];
        write_end_ = fds[1];
    }
    explicit IdleChildren(std::size_t n) : IdleChildren() { grow_to(n); }
    ~IdleChildren() {
        close(read_end_);
        close(write_end_);
        for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
    }

    // Spawns children until there are n.
    void grow_to(std::size_t n) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, read_end_, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        char arg0[] = "cat", arg1[] = "-";
        char *argv[] = {arg0, arg1, nullptr};
        pids_.reserve(n);
        while (pids_.size() < n) {
            pid_t pid;
            int rc = posix_spawn(&pid, "/bin/cat", &fa, nullptr, argv, environ);
            if (rc != 0) {
                std::fprintf(stderr, "spawn child %zu: error %d\n", pids_.size(), rc);
                break;
            }
            pids_.push_back(pid);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    std::size_t size() const { return pids_.size(); }

private:
    int read_end_ = -1;
    int write_end_ = -1;
    std::vector<pid_t> pids_;
};
