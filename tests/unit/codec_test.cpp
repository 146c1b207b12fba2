// The wire codecs (src/codec): the journal's event bytes are exactly what
// they were (old journals stay readable); a live snapshot of this machine
// survives encoding and decoding field for field, strings byte for byte,
// served to procmon_enumerate through a context whose records come from
// bytes; and hostile bytes (cut anywhere, lengths past the end, huge
// varints, a newer version) are refused with a status, never read past.
#include <criterion/criterion.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "capi/context.hpp"
#include "codec/event.hpp"
#include "codec/process.hpp"
#include "collect/decoded_record_source.hpp"
#include "journal/format.hpp"
#include "procmon.h"

using namespace procmon;
using Bytes = std::vector<unsigned char>;

namespace {

// Every field of a and b alike: the strings by content, then the whole
// struct bit for bit with its string pointers blanked (so a field the codec
// forgot, or one appended later and not encoded, fails here too).
void expect_same_process(const procmon_process &a, const procmon_process &b) {
    cr_assert_eq(a.pid, b.pid);
    const char *const *sa[] = {&a.name, &a.exe, &a.cwd, &a.cgroup, &a.container_id, &a.full_name};
    const char *const *sb[] = {&b.name, &b.exe, &b.cwd, &b.cgroup, &b.container_id, &b.full_name};
    for (std::size_t i = 0; i < std::size(sa); ++i) cr_expect_str_eq(*sa[i], *sb[i], "pid %d, string %zu", a.pid, i);
    cr_assert_eq(a.argv_len, b.argv_len, "pid %d", a.pid);
    cr_expect(a.argv_len == 0 || std::memcmp(a.argv, b.argv, a.argv_len) == 0, "pid %d argv", a.pid);
    procmon_process x = a, y = b;
    for (procmon_process *p : {&x, &y}) p->name = p->exe = p->argv = p->cwd = p->cgroup = p->container_id = p->full_name = nullptr;
    cr_expect(std::memcmp(&x, &y, sizeof x) == 0, "pid %d: a field differs", a.pid);
}

// A context whose records are decoded from `bytes` (the daemon client's shape).
struct DecodedContext {
    procmon_ctx *ctx = nullptr;
    std::shared_ptr<Bytes> bytes = std::make_shared<Bytes>();
    DecodedContext() {
        cr_assert_eq(procmon_open(&ctx, nullptr), PROCMON_OK);
        ctx->records = std::make_unique<DecodedRecordSource>(ctx->arena, [b = bytes](const Query &, Bytes &out) {
            out = *b;
            return PROCMON_OK;
        });
    }
    ~DecodedContext() { procmon_close(ctx); }
};

procmon_process odd_process() {
    static const char argv[] = "\xff\x01tool\0\0--x=\"y z\"\0";  // an empty argument, bytes that are not UTF-8
    procmon_process p{};
    p.size = sizeof p;
    p.flags = PROCMON_PROC_ARGV_TRUNCATED | PROCMON_PROC_ZOMBIE;
    p.valid = PROCMON_FIELDS_ALL;
    p.pid = INT32_MAX, p.ppid = -1, p.pgid = INT32_MIN, p.sid = 0, p.tty = 34816;
    p.state = 'Z';
    p.uid = UINT32_MAX, p.euid = 0, p.suid = 1, p.gid = 65534, p.egid = 7, p.sgid = UINT32_MAX - 1;
    p.name = "kworker/0:1-events_unbound";
    p.exe = "/usr/bin/t\xc3\xa9st (deleted)";
    p.argv = argv;
    p.argv_len = sizeof argv;
    p.argc = 3;
    p.threads = 4096;
    p.start_ticks = UINT64_MAX, p.start_time_ns = 1764600000123456789ull, p.utime_ns = 1, p.stime_ns = 0;
    p.cpu_percent = std::nan("");
    p.rss_bytes = 1ull << 40, p.vms_bytes = UINT64_MAX;
    p.nice = -20, p.priority = 39;
    p.cwd = "/";
    p.fd_count = 1u << 20;
    p.io_rchar = 1, p.io_wchar = 2, p.io_syscr = 3, p.io_syscw = 4, p.io_read_bytes = 5, p.io_write_bytes = 6;
    p.voluntary_ctxt_switches = 7, p.nonvoluntary_ctxt_switches = UINT64_MAX;
    p.cgroup = "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";
    p.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    p.full_name = "kworker/0:1-events_unbound";
    p.mem_percent = -0.0;
    p.pss_bytes = 8, p.uss_bytes = 9, p.swap_bytes = 10;
    p.state_kind = PROCMON_STATE_ZOMBIE;
    return p;
}

// Decodes bytes held in a buffer of exactly their size (ASan sees any over-read).
codec::Decode decode(const unsigned char *p, std::size_t n, std::size_t *records = nullptr) {
    std::unique_ptr<unsigned char[]> exact(new unsigned char[n ? n : 1]);
    if (n) std::memcpy(exact.get(), p, n);
    auto arena = std::shared_ptr<Arena>();
    cr_assert_eq(Arena::create(16u << 20, arena), PROCMON_OK);
    procmon_snapshot snap(arena);
    const codec::Decode d = codec::decode_processes(exact.get(), n, snap);
    if (records) *records = snap.records.capacity();
    return d;
}
codec::Decode decode(const Bytes &b, std::size_t *records = nullptr) { return decode(b.data(), b.size(), records); }

Bytes one_record(const procmon_process &p) {
    Bytes b;
    codec::encode_processes(b, &p, 1);
    return b;
}

// A list of one record of `body` (version 1), then zeros so that the list's
// count passes its check against the bytes left: the record itself is judged.
Bytes list_of_one(const Bytes &body, uint64_t len) {
    Bytes b = {1, codec::kRecordVersion};
    codec::put_varint(b, len);
    b.insert(b.end(), body.begin(), body.end());
    b.resize(std::max(b.size(), codec::kMinRecordBytes + 1), 0);
    return b;
}

}  // namespace

