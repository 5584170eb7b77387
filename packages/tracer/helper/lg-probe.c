/*
 * lg-probe: lg's privileged probe helper (see README.md and PROTOCOL.md beside this file).
 *
 * It opens its raw sockets, drops every capability, then runs one poll() loop over stdin and the
 * receive sockets: each request line sends one probe (or answers at once), each received packet
 * that answers a probe in flight prints one answer line, and each probe whose timeout passes
 * prints no-reply. Output is flushed once per loop turn.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lg-probe.h"

#define LINE_MAX_BYTES 8192
#define INPUT_BUFFER (64 * 1024)
#define OUTPUT_BUFFER (1024 * 1024)
#define SOCKET_BUFFER (8 * 1024 * 1024)
/* Receive sockets are drained after this many sends, so a burst of probes does not overflow them. */
#define SENDS_BETWEEN_DRAINS 64
#define RECEIVE_BATCH 512
#define NOBODY 65534

/* ---- state ---- */

struct probe_slot {
  int used;
  long token;
  int protocol;
  struct ip_addr dest;
  uint16_t seq;
  uint16_t checksum;
  uint32_t tcp_seq;
  int timeout_sec;
  struct timespec sent_real;
  int64_t sent_mono_us;
  int64_t deadline_us;
  int heap_pos;
};

static struct probe_slot slots[MAX_PROBES];
static int free_slots[MAX_PROBES];
static int free_count;
static int32_t slot_of_seq[65536];
static int heap[MAX_PROBES]; /* slot indices, earliest deadline first */
static int heap_len;
static uint16_t next_seq;
static uint32_t nonce;
static uint16_t icmp_id, pid_port;

enum { SEND4, SEND6, ICMP4, ICMP6, TCP4, TCP6, ROUTE4, ROUTE6, SOCKET_COUNT };
static int sockets[SOCKET_COUNT];

static char out_buf[OUTPUT_BUFFER];
static size_t out_len;

/* ---- output ---- */

static void flush_output(void) {
  size_t done = 0;
  while (done < out_len) {
    ssize_t n = write(STDOUT_FILENO, out_buf + done, out_len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      _exit(0); /* whoever reads the answers is gone */
    }
    done += (size_t)n;
  }
  out_len = 0;
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void emit(const char *fmt, ...) {
  if (out_len > OUTPUT_BUFFER - LINE_MAX_BYTES) flush_output();
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out_buf + out_len, OUTPUT_BUFFER - out_len, fmt, ap);
  va_end(ap);
  if (n > 0) out_len += (size_t)n < OUTPUT_BUFFER - out_len ? (size_t)n : OUTPUT_BUFFER - out_len - 1;
}

/* ---- clocks ---- */

static int64_t mono_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t timespec_us(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000 + t->tv_nsec / 1000; }

/* ---- timeout heap ---- */

static void heap_swap(int i, int j) {
  int a = heap[i], b = heap[j];
  heap[i] = b;
  heap[j] = a;
  slots[b].heap_pos = i;
  slots[a].heap_pos = j;
}

static int64_t heap_key(int i) { return slots[heap[i]].deadline_us; }

static void heap_up(int i) {
  while (i > 0 && heap_key((i - 1) / 2) > heap_key(i)) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_len && heap_key(l) < heap_key(m)) m = l;
    if (r < heap_len && heap_key(r) < heap_key(m)) m = r;
    if (m == i) return;
    heap_swap(i, m);
    i = m;
  }
}

static void heap_push(int slot) {
  heap[heap_len] = slot;
  slots[slot].heap_pos = heap_len;
  heap_up(heap_len++);
}

static void heap_remove(int pos) {
  heap_len--;
  if (pos == heap_len) return;
  heap_swap(pos, heap_len);
  heap_up(pos);
  heap_down(slots[heap[pos]].heap_pos);
}

/* ---- probe table ---- */

static void init_table(void) {
  for (int i = 0; i < 65536; i++) slot_of_seq[i] = -1;
  for (int i = 0; i < MAX_PROBES; i++) free_slots[i] = MAX_PROBES - 1 - i;
  free_count = MAX_PROBES;
}

/* The next sequence number no probe in flight holds (0 is never used: the kernel fills a 0 IP ID). */
static uint16_t allocate_seq(void) {
  for (;;) {
    uint16_t s = next_seq++;
    if (s != 0 && slot_of_seq[s] < 0) return s;
  }
}

