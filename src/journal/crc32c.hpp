// CRC-32C (Castagnoli), the checksum of every journal record and segment
// header: the SSE4.2 instruction where the CPU has it, else slicing-by-8.
#pragma once

#include <cstddef>
#include <cstdint>

namespace procmon::journal {

// Continues `crc` (0 to start) over n bytes.
uint32_t crc32c(uint32_t crc, const void *data, std::size_t n);

// The software path alone, to test the two against each other.
uint32_t crc32c_portable(uint32_t crc, const void *data, std::size_t n);

}  // namespace procmon::journal
