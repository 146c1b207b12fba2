// libproc2 (procps-ng 4, what ps and top use) reading the same facts as
// procmon's default fields, for a side-by-side in the same run.
#pragma once

#include <libproc2/pids.h>

#include <cstdio>
#include <cstdlib>

class Libproc2Reader {
public:
    Libproc2Reader() {
        static enum pids_item items[] = {
            PIDS_ID_PID,  PIDS_ID_PPID, PIDS_ID_PGRP, PIDS_ID_SESSION, PIDS_TTY,     PIDS_STATE,
            PIDS_FLAGS,   PIDS_CMD,     PIDS_ID_RUID, PIDS_ID_EUID,    PIDS_ID_SUID, PIDS_ID_RGID,
            PIDS_ID_EGID, PIDS_ID_SGID, PIDS_EXE,     PIDS_CMDLINE,    PIDS_TIME_START, PIDS_TICS_ALL,
            PIDS_VM_RSS,  PIDS_VM_SIZE, PIDS_NLWP,    PIDS_NICE,       PIDS_PRIORITY};
        if (procps_pids_new(&info_, items, sizeof items / sizeof *items) < 0) {
            std::fprintf(stderr, "procps_pids_new failed\n");
            std::exit(1);
        }
    }
    ~Libproc2Reader() { procps_pids_unref(&info_); }
    std::size_t enumerate() {
        pids_fetch *f = procps_pids_reap(info_, PIDS_FETCH_TASKS_ONLY);
        return f ? static_cast<std::size_t>(f->counts->total) : 0;
    }

private:
    pids_info *info_ = nullptr;
};
