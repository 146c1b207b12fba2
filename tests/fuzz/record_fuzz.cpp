// libFuzzer target: the process-record decoder (codec/process.hpp, the bytes
// a daemon's client decodes). Whatever the input, decoding ends, never reads
// outside it (ASan), never overflows (UBSan) and allocates only what its
// bytes justify (-malloc_limit_mb). What decodes re-encodes to bytes that
// decode to the same records: encode(decode(encode(decode(x)))) equals
// encode(decode(x)).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "codec/process.hpp"
#include "collect/snapshot.hpp"
#include "core/arena.hpp"
#include "fuzz_arena.hpp"

namespace {

std::vector<unsigned char> reencode(const procmon_snapshot &s) {
    std::vector<unsigned char> out;
    procmon::codec::encode_processes(out, s.records.data(), s.records.size());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    procmon_snapshot first(fuzz_arena());
    if (procmon::codec::decode_processes(data, size, first) != procmon::codec::Decode::ok) return 0;
    std::size_t check = 0;
    for (const procmon_process &p : first.records) {  // every string the decoder made is readable (ASan)
        for (const char *s : {p.name, p.exe, p.cwd, p.cgroup, p.container_id, p.full_name}) check += std::strlen(s);
        for (std::size_t k = 0; k < p.argv_len; ++k) check += static_cast<unsigned char>(p.argv[k]);
    }
    const auto once = reencode(first);
    procmon_snapshot second(fuzz_arena());
    if (procmon::codec::decode_processes(once.data(), once.size(), second) != procmon::codec::Decode::ok) std::abort();
    if (reencode(second) != once || check == SIZE_MAX) std::abort();
    return 0;
}
