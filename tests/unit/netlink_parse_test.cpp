// The connector message parser on hand-made buffers: what real messages
// decode to, and that short, lying or foreign ones are counted and skipped
// without reading past the buffer.
#include <criterion/criterion.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "connector_messages.hpp"
#include "platform/linux/connector.hpp"

using procmon::platform::KernelEvent;
using procmon::platform::KernelEvents;
using procmon::testing::exec_event;
using procmon::testing::exit_event;
using procmon::testing::fork_event;
using procmon::testing::message;

namespace {

std::shared_ptr<procmon::Arena> arena() {
    std::shared_ptr<procmon::Arena> a;
    procmon::Arena::create(16 << 20, a);
    return a;
}

}  // namespace

Test(netlink_parse, real_messages_decode) {
    auto a = arena();
    KernelEvents out{procmon::ArenaAllocator<KernelEvent>(a.get())};
    std::vector<char> buf = message(fork_event(10, 11));
    auto m2 = message(exec_event(11)), m3 = message(exit_event(11, 7 << 8)), m4 = message(exit_event(12, SIGKILL));
    buf.insert(buf.end(), m2.begin(), m2.end());
    buf.insert(buf.end(), m3.begin(), m3.end());
    buf.insert(buf.end(), m4.begin(), m4.end());
    cr_expect_eq(procmon::platform::parse_connector_messages(buf.data(), buf.size(), out), 0u);
    cr_assert_eq(out.size(), 4u);
    cr_expect_eq(out[0].kind, KernelEvent::forked);
    cr_expect_eq(out[0].pid, 11);
    cr_expect_eq(out[0].parent_tgid, 10);
    cr_expect_eq(out[0].time_ns, 123u);
    cr_expect_eq(out[1].kind, KernelEvent::execed);
    cr_expect_eq(out[2].exit_code, 7);
    cr_expect_eq(out[2].exit_signal, 0);
    cr_expect_eq(out[3].exit_code, -1);
    cr_expect_eq(out[3].exit_signal, SIGKILL);
}

Test(netlink_parse, threads_keep_their_tgid) {
    auto a = arena();
    KernelEvents out{procmon::ArenaAllocator<KernelEvent>(a.get())};
    proc_event ev = fork_event(20, 21);
    ev.event_data.fork.child_tgid = 20;  // a new thread of 20
    auto buf = message(ev);
    procmon::platform::parse_connector_messages(buf.data(), buf.size(), out);
    cr_assert_eq(out.size(), 1u);
    cr_expect_eq(out[0].pid, 21);
    cr_expect_eq(out[0].tgid, 20);
}

Test(netlink_parse, short_lying_and_foreign_messages_are_counted_and_skipped) {
    auto a = arena();
    KernelEvents out{procmon::ArenaAllocator<KernelEvent>(a.get())};
    auto good = message(fork_event(1, 2));

    // cut in the middle of the header, and in the middle of the payload
    cr_expect_eq(procmon::platform::parse_connector_messages(good.data(), 7, out), 1u);
    cr_expect_eq(procmon::platform::parse_connector_messages(good.data(), good.size() - 9, out), 1u);
    // a length that claims more than the buffer
    auto lying = good;
    reinterpret_cast<nlmsghdr *>(lying.data())->nlmsg_len = 60000;
    cr_expect_eq(procmon::platform::parse_connector_messages(lying.data(), lying.size(), out), 1u);
    // another connector's message
    auto foreign = message(fork_event(1, 2), CN_IDX_PROC + 1);
    cr_expect_eq(procmon::platform::parse_connector_messages(foreign.data(), foreign.size(), out), 1u);
    // a cn_msg whose len says less than an event
    auto tiny = good;
    cn_msg cn;
    std::memcpy(&cn, NLMSG_DATA(reinterpret_cast<nlmsghdr *>(tiny.data())), sizeof cn);
    cn.len = 4;
    std::memcpy(NLMSG_DATA(reinterpret_cast<nlmsghdr *>(tiny.data())), &cn, sizeof cn);
    cr_expect_eq(procmon::platform::parse_connector_messages(tiny.data(), tiny.size(), out), 1u);
    cr_expect_eq(out.size(), 0u, "nothing was made up from bad input");

    // a bad message after a good one keeps the good one
    auto both = good;
    both.insert(both.end(), lying.begin(), lying.end());
    cr_expect_eq(procmon::platform::parse_connector_messages(both.data(), both.size(), out), 1u);
    cr_expect_eq(out.size(), 1u);
}

