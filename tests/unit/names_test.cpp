// The library's names (issue 17): every entry of the header's tables comes
// back from the library both ways, unknown values and names are refused,
// users are named as the system names them, and a process's portable state
// reads as its letter says.
#include <criterion/criterion.h>
#include <pwd.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "children.hpp"
#include "procmon.h"
#include "procmon_raii.hpp"

namespace {

int bits(uint64_t v) { return __builtin_popcountll(v); }

// name_of(value) is text, and from_name(text) gives value back.
template <class V>
void round_trip(const char *(*name_of)(V), int (*from_name)(const char *, V *), V value, const char *text) {
    V got = 0;
    const char *name = name_of(value);
    cr_expect(name != nullptr && std::strcmp(name, text) == 0, "value %llu: '%s', not '%s'",
              (unsigned long long)value, name ? name : "(null)", text);
    cr_expect_eq(from_name(text, &got), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(got, value, "'%s': %llu, not %llu", text, (unsigned long long)got, (unsigned long long)value);
}

const procmon_process *find_in(const Snap &snap, pid_t pid) {
    const procmon_process *p = snap.find(pid);
    cr_assert_not_null(p, "pid %d missing from the snapshot", pid);
    return p;
}

}  // namespace

Test(names, every_field_group_round_trips) {
    int n = 0;
#define CHECK_FIELD(NAME, text) \
    round_trip<uint64_t>(procmon_field_name, procmon_field_from_name, PROCMON_FIELD_##NAME, text), ++n;
    PROCMON_FIELD_MAP(CHECK_FIELD)
#undef CHECK_FIELD
    // the table names every group there is, and nothing else
    cr_expect_eq(n, bits(PROCMON_FIELDS_ALL));
    for (int b = 0; b < 64; ++b) {
        const uint64_t bit = uint64_t{1} << b;
        cr_expect_eq(procmon_field_name(bit) != nullptr, (bit & PROCMON_FIELDS_ALL) != 0, "bit 0x%llx",
                     (unsigned long long)bit);
    }
    uint64_t v = 0;
    cr_expect_eq(procmon_field_from_name("default", &v), PROCMON_OK);
    cr_expect_eq(v, (uint64_t)PROCMON_FIELDS_DEFAULT);
    cr_expect_eq(procmon_field_from_name("all", &v), PROCMON_OK);
    cr_expect_eq(v, (uint64_t)PROCMON_FIELDS_ALL);
}

Test(names, field_name_wants_exactly_one_known_bit) {
    cr_expect_null(procmon_field_name(0));
    cr_expect_null(procmon_field_name(PROCMON_FIELD_CPU | PROCMON_FIELD_MEMORY));
    cr_expect_null(procmon_field_name(PROCMON_FIELDS_DEFAULT));
}

Test(names, unknown_names_are_einval_and_list_the_valid_ones) {
    uint64_t v = 7;
    cr_expect_eq(procmon_field_from_name("CPU", &v), PROCMON_EINVAL, "names are case-sensitive");
    cr_expect_eq(v, 7u, "*out untouched");
    const char *msg = procmon_error_last()->message;
    cr_expect(std::strstr(msg, "procmon_field_from_name") != nullptr, "%s", msg);
    cr_expect(std::strstr(msg, "'CPU'") != nullptr, "%s", msg);
    cr_expect(std::strstr(msg, "basic, cpu, memory") != nullptr && std::strstr(msg, "smaps, default, all") != nullptr,
              "%s", msg);
    cr_expect_eq(procmon_field_from_name("", &v), PROCMON_EINVAL);

    uint32_t u = 0;
    cr_expect_eq(procmon_event_type_from_name("fork", &u), PROCMON_EINVAL);
    cr_expect(std::strstr(procmon_error_last()->message, "start, exec, exit, uid, comm, lost") != nullptr, "%s",
              procmon_error_last()->message);
    cr_expect_eq(procmon_source_from_name("Netlink", &u), PROCMON_EINVAL);
    cr_expect(std::strstr(procmon_error_last()->message, "auto, polling, netlink") != nullptr, "%s",
              procmon_error_last()->message);
    cr_expect_eq(procmon_state_from_name("disk_sleep", &u), PROCMON_EINVAL, "psutil's spelling is disk-sleep");
    cr_expect_eq(procmon_state_from_name(nullptr, &u), PROCMON_EINVAL);
    cr_expect_eq(procmon_state_from_name("zombie", nullptr), PROCMON_EINVAL);
}

Test(names, every_event_type_round_trips) {
    int n = 0;
#define CHECK_EVENT(NAME, text) \
    round_trip<uint32_t>(procmon_event_type_name, procmon_event_type_from_name, PROCMON_EVENT_##NAME, text), ++n;
    PROCMON_EVENT_MAP(CHECK_EVENT)
#undef CHECK_EVENT
    cr_expect_eq(n, bits(PROCMON_EVENTS_ALL));
    cr_expect_null(procmon_event_type_name(0));
    cr_expect_null(procmon_event_type_name(PROCMON_EVENT_START | PROCMON_EVENT_EXIT));
    cr_expect_null(procmon_event_type_name(0x40));
}

Test(names, every_source_round_trips) {
#define CHECK_SOURCE(NAME, text) \
    round_trip<uint32_t>(procmon_source_name, procmon_source_from_name, PROCMON_SOURCE_##NAME, text);
    PROCMON_SOURCE_MAP(CHECK_SOURCE)
#undef CHECK_SOURCE
    cr_expect_null(procmon_source_name(3));
}

Test(names, every_state_round_trips) {
    int n = 0;
#define CHECK_STATE(NAME, value, text)                                                  \
    cr_expect_eq(PROCMON_STATE_##NAME, value);                                          \
    round_trip<uint32_t>(procmon_state_name, procmon_state_from_name, value, text), ++n;
    PROCMON_STATE_MAP(CHECK_STATE)
#undef CHECK_STATE
    cr_expect_eq(n, PROCMON_STATE_LAST_ + 1);
    cr_expect_null(procmon_state_name(PROCMON_STATE_LAST_ + 1));
}

Test(users, uid_0_is_root) {
    char name[64];
    cr_assert_eq(procmon_user_name(0, name, sizeof name), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_str_eq(name, "root");
    // asked again (now from the cache), and from several threads at once
    std::vector<std::thread> threads;
    std::vector<std::string> got(8);
    for (std::size_t i = 0; i < got.size(); ++i)
        threads.emplace_back([&got, i] {
            char n[64] = "";
            if (procmon_user_name(0, n, sizeof n) == PROCMON_OK) got[i] = n;
        });
    for (std::thread &t : threads) t.join();
    for (const std::string &g : got) cr_expect_eq(g, "root");
}

Test(users, the_name_the_system_gives_this_process_s_user) {
    const passwd *pw = getpwuid(geteuid());
    if (pw == nullptr) cr_skip_test("this process's uid %u has no user", (unsigned)geteuid());
    const std::string want = pw->pw_name;
    char name[256];
    cr_assert_eq(procmon_user_name(geteuid(), name, sizeof name), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_expect_eq(std::string(name), want);
}

Test(users, a_uid_with_no_user_is_enoent) {
    uint32_t uid = 3999999;
    while (getpwuid(uid) != nullptr) ++uid;
    char name[64] = "x";
    cr_expect_eq(procmon_user_name(uid, name, sizeof name), PROCMON_ENOENT);
    cr_expect_str_eq(name, "");
    cr_expect(std::strstr(procmon_error_last()->message, std::to_string(uid).c_str()) != nullptr, "%s",
              procmon_error_last()->message);
    cr_expect_eq(procmon_user_name(uid, name, sizeof name), PROCMON_ENOENT, "also when remembered");
}

Test(users, a_small_buffer_is_einval_saying_how_much_is_needed) {
    char name[8] = "xxxxxxx";
    cr_expect_eq(procmon_user_name(0, name, 4), PROCMON_EINVAL);
    cr_expect_str_eq(name, "", "buf holds \"\" after EINVAL");
    const char *msg = procmon_error_last()->message;
    cr_expect(std::strstr(msg, "needs 5 bytes") != nullptr, "%s", msg);
    cr_expect_eq(procmon_user_name(0, name, 5), PROCMON_OK, "exactly the size needed");
    cr_expect_str_eq(name, "root");
    cr_expect_eq(procmon_user_name(0, name, 0), PROCMON_EINVAL);
    cr_expect_eq(procmon_user_name(0, nullptr, 64), PROCMON_EINVAL);
}

Test(states, a_sleeping_child_is_sleeping) {
    Child kid = Child::exec_idle({"idle_child"});  // blocked in read(): S
    cr_assert(wait_for_state(kid.pid(), 'S'), "the child never slept");
    Ctx c;
    Snap snap(c.ctx);
    cr_assert_eq(snap.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    const procmon_process *p = find_in(snap, kid.pid());
    cr_expect_eq(p->state, 'S', "state keeps the kernel's letter");
    cr_expect_eq(p->state_kind, (uint32_t)PROCMON_STATE_SLEEPING, "state_kind %u", p->state_kind);
    cr_expect_str_eq(procmon_state_name(p->state_kind), "sleeping");
}

Test(states, a_zombie_child_is_zombie) {
    Child kid = Child::fork_with([](int) { _exit(0); });
    cr_assert(wait_for_state(kid.pid(), 'Z'), "the child never became a zombie");
    Ctx c;
    Snap snap(c.ctx);
    cr_assert_eq(snap.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    const procmon_process *p = find_in(snap, kid.pid());
    cr_expect_eq(p->state, 'Z');
    cr_expect_eq(p->state_kind, (uint32_t)PROCMON_STATE_ZOMBIE, "state_kind %u", p->state_kind);
    cr_expect(p->flags & PROCMON_PROC_ZOMBIE);
}

Test(states, a_stopped_process_in_a_fixture_tree_is_stopped) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.proc_root = PROCMON_TEST_FIXTURES "/basic";
    Ctx c(&o);
    cr_assert_eq(c.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    Snap snap(c.ctx);
    cr_assert_eq(snap.rc, PROCMON_OK, "%s", procmon_error_last()->message);
    const procmon_process *stopped = find_in(snap, 43);
    cr_expect_eq(stopped->state, 'T');
    cr_expect_eq(stopped->state_kind, (uint32_t)PROCMON_STATE_STOPPED);
    const procmon_process *zombie = find_in(snap, 100);
    cr_expect_eq(zombie->state_kind, (uint32_t)PROCMON_STATE_ZOMBIE);
    cr_expect_eq(find_in(snap, 1)->state_kind, (uint32_t)PROCMON_STATE_SLEEPING);
}
