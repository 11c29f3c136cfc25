#ifndef BERTH_CEPOLL_SHIM_H
#define BERTH_CEPOLL_SHIM_H
// Linux epoll, eventfd and non-blocking accept/socket for Berth's balancer, which the Swift
// Glibc module does not export. Header-only: static inline wrappers, no library to link.
// No _GNU_SOURCE here: it changes fd_set's field names and clashes with CDispatch's copy
// of <sys/select.h> in the same Clang module graph. accept4 is declared by hand instead.
#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

extern int accept4(int, struct sockaddr *, socklen_t *, int);

static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const uint32_t CEPOLL_RDHUP = EPOLLRDHUP;
static const uint32_t CEPOLL_ET = EPOLLET;
static const uint32_t CEPOLL_EXCLUSIVE = EPOLLEXCLUSIVE;

static inline int cepoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int cepoll_add(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static inline int cepoll_del(int ep, int fd) {
    struct epoll_event ev = {0};
    return epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev);
}

static inline size_t cepoll_event_size(void) { return sizeof(struct epoll_event); }

static inline int cepoll_wait(int ep, void *events, int max, int timeout) {
    return epoll_wait(ep, (struct epoll_event *)events, max, timeout);
}

static inline uint64_t cepoll_event_data(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].data.u64;
}

static inline uint32_t cepoll_event_mask(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].events;
}

static inline int cepoll_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline int cepoll_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

static inline int cepoll_tcp_socket(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static inline int cepoll_set_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

static inline int cepoll_nodelay(int fd) { return cepoll_set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1); }

/// The pending error of a socket (0: none), as after a non-blocking connect.
static inline int cepoll_socket_error(int fd) {
    int value = 0;
    socklen_t length = sizeof(value);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0) return errno;
    return value;
}

static inline ssize_t cepoll_send(int fd, const void *bytes, size_t count) {
    return send(fd, bytes, count, MSG_NOSIGNAL);
}

/// The local port a socket is bound to, or -1.
static inline int cepoll_local_port(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return -1;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return -1;
}

static inline int cepoll_errno(void) { return errno; }

#endif
