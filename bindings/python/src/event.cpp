// procmon._procmon.Event: a procmon_event with its strings copied, under the
// C names. procmon/_event.py gives it psutil's shape and the type's name.
#include "shim.h"

namespace pm {

Event Event::copy(const procmon_event &e) {
    Event out;
    out.e = e;
    out.name = e.name;
    out.exe = e.exe;
    out.argv.assign(e.argv, e.argv_len);
    out.full_name = e.full_name;
    out.e.name = out.e.exe = out.e.argv = out.e.full_name = nullptr;
    return out;
}

procmon_event Event::view() const {
    procmon_event v = e;
    v.name = name.c_str();
    v.exe = exe.c_str();
    v.argv = argv.data();
    v.argv_len = argv.size();
    v.full_name = full_name.c_str();
    return v;
}

void bind_event(py::module_ &m) {
    py::class_<Event> event(m, "Event", "A procmon_event, its strings copied.");
#define PM_MEMBER(member) event.def_property_readonly(#member, [](const Event &v) { return v.e.member; })
#define PM_TEXT(member) event.def_property_readonly(#member, [](const Event &v) { return fs_text(v.member.data(), v.member.size()); })
    PM_MEMBER(type); PM_MEMBER(flags); PM_MEMBER(pid); PM_MEMBER(ppid); PM_MEMBER(uid); PM_MEMBER(seq);
    PM_MEMBER(time_ns); PM_MEMBER(start_ticks); PM_MEMBER(start_time_ns); PM_MEMBER(exit_code);
    PM_MEMBER(exit_signal); PM_MEMBER(lifetime_ns); PM_MEMBER(lost);
    PM_TEXT(name); PM_TEXT(full_name); PM_TEXT(exe);
#undef PM_MEMBER
#undef PM_TEXT
    event.def_property_readonly("argv", [](const Event &v) { return py::bytes(v.argv); });
}

}  // namespace pm