static void release(int idx) {
  struct probe_slot *s = &slots[idx];
  heap_remove(s->heap_pos);
  slot_of_seq[s->seq] = -1;
  s->used = 0;
  free_slots[free_count++] = idx;
}

/* ---- sockets and privileges ---- */

static void big_buffer(int fd, int force, int plain) {
  int size = SOCKET_BUFFER;
  if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, plain, &size, sizeof size);
}

static void receive_options(int fd) {
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  big_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Only SYN-ACK and RST|ACK segments reach the TCP sockets (not every TCP packet of the host). */
static void attach_tcp_filter(int fd, int family) {
  struct sock_filter v4[] = {
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),       /* X = IPv4 header length */
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),       /* A = TCP flags */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 0, 2), /* ACK */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x06, 0, 1), /* and SYN or RST */
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_filter v6[] = {
      /* An IPv6 raw socket's packets start at the TCP header. */
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 0, 2),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x06, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog;
  if (family == 4) {
    prog.len = sizeof v4 / sizeof v4[0];
    prog.filter = v4;
  } else {
    prog.len = sizeof v6 / sizeof v6[0];
    prog.filter = v6;
  }
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

static int open_ip4(void) {
  sockets[SEND4] = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (sockets[SEND4] < 0) return -1;
  int on = 1;
  if (setsockopt(sockets[SEND4], IPPROTO_IP, IP_HDRINCL, &on, sizeof on) != 0) return -1;
  big_buffer(sockets[SEND4], SO_SNDBUFFORCE, SO_SNDBUF);
  fcntl(sockets[SEND4], F_SETFL, fcntl(sockets[SEND4], F_GETFL) | O_NONBLOCK);
  sockets[ICMP4] = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (sockets[ICMP4] < 0) return -1;
  /* Echo reply, destination unreachable, time exceeded, parameter problem. */
  struct icmp_filter filter = {~((1u << 0) | (1u << 3) | (1u << 11) | (1u << 12))};
  if (setsockopt(sockets[ICMP4], SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0) return -1;
  receive_options(sockets[ICMP4]);
  sockets[TCP4] = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (sockets[TCP4] < 0) return -1;
  attach_tcp_filter(sockets[TCP4], 4);
  receive_options(sockets[TCP4]);
  sockets[ROUTE4] = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  return sockets[ROUTE4] < 0 ? -1 : 0;
}

static int open_ip6(void) {
  /* IPPROTO_RAW over IPv6 means the header is ours (flow label, traffic class, hop limit). */
  sockets[SEND6] = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  if (sockets[SEND6] < 0) return -1;
  big_buffer(sockets[SEND6], SO_SNDBUFFORCE, SO_SNDBUF);
  fcntl(sockets[SEND6], F_SETFL, fcntl(sockets[SEND6], F_GETFL) | O_NONBLOCK);
  sockets[ICMP6] = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (sockets[ICMP6] < 0) return -1;
  struct icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &filter);
  ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &filter);
  if (setsockopt(sockets[ICMP6], IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) return -1;
  receive_options(sockets[ICMP6]);
  sockets[TCP6] = socket(AF_INET6, SOCK_RAW, IPPROTO_TCP);
  if (sockets[TCP6] < 0) return -1;
  attach_tcp_filter(sockets[TCP6], 6);
  receive_options(sockets[TCP6]);
  sockets[ROUTE6] = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP);
  return sockets[ROUTE6] < 0 ? -1 : 0;
}

static void close_ip6(void) {
  for (int i = 0; i < SOCKET_COUNT; i++) {
    if ((i == SEND6 || i == ICMP6 || i == TCP6 || i == ROUTE6) && sockets[i] >= 0) {
      close(sockets[i]);
      sockets[i] = -1;
    }
  }
}

/*
 * Every raw socket is open: give up every privilege for good. Run as root (a lab, a test), it
 * also becomes nobody; run with the file capability, the capability sets are emptied.
 */
static int drop_privileges(void) {
  if (geteuid() == 0 || getuid() == 0) {
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0)
      return -1;
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) != 0) return -1;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ---- sending ---- */

static void to_sockaddr(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (a->family == 4) {
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    memcpy(&s->sin_addr, a->b, 4);
    *len = sizeof *s;
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    memcpy(&s->sin6_addr, a->b, 16);
    *len = sizeof *s;
  }
}

