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
/* Cache parsed trees of any size (libgit2 caches only objects under 4 KiB by default), so a
 * history walk parses each manifests tree once, not once as a commit's and again as its
 * parent's. */
static inline int berth_git_set_cache_object_limit(git_object_t type, size_t size) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, type, size);
}
#endif
