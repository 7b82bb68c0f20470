// Layer decompression, sniffed from the first bytes (media types lie: docker
// save writes plain tars under gzip names): gzip (also concatenated members),
// zstd, or the bytes as they are. `max_out` bounds what one stream may expand
// to (decompression bombs); past it the read is an ImageError naming `what`.
#pragma once

#include <memory>
#include <string>

#include "sources/image/stream.hpp"

namespace kg::image {

enum class Compression { None, Gzip, Zstd };
const char* to_string(Compression c);

// The decompressed view of `in`, which it reads through (not owned).
std::unique_ptr<ByteSource> open_decompressed(ByteSource& in, std::uint64_t max_out, const std::string& what,
                                              Compression* detected = nullptr);

}  // namespace kg::image
