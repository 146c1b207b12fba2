// NULL for every pointer argument of every entry point in procmon.h, one at
// a time with the others valid: PROCMON_EINVAL with a message naming the
// function, or what the header documents for that argument (a no-op for the
// free and close functions, defaults for NULL options, 0 / NULL / -1 for the
// getters). A planted bug that made an entry point return OK for a NULL
// handle went unseen: most of them were never passed one (issue 16).
//
// The table must cover the header: every_pointer_argument_has_a_row parses
// include/procmon.h, so a new function (or a new pointer argument) without a
// row here fails the test, and so does a row for one that is gone.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "procmon.h"
#include "procmon_raii.hpp"

#ifndef PROCMON_TEST_HEADER
#error "build with -DPROCMON_TEST_HEADER=\"path/to/include/procmon.h\""
#endif

namespace {

// What a call with one argument NULL must give.
enum class Want {
    einval,   // PROCMON_EINVAL, procmon_error_last() naming the function
    ok,       // documented as allowed: PROCMON_OK (defaults, "may be NULL")
    nothing,  // a void function: a no-op (no crash, no report under ASan)
    zero,     // a getter: 0, or a NULL pointer
    minus_one,
};

struct Case {
    const char *arg;  // the parameter's name in procmon.h
    Want want;
    std::function<int64_t()> call;
};

struct Row {
    const char *fn;
    std::vector<Case> cases;  // none: the function takes no pointer
};

// Valid objects for the arguments that are not NULL in a case.
struct World {
    std::string dir;  // a temporary directory, removed at the end
    procmon_ctx *ctx = nullptr;
    procmon_snapshot *snap = nullptr;
    procmon_subscription *sub = nullptr;
    procmon_journal *journal = nullptr;
    procmon_journal_reader *reader = nullptr;
    procmon_event events[4] = {};
    procmon_event one{};  // an event to append
    size_t n = 0;
    uint64_t durable = 0;

