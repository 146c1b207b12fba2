// What filters mean: the name users see (psutil's rule for names the kernel
// cut at 15 bytes), the command line, and events a filter cannot decide
// (dropped and counted by default, passed on request, never silent).
#include <criterion/criterion.h>

#include <memory>
#include <string>

#include "core/names.hpp"
#include "events/subscription.hpp"

using procmon::full_name;
using procmon::events::EventStrings;
using procmon::events::Filter;
using procmon::events::StringsRef;
using procmon::events::Subscription;

namespace {

std::string full(const char *comm, const std::string &argv, const char *exe) {
    return std::string(full_name(comm, argv.data(), argv.size(), exe));
}

std::shared_ptr<procmon::Arena> arena() {
    std::shared_ptr<procmon::Arena> a;
    cr_assert_eq(procmon::Arena::create(8 << 20, a), PROCMON_OK);
    return a;
}

procmon_event exec_event(uint32_t uid = 1000) {
    procmon_event e{};
    e.size = sizeof e;
    e.type = PROCMON_EVENT_EXEC;
    e.pid = 4242;
    e.uid = uid;
    return e;
}

auto no_tree = [](int32_t, int32_t) { return true; };

}  // namespace

Test(full_name, psutil_rule) {
    const std::string args("/opt/bin/a_very_long_program_name\0--x\0", 38);
    cr_expect_eq(full("a_very_long_pro", args, ""), "a_very_long_program_name");
    // argv[0] rewritten: the executable's base name
    cr_expect_eq(full("a_very_long_pro", std::string("worker\0", 7), "/usr/bin/a_very_long_program_x"),
                 "a_very_long_program_x");
    // renamed: neither starts with the comm
    cr_expect_eq(full("renamed_to_this", std::string("python3\0", 8), "/usr/bin/python3"), "renamed_to_this");
    // not cut: the comm, whatever argv says
    cr_expect_eq(full("short", args, "/x/short_and_more"), "short");
    // no argv, no exe (a zombie, a kernel thread)
    cr_expect_eq(full("a_very_long_pro", std::string(), ""), "a_very_long_pro");
    // a base name equal to the comm adds nothing; one without a slash counts
    cr_expect_eq(full("a_very_long_pro", std::string("a_very_long_pro\0", 16), ""), "a_very_long_pro");
    cr_expect_eq(full("a_very_long_pro", std::string("a_very_long_program\0", 20), ""), "a_very_long_program");
    // argv's first argument unterminated within argv_len: read up to argv_len
    cr_expect_eq(std::string(full_name("a_very_long_pro", "a_very_long_progXYZ", 16, "")), "a_very_long_prog");
}

Test(filter, name_and_cmdline_match_the_full_name_and_joined_argv) {
    auto a = arena();
    const std::string args("/opt/bin/a_very_long_program_name\0--serve\0port=80\0", 50);
    StringsRef s(EventStrings::make(a.get(), "a_very_long_pro", "/opt/bin/a_very_long_program_name", args.data(),
                                    args.size(), 3));
    cr_expect_str_eq(s.get()->full_name(), "a_very_long_program_name");
    Filter by_name;
    by_name.has_name = true;
    by_name.name_glob = "a_very_long_program_name";
    cr_expect(by_name.judge(exec_event(), s.get(), no_tree) == Filter::Verdict::pass);
    by_name.name_glob = "a_very_long_pro";  // the kernel's cut is not the name
    cr_expect(by_name.judge(exec_event(), s.get(), no_tree) == Filter::Verdict::reject);

    Filter by_line;
    by_line.has_cmdline = true;
    by_line.cmdline_glob = "*--serve port=80";
    cr_expect(by_line.judge(exec_event(), s.get(), no_tree) == Filter::Verdict::pass);
    by_line.cmdline_glob = "*--serve";  // anchored: the whole line
    cr_expect(by_line.judge(exec_event(), s.get(), no_tree) == Filter::Verdict::reject);
}

Test(filter, unknown_fields_are_undecidable_never_a_pass) {
    Filter by_name;
    by_name.has_name = true;
    by_name.name_glob = "x";
    cr_expect(by_name.judge(exec_event(), nullptr, no_tree) == Filter::Verdict::undecidable);
    Filter by_uid;
    by_uid.uid = 1000;
    cr_expect(by_uid.judge(exec_event(UINT32_MAX), nullptr, no_tree) == Filter::Verdict::undecidable);
    cr_expect(by_uid.judge(exec_event(1001), nullptr, no_tree) == Filter::Verdict::reject, "a known mismatch decides");
    Filter none;  // nothing to decide: passes
    cr_expect(none.judge(exec_event(UINT32_MAX), nullptr, no_tree) == Filter::Verdict::pass);
    procmon_event lost{};
    lost.type = PROCMON_EVENT_LOST;
    cr_expect(by_name.judge(lost, nullptr, no_tree) == Filter::Verdict::pass, "LOST always reaches");
}

Test(filter, undecidable_events_are_dropped_and_counted_or_passed_when_asked) {
    auto a = arena();
    for (bool pass : {false, true}) {
        Filter f;
        f.has_name = true;
        f.name_glob = "sleep";
        f.pass_undecidable = pass;
        Subscription sub(a, f, 16);
        StringsRef none;
        auto offered = sub.offer(exec_event(), none, no_tree);
        cr_expect_eq(offered.passed, pass);
        procmon_subscription_stats st{};
        st.size = sizeof st;
        sub.stats(st);
        cr_expect_eq(st.undecidable, 1u);
        cr_expect_eq(st.received, 1u);
        cr_expect_eq(st.filtered, pass ? 0u : 1u);
        cr_expect_eq(st.delivered, pass ? 1u : 0u);
        cr_expect_eq(st.queue_depth, pass ? 1u : 0u);
    }
}

// readlink of a deleted executable ends " (deleted)": not part of the name.
Test(full_name, a_deleted_executable_keeps_its_name) {
    cr_expect_eq(full("memfd:sealed-91", std::string(), "/memfd:sealed-91173221a7ea (deleted)"),
                 "memfd:sealed-91173221a7ea");
}