// Bytes written by the journal before src/codec existed, for this event.
Test(event_codec, journal_records_are_byte_identical_to_format_1) {
    procmon_event e{};
    e.size = sizeof e, e.type = PROCMON_EVENT_EXIT, e.flags = PROCMON_EVENT_FLAG_ARGV_TRUNCATED;
    e.pid = 4242, e.ppid = -1, e.uid = 1000, e.time_ns = 1764600000123456789ull, e.start_time_ns = e.time_ns - 2500000000ull;
    e.start_ticks = 987654, e.exit_code = -3, e.exit_signal = 9, e.lifetime_ns = 2500000000ull, e.argc = 2;
    static const char argv[] = "sleep\0" "60";
    e.name = "sleep", e.exe = "/usr/bin/sleep", e.argv = argv, e.argv_len = sizeof argv;
    static const unsigned char golden[] =
        "\x43\x00\x00\x00\xaf\x8d\x97\xa3\x4d\x00\x00\x00\x00\x00\x00\x00\x04\x10\xa4\x42\x01\xe9\x07\x95\x9a\x8d\x90\x9d"
        "\xcb\xc7\xbe\x18\x80\xe4\x97\xd0\x12\x86\xa4\x3c\x05\x12\x80\xf2\x8b\xa8\x09\x00\x02\x05\x73\x6c\x65\x65\x70\x00"
        "\x0e\x2f\x75\x73\x72\x2f\x62\x69\x6e\x2f\x73\x6c\x65\x65\x70\x00\x09\x73\x6c\x65\x65\x70\x00\x36\x30\x00\x00";
    Bytes out;
    journal::append_record(out, 77, e);
    cr_assert_eq(out.size(), sizeof golden - 1);
    cr_expect(std::memcmp(out.data(), golden, out.size()) == 0, "the journal's record bytes changed");

    procmon_event back;
    cr_assert(codec::decode_event(out.data() + journal::kRecordHeaderBytes, out.size() - journal::kRecordHeaderBytes, back));
    cr_expect_eq(back.pid, 4242);
    cr_expect_eq(back.ppid, -1);
    cr_expect_eq(back.uid, 1000u);
    cr_expect_eq(back.start_time_ns, e.start_time_ns);
    cr_expect_eq(back.exit_code, -3);
    cr_expect_str_eq(back.exe, "/usr/bin/sleep");
    cr_expect_eq(back.argv_len, sizeof argv);
    cr_expect(std::memcmp(back.argv, argv, sizeof argv) == 0);
}

Test(process_codec, a_zeroed_record_takes_the_fewest_bytes) {
    procmon_process p{};
    Bytes b;
    codec::encode_process(b, p);
    cr_expect_eq(b.size(), codec::kMinRecordBytes);
}

