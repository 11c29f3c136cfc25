#include <zlib.h>

/// deflateInit2 is a macro (it passes ZLIB_VERSION and the struct's size): windowBits 15 + 16
/// writes a gzip header and trailer (RFC 1952) around the deflate stream.
static inline int berth_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// inflateInit2 with windowBits 15 + 16: a gzip stream only.
static inline int berth_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}
