// getOriginalDst(fd): the destination a TCP connection had before an iptables REDIRECT/DNAT sent it
// to this socket (SO_ORIGINAL_DST for IPv4, IP6T_SO_ORIGINAL_DST for IPv6). Returns [address, port].
// peerCredentials(fd): the [pid, uid, gid] of the process at the other end of a Unix socket
// (SO_PEERCRED, set by the kernel at connect), for the SPIFFE Workload API's attestation.
// Node exposes no getsockopt, so this is the smallest possible N-API addon. Both throw on failure.
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
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

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "getOriginalDst(fd): fd must be an integer");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "getsockname", errno);
  int family = ss.ss_family;
  len = sizeof ss;
  int rc = family == AF_INET6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len)
                              : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
  if (rc != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  char addr[INET6_ADDRSTRLEN];
  int port;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr);
    port = ntohs(s6->sin6_port);
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr);
    port = ntohs(s4->sin_port);
  }
  napi_value result, a, p;
  napi_create_array_with_length(env, 2, &result);
  napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, port, &p);
  napi_set_element(env, result, 0, a);
  napi_set_element(env, result, 1, p);
  return result;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "peerCredentials(fd): fd must be an integer");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value result, v;
  napi_create_array_with_length(env, 3, &result);
  napi_create_int64(env, cred.pid, &v);
  napi_set_element(env, result, 0, v);
  napi_create_int64(env, cred.uid, &v);
  napi_set_element(env, result, 1, v);
  napi_create_int64(env, cred.gid, &v);
  napi_set_element(env, result, 2, v);
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
