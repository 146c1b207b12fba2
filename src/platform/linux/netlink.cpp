// The Linux netlink proc connector as an EventSource: fork, exec, exit, id
// and comm events of every task, pushed by the kernel.
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "platform/linux/connector.hpp"
#include "platform/linux/push_sources.hpp"
#include "platform/linux/sys_ops.h"
#include "platform/platform.hpp"

namespace procmon::platform {
namespace {

// Room for bursts while the collector enriches: ~40,000 events.
constexpr int kReceiveBuffer = 32 << 20;

// The socket's drop counter, from /proc/net/netlink (matched by inode):
// the best count of what ENOBUFS lost.
uint64_t socket_drops(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    FILE *f = std::fopen("/proc/net/netlink", "re");
    if (f == nullptr) return 0;
    char line[256];
    uint64_t drops = 0;
    while (std::fgets(line, sizeof line, f)) {
        unsigned long long d = 0, ino = 0;
        // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        if (std::sscanf(line, "%*s %*d %*u %*x %*d %*d %*d %*d %llu %llu", &d, &ino) == 2 && ino == st.st_ino) {
            drops = d;
            break;
        }
    }
    std::fclose(f);
    return drops;
}

class NetlinkSource final : public EventSource {
public:
    explicit NetlinkSource(int fd) : fd_(fd) {}
    ~NetlinkSource() override { pm_sys()->close(fd_); }
    WaitHandle handle() const override { return WaitHandle::from_native(fd_); }

    Recv receive(KernelEvents &out, uint64_t &lost) override {
        alignas(nlmsghdr) char buf[65536];
        for (;;) {
            iovec iov{buf, sizeof buf};
            msghdr msg{};
            sockaddr_nl from{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            ssize_t n = pm_sys()->recvmsg(fd_, &msg, MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return Recv::ok;
                if (errno == ENOBUFS) {
                    uint64_t total = socket_drops(fd_);
                    lost = total > drops_seen_ ? total - drops_seen_ : 0;
                    drops_seen_ = total;
                    return Recv::lost;
                }
                fail(PROCMON_EIO, errno, "receive from the netlink proc connector: %s", std::strerror(errno));
                return Recv::failed;
            }
            if (from.nl_pid != 0) continue;  // only the kernel speaks here
            malformed_ += parse_connector_messages(buf, static_cast<std::size_t>(n), out);
        }
    }

private:
    int fd_;
    uint64_t drops_seen_ = 0;
    uint64_t malformed_ = 0;
};

}  // namespace

std::size_t connector_message_size(std::size_t len) { return NLMSG_SPACE(sizeof(cn_msg) + len); }

std::size_t write_connector_message(char *out, uint32_t idx, const void *payload, std::size_t len) {
    std::memset(out, 0, connector_message_size(len));
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(cn_msg) + len));
    h.nlmsg_type = NLMSG_DONE;
    std::memcpy(out, &h, sizeof h);
    cn_msg cn{};
    cn.id.idx = idx;
    cn.id.val = CN_VAL_PROC;
    cn.len = static_cast<uint16_t>(len);
    char *data = out + NLMSG_HDRLEN;
    std::memcpy(data, &cn, sizeof cn);
    std::memcpy(data + sizeof cn, payload, len);
    return h.nlmsg_len;
}

