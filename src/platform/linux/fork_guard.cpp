// POSIX: pthread_atfork handlers point the registered fds at /dev/null in the child.
#include "platform/fork_guard.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace procmon::platform {
namespace {

std::mutex fds_mutex;
std::vector<int> fds;

void before_fork() { fds_mutex.lock(); }
void in_parent() { fds_mutex.unlock(); }
void in_child() {
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (const int fd : fds) null >= 0 ? ::dup3(null, fd, O_CLOEXEC) : ::close(fd);
    if (null >= 0) ::close(null);
    fds_mutex.unlock();
}

}  // namespace

std::unique_lock<std::mutex> no_fork_meanwhile() {
    static std::once_flag registered;
    std::call_once(registered, [] { ::pthread_atfork(before_fork, in_parent, in_child); });
    return std::unique_lock<std::mutex>(fds_mutex);
}

void parent_only(const File &f, std::unique_lock<std::mutex> &no_fork) {
    fds.push_back(static_cast<int>(f.native()));
    no_fork.unlock();
}

void close_parent_only(File &f) {
    std::lock_guard<std::mutex> lock(fds_mutex);
    std::erase(fds, static_cast<int>(f.native()));
    f.close();
}

}  // namespace procmon::platform
