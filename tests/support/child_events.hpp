// Whether a subscription reports a short-lived child: for tests that run in
// a forked child of their own (after dropping privileges), where Criterion's
// assertions cannot report, so a yes or no is what they need.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include "procmon.h"

// Forks a child that lives 300 ms, reaps it, and says whether s delivered
// its START and its EXIT within about 5 s.
inline bool sees_a_child_start_and_exit(procmon_subscription *s) {
    pid_t kid = fork();
    if (kid == 0) {
        usleep(300000);  // through a poll or two
        _exit(0);
    }
    waitpid(kid, nullptr, 0);
    bool start = false, exit = false;
    for (int i = 0; i < 100 && !(start && exit); ++i) {
        procmon_event ev[16];
        size_t n = 0;
        if (procmon_subscription_next(s, ev, sizeof ev[0], 16, &n, 50) != PROCMON_OK) return false;
        for (size_t k = 0; k < n; ++k) {
            start = start || (ev[k].pid == kid && ev[k].type == PROCMON_EVENT_START);
            exit = exit || (ev[k].pid == kid && ev[k].type == PROCMON_EVENT_EXIT);
        }
    }
    return start && exit;
}
