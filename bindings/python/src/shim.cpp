// The shared helpers of shim.h: errors, text, deadlines.
#include "shim.h"

#include <algorithm>
#include <cmath>

namespace pm {

namespace {
// The status code's name in procmon.h, "EPERM" for PROCMON_EPERM.
const char *status_code_name(int code) {
#define PM_STATUS_CASE(name, value, text) \
    case value: return #name;
    switch (code) { PROCMON_STATUS_MAP(PM_STATUS_CASE) }
#undef PM_STATUS_CASE
    return "UNKNOWN";
}
}  // namespace

Failure last_failure(int rc) {
    const procmon_error *e = procmon_error_last();
    return {rc, e->sys_errno, e->code == rc && e->message[0] ? e->message : procmon_strerror(rc)};
}

// procmon._errors.from_library picks the exception class (psutil's
// signatures live in Python); looked up once, kept for the module's life.
void raise(int code, const std::string &message, int sys_errno) {
    static py::object *from_library = new py::object(py::module_::import("procmon._errors").attr("from_library"));
    py::object exc = (*from_library)(code, status_code_name(code), message, sys_errno);
    PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc.ptr())), exc.ptr());
    throw py::error_already_set();
}

py::str fs_text(const char *s, std::size_t n) {
    PyObject *o = PyUnicode_DecodeFSDefaultAndSize(s, static_cast<Py_ssize_t>(n));
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::str>(o);
}

Deadline::Deadline(std::optional<double> timeout) {
    if (timeout && std::isnan(*timeout)) raise(PROCMON_EINVAL, "timeout is NaN");
    if (timeout && *timeout <= 365.0 * 86400)
        at_ = clock::now() + std::chrono::duration_cast<clock::duration>(
                                 std::chrono::duration<double>(std::max(0.0, *timeout)));
}

int Deadline::ms_left(int cap) const {
    if (!at_) return cap;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*at_ - clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, cap));
}

bool InFlight::enter() {
    std::lock_guard<std::mutex> hold(m_);
    if (closing_) return false;
    ++inside_;
    return true;
}

void InFlight::leave() {
    std::lock_guard<std::mutex> hold(m_);
    if (--inside_ == 0) idle_.notify_all();
}

bool InFlight::closing() {
    std::lock_guard<std::mutex> hold(m_);
    return closing_;
}

bool InFlight::close(const std::function<void()> &wake, int mine) {
    py::gil_scoped_release nogil;
    std::unique_lock<std::mutex> hold(m_);
    if (closing_) return false;
    closing_ = true;
    wake();  // under m_: every call counted in is woken, none can start after
    idle_.wait(hold, [&] { return inside_ <= mine; });
    return true;
}

}  // namespace pm
