// Netlink proc connector messages as the kernel sends them, for the parser's
// tests and the performance gate's event path.
#pragma once

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <vector>

#include "platform/linux/connector.hpp"

namespace procmon::testing {

// One netlink message carrying one proc_event, framed by the library's own
// writer (the one its listen request uses).
inline std::vector<char> message(const proc_event &ev, uint32_t idx = CN_IDX_PROC) {
    std::vector<char> buf(platform::connector_message_size(sizeof ev));
    platform::write_connector_message(buf.data(), idx, &ev, sizeof ev);
    return buf;
}

inline proc_event fork_event(int parent, int child) {
    proc_event ev{};
    ev.what = proc_event::PROC_EVENT_FORK;
    ev.timestamp_ns = 123;
    ev.event_data.fork.parent_pid = ev.event_data.fork.parent_tgid = parent;
    ev.event_data.fork.child_pid = ev.event_data.fork.child_tgid = child;
    return ev;
}

inline proc_event exec_event(int pid) {
    proc_event ev{};
    ev.what = proc_event::PROC_EVENT_EXEC;
    ev.event_data.exec.process_pid = ev.event_data.exec.process_tgid = pid;
    return ev;
}

inline proc_event exit_event(int pid, uint32_t wait_status) {
    proc_event ev{};
    ev.what = proc_event::PROC_EVENT_EXIT;
    ev.event_data.exit.process_pid = ev.event_data.exit.process_tgid = pid;
    ev.event_data.exit.exit_code = wait_status;
    return ev;
}

}  // namespace procmon::testing