/* An errno of a send, a bind or a route look-up as an answer line. */
static void report_errno(long token, int err) {
  switch (err) {
  case EAGAIN:
  case ENOBUFS:
    emit("%ld probes-exhausted reason send-buffer-full\n", token);
    break;
  case ENETUNREACH:
  case EHOSTUNREACH:
    emit("%ld network-down reason no-route-to-host\n", token);
    break;
  case ENETDOWN:
    emit("%ld network-down\n", token);
    break;
  case EPERM:
    emit("%ld permission-denied\n", token);
    break;
  case EACCES:
    emit("%ld invalid-argument reason broadcast-destination\n", token);
    break;
  case EADDRINUSE:
    emit("%ld address-in-use\n", token);
    break;
  case EADDRNOTAVAIL:
    emit("%ld address-not-available\n", token);
    break;
  case EMSGSIZE:
    emit("%ld invalid-argument reason packet-too-big\n", token);
    break;
  case EINVAL:
    emit("%ld invalid-argument reason address-not-usable\n", token);
    break;
  default:
    emit("%ld unexpected-error reason errno-%d\n", token, err);
  }
}

/*
 * The source address the probe leaves from: the requested one (which must be this host's and
 * route to the target), else the one the kernel's route to the target picks.
 */
static int source_for(const struct probe_request *req, struct ip_addr *src) {
  struct sockaddr_storage dest, local;
  socklen_t dest_len, local_len = sizeof local;
  to_sockaddr(&req->dest, FREE_PORT_BASE, &dest, &dest_len);
  int domain = req->dest.family == 4 ? AF_INET : AF_INET6;
  if (req->has_source) {
    int fd = socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return errno;
    struct sockaddr_storage bind_to;
    socklen_t bind_len;
    to_sockaddr(&req->source, 0, &bind_to, &bind_len);
    int err = 0;
    if (bind(fd, (struct sockaddr *)&bind_to, bind_len) != 0 ||
        connect(fd, (struct sockaddr *)&dest, dest_len) != 0)
      err = errno;
    close(fd);
    *src = req->source;
    return err;
  }
  int fd = sockets[req->dest.family == 4 ? ROUTE4 : ROUTE6];
  if (connect(fd, (struct sockaddr *)&dest, dest_len) != 0 ||
      getsockname(fd, (struct sockaddr *)&local, &local_len) != 0)
    return errno;
  memset(src, 0, sizeof *src);
  src->family = req->dest.family;
  if (src->family == 4) memcpy(src->b, &((struct sockaddr_in *)&local)->sin_addr, 4);
  else memcpy(src->b, &((struct sockaddr_in6 *)&local)->sin6_addr, 16);
  return 0;
}