Test(process_codec, extreme_values_and_odd_bytes_round_trip) {
    const procmon_process p = odd_process();
    DecodedContext dc;
    *dc.bytes = one_record(p);
    procmon_snapshot *s = nullptr;
    cr_assert_eq(procmon_enumerate(&s, dc.ctx, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(procmon_snapshot_count(s), 1u);
    expect_same_process(p, *procmon_snapshot_at(s, 0));
    cr_expect_eq(procmon_snapshot_find(s, INT32_MAX), procmon_snapshot_at(s, 0));
    procmon_snapshot_free(s);
}

// This machine, every field: encoded, served by a context's DecodedRecordSource,
// read back through procmon_enumerate.
Test(process_codec, a_live_snapshot_round_trips_through_a_decoded_context) {
    procmon_ctx *local = nullptr;
    cr_assert_eq(procmon_open(&local, nullptr), PROCMON_OK);
    procmon_query q = PROCMON_QUERY_INIT;
    q.fields = PROCMON_FIELDS_ALL;
    procmon_snapshot *live = nullptr;
    cr_assert_eq(procmon_enumerate(&live, local, &q), PROCMON_OK, "%s", procmon_error_last()->message);
    const std::size_t n = procmon_snapshot_count(live);
    cr_assert_gt(n, 1u);
    const procmon_process *self = procmon_snapshot_find(live, getpid());
    cr_assert_not_null(self);
    cr_assert_gt(self->argv_len, 0u, "the test's own argv is read");
    cr_assert_str_neq(self->cwd, "");

    DecodedContext dc;
    codec::encode_processes(*dc.bytes, live->records.data(), n);
    procmon_snapshot *back = nullptr;
    cr_assert_eq(procmon_enumerate(&back, dc.ctx, &q), PROCMON_OK, "%s", procmon_error_last()->message);
    cr_assert_eq(procmon_snapshot_count(back), n);
    for (std::size_t i = 0; i < n; ++i) expect_same_process(*procmon_snapshot_at(live, i), *procmon_snapshot_at(back, i));

    // The rest of the seam: no cache, no system figures, no signals from bytes.
    procmon_stats st{};
    st.size = sizeof st;
    cr_assert_eq(procmon_stats_get(&st, dc.ctx), PROCMON_OK);
    cr_expect_eq(st.enumerations, 1u);
    cr_expect_eq(st.cache_entries + st.cache_hits + st.cache_misses, 0u);
    procmon_system sys{};
    sys.size = sizeof sys;
    cr_expect_eq(procmon_system_get(&sys, dc.ctx), PROCMON_EUNSUPPORTED);
    cr_expect_eq(procmon_signal(dc.ctx, getpid(), self->start_ticks, 0), PROCMON_EUNSUPPORTED);
    cr_expect_eq(procmon_signal(local, getpid(), self->start_ticks, 0), PROCMON_OK);
    procmon_snapshot_free(back);
    procmon_snapshot_free(live);
    procmon_close(local);
}

Test(hostile_records, cut_at_every_byte_is_truncated) {
    procmon_process a = odd_process(), b = odd_process();
    a.pid = 1, b.pid = 2;
    b.argv = "x", b.argv_len = 2;
    const procmon_process both[] = {a, b};
    Bytes bytes;
    codec::encode_processes(bytes, both, 2);
    cr_assert_eq(decode(bytes), codec::Decode::ok);
    for (std::size_t k = 0; k < bytes.size(); ++k)
        cr_assert_eq(decode(bytes.data(), k), codec::Decode::truncated, "cut at %zu of %zu", k, bytes.size());
}

Test(hostile_records, lengths_past_the_end_or_above_the_maximum) {
    // A record that says it is longer than the bytes: truncated.
    cr_expect_eq(decode(list_of_one({}, 200)), codec::Decode::truncated);
    // A record's length above the maximum, whatever follows: too large.
    cr_expect_eq(decode(list_of_one({}, codec::kMaxRecordBytes + 1)), codec::Decode::too_large);
    // A string inside a record longer than the record: malformed, never read.
    Bytes body = {0, 0, 2, 2, 2, 2, 0, 'R', 0, 0, 0, 0, 0, 0};
    codec::put_varint(body, 1000);  // name: 1000 bytes, of which 3 are there
    body.insert(body.end(), {'a', 'b', 'c'});
    cr_expect_eq(decode(list_of_one(body, body.size())), codec::Decode::malformed);
    // A string without its terminating 0: malformed.
    Bytes rec = one_record(odd_process());
    const std::string name = odd_process().name;
    auto at = std::search(rec.begin(), rec.end(), name.begin(), name.end()) + static_cast<std::ptrdiff_t>(name.size());
    cr_assert_eq(*at, 0);
    *at = 'x';
    cr_expect_eq(decode(rec), codec::Decode::malformed);
}

Test(hostile_records, huge_counts_and_varints_allocate_nothing) {
    std::size_t reserved = 1;
    Bytes b;
    codec::put_varint(b, UINT64_MAX);
    cr_expect_eq(decode(b, &reserved), codec::Decode::too_large);
    cr_expect_eq(reserved, 0u);
    b.clear();
    codec::put_varint(b, codec::kMaxRecords);  // allowed, but 10 bytes cannot hold them
    b.resize(b.size() + 10, 0);
    cr_expect_eq(decode(b, &reserved), codec::Decode::truncated);
    cr_expect_eq(reserved, 0u);
    b.assign(11, 0xff);  // an 11-byte varint: no 64-bit value
    b.push_back(0);
    cr_expect_eq(decode(b), codec::Decode::malformed);
    // A pid that does not fit 32 bits.
    Bytes body = {0, 0};
    codec::put_varint(body, codec::zigzag(int64_t{1} << 40));
    cr_expect_eq(decode(list_of_one(body, body.size())), codec::Decode::malformed);
}

// A 10-byte varint holds bit 63 at most: one whose last byte says more is
// refused, not cut to 64 bits; the largest 64-bit value still reads.
Test(hostile_records, a_varint_wider_than_64_bits_is_refused) {
    Bytes wide(9, 0x80);
    wide.push_back(0x02);
    codec::Cursor c{wide.data(), wide.data() + wide.size()};
    c.varint();
    cr_expect_not(c.ok);
    Bytes max;
    codec::put_varint(max, UINT64_MAX);
    codec::Cursor m{max.data(), max.data() + max.size()};
    cr_expect_eq(m.varint(), UINT64_MAX);
    cr_expect(m.ok);
}

Test(hostile_records, a_newer_version_is_refused) {
    Bytes b = one_record(odd_process());
    cr_assert_eq(b[1], codec::kRecordVersion);
    b[1] = codec::kRecordVersion + 1;
    cr_expect_eq(decode(b), codec::Decode::newer_version);
    b[1] = 0xff;
    cr_expect_eq(decode(b), codec::Decode::newer_version);
    b[1] = 0;  // no version 0
    cr_expect_eq(decode(b), codec::Decode::malformed);
}

Test(hostile_records, out_of_order_pids_and_leftover_bytes_are_malformed) {
    procmon_process a = odd_process(), b = odd_process();
    a.pid = 5, b.pid = 5;
    const procmon_process same[] = {a, b};
    Bytes bytes;
    codec::encode_processes(bytes, same, 2);
    cr_expect_eq(decode(bytes), codec::Decode::malformed);
    bytes = one_record(a);
    bytes.push_back(0);
    cr_expect_eq(decode(bytes), codec::Decode::malformed);
}

// Through the C ABI: a clean EFORMAT naming the fault, and the context
// serves the next good bytes.
Test(hostile_records, a_context_refuses_bad_bytes_and_stays_usable) {
    DecodedContext dc;
    *dc.bytes = one_record(odd_process());
    dc.bytes->resize(dc.bytes->size() - 1);
    procmon_snapshot *s = nullptr;
    cr_assert_eq(procmon_enumerate(&s, dc.ctx, nullptr), PROCMON_EFORMAT);
    cr_expect_null(s);
    cr_expect(std::strstr(procmon_error_last()->message, "the bytes end before a record does") != nullptr, "%s",
              procmon_error_last()->message);
    *dc.bytes = one_record(odd_process());
    cr_assert_eq(procmon_enumerate(&s, dc.ctx, nullptr), PROCMON_OK);
    cr_expect_eq(procmon_snapshot_count(s), 1u);
    procmon_snapshot_free(s);
}

// The fuzz seeds, encoded in Python from docs/wire.md alone: the page is
// enough to write an encoder this decoder accepts.
Test(process_codec, records_encoded_from_the_documentation_decode) {
    std::size_t seeds = 0, records = 0;
    for (const auto &entry : std::filesystem::directory_iterator(PROCMON_TEST_RECORD_SEEDS)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const Bytes b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        auto arena = std::shared_ptr<Arena>();
        cr_assert_eq(Arena::create(16u << 20, arena), PROCMON_OK);
        procmon_snapshot snap(arena);
        cr_expect_eq(codec::decode_processes(b.data(), b.size(), snap), codec::Decode::ok, "%s", entry.path().c_str());
        // and the C++ encoder writes the same bytes for what it decoded
        Bytes again;
        codec::encode_processes(again, snap.records.data(), snap.records.size());
        cr_expect(again == b, "%s re-encodes differently", entry.path().c_str());
        ++seeds, records += snap.records.size();
    }
    cr_expect_geq(seeds, 4u);
    cr_expect_geq(records, 4u);
}
