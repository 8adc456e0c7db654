// getOriginalDst(fd): the destination a TCP connection had before an iptables REDIRECT/DNAT sent it
// to this socket (SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6). Returns [address, port].
// peerCredentials(fd): the [pid, uid, gid] of the process at the other end of a Unix socket
// (SO_PEERCRED, set by the kernel at connect), for the SPIFFE Workload API's attestation.
// Node exposes no getsockopt, so this is the smallest possible N-API addon. Both throw on failure.
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* Reads the one int32 argument (a file descriptor); throws a TypeError naming `usage` if it is not one. */
static int fd_argument(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: fd must be an integer", usage);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* Per address family: the socket option that reads the pre-NAT destination, and where that
 * family's sockaddr keeps its address and port. */
struct original_dst_family {
  int family, level, option;
  size_t addr_offset, port_offset;
};

static const struct original_dst_family FAMILIES[] = {
  {AF_INET, SOL_IP, SO_ORIGINAL_DST, offsetof(struct sockaddr_in, sin_addr), offsetof(struct sockaddr_in, sin_port)},
  {AF_INET6, SOL_IPV6, IP6T_SO_ORIGINAL_DST, offsetof(struct sockaddr_in6, sin6_addr), offsetof(struct sockaddr_in6, sin6_port)},
};

/* The family of the socket's local address (IPv4 unless it is IPv6, as netfilter answers). */
static const struct original_dst_family *family_of(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET6 ? &FAMILIES[1] : &FAMILIES[0];
}

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_argument(env, info, "getOriginalDst(fd)", &fd)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "getsockname", errno);
  const struct original_dst_family *f = family_of(&ss);
  len = sizeof ss;
  if (getsockopt(fd, f->level, f->option, &ss, &len) != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  f = family_of(&ss);
  char addr[INET6_ADDRSTRLEN];
  in_port_t port;
  inet_ntop(f->family, (const char *)&ss + f->addr_offset, addr, sizeof addr);
  memcpy(&port, (const char *)&ss + f->port_offset, sizeof port);
  napi_value result, a, p;
  napi_create_array_with_length(env, 2, &result);
  napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, ntohs(port), &p);
  napi_set_element(env, result, 0, a);
  napi_set_element(env, result, 1, p);
  return result;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_argument(env, info, "peerCredentials(fd)", &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  const int64_t values[3] = {cred.pid, cred.uid, cred.gid};
  napi_value result, v;
  napi_create_array_with_length(env, 3, &result);
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int64(env, values[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, get_original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "getOriginalDst", fn);
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