std::size_t parse_connector_messages(const char *buf, std::size_t n, KernelEvents &out) {
    std::size_t bad = 0;
    std::size_t off = 0;
    while (off < n && n - off >= sizeof(nlmsghdr)) {  // off may pass n by alignment
        nlmsghdr h;
        std::memcpy(&h, buf + off, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > n - off) {
            ++bad;  // cut short or lying about its length: the rest is unusable
            break;
        }
        const char *payload = buf + off + NLMSG_HDRLEN;
        const std::size_t len = h.nlmsg_len - NLMSG_HDRLEN;
        off += NLMSG_ALIGN(h.nlmsg_len);
        if (h.nlmsg_type == NLMSG_NOOP || h.nlmsg_type == NLMSG_DONE) {
            if (len < sizeof(cn_msg)) {
                ++bad;
                continue;
            }
            cn_msg cn;
            std::memcpy(&cn, payload, sizeof cn);
            if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC || cn.len > len - sizeof cn ||
                cn.len < offsetof(proc_event, event_data)) {
                ++bad;
                continue;
            }
            proc_event ev;
            std::memset(&ev, 0, sizeof ev);
            std::memcpy(&ev, payload + sizeof cn, std::min<std::size_t>(cn.len, sizeof ev));
            KernelEvent k;
            k.time_ns = ev.timestamp_ns;
            switch (ev.what) {
            case proc_event::PROC_EVENT_FORK:
                k.kind = KernelEvent::forked;
                k.pid = ev.event_data.fork.child_pid;
                k.tgid = ev.event_data.fork.child_tgid;
                k.parent_pid = ev.event_data.fork.parent_pid;
                k.parent_tgid = ev.event_data.fork.parent_tgid;
                break;
            case proc_event::PROC_EVENT_EXEC:
                k.kind = KernelEvent::execed;
                k.pid = ev.event_data.exec.process_pid;
                k.tgid = ev.event_data.exec.process_tgid;
                break;
            case proc_event::PROC_EVENT_UID:
            case proc_event::PROC_EVENT_GID:
                k.kind = ev.what == proc_event::PROC_EVENT_UID ? KernelEvent::uid_changed : KernelEvent::gid_changed;
                k.pid = ev.event_data.id.process_pid;
                k.tgid = ev.event_data.id.process_tgid;
                k.id = ev.event_data.id.e.euid;
                break;
            case proc_event::PROC_EVENT_COMM:
                k.kind = KernelEvent::renamed;
                k.pid = ev.event_data.comm.process_pid;
                k.tgid = ev.event_data.comm.process_tgid;
                std::memcpy(k.comm, ev.event_data.comm.comm, sizeof k.comm - 1);
                break;
            case proc_event::PROC_EVENT_EXIT: {
                k.kind = KernelEvent::exited;
                k.pid = ev.event_data.exit.process_pid;
                k.tgid = ev.event_data.exit.process_tgid;
                k.parent_pid = static_cast<int32_t>(ev.event_data.exit.parent_pid);
                k.parent_tgid = static_cast<int32_t>(ev.event_data.exit.parent_tgid);
                int status = static_cast<int>(ev.event_data.exit.exit_code);  // a wait status
                if (WIFEXITED(status)) k.exit_code = WEXITSTATUS(status), k.exit_signal = 0;
                else if (WIFSIGNALED(status)) k.exit_code = -1, k.exit_signal = WTERMSIG(status);
                break;
            }
            default: continue;  // ack, sid, ptrace, coredump, none: not ours
            }
            if (k.pid <= 0 || k.tgid <= 0) {
                ++bad;
                continue;
            }
            out.push_back(k);
        } else if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_OVERRUN) {
            ++bad;
        }
    }
    if (off < n && n - off < sizeof(nlmsghdr)) ++bad;  // a trailing fragment
    return bad;
}

int open_netlink(std::unique_ptr<EventSource> &out) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0)
        return fail(errno == EPROTONOSUPPORT ? PROCMON_EUNSUPPORTED : status_from_errno(errno), errno,
                    "netlink proc connector: socket: %s", std::strerror(errno));
    int size = kReceiveBuffer;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)  // root may exceed rmem_max
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = CN_IDX_PROC;
    addr.nl_pid = 0;  // the kernel picks our port id
    // Kernels before 6.6 refuse listeners without CAP_NET_ADMIN here.
    if (pm_sys()->bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        int err = errno;
        pm_sys()->close(fd);
        return fail(err == EPERM || err == EACCES ? PROCMON_EPERM : PROCMON_EIO, err,
                    "netlink proc connector needs CAP_NET_ADMIN (bind: %s)", std::strerror(err));
    }
    const proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    alignas(nlmsghdr) char req[NLMSG_SPACE(sizeof(cn_msg) + sizeof op)] = {};
    const std::size_t req_len = write_connector_message(req, CN_IDX_PROC, &op, sizeof op);
    if (send(fd, req, req_len, 0) != static_cast<ssize_t>(req_len)) {
        int err = errno;
        pm_sys()->close(fd);
        return fail(err == EPERM ? PROCMON_EPERM : PROCMON_EIO, err, "netlink proc connector: listen: %s",
                    std::strerror(err));
    }
    out = std::make_unique<NetlinkSource>(fd);
    return PROCMON_OK;
}

}  // namespace procmon::platform