static int send_packet(const struct probe_request *req, const struct built_probe *b) {
  struct sockaddr_storage dest;
  socklen_t dest_len;
  to_sockaddr(&req->dest, 0, &dest, &dest_len);
  struct iovec iov = {(void *)b->packet, b->len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &dest;
  msg.msg_namelen = dest_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  if (req->has_source) {
    /* The route is looked up from the requested source too (policy routing). */
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    struct cmsghdr *c = (struct cmsghdr *)control.buf;
    if (req->dest.family == 4) {
      struct in_pktinfo info;
      memset(&info, 0, sizeof info);
      memcpy(&info.ipi_spec_dst, req->source.b, 4);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    } else {
      struct in6_pktinfo info;
      memset(&info, 0, sizeof info);
      memcpy(&info.ipi6_addr, req->source.b, 16);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    }
  }
  int fd = sockets[req->dest.family == 4 ? SEND4 : SEND6];
  for (;;) {
    if (sendmsg(fd, &msg, 0) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

static void send_probe(long token, const struct probe_request *req) {
  if (free_count == 0) {
    emit("%ld probes-exhausted\n", token);
    return;
  }
  if (sockets[req->dest.family == 4 ? SEND4 : SEND6] < 0) {
    emit("%ld invalid-argument reason ip-version-not-supported\n", token);
    return;
  }
  struct probe_identity id;
  int err = source_for(req, &id.source);
  if (err) {
    report_errno(token, err);
    return;
  }
  id.seq = allocate_seq();
  id.nonce = nonce;
  id.icmp_id = icmp_id;
  id.pid_port = pid_port;
  static struct built_probe built;
  const char *reason = "bad-request";
  if (build_probe(req, &id, &built, &reason) != 0) {
    emit("%ld invalid-argument reason %s\n", token, reason);
    return;
  }
  int idx = free_slots[free_count - 1];
  struct probe_slot *s = &slots[idx];
  clock_gettime(CLOCK_REALTIME, &s->sent_real);
  s->sent_mono_us = mono_us();
  err = send_packet(req, &built);
  if (err) {
    report_errno(token, err);
    return;
  }
  free_count--;
  s->used = 1;
  s->token = token;
  s->protocol = req->protocol;
  s->dest = req->dest;
  s->seq = id.seq;
  s->checksum = built.checksum;
  s->tcp_seq = built.tcp_seq;
  s->timeout_sec = req->timeout_sec;
  s->deadline_us = s->sent_mono_us + (int64_t)req->timeout_sec * 1000000;
  slot_of_seq[id.seq] = idx;
  heap_push(idx);
}

static void check_support(long token, const char *feature) {
  static const char *const always[] = {"send-probe", "ip-4", "icmp", "udp", "tcp", "flow-id",
                                       "local-port-tcp", "record-route", "timestamp"};
  static const char *const with_ip6[] = {"ip-6", "flow-label", "local-port-ip-6"};
  const char *support = "no";
  if (strcmp(feature, "version") == 0) support = LG_PROBE_VERSION;
  for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
    if (strcmp(feature, always[i]) == 0) support = "ok";
  for (size_t i = 0; i < sizeof with_ip6 / sizeof with_ip6[0]; i++)
    if (strcmp(feature, with_ip6[i]) == 0 && sockets[SEND6] >= 0) support = "ok";
  emit("%ld feature-support support %s\n", token, support);
}

/* ---- receiving ---- */

static int same_address(const struct ip_addr *a, const struct ip_addr *b) {
  return a->family == b->family && memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/*
 * The probe in flight this answer is about, or -1. The identification fields (PROTOCOL.md) give
 * the sequence number; the probe's destination and protocol must agree, and a nonce or TCP
 * sequence that is not ours (another lg-probe on this host) rules a packet out. Quoted source
 * addresses, ports and checksums are not compared: a NAT may have rewritten them.
 */
static int match(const struct answer *a) {
  uint16_t seq;
  if (a->has_payload_id && a->payload_nonce != nonce) return -1;
  switch (a->protocol) {
  case PROTO_ICMP:
    if (!a->has_seq) return -1;
    seq = a->seq;
    break;
  case PROTO_UDP:
    if (a->has_payload_id) seq = a->payload_seq;
    else if (a->has_seq) seq = a->seq;
    else return -1;
    break;
  case PROTO_TCP:
    if (a->has_tcp_seq) {
      if ((a->tcp_seq & 0xffff0000u) != (nonce & 0xffff0000u)) return -1;
      seq = (uint16_t)a->tcp_seq;
    } else if (a->has_seq) {
      seq = a->seq;
    } else {
      return -1;
    }
    break;
  default:
    return -1;
  }
  int idx = slot_of_seq[seq];
  if (idx < 0) return -1;
  const struct probe_slot *s = &slots[idx];
  if (s->protocol != a->protocol || !same_address(&s->dest, &a->probe_dest)) return -1;
  if (a->has_tcp_seq && a->tcp_seq != s->tcp_seq) return -1;
  return idx;
}

static void answer_probe(const struct answer *a, const struct timespec *received) {
  int idx = match(a);
  if (idx < 0) return;
  struct probe_slot *s = &slots[idx];
  int64_t rtt = -1;
  if (received) rtt = timespec_us(received) - timespec_us(&s->sent_real);
  /* Without a kernel timestamp, or if the wall clock stepped, the monotonic clock measures. */
  if (rtt < 0 || rtt > (int64_t)(s->timeout_sec + 1) * 1000000) rtt = mono_us() - s->sent_mono_us;
  char text[INET6_ADDRSTRLEN];
  inet_ntop(a->responder.family == 4 ? AF_INET : AF_INET6, a->responder.b, text, sizeof text);
  char fields[1024];
  format_answer_fields(fields, sizeof fields, a, a->has_checksum ? s->checksum : -1);
  emit("%ld %s ip-%d %s round-trip-time %lld%s\n", s->token, answer_kind_name(a->kind), a->responder.family,
       text, (long long)rtt, fields);
  release(idx);
}

static void drain(int which) {
  int fd = sockets[which];
  if (fd < 0) return;
  static uint8_t packet[65536];
  for (int i = 0; i < RECEIVE_BATCH; i++) {
    struct sockaddr_storage from;
    struct iovec iov = {packet, sizeof packet};
    union {
      char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
      struct cmsghdr align;
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (msg.msg_flags & MSG_TRUNC) continue;
    struct timespec stamp, *received = NULL;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        received = &stamp;
      }
    }
    struct answer a;
    const char *why;
    int ok;
    if (which == ICMP4 || which == TCP4) {
      ok = read_ip4_packet(packet, (size_t)n, &a, &why);
    } else {
      struct ip_addr source = {6, {0}};
      memcpy(source.b, &((struct sockaddr_in6 *)&from)->sin6_addr, 16);
      ok = which == ICMP6 ? read_icmp6_message(packet, (size_t)n, &source, &a, &why)
                          : read_tcp6_segment(packet, (size_t)n, &source, &a, &why);
    }
    if (ok == 0) answer_probe(&a, received);
  }
}

static void drain_all(void) {
  drain(ICMP4);
  drain(ICMP6);
  drain(TCP4);
  drain(TCP6);
}

static void expire(void) {
  int64_t now = mono_us();
  while (heap_len > 0 && slots[heap[0]].deadline_us <= now) {
    int idx = heap[0];
    emit("%ld no-reply\n", slots[idx].token);
    release(idx);
  }
}

/* ---- requests ---- */

static int sends_since_drain;

static void handle_line(char *line) {
  struct command cmd;
  const char *reason;
  switch (parse_command(line, &cmd, &reason)) {
  case PARSE_EMPTY:
    return;
  case PARSE_NO_TOKEN:
    emit("0 command-parse-error\n");
    return;
  case PARSE_UNKNOWN_COMMAND:
    emit("%ld unknown-command\n", cmd.token);
    return;
  case PARSE_INVALID:
    emit("%ld invalid-argument reason %s\n", cmd.token, reason);
    return;
  }
  if (cmd.kind == CMD_CHECK_SUPPORT) {
    check_support(cmd.token, cmd.feature);
    return;
  }
  send_probe(cmd.token, &cmd.probe);
  if (++sends_since_drain >= SENDS_BETWEEN_DRAINS) {
    sends_since_drain = 0;
    drain_all();
  }
}

static char in_buf[INPUT_BUFFER + 1];
static size_t in_len;
static int discarding; /* inside a line that overflowed the buffer */

/* Reads stdin once; returns 0 at end of input. */
static int read_requests(void) {
  ssize_t n = read(STDIN_FILENO, in_buf + in_len, INPUT_BUFFER - in_len);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n == 0) {
    if (in_len > 0 && !discarding) {
      in_buf[in_len] = 0;
      if (in_len > LINE_MAX_BYTES) emit("0 command-buffer-overflow\n");
      else handle_line(in_buf);
    }
    in_len = 0;
    return 0;
  }
  size_t end = in_len + (size_t)n, start = 0;
  for (size_t i = in_len; i < end; i++) {
    if (in_buf[i] == 0) in_buf[i] = 1; /* a NUL byte makes the word it is in invalid, not shorter */
    if (in_buf[i] != '\n') continue;
    in_buf[i] = 0;
    if (!discarding) {
      if (i - start > LINE_MAX_BYTES) emit("0 command-buffer-overflow\n");
      else handle_line(in_buf + start);
    }
    discarding = 0;
    start = i + 1;
  }
  memmove(in_buf, in_buf + start, end - start);
  in_len = end - start;
  if (in_len > LINE_MAX_BYTES) {
    if (!discarding) emit("0 command-buffer-overflow\n");
    discarding = 1;
    in_len = 0;
  }
  return 1;
}

/* ---- command line ---- */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int decode(int argc, char **argv) {
  const char *hex = NULL;
  struct ip_addr source = {6, {0}};
  if (argc == 4 && strcmp(argv[2], "ip-4") == 0) hex = argv[3];
  else if (argc == 5 && strcmp(argv[2], "ip-6") == 0) {
    if (inet_pton(AF_INET6, argv[3], source.b) != 1) {
      printf("0 decode-error reason bad-source\n");
      return 1;
    }
    hex = argv[4];
  } else {
    fprintf(stderr, "usage: lg-probe --decode ip-4 HEX | --decode ip-6 SOURCE HEX\n");
    return 2;
  }
  size_t len = strlen(hex);
  static uint8_t packet[65536];
  if (len % 2 != 0 || len / 2 > sizeof packet) {
    printf("0 decode-error reason bad-hex\n");
    return 1;
  }
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      printf("0 decode-error reason bad-hex\n");
      return 1;
    }
    packet[i] = (uint8_t)(hi << 4 | lo);
  }
  struct answer a;
  const char *why = "unreadable";
  int ok = hex == argv[3] ? read_ip4_packet(packet, len / 2, &a, &why)
                          : read_icmp6_message(packet, len / 2, &source, &a, &why);
  if (ok != 0) {
    printf("0 decode-error reason %s\n", why);
    return 1;
  }
  char text[INET6_ADDRSTRLEN], fields[1024];
  inet_ntop(a.responder.family == 4 ? AF_INET : AF_INET6, a.responder.b, text, sizeof text);
  format_answer_fields(fields, sizeof fields, &a, -1);
  printf("0 %s ip-%d %s round-trip-time 0%s\n", answer_kind_name(a.kind), a.responder.family, text, fields);
  return 0;
}

static const char HELP[] =
    "lg-probe: lg's probe helper. Sends traceroute probes (ICMP echo, UDP, TCP SYN; IPv4 and\n"
    "IPv6) and reports who answered, speaking mtr-packet's line protocol on stdin/stdout plus\n"
    "lg's fields: flow-id, flow-label, local-port for TCP and IPv6, record-route, timestamp,\n"
    "and the quoted-* fields of ICMP errors (NAT detection).\n"
    "\n"
    "usage: lg-probe                              requests on stdin, one per line, e.g.\n"
    "         1 send-probe ip-4 198.18.0.1 ttl 3 protocol udp port 33434 local-port 40000\n"
    "       lg-probe --decode ip-4 HEX             read one received IPv4 packet, print the answer\n"
    "       lg-probe --decode ip-6 SOURCE HEX      the same for an ICMPv6 message from SOURCE\n"
    "       lg-probe --version | --help\n"
    "\n"
    "Needs CAP_NET_RAW (setcap cap_net_raw+ep lg-probe); opens its raw sockets, then drops every\n"
    "capability. The protocol: packages/tracer/helper/PROTOCOL.md in the lg repository.\n";

int main(int argc, char **argv) {
  if (argc >= 2) {
    if (strcmp(argv[1], "--version") == 0 && argc == 2) {
      printf("lg-probe %s\n", LG_PROBE_VERSION);
      return 0;
    }
    if (strcmp(argv[1], "--help") == 0 && argc == 2) {
      fputs(HELP, stdout);
      return 0;
    }
    if (strcmp(argv[1], "--decode") == 0) return decode(argc, argv);
    fprintf(stderr, "lg-probe: unknown argument %s (try --help)\n", argv[1]);
    return 2;
  }
  signal(SIGTERM, SIG_DFL); /* SIGTERM ends it at once, probes in flight or not */
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < SOCKET_COUNT; i++) sockets[i] = -1;
  if (open_ip4() != 0) {
    fprintf(stderr, "lg-probe: failure to open IPv4 sockets: %s\n", strerror(errno));
    return 1;
  }
  if (open_ip6() != 0) close_ip6(); /* no IPv6 on this host: ip-6 probes are refused */
  if (drop_privileges() != 0) {
    fprintf(stderr, "lg-probe: cannot drop privileges: %s\n", strerror(errno));
    return 1;
  }
  init_table();
  if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce || getrandom(&next_seq, sizeof next_seq, 0) != sizeof next_seq) {
    nonce = (uint32_t)getpid() * 2654435761u ^ (uint32_t)mono_us();
    next_seq = (uint16_t)mono_us();
  }
  icmp_id = (uint16_t)getpid();
  pid_port = (uint16_t)getpid();
  if (pid_port < 1024) pid_port = (uint16_t)(pid_port + 65536 - 1024);

  struct pollfd fds[1 + 4];
  int input_open = 1;
  for (;;) {
    int nfds = 0;
    if (input_open) fds[nfds++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
    const int receivers[] = {ICMP4, ICMP6, TCP4, TCP6};
    for (int i = 0; i < 4; i++)
      if (sockets[receivers[i]] >= 0) fds[nfds++] = (struct pollfd){sockets[receivers[i]], POLLIN, 0};
    int timeout_ms = -1;
    if (heap_len > 0) {
      int64_t wait = slots[heap[0]].deadline_us - mono_us();
      timeout_ms = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
    }
    if (poll(fds, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR) {
      fprintf(stderr, "lg-probe: poll: %s\n", strerror(errno));
      return 1;
    }
    drain_all();
    if (input_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) input_open = read_requests();
    expire();
    flush_output();
    if (!input_open && heap_len == 0) return 0;
  }
}
