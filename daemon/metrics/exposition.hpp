// Prometheus's text exposition format 0.0.4 and OpenMetrics 1.0.0, written
// into one string. The two differ in three places only: an OpenMetrics
// counter's family is named without "_total" (its samples keep it), HELP
// escapes quotes too, and the text ends with "# EOF".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace procmon::daemon::metrics {

enum class Format { prometheus, openmetrics };

const char *content_type(Format f);

// The format a scraper asks for in its Accept header.
Format negotiate(std::string_view accept);

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

// Upper bounds of a histogram's buckets; +Inf is implied.
using Bounds = std::vector<double>;

// Cumulative counts per bucket (size = bounds + 1, the last is +Inf's),
// with the sum of the observed values.
struct HistogramValue {
    std::vector<uint64_t> buckets;  // not cumulative: count per bucket
    double sum = 0;
    uint64_t count() const;
};

class Writer {
public:
    explicit Writer(Format f) : format_(f) {}

    enum class Type { counter, gauge, histogram };
    // A family's HELP and TYPE: every sample of `name` follows it. A
    // counter's name ends "_total".
    void family(std::string_view name, Type type, std::string_view help);

    void sample(std::string_view name, Labels labels, double value);
    void sample(std::string_view name, Labels labels, uint64_t value);
    // The buckets, sum and count of a histogram family `name`, one label
    // set; `extra` labels precede le.
    void histogram(std::string_view name, Labels extra, const Bounds &bounds, const HistogramValue &h);

    // The text, with "# EOF" for OpenMetrics.
    std::string finish();

private:
    void series(std::string_view name, std::string_view suffix, Labels labels, const Label *last);
    Format format_;
    std::string out_;
};

// A label value as the format allows it: valid UTF-8 (a byte that is not
// becomes U+FFFD), with \ " and newline escaped.
void append_label_value(std::string &out, std::string_view value);

}  // namespace procmon::daemon::metrics
