// The tracker takes what a push source saw at an exec (KernelEvent::carried)
// over what /proc says later: a source in the kernel sees the new image
// before the process can exec again or exit. Fed by hand against the fixture
// tree, whose process 200 runs nginx.
#include <criterion/criterion.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "events/tracker.hpp"

using procmon::events::Batch;
using procmon::events::Tracker;
using procmon::platform::KernelEvent;

namespace {

struct Fixture {
    std::shared_ptr<procmon::Arena> arena;
    std::unique_ptr<Tracker> tracker;
    Fixture() {
        cr_assert_eq(procmon::Arena::create(8 << 20, arena), PROCMON_OK);
        cr_assert_eq(Tracker::open(arena, PROCMON_TEST_FIXTURES "/basic", tracker), PROCMON_OK);
    }
    // The one event the tracker makes of k.
    procmon::events::Pending handle(const KernelEvent &k) {
        Batch out{procmon::ArenaAllocator<procmon::events::Pending>(arena.get())};
        tracker->handle(k, false, out);
        cr_assert_eq(out.size(), 1u);
        return std::move(out.front());
    }
};

KernelEvent exec_of(int32_t pid) {
    KernelEvent k{};
    k.kind = KernelEvent::execed;
    k.pid = k.tgid = pid;
    return k;
}

const char kArgv[] = "python3\0-m\0http.server\0";  // what the source saw

}  // namespace

Test(tracker, exec_reports_the_exe_and_argv_the_source_carried_not_what_proc_says) {
    Fixture f;
    KernelEvent k = exec_of(200);
    k.carried = KernelEvent::carries_exe | KernelEvent::carries_argv;
    k.exe = "/usr/bin/python3.12";
    k.exe_len = std::strlen(k.exe);
    k.argv = kArgv;
    k.argv_len = sizeof kArgv - 1;
    auto p = f.handle(k);
    cr_expect_eq(p.e.type, PROCMON_EVENT_EXEC);
    cr_expect_eq(p.e.pid, 200);
    cr_expect_eq(p.e.ppid, 1, "the identity is still read");
    cr_expect_eq(p.e.uid, 0u);
    cr_expect_eq(p.e.flags & PROCMON_EVENT_FLAG_PARTIAL, 0u);
    auto *s = p.strings.get();
    cr_assert_not_null(s);
    cr_expect_str_eq(s->exe(), "/usr/bin/python3.12");
    cr_expect_eq(s->argv_len(), sizeof kArgv - 1);
    cr_expect_eq(std::string(s->argv(), s->argv_len()), std::string(kArgv, sizeof kArgv - 1));
    cr_expect_eq(s->argc(), 3u);
    cr_expect_str_eq(s->name(), "nginx", "the name is the comm, read as before");
}

Test(tracker, exec_reads_proc_for_what_the_source_did_not_carry) {
    Fixture f;
    KernelEvent k = exec_of(200);
    k.carried = KernelEvent::carries_argv;  // argv only: exe from /proc
    k.argv = kArgv;
    k.argv_len = sizeof kArgv - 1;
    auto p = f.handle(k);
    cr_assert_not_null(p.strings.get());
    cr_expect_str_eq(p.strings.get()->exe(), "/usr/sbin/nginx");
    cr_expect_eq(std::string(p.strings.get()->argv(), p.strings.get()->argv_len()), std::string(kArgv, sizeof kArgv - 1));

    auto plain = f.handle(exec_of(200));  // netlink's exec: nothing carried
    cr_assert_not_null(plain.strings.get());
    cr_expect_str_eq(plain.strings.get()->exe(), "/usr/sbin/nginx");
    cr_expect_eq(std::string(plain.strings.get()->argv(), plain.strings.get()->argv_len()), std::string("nginx\0", 6));
}
