#include "access.hpp"

namespace procmon::daemon {

bool owns(const procmon_process &p, uint32_t peer_uid) {
    // The kernel's ptrace read check (exe, cwd, fds, io, smaps): real,
    // effective and saved uid all the caller's. A setuid program run by
    // the peer, or root's process that set only its euid, is not the peer's.
    return (p.valid & PROCMON_FIELD_IDS) && p.uid == peer_uid && p.euid == peer_uid && p.suid == peer_uid;
}

void mask_process(procmon_process &p, uint32_t peer_uid, const Permissions &perm) {
    if (peer_uid == 0 || owns(p, peer_uid)) return;
    const uint64_t hidden = p.valid & ~(perm.see_others | PROCMON_FIELD_BASIC);
    p.valid &= ~hidden;
    if (hidden & PROCMON_FIELD_CPU) p.utime_ns = p.stime_ns = 0, p.cpu_percent = 0;
    if (hidden & PROCMON_FIELD_MEMORY) p.rss_bytes = p.vms_bytes = 0, p.mem_percent = 0;
    if (hidden & PROCMON_FIELD_SCHED) p.threads = 0, p.nice = p.priority = 0;
    if (hidden & PROCMON_FIELD_IDS) p.uid = p.euid = p.suid = p.gid = p.egid = p.sgid = 0;
    if (hidden & PROCMON_FIELD_EXE) p.exe = "";
    if (hidden & PROCMON_FIELD_ARGV) {
        p.argv = "";
        p.argv_len = 0;
        p.argc = 0;
        p.flags &= ~uint32_t{PROCMON_PROC_ARGV_TRUNCATED};
    }
    // The full name comes from argv[0] or exe even when the query did not
    // ask for them: what the peer may not see decides, not what it asked.
    if ((perm.see_others & (PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV)) != (PROCMON_FIELD_EXE | PROCMON_FIELD_ARGV))
        p.full_name = p.name;
    if (hidden & PROCMON_FIELD_CWD) p.cwd = "";
    if (hidden & PROCMON_FIELD_FDS) p.fd_count = 0;
    if (hidden & PROCMON_FIELD_IO)
        p.io_rchar = p.io_wchar = p.io_syscr = p.io_syscw = p.io_read_bytes = p.io_write_bytes = 0;
    if (hidden & PROCMON_FIELD_CTXSW) p.voluntary_ctxt_switches = p.nonvoluntary_ctxt_switches = 0;
    if (hidden & PROCMON_FIELD_CGROUP) p.cgroup = p.container_id = "";
    if (hidden & PROCMON_FIELD_SMAPS) p.pss_bytes = p.uss_bytes = p.swap_bytes = 0;
}

void mask_event(procmon_event &e, uint32_t peer_uid, const Permissions &perm) {
    if (peer_uid == 0 || e.uid == peer_uid || e.type == PROCMON_EVENT_LOST) return;
    bool masked = false;
    if (!(perm.see_others & PROCMON_FIELD_EXE) && e.exe != nullptr && *e.exe != '\0') {
        e.exe = "";
        masked = true;
    }
    if (!(perm.see_others & PROCMON_FIELD_ARGV) && e.argv_len > 0) {
        e.argv = "";
        e.argv_len = 0;
        e.argc = 0;
        e.flags &= ~uint32_t{PROCMON_EVENT_FLAG_ARGV_TRUNCATED};
        masked = true;
    }
    if (masked) e.full_name = e.name;
    // Who runs it is in the ids group, as in a snapshot: unknown, the value
    // a uid filter already treats as undecidable.
    if (!(perm.see_others & PROCMON_FIELD_IDS)) e.uid = UINT32_MAX;
}

}  // namespace procmon::daemon
