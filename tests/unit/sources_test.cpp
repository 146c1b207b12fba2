// Which event source runs, as procmon_options.event_source asks: AUTO takes
// the netlink proc connector when permitted and otherwise polls, saying why;
// POLLING polls; NETLINK runs netlink or procmon_subscribe fails. The stats
// name the source in force. (A refused bind is injected in
// tests/fault/netlink_test.c: there NETLINK fails with EPERM on any kernel.)
#include <criterion/criterion.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "child_events.hpp"
#include "procmon_raii.hpp"

namespace {

procmon_options with_source(uint32_t source) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.event_source = source;
    o.poll_interval_ms = 50;
    return o;
}

procmon_stats stats_of(procmon_ctx *ctx) {
    procmon_stats st{};
    st.size = sizeof st;
    procmon_stats_get(&st, ctx);
    return st;
}

procmon_subscribe_options mine() {
    procmon_subscribe_options o = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    o.descendants_of = getpid();
    return o;
}

}  // namespace

Test(sources, event_source_outside_the_three_is_einval_naming_them) {
    procmon_options o = with_source(3);
    procmon_ctx *ctx = nullptr;
    cr_expect_eq(procmon_open(&ctx, &o), PROCMON_EINVAL);
    cr_expect_null(ctx);
    const std::string why = procmon_error_last()->message;
    cr_expect_neq(why.find("event_source 3"), std::string::npos, "%s", why.c_str());
    cr_expect_neq(why.find("NETLINK 2"), std::string::npos, "%s", why.c_str());
}

Test(sources, no_source_is_named_before_a_subscription) {
    procmon_options o = with_source(PROCMON_SOURCE_AUTO);
    Ctx c(&o);
    procmon_stats st = stats_of(c.ctx);
    cr_expect_eq(st.event_source, static_cast<uint32_t>(PROCMON_STATS_SOURCE_NONE));
    cr_expect_str_eq(st.source_name, "");
}

Test(sources, polling_runs_polling_and_names_it) {
    procmon_options o = with_source(PROCMON_SOURCE_POLLING);
    Ctx c(&o);
    procmon_subscription *s = nullptr;
    procmon_subscribe_options so = mine();
    cr_assert_eq(procmon_subscribe(&s, c.ctx, &so), PROCMON_OK);
    procmon_stats st = stats_of(c.ctx);
    cr_expect_str_eq(st.source_name, "polling");
    cr_expect_eq(st.event_source, static_cast<uint32_t>(PROCMON_STATS_SOURCE_POLLING));
    cr_expect_eq(st.poll_interval_ms, 50u);
    cr_expect(sees_a_child_start_and_exit(s));
    procmon_unsubscribe(s);
    cr_expect_str_eq(stats_of(c.ctx).source_name, "", "no source once the last subscription went");
}

Test(sources, netlink_as_root_runs_netlink_and_names_it) {
    if (geteuid() != 0) cr_skip_test("needs root: CAP_NET_ADMIN before Linux 6.6");
    procmon_options o = with_source(PROCMON_SOURCE_NETLINK);
    Ctx c(&o);
    procmon_subscription *s = nullptr;
    procmon_subscribe_options so = mine();
    cr_assert_eq(procmon_subscribe(&s, c.ctx, &so), PROCMON_OK, "%s", procmon_error_last()->message);
    procmon_stats st = stats_of(c.ctx);
    cr_expect_str_eq(st.source_name, "netlink");
    cr_expect_eq(st.event_source, static_cast<uint32_t>(PROCMON_STATS_SOURCE_NETLINK));
    cr_expect_str_eq(st.source_reason, "netlink proc connector");
    cr_expect_eq(st.poll_interval_ms, 0u);
    cr_expect(sees_a_child_start_and_exit(s));
    procmon_unsubscribe(s);
}

// The kernel's events are not about a fixture tree: NETLINK refuses one
// rather than quietly polling it; AUTO polls it, saying why.
Test(sources, netlink_on_a_fixture_tree_is_refused_and_auto_polls_it) {
    procmon_options o = with_source(PROCMON_SOURCE_NETLINK);
    o.proc_root = PROCMON_TEST_FIXTURES "/basic";
    Ctx c(&o);
    procmon_subscription *s = nullptr;
    cr_assert_eq(procmon_subscribe(&s, c.ctx, nullptr), PROCMON_EUNSUPPORTED);
    cr_expect_null(s);
    cr_expect(std::strstr(procmon_error_last()->message, "not the process table at") != nullptr, "%s",
              procmon_error_last()->message);
    cr_expect_str_eq(stats_of(c.ctx).source_name, "");

    procmon_options a = with_source(PROCMON_SOURCE_AUTO);
    a.proc_root = PROCMON_TEST_FIXTURES "/basic";
    Ctx auto_ctx(&a);
    cr_assert_eq(procmon_subscribe(&s, auto_ctx.ctx, nullptr), PROCMON_OK);
    cr_expect_str_eq(stats_of(auto_ctx.ctx).source_name, "polling");
    cr_expect(std::strstr(stats_of(auto_ctx.ctx).source_reason, "proc_root") != nullptr);
    procmon_unsubscribe(s);
}

// A child that dropped root: NETLINK either runs netlink (Linux 6.6 and
// later let anyone listen) or fails with EPERM saying why, and AUTO then
// falls back to polling with that reason. Exit codes say which check failed.
Test(sources, unprivileged_netlink_fails_with_eperm_or_runs_and_auto_agrees) {
    if (geteuid() != 0) cr_skip_test("run as root to drop privileges in a child");
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
        procmon_subscribe_options so = mine();
        procmon_ctx *ctx = nullptr;
        procmon_options o = with_source(PROCMON_SOURCE_NETLINK);
        if (procmon_open(&ctx, &o) != PROCMON_OK) _exit(11);
        procmon_subscription *s = nullptr;
        const int rc = procmon_subscribe(&s, ctx, &so);
        if (rc != PROCMON_OK && rc != PROCMON_EPERM) _exit(12);
        if (rc == PROCMON_EPERM && std::strstr(procmon_error_last()->message, "CAP_NET_ADMIN") == nullptr) _exit(13);
        if (rc == PROCMON_OK && std::strcmp(stats_of(ctx).source_name, "netlink") != 0) _exit(14);
        procmon_unsubscribe(s);
        procmon_close(ctx);

        o = with_source(PROCMON_SOURCE_AUTO);
        if (procmon_open(&ctx, &o) != PROCMON_OK) _exit(15);
        if (procmon_subscribe(&s, ctx, &so) != PROCMON_OK) _exit(16);
        const procmon_stats st = stats_of(ctx);
        const char *expected = rc == PROCMON_EPERM ? "polling" : "netlink";
        if (std::strcmp(st.source_name, expected) != 0) _exit(17);
        if (rc == PROCMON_EPERM && std::strstr(st.source_reason, "CAP_NET_ADMIN") == nullptr) _exit(18);
        if (!sees_a_child_start_and_exit(s)) _exit(19);
        procmon_unsubscribe(s);
        procmon_close(ctx);
        _exit(rc == PROCMON_EPERM ? 0 : 1);  // 1: this kernel let nobody listen
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "child check %d failed", WEXITSTATUS(status));
    if (WEXITSTATUS(status) == 1) cr_log_info("this kernel lets unprivileged processes listen: netlink ran as nobody");
}