// Every prefix of a good message, and the message followed by zeros: the
// whole message is one event and nothing else; less is one bad message
// (none for no bytes); anything after it is one bad message more.
Test(netlink_parse, every_cut_of_a_message_is_counted_never_decoded) {
    auto a = arena();
    KernelEvents out{procmon::ArenaAllocator<KernelEvent>(a.get())};
    const auto good = message(fork_event(1, 2));
    for (std::size_t n = 0; n <= good.size() * 2; ++n) {
        std::vector<char> buf = good;
        buf.resize(n);
        std::unique_ptr<char[]> exact(new char[n]);  // exactly n: ASan sees an overread
        if (n > 0) std::memcpy(exact.get(), buf.data(), n);
        out.clear();
        const std::size_t bad = procmon::platform::parse_connector_messages(exact.get(), n, out);
        const std::size_t events = n >= good.size() ? 1 : 0;
        cr_expect_eq(out.size(), events, "%zu of %zu bytes: %zu events", n, good.size(), out.size());
        cr_expect_eq(bad, n == 0 || n == good.size() ? 0u : 1u, "%zu of %zu bytes: %zu bad", n, good.size(), bad);
        if (out.size() == 1) {
            cr_expect_eq(out[0].kind, KernelEvent::forked);
            cr_expect_eq(out[0].pid, 2);
            cr_expect_eq(out[0].parent_tgid, 1);
        }
    }
}

// Random damage: never a read past the buffer (each is a heap block of
// exactly its size, for ASan), never an event without a positive pid and
// tgid, never more events than whole messages fit, and the same bytes give
// the same answer.
Test(netlink_parse, random_bytes_never_read_past_the_buffer) {
    auto a = arena();
    KernelEvents out{procmon::ArenaAllocator<KernelEvent>(a.get())}, again{procmon::ArenaAllocator<KernelEvent>(a.get())};
    std::mt19937 rng(42);
    auto good = message(fork_event(1, 2));
    // the smallest message that can carry an event: header, cn_msg, proc_event up to its data
    const std::size_t smallest = NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(cn_msg) + offsetof(proc_event, event_data));
    std::size_t decoded = 0;
    for (int round = 0; round < 5000; ++round) {
        std::vector<char> buf = good;
        buf.resize(rng() % (good.size() * 2 + 1));
        for (char &c : buf)
            if (rng() % 4 == 0) c = static_cast<char>(rng());
        std::unique_ptr<char[]> exact(new char[buf.size()]);
        if (!buf.empty()) std::memcpy(exact.get(), buf.data(), buf.size());
        out.clear();
        const std::size_t bad = procmon::platform::parse_connector_messages(exact.get(), buf.size(), out);
        cr_assert_leq(out.size(), buf.size() / smallest, "round %d: %zu events from %zu bytes", round, out.size(),
                      buf.size());
        for (const KernelEvent &k : out)
            cr_assert(k.pid > 0 && k.tgid > 0, "round %d: an event with pid %d, tgid %d", round, k.pid, k.tgid);
        again.clear();
        cr_assert_eq(procmon::platform::parse_connector_messages(exact.get(), buf.size(), again), bad, "round %d", round);
        cr_assert_eq(again.size(), out.size(), "round %d", round);
        decoded += out.size();
    }
    cr_expect_gt(decoded, 0u, "no round decoded an event: the damage never left a message whole");
}
