#ifndef BERTH_CGIT2_SHIM_H
#define BERTH_CGIT2_SHIM_H
#include <git2.h>

/* git_libgit2_opts is variadic, which Swift cannot call: wrap the options Berth uses. */
static inline int berth_git_set_search_path_none(void) {
    int rc = 0;
    rc |= git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
    rc |= git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
    rc |= git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
    return rc;
}

static inline int berth_git_enable_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}
/* The largest object of `type` libgit2's object cache keeps (4 KiB for trees by default:
 * raising it makes a history walk keep every manifests tree it reads, hundreds of MiB; the
 * walk keeps the few it needs itself). */
static inline int berth_git_set_cache_object_limit(git_object_t type, size_t size) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, type, size);
}
/* libgit2 re-hashes every object it reads to check its id (SHA-1 with collision detection):
 * most of the cost of a history walk. git itself does not, for objects from packs. */
static inline int berth_git_enable_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/* Where TLS certificates come from (file or folder; either may be NULL). */
static inline int berth_git_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}
#endif
