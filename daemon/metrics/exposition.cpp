#include "exposition.hpp"

#include <charconv>
#include <cmath>

namespace procmon::daemon::metrics {

namespace {

// Shortest text that reads back as the same double; Prometheus's spellings
// of the non-finite ones.
void append_double(std::string &out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[32];
    // %g's spelling, shortest round trip: 0.0005, 5e-05 (as Go's client does)
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    out.append(buf, r.ptr);
}

void append_uint(std::string &out, uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// The length of the valid UTF-8 sequence at s[0], or 0 when it is not one
// (overlong forms, surrogates and values past U+10FFFF included).
std::size_t utf8_sequence(std::string_view s) {
    const auto c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) return 1;
    std::size_t n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
    else return 0;
    if (s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        const auto k = static_cast<unsigned char>(s[i]);
        if ((k & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (k & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

const char *content_type(Format f) {
    return f == Format::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                    : "text/plain; version=0.0.4; charset=utf-8";
}

Format negotiate(std::string_view accept) {
    // Prometheus sends "application/openmetrics-text;version=1.0.0,...;q=0.5,
    // text/plain;version=0.0.4;q=0.4,*/*;q=0.1" and takes either; anyone
    // else gets OpenMetrics only when naming it, with a q above 0.
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        if (range.find("application/openmetrics-text") == std::string_view::npos) continue;
        const auto q = range.find("q=");
        if (q == std::string_view::npos) return Format::openmetrics;
        std::string_view weight = range.substr(q + 2);
        weight = weight.substr(0, weight.find(';'));
        // "0", "0.", "0.000": refused (RFC 9110's qvalue); anything else accepts
        if (weight.find_first_not_of("0. \t") != std::string_view::npos) return Format::openmetrics;
    }
    return Format::prometheus;
}

uint64_t HistogramValue::count() const {
    uint64_t n = 0;
    for (uint64_t b : buckets) n += b;
    return n;
}

void append_label_value(std::string &out, std::string_view v) {
    while (!v.empty()) {
        const std::size_t n = utf8_sequence(v);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            v.remove_prefix(1);
            continue;
        }
        const char c = v[0];
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out.append(v.data(), n);
        v.remove_prefix(n);
    }
}

void Writer::family(std::string_view name, Type type, std::string_view help) {
    std::string_view family = name;
    if (format_ == Format::openmetrics && type == Type::counter && family.size() > 6 &&
        family.substr(family.size() - 6) == "_total")
        family.remove_suffix(6);
    out_ += "# HELP ";
    out_ += family;
    out_ += ' ';
    for (char c : help) {
        if (c == '\\') out_ += "\\\\";
        else if (c == '\n') out_ += "\\n";
        else if (c == '"' && format_ == Format::openmetrics) out_ += "\\\"";
        else out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += family;
    out_ += type == Type::counter ? " counter\n" : type == Type::gauge ? " gauge\n" : " histogram\n";
}

void Writer::series(std::string_view name, std::string_view suffix, Labels labels, const Label *last) {
    out_ += name;
    out_ += suffix;
    if (labels.size() == 0 && last == nullptr) {
        out_ += ' ';
        return;
    }
    out_ += '{';
    bool first = true;
    auto put = [&](const Label &l) {
        if (!first) out_ += ',';
        first = false;
        out_ += l.first;
        out_ += "=\"";
        append_label_value(out_, l.second);
        out_ += '"';
    };
    for (const Label &l : labels) put(l);
    if (last != nullptr) put(*last);
    out_ += "} ";
}

void Writer::sample(std::string_view name, Labels labels, double value) {
    series(name, {}, labels, nullptr);
    append_double(out_, value);
    out_ += '\n';
}

void Writer::sample(std::string_view name, Labels labels, uint64_t value) {
    series(name, {}, labels, nullptr);
    append_uint(out_, value);
    out_ += '\n';
}

void Writer::histogram(std::string_view name, Labels extra, const Bounds &bounds, const HistogramValue &h) {
    uint64_t cumulative = 0;
    std::string le;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += i < h.buckets.size() ? h.buckets[i] : 0;
        le.clear();
        if (i < bounds.size()) append_double(le, bounds[i]);
        else le = "+Inf";
        // OpenMetrics wants a float's spelling for le ("1.0", not "1").
        if (format_ == Format::openmetrics && le.find_first_of(".eIN") == std::string::npos) le += ".0";
        const Label le_label{"le", le};
        series(name, "_bucket", extra, &le_label);
        append_uint(out_, cumulative);
        out_ += '\n';
    }
    series(name, "_sum", extra, nullptr);
    append_double(out_, h.sum);
    out_ += '\n';
    series(name, "_count", extra, nullptr);
    append_uint(out_, cumulative);
    out_ += '\n';
}

std::string Writer::finish() {
    if (format_ == Format::openmetrics) out_ += "# EOF\n";
    return std::move(out_);
}

}  // namespace procmon::daemon::metrics
