// procmon._procmon: the private extension under the `procmon` package, one
// file per handle (context, snapshot, event, subscription, journal). It
// owns the C handles and hands Python the C values under their C names; the
// package around it (procmon/*.py) gives them psutil's shape, as re2.py
// does over _re2.cc. The names of fields, events and states come from the
// header's tables, never from a list of our own.
#include "shim.h"

PYBIND11_MODULE(_procmon, m) {
    namespace py = pybind11;
    m.doc() = "procmon's private extension: thin over the C ABI. Use the `procmon` package.";
    if (procmon_version() != PROCMON_VERSION_NUMBER)
        throw std::runtime_error("procmon: the library's version differs from the header this extension was built with");

    m.attr("VERSION") = procmon_version_string();
    m.attr("HEADER_VERSION") = PROCMON_VERSION_STRING;
    py::dict fields, events, states, sources;
#define PM_FIELD(name, text) fields[text] = PROCMON_FIELD_##name;
#define PM_EVENT(name, text) events[text] = PROCMON_EVENT_##name;
#define PM_STATE(name, value, text) states[py::int_(value)] = text;
#define PM_SOURCE(name, text) sources[text] = PROCMON_SOURCE_##name;
    PROCMON_FIELD_MAP(PM_FIELD)
    PROCMON_EVENT_MAP(PM_EVENT)
    PROCMON_STATE_MAP(PM_STATE)
    PROCMON_SOURCE_MAP(PM_SOURCE)
    m.attr("FIELDS") = fields;    // name -> bit
    m.attr("EVENTS") = events;    // name -> bit
    m.attr("STATES") = states;    // PROCMON_STATE_* -> psutil's status name
    m.attr("SOURCES") = sources;  // name -> PROCMON_SOURCE_*
    m.attr("FIELDS_DEFAULT") = PROCMON_FIELDS_DEFAULT;
    m.attr("FIELDS_ALL") = PROCMON_FIELDS_ALL;
    m.attr("EVENTS_DEFAULT") = PROCMON_EVENTS_DEFAULT;
    m.attr("QUEUE_DEFAULT") = PROCMON_QUEUE_DEFAULT;
    m.attr("QUEUE_MIN") = PROCMON_QUEUE_MIN;
    m.attr("QUEUE_MAX") = PROCMON_QUEUE_MAX;
    m.attr("DEFAULT_ARENA_CAP") = PROCMON_DEFAULT_ARENA_CAP;
    m.attr("MIN_ARENA_CAP") = PROCMON_MIN_ARENA_CAP;
    m.attr("FSYNC") = py::dict(py::arg("always") = PROCMON_FSYNC_ALWAYS, py::arg("interval") = PROCMON_FSYNC_INTERVAL,
                               py::arg("never") = PROCMON_FSYNC_NEVER);
    m.attr("PROC_KTHREAD") = PROCMON_PROC_KTHREAD;
    m.attr("PROC_ARGV_TRUNCATED") = PROCMON_PROC_ARGV_TRUNCATED;
    m.attr("EVENT_FLAG_SYNTHESIZED") = PROCMON_EVENT_FLAG_SYNTHESIZED;
    m.attr("EVENT_FLAG_PARTIAL") = PROCMON_EVENT_FLAG_PARTIAL;
    m.attr("EVENT_FLAG_NO_STATUS") = PROCMON_EVENT_FLAG_NO_STATUS;
    m.attr("EVENT_FLAG_THREAD") = PROCMON_EVENT_FLAG_THREAD;

    m.def("strerror", &procmon_strerror, py::arg("code"), "procmon_strerror: the status code's text.");
    m.def("user_name", [](uint32_t uid) -> std::optional<py::str> {
        char name[1024];
        int rc;
        {
            py::gil_scoped_release nogil;  // the first lookup of a uid may ask a directory service
            rc = procmon_user_name(uid, name, sizeof name);
        }
        if (rc == PROCMON_ENOENT || rc == PROCMON_EIO) return std::nullopt;  // psutil then shows the uid
        if (rc != PROCMON_OK) pm::raise(pm::last_failure(rc));
        return pm::fs_text(name);
    }, py::arg("uid"), "procmon_user_name: the login name of uid, None when it has none.");

    pm::ContextClass context = pm::bind_context(m);
    pm::bind_snapshot(m, context);
    pm::bind_event(m);
    pm::bind_subscription(m, context);
    pm::bind_journal(m);
}