    World() {
        char tmpl[] = "/tmp/procmon-null-XXXXXX";
        cr_assert_not_null(mkdtemp(tmpl));
        dir = tmpl;
        cr_assert_eq(procmon_open(&ctx, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
        cr_assert_eq(procmon_enumerate(&snap, ctx, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
        cr_assert_eq(procmon_subscribe(&sub, ctx, nullptr), PROCMON_OK, "%s", procmon_error_last()->message);
        cr_assert_eq(procmon_journal_open(&journal, nullptr, path("j").c_str(), nullptr), PROCMON_OK, "%s",
                     procmon_error_last()->message);
        cr_assert_eq(procmon_journal_reader_open(&reader, path("j").c_str(), nullptr), PROCMON_OK, "%s",
                     procmon_error_last()->message);
        one.size = sizeof one;
        one.type = PROCMON_EVENT_EXEC;
        one.pid = getpid();
        one.name = "null-args";
    }
    ~World() {
        procmon_journal_reader_close(reader);
        procmon_journal_close(journal);
        procmon_unsubscribe(sub);
        procmon_snapshot_free(snap);
        procmon_close(ctx);
        const std::string rm = "rm -rf '" + dir + "'";
        if (std::system(rm.c_str()) != 0) {
        }
    }
    std::string path(const char *name) const { return dir + "/" + name; }
};

int on_event(const procmon_event *, void *) { return 0; }

// Runs `call`, whose result is OK when it made `*made`, then releases it.
template <class T, class Release>
int64_t made_then_released(int rc, T *made, Release release) {
    if (rc == PROCMON_OK) release(*made);
    return rc;
}

int64_t ptr(const void *p) { return p == nullptr ? 0 : 1; }

// A *_get(out, handle) with a valid, sized out and a NULL handle.
template <class Out, class Handle>
int64_t get_with_null_handle(int (*get)(Out *, Handle)) {
    Out out{};
    out.size = sizeof out;
    return get(&out, nullptr);
}

std::vector<Row> table(World &w) {
    const procmon_event *none = nullptr;
    return {
        {"procmon_version", {}},
        {"procmon_version_string", {}},
        {"procmon_strerror", {}},
        {"procmon_error_last", {}},
        {"procmon_options_init", {{"o", Want::einval, [] { return procmon_options_init(nullptr, PROCMON_OPTIONS_VERSION); }}}},
        {"procmon_open",
         {{"out", Want::einval, [] { return procmon_open(nullptr, nullptr); }},
          {"opts", Want::ok, [] {
               procmon_ctx *c = nullptr;
               return made_then_released(procmon_open(&c, nullptr), &c, procmon_close);
           }}}},
        {"procmon_close", {{"ctx", Want::nothing, [] { procmon_close(nullptr); return int64_t{0}; }}}},
        {"procmon_query_init", {{"q", Want::einval, [] { return procmon_query_init(nullptr, PROCMON_QUERY_VERSION); }}}},
        {"procmon_enumerate",
         {{"out", Want::einval, [&w] { return procmon_enumerate(nullptr, w.ctx, nullptr); }},
          {"ctx", Want::einval, [] {
               procmon_snapshot *s = nullptr;
               return made_then_released(procmon_enumerate(&s, nullptr, nullptr), &s, procmon_snapshot_free);
           }},
          {"q", Want::ok, [&w] {
               procmon_snapshot *s = nullptr;
               return made_then_released(procmon_enumerate(&s, w.ctx, nullptr), &s, procmon_snapshot_free);
           }}}},
        {"procmon_snapshot_count", {{"s", Want::zero, [] { return static_cast<int64_t>(procmon_snapshot_count(nullptr)); }}}},
        {"procmon_snapshot_at", {{"s", Want::zero, [] { return ptr(procmon_snapshot_at(nullptr, 0)); }}}},
        {"procmon_snapshot_find", {{"s", Want::zero, [] { return ptr(procmon_snapshot_find(nullptr, getpid())); }}}},
        {"procmon_snapshot_free", {{"s", Want::nothing, [] { procmon_snapshot_free(nullptr); return int64_t{0}; }}}},
        {"procmon_system_get",
         {{"out", Want::einval, [&w] { return procmon_system_get(nullptr, w.ctx); }},
          {"ctx", Want::einval, [] { return get_with_null_handle(procmon_system_get); }}}},
        {"procmon_signal", {{"ctx", Want::einval, [] { return procmon_signal(nullptr, getpid(), 0, 0); }}}},
        {"procmon_stats_get",
         {{"out", Want::einval, [&w] { return procmon_stats_get(nullptr, w.ctx); }},
          {"ctx", Want::einval, [] { return get_with_null_handle(procmon_stats_get); }}}},
        {"procmon_daemon_status_get",
         {{"out", Want::einval, [&w] { return procmon_daemon_status_get(nullptr, w.ctx); }},
          {"ctx", Want::einval, [] { return get_with_null_handle(procmon_daemon_status_get); }}}},
        {"procmon_daemon_clients",
         {{"ctx", Want::einval, [] {
               procmon_daemon_client c[1];
               size_t n = 0;
               return procmon_daemon_clients(nullptr, c, sizeof c[0], 1, &n);
           }},
          {"out", Want::einval, [&w] { return procmon_daemon_clients(w.ctx, nullptr, sizeof(procmon_daemon_client), 1, &w.n); }},
          {"n_out", Want::einval, [&w] {
               procmon_daemon_client c[1];
               return procmon_daemon_clients(w.ctx, c, sizeof c[0], 1, nullptr);
           }}}},
        {"procmon_subscribe_options_init",
         {{"o", Want::einval, [] { return procmon_subscribe_options_init(nullptr, PROCMON_SUBSCRIBE_VERSION); }}}},
        {"procmon_subscribe",
         {{"out", Want::einval, [&w] { return procmon_subscribe(nullptr, w.ctx, nullptr); }},
          {"ctx", Want::einval, [] {
               procmon_subscription *s = nullptr;
               return made_then_released(procmon_subscribe(&s, nullptr, nullptr), &s, procmon_unsubscribe);
           }},
          {"o", Want::ok, [&w] {
               procmon_subscription *s = nullptr;
               return made_then_released(procmon_subscribe(&s, w.ctx, nullptr), &s, procmon_unsubscribe);
           }}}},
        {"procmon_subscription_next",
         {{"s", Want::einval, [&w] { return procmon_subscription_next(nullptr, w.events, sizeof w.events[0], 4, &w.n, 0); }},
          {"events", Want::einval, [&w] { return procmon_subscription_next(w.sub, nullptr, sizeof w.events[0], 4, &w.n, 0); }},
          {"n_out", Want::einval, [&w] { return procmon_subscription_next(w.sub, w.events, sizeof w.events[0], 4, nullptr, 0); }}}},
        {"procmon_subscription_wait", {{"s", Want::einval, [] { return procmon_subscription_wait(nullptr, 0); }}}},
        {"procmon_subscription_wake", {{"s", Want::einval, [] { return procmon_subscription_wake(nullptr); }}}},
        {"procmon_subscription_fd", {{"s", Want::minus_one, [] { return int64_t{procmon_subscription_fd(nullptr)}; }}}},
        {"procmon_dispatch",
         {{"s", Want::einval, [&w] { return procmon_dispatch(nullptr, on_event, &w, 4, &w.n); }},
          {"cb", Want::einval, [&w] { return procmon_dispatch(w.sub, nullptr, &w, 4, &w.n); }},
          {"payload", Want::ok, [&w] { return procmon_dispatch(w.sub, on_event, nullptr, 4, &w.n); }},  // the caller's
          {"n_out", Want::ok, [&w] { return procmon_dispatch(w.sub, on_event, &w, 4, nullptr); }}}},     // "may be NULL"
        {"procmon_subscription_stats_get",
         {{"out", Want::einval, [&w] { return procmon_subscription_stats_get(nullptr, w.sub); }},
          {"s", Want::einval, [] { return get_with_null_handle(procmon_subscription_stats_get); }}}},
        {"procmon_unsubscribe", {{"s", Want::nothing, [] { procmon_unsubscribe(nullptr); return int64_t{0}; }}}},
        {"procmon_journal_options_init",
         {{"o", Want::einval, [] { return procmon_journal_options_init(nullptr, PROCMON_JOURNAL_VERSION); }}}},
        {"procmon_journal_open",
         {{"out", Want::einval, [&w] { return procmon_journal_open(nullptr, w.ctx, w.path("j2").c_str(), nullptr); }},
          {"ctx", Want::ok, [&w] {  // no context: fed by procmon_journal_append only
               procmon_journal *j = nullptr;
               return made_then_released(procmon_journal_open(&j, nullptr, w.path("j3").c_str(), nullptr), &j,
                                         procmon_journal_close);
           }},
          {"dir", Want::einval, [&w] {
               procmon_journal *j = nullptr;
               return made_then_released(procmon_journal_open(&j, w.ctx, nullptr, nullptr), &j, procmon_journal_close);
           }},
          {"o", Want::ok, [&w] {  // defaults
               procmon_journal *j = nullptr;
               return made_then_released(procmon_journal_open(&j, w.ctx, w.path("j4").c_str(), nullptr), &j,
                                         procmon_journal_close);
           }}}},
        {"procmon_journal_append",
         {{"j", Want::einval, [&w] { return procmon_journal_append(nullptr, &w.one, sizeof w.one, 1); }},
          {"events", Want::einval, [&w, none] { return procmon_journal_append(w.journal, none, sizeof w.one, 1); }}}},
        {"procmon_journal_sync",
         {{"j", Want::einval, [&w] { return procmon_journal_sync(nullptr, 1000, &w.durable); }},
          {"durable_seq", Want::ok, [&w] { return procmon_journal_sync(w.journal, 10000, nullptr); }}}},  // "may be NULL"
        {"procmon_journal_stats_get",
         {{"out", Want::einval, [&w] { return procmon_journal_stats_get(nullptr, w.journal); }},
          {"j", Want::einval, [] { return get_with_null_handle(procmon_journal_stats_get); }}}},
        {"procmon_journal_close", {{"j", Want::zero, [] { return int64_t{procmon_journal_close(nullptr)}; }}}},  // OK
        {"procmon_journal_reader_open",
         {{"out", Want::einval, [&w] { return procmon_journal_reader_open(nullptr, w.path("j").c_str(), nullptr); }},
          {"dir", Want::einval, [] {
               procmon_journal_reader *r = nullptr;
               return made_then_released(procmon_journal_reader_open(&r, nullptr, nullptr), &r,
                                         procmon_journal_reader_close);
           }},
          {"o", Want::ok, [&w] {  // defaults
               procmon_journal_reader *r = nullptr;
               return made_then_released(procmon_journal_reader_open(&r, w.path("j").c_str(), nullptr), &r,
                                         procmon_journal_reader_close);
           }}}},
        {"procmon_journal_reader_next",
         {{"r", Want::einval, [&w] { return procmon_journal_reader_next(nullptr, w.events, sizeof w.events[0], 4, &w.n, 0); }},
          {"events", Want::einval, [&w] { return procmon_journal_reader_next(w.reader, nullptr, sizeof w.events[0], 4, &w.n, 0); }},
          {"n_out", Want::einval, [&w] { return procmon_journal_reader_next(w.reader, w.events, sizeof w.events[0], 4, nullptr, 0); }}}},
        {"procmon_journal_reader_stats_get",
         {{"out", Want::einval, [&w] { return procmon_journal_reader_stats_get(nullptr, w.reader); }},
          {"r", Want::einval, [] { return get_with_null_handle(procmon_journal_reader_stats_get); }}}},
        {"procmon_journal_reader_fd", {{"r", Want::minus_one, [] { return int64_t{procmon_journal_reader_fd(nullptr)}; }}}},
        {"procmon_journal_reader_wait", {{"r", Want::einval, [] { return int64_t{procmon_journal_reader_wait(nullptr, 0)}; }}}},
        {"procmon_journal_reader_wake", {{"r", Want::einval, [] { return int64_t{procmon_journal_reader_wake(nullptr)}; }}}},
        {"procmon_journal_reader_close", {{"r", Want::nothing, [] { procmon_journal_reader_close(nullptr); return int64_t{0}; }}}},
        {"procmon_field_name", {}},
        {"procmon_field_from_name",
         {{"name", Want::einval, [] { uint64_t v; return procmon_field_from_name(nullptr, &v); }},
          {"out", Want::einval, [] { return procmon_field_from_name("cpu", nullptr); }}}},
        {"procmon_event_type_name", {}},
        {"procmon_event_type_from_name",
         {{"name", Want::einval, [] { uint32_t v; return procmon_event_type_from_name(nullptr, &v); }},
          {"out", Want::einval, [] { return procmon_event_type_from_name("exec", nullptr); }}}},
        {"procmon_source_name", {}},
        {"procmon_source_from_name",
         {{"name", Want::einval, [] { uint32_t v; return procmon_source_from_name(nullptr, &v); }},
          {"out", Want::einval, [] { return procmon_source_from_name("polling", nullptr); }}}},
        {"procmon_state_name", {}},
        {"procmon_state_from_name",
         {{"name", Want::einval, [] { uint32_t v; return procmon_state_from_name(nullptr, &v); }},
          {"out", Want::einval, [] { return procmon_state_from_name("zombie", nullptr); }}}},
        {"procmon_user_name", {{"buf", Want::einval, [] { return procmon_user_name(0, nullptr, 64); }}}},
    };
}

// The header's entry points: name -> the names of its pointer parameters
// (a '*' in the declaration, or a callback typedef *_cb).
std::map<std::string, std::set<std::string>> header_entry_points() {
    const std::string text = read_text(PROCMON_TEST_HEADER);
    cr_assert(!text.empty(), "cannot read %s", PROCMON_TEST_HEADER);
    std::map<std::string, std::set<std::string>> out;
    const std::regex decl(R"(PROCMON_API\s+[^;(#]*?\b(procmon_\w+)\s*\(([^)]*)\)\s*;)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), decl); it != std::sregex_iterator(); ++it) {
        std::set<std::string> &pointers = out[(*it)[1]];
        const std::string params = (*it)[2];
        std::size_t at = 0;
        while (at <= params.size()) {
            std::size_t comma = params.find(',', at);
            if (comma == std::string::npos) comma = params.size();
            const std::string p = params.substr(at, comma - at);
            at = comma + 1;
            std::smatch name;
            if (!std::regex_search(p, name, std::regex(R"((\w+)\s*$)")) || name[1] == "void") continue;
            if (p.find('*') != std::string::npos || std::regex_search(p, std::regex(R"(_cb\s+\w+\s*$)")))
                pointers.insert(name[1]);
        }
    }
    return out;
}

const char *want_text(Want w) {
    switch (w) {
    case Want::einval: return "PROCMON_EINVAL";
    case Want::ok: return "PROCMON_OK";
    case Want::nothing: return "a no-op";
    case Want::zero: return "0 / NULL / PROCMON_OK";
    case Want::minus_one: return "-1";
    }
    return "?";
}

}  // namespace

Test(null_args, every_pointer_argument_has_a_row) {
    World w;
    const auto header = header_entry_points();
    cr_assert_geq(header.size(), 30u, "found only %zu PROCMON_API functions in %s: the parser is wrong", header.size(),
                  PROCMON_TEST_HEADER);
    std::set<std::string> rows;
    for (const Row &row : table(w)) {
        cr_expect(rows.insert(row.fn).second, "%s has two rows", row.fn);
        auto it = header.find(row.fn);
        if (it == header.end()) {
            cr_expect_fail("%s has a row but is not in procmon.h: remove the row", row.fn);
            continue;
        }
        std::set<std::string> covered;
        for (const Case &c : row.cases) covered.insert(c.arg);
        for (const std::string &arg : it->second)
            cr_expect(covered.count(arg), "%s: no case passes NULL for its pointer argument '%s'", row.fn, arg.c_str());
        for (const std::string &arg : covered)
            cr_expect(it->second.count(arg), "%s: a case for '%s', which is not one of its pointer arguments", row.fn,
                      arg.c_str());
    }
    for (const auto &[fn, args] : header)
        cr_expect(rows.count(fn), "%s is in procmon.h but has no row here: add one for each pointer argument", fn.c_str());
}

Test(null_args, each_pointer_argument_null_in_turn) {
    World w;
    std::size_t cases = 0;
    for (const Row &row : table(w))
        for (const Case &c : row.cases) {
            ++cases;
            const int64_t got = c.call();
            const char *message = procmon_error_last()->message;
            switch (c.want) {
            case Want::einval:
                cr_expect_eq(got, PROCMON_EINVAL, "%s(%s = NULL) gave %lld, not %s", row.fn, c.arg,
                             static_cast<long long>(got), want_text(c.want));
                if (got == PROCMON_EINVAL) {
                    cr_expect_eq(procmon_error_last()->code, PROCMON_EINVAL, "%s(%s = NULL): error_last has code %d",
                                 row.fn, c.arg, procmon_error_last()->code);
                    cr_expect(std::strstr(message, row.fn) != nullptr, "%s(%s = NULL): the message '%s' does not name it",
                              row.fn, c.arg, message);
                }
                break;
            case Want::ok:
                cr_expect_eq(got, PROCMON_OK, "%s(%s = NULL) gave %lld, not %s (the header allows NULL there): %s",
                             row.fn, c.arg, static_cast<long long>(got), want_text(c.want), message);
                break;
            case Want::nothing: break;
            case Want::zero:
                cr_expect_eq(got, 0, "%s(%s = NULL) gave %lld, not %s", row.fn, c.arg, static_cast<long long>(got),
                             want_text(c.want));
                break;
            case Want::minus_one:
                cr_expect_eq(got, -1, "%s(%s = NULL) gave %lld, not -1", row.fn, c.arg, static_cast<long long>(got));
                break;
            }
        }
    cr_expect_geq(cases, 50u, "only %zu cases ran", cases);
}
