/*
 * Packets: building probes (whole IPv4/IPv6 packets, checksums included) and reading what comes
 * back (echo replies, TCP SYN-ACK/RST, ICMP and ICMPv6 errors with their quote, RFC 4884
 * extensions with RFC 4950 MPLS objects, IPv4 Record Route and Timestamp options).
 * Nothing here touches a socket: `lg-probe --decode` runs the readers on crafted packets.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lg-probe.h"

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_TS_PRESPEC 3
#define RR_OPTION_LEN (3 + 4 * RECORD_ROUTE_SLOTS)

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

/* One's complement sum of 16-bit big-endian words (an odd last byte is padded with zero). */
uint32_t sum16(const uint8_t *data, size_t len, uint32_t sum) {
  size_t i;
  for (i = 0; i + 1 < len; i += 2) sum += (uint32_t)(data[i] << 8 | data[i + 1]);
  if (len & 1) sum += (uint32_t)data[len - 1] << 8;
  return sum;
}

uint16_t fold16(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

static uint32_t pseudo_header_sum(const struct ip_addr *src, const struct ip_addr *dst, int proto,
                                  size_t len) {
  size_t alen = src->family == 4 ? 4 : 16;
  uint32_t sum = sum16(src->b, alen, 0);
  sum = sum16(dst->b, alen, sum);
  return sum + (uint32_t)proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

uint16_t free_port(uint16_t seq) { return (uint16_t)(FREE_PORT_BASE + seq % FREE_PORT_COUNT); }

uint32_t tcp_sequence(uint32_t nonce, uint16_t seq) { return (nonce & 0xffff0000u) | seq; }

static int ip4_options_length(const struct probe_request *req) {
  if (req->record_route) return RR_OPTION_LEN + 1; /* padded with one end-of-list byte */
  if (req->timestamp_count) return 4 + 8 * req->timestamp_count;
  return 0;
}

static int ip_header_length(const struct probe_request *req) {
  return req->dest.family == 4 ? 20 + ip4_options_length(req) : 40;
}

int minimum_probe_size(const struct probe_request *req) {
  int ip = ip_header_length(req);
  switch (req->protocol) {
  case PROTO_ICMP:
    /* A held checksum needs the compensation word in the payload. */
    return ip + 8 + (req->flow_id >= 0 ? PAYLOAD_ID_LEN : 0);
  case PROTO_UDP:
    /* ICMPv6 errors are matched by the payload (no IP identification field in IPv6). */
    return ip + 8 + (req->dest.family == 6 ? PAYLOAD_COMP : 0);
  default:
    return ip + 24; /* TCP header with an MSS option */
  }
}

/* Nonce and sequence at the start of the payload, as far as the payload reaches. */
static void put_payload_id(uint8_t *payload, size_t len, const struct probe_identity *id) {
  if (len >= PAYLOAD_SEQ) put32(payload + PAYLOAD_NONCE, id->nonce);
  if (len >= PAYLOAD_COMP) put16(payload + PAYLOAD_SEQ, id->seq);
}

static void build_icmp(uint8_t *l4, size_t len, const struct probe_request *req, const struct probe_identity *id,
                       struct built_probe *out) {
  int v6 = req->dest.family == 6;
  l4[0] = v6 ? 128 : 8;
  l4[1] = 0;
  put16(l4 + 2, 0);
  put16(l4 + 4, req->flow_id >= 0 ? (uint16_t)req->flow_id : id->icmp_id);
  put16(l4 + 6, id->seq);
  put_payload_id(l4 + 8, len - 8, id);
  if (req->flow_id >= 0) put16(l4 + 8 + PAYLOAD_COMP, 0);
  uint32_t sum = v6 ? pseudo_header_sum(&id->source, &req->dest, 58, len) : 0;
  uint16_t s = fold16(sum16(l4, len, sum));
  if (req->flow_id < 0) {
    out->checksum = (uint16_t)~s;
  } else {
    /*
     * Held checksum: the field carries F and the compensation word c makes the sum come out
     * right: S + c + F = 0xffff (one's complement), so c = ~F + ~S.
     */
    uint16_t f = (uint16_t)req->flow_id;
    uint16_t c = fold16((uint32_t)(uint16_t)~f + (uint16_t)~s);
    put16(l4 + 8 + PAYLOAD_COMP, c);
    out->checksum = f;
  }
  put16(l4 + 2, out->checksum);
}

static void build_udp(uint8_t *l4, size_t len, const struct probe_request *req, const struct probe_identity *id,
                      struct built_probe *out) {
  out->dport = req->port >= 0 ? (uint16_t)req->port : free_port(id->seq);
  if (req->local_port >= 0) out->sport = (uint16_t)req->local_port;
  else out->sport = req->port >= 0 ? free_port(id->seq) : id->pid_port;
  put16(l4, out->sport);
  put16(l4 + 2, out->dport);
  put16(l4 + 4, (uint16_t)len);
  put16(l4 + 6, 0);
  put_payload_id(l4 + 8, len - 8, id);
  uint16_t c = (uint16_t)~fold16(sum16(l4, len, pseudo_header_sum(&id->source, &req->dest, 17, len)));
  out->checksum = c == 0 ? 0xffff : c;
  put16(l4 + 6, out->checksum);
}

static void build_tcp(uint8_t *l4, size_t len, const struct probe_request *req, const struct probe_identity *id,
                      struct built_probe *out) {
  out->dport = req->port >= 0 ? (uint16_t)req->port : DEFAULT_TCP_PORT;
  out->sport = req->local_port >= 0 ? (uint16_t)req->local_port : free_port(id->seq);
  out->tcp_seq = tcp_sequence(id->nonce, id->seq);
  memset(l4, 0, len);
  put16(l4, out->sport);
  put16(l4 + 2, out->dport);
  put32(l4 + 4, out->tcp_seq);
  l4[12] = (uint8_t)((len / 4) << 4);
  l4[13] = 0x02; /* SYN */
  put16(l4 + 14, 64240);
  l4[20] = 2; /* MSS option, as every real SYN carries */
  l4[21] = 4;
  put16(l4 + 22, req->dest.family == 4 ? 1460 : 1440);
  out->checksum = (uint16_t)~fold16(sum16(l4, len, pseudo_header_sum(&id->source, &req->dest, 6, len)));
  put16(l4 + 16, out->checksum);
}

static void build_ip4_options(uint8_t *opt, const struct probe_request *req) {
  if (req->record_route) {
    memset(opt, 0, RR_OPTION_LEN + 1);
    opt[0] = IPOPT_RR;
    opt[1] = RR_OPTION_LEN;
    opt[2] = 4;
  } else if (req->timestamp_count) {
    opt[0] = IPOPT_TS;
    opt[1] = (uint8_t)(4 + 8 * req->timestamp_count);
    opt[2] = 5;
    opt[3] = IPOPT_TS_PRESPEC;
    for (int i = 0; i < req->timestamp_count; i++) {
      memcpy(opt + 4 + 8 * i, req->timestamps[i], 4);
      memset(opt + 8 + 8 * i, 0, 4);
    }
  }
}

int build_probe(const struct probe_request *req, const struct probe_identity *id, struct built_probe *out,
                const char **reason) {
  int min = minimum_probe_size(req);
  int size = req->size < 0 ? DEFAULT_SIZE : req->size;
  /* Smaller sizes are raised (as mtr-packet does); a TCP SYN carries no data. */
  if (size < min || req->protocol == PROTO_TCP) size = min;
  if (size > MAX_PACKET) {
    *reason = "bad-size";
    return -1;
  }
  int iphlen = ip_header_length(req);
  size_t l4len = (size_t)(size - iphlen);
  uint8_t *p = out->packet;
  uint8_t *l4 = p + iphlen;
  memset(p, req->bit_pattern, (size_t)size);
  out->len = (size_t)size;
  out->sport = out->dport = 0;
  out->tcp_seq = 0;
  int proto;
  switch (req->protocol) {
  case PROTO_ICMP:
    build_icmp(l4, l4len, req, id, out);
    proto = req->dest.family == 4 ? 1 : 58;
    break;
  case PROTO_UDP:
    build_udp(l4, l4len, req, id, out);
    proto = 17;
    break;
  default:
    build_tcp(l4, l4len, req, id, out);
    proto = 6;
    break;
  }
  if (req->dest.family == 4) {
    p[0] = (uint8_t)(0x40 | iphlen / 4);
    p[1] = (uint8_t)req->tos;
    put16(p + 2, (uint16_t)size);
    put16(p + 4, id->seq); /* identification: the probe's sequence number */
    put16(p + 6, 0);
    p[8] = (uint8_t)req->ttl;
    p[9] = (uint8_t)proto;
    put16(p + 10, 0);
    memcpy(p + 12, id->source.b, 4);
    memcpy(p + 16, req->dest.b, 4);
    build_ip4_options(p + 20, req);
    put16(p + 10, (uint16_t)~fold16(sum16(p, (size_t)iphlen, 0)));
  } else {
    uint32_t tc = (uint32_t)req->tos, fl = (uint32_t)req->flow_label;
    put32(p, 6u << 28 | tc << 20 | fl);
    put16(p + 4, (uint16_t)l4len);
    p[6] = (uint8_t)proto;
    p[7] = (uint8_t)req->ttl;
    memcpy(p + 8, id->source.b, 16);
    memcpy(p + 24, req->dest.b, 16);
  }
  return 0;
}

/* ---- reading answers ---- */

static void set_addr(struct ip_addr *a, int family, const uint8_t *b) {
  memset(a, 0, sizeof *a);
  a->family = family;
  memcpy(a->b, b, family == 4 ? 4 : 16);
}

/* Record Route and prespecified Timestamp options of an IPv4 header. */
static void read_ip4_options(const uint8_t *opt, size_t len, struct answer *a) {
  size_t i = 0;
  while (i < len) {
    uint8_t type = opt[i];
    if (type == IPOPT_EOL) return;
    if (type == IPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= len) return;
    size_t olen = opt[i + 1];
    if (olen < 2 || i + olen > len) return;
    if (type == IPOPT_RR && olen >= 3) {
      size_t slots = (olen - 3) / 4;
      size_t ptr = opt[i + 2];
      size_t filled = ptr >= 4 ? (ptr - 4) / 4 : 0;
      if (filled > slots) filled = slots;
      if (filled > RECORD_ROUTE_SLOTS) filled = RECORD_ROUTE_SLOTS;
      a->has_record_route = 1;
      a->record_route_count = (int)filled;
      for (size_t k = 0; k < filled; k++) memcpy(a->record_route[k], opt + i + 3 + 4 * k, 4);
    } else if (type == IPOPT_TS && olen >= 4 && (opt[i + 3] & 0x0f) == IPOPT_TS_PRESPEC) {
      size_t entries = (olen - 4) / 8;
      size_t ptr = opt[i + 2];
      size_t stamped = ptr >= 5 ? (ptr - 5) / 8 : 0;
      if (entries > MAX_TIMESTAMPS) entries = MAX_TIMESTAMPS;
      a->has_timestamps = 1;
      a->timestamp_count = (int)entries;
      for (size_t k = 0; k < entries; k++) {
        memcpy(a->timestamp_addr[k], opt + i + 4 + 8 * k, 4);
        a->timestamp_ms[k] = be32(opt + i + 8 + 8 * k);
        a->timestamp_stamped[k] = k < stamped;
      }
    }
    i += olen;
  }
}

/*
 * An RFC 4884 extension structure: version 2, a checksum over the structure (0: not computed),
 * then objects; MPLS label stack objects (RFC 4950: class 1, c-type 1) fill `a->mpls`.
 * Returns -1 when this is not a valid extension structure.
 */
static int read_extensions(const uint8_t *ext, size_t len, struct answer *a) {
  if (len < 4 || ext[0] >> 4 != 2) return -1;
  if (be16(ext + 2) != 0 && fold16(sum16(ext, len, 0)) != 0xffff) return -1;
  size_t pos = 4;
  while (pos + 4 <= len) {
    size_t olen = be16(ext + pos);
    if (olen < 4 || pos + olen > len) break;
    if (ext[pos + 2] == 1 && ext[pos + 3] == 1) {
      for (size_t k = pos + 4; k + 4 <= pos + olen && a->mpls_count < MAX_MPLS_LABELS; k += 4)
        a->mpls[a->mpls_count++] = be32(ext + k);
    }
    pos += olen;
  }
  return 0;
}

/* Where the original datagram ends and the extension structure begins (RFC 4884 section 5). */
static size_t split_extensions(const uint8_t *body, size_t blen, size_t orig_len, struct answer *a) {
  size_t quote_len = blen - 8;
  if (orig_len > 0) {
    if (8 + orig_len <= blen) {
      if (8 + orig_len < blen) read_extensions(body + 8 + orig_len, blen - 8 - orig_len, a);
      quote_len = orig_len;
    }
  } else if (blen >= 8 + 128 + 4) {
    /* Before RFC 4884 (length 0): an extension may follow a 128-byte original datagram. */
    struct answer probe_ext = *a;
    if (read_extensions(body + 8 + 128, blen - 8 - 128, &probe_ext) == 0) {
      *a = probe_ext;
      quote_len = 128;
    }
  }
  return quote_len;
}

static void read_payload_id(const uint8_t *payload, size_t len, struct answer *a) {
  if (len < PAYLOAD_COMP) return;
  a->has_payload_id = 1;
  a->payload_nonce = be32(payload + PAYLOAD_NONCE);
  a->payload_seq = be16(payload + PAYLOAD_SEQ);
}

/* The transport header of a quoted probe (`len` bytes of it were quoted). */
static int read_quoted_transport(int family, int proto, const uint8_t *t, size_t len, struct answer *a,
                                 const char **why) {
  switch (proto) {
  case 17:
    a->protocol = PROTO_UDP;
    if (len >= 4) {
      a->has_ports = 1;
      a->quoted_sport = be16(t);
      a->quoted_dport = be16(t + 2);
    }
    if (len >= 8) {
      a->has_checksum = 1;
      a->quoted_checksum = be16(t + 6);
      read_payload_id(t + 8, len - 8, a);
    }
    if (family == 6) {
      if (!a->has_payload_id) {
        *why = "truncated-quote";
        return -1;
      }
      a->has_seq = 1;
      a->seq = a->payload_seq;
    }
    return 0;
  case 6:
    a->protocol = PROTO_TCP;
    if (len >= 4) {
      a->has_ports = 1;
      a->quoted_sport = be16(t);
      a->quoted_dport = be16(t + 2);
    }
    if (len >= 8) {
      a->has_tcp_seq = 1;
      a->tcp_seq = be32(t + 4);
    }
    if (len >= 18) {
      a->has_checksum = 1;
      a->quoted_checksum = be16(t + 16);
    }
    if (!a->has_tcp_seq && family == 6) {
      *why = "truncated-quote";
      return -1;
    }
    return 0;
  case 1:
  case 58:
    if ((proto == 1) != (family == 4)) break;
    if (len < 8) {
      if (family == 4) { /* the IP identification still names the probe */
        a->protocol = PROTO_ICMP;
        return 0;
      }
      *why = "truncated-quote";
      return -1;
    }
    if (t[0] != (family == 4 ? 8 : 128)) break;
    a->protocol = PROTO_ICMP;
    a->has_checksum = 1;
    a->quoted_checksum = be16(t + 2);
    a->has_seq = 1;
    a->seq = be16(t + 6);
    read_payload_id(t + 8, len - 8, a);
    return 0;
  }
  *why = "quote-not-a-probe";
  return -1;
}

static int read_quote4(const uint8_t *q, size_t qlen, struct answer *a, int param_problem, const char **why) {
  if (qlen < 20) {
    *why = "truncated-quote";
    return -1;
  }
  if (q[0] >> 4 != 4) {
    *why = "quote-not-ipv4";
    return -1;
  }
  size_t qihl = (size_t)(q[0] & 0x0f) * 4;
  if (qihl < 20 || qihl > qlen) {
    *why = "truncated-quote";
    return -1;
  }
  a->quoted = 1;
  a->quoted_ttl = q[8];
  set_addr(&a->quoted_source, 4, q + 12);
  set_addr(&a->probe_dest, 4, q + 16);
  /* IPv4 probes carry their sequence number in the identification field. */
  a->has_seq = 1;
  a->seq = be16(q + 4);
  read_ip4_options(q + 20, qihl - 20, a);
  if (param_problem && qihl > 20) a->options_refused = 1;
  return read_quoted_transport(4, q[9], q + qihl, qlen - qihl, a, why);
}

static int read_quote6(const uint8_t *q, size_t qlen, struct answer *a, const char **why) {
  if (qlen < 40) {
    *why = "truncated-quote";
    return -1;
  }
  if (q[0] >> 4 != 6) {
    *why = "quote-not-ipv6";
    return -1;
  }
  a->quoted = 1;
  a->has_flow_label = 1;
  a->quoted_flow_label = be32(q) & 0xfffff;
  a->quoted_ttl = q[7];
  set_addr(&a->quoted_source, 6, q + 8);
  set_addr(&a->probe_dest, 6, q + 24);
  return read_quoted_transport(6, q[6], q + 40, qlen - 40, a, why);
}

static int read_tcp(int family, const struct ip_addr *source, const uint8_t *seg, size_t len, struct answer *a,
                    const char **why) {
  if (len < 20) {
    *why = "truncated-tcp-header";
    return -1;
  }
  uint8_t flags = seg[13];
  /* A SYN-ACK, or the RST|ACK a closed port answers a SYN with: both acknowledge seq + 1. */
  if (!(flags & 0x10) || !(flags & 0x06)) {
    *why = "tcp-not-syn-ack-or-rst";
    return -1;
  }
  (void)family;
  a->kind = ANSWER_REPLY;
  a->responder = *source;
  a->probe_dest = *source;
  a->protocol = PROTO_TCP;
  a->has_tcp_seq = 1;
  a->tcp_seq = be32(seg + 8) - 1;
  return 0;
}

int read_tcp6_segment(const uint8_t *seg, size_t len, const struct ip_addr *source, struct answer *a,
                      const char **why) {
  memset(a, 0, sizeof *a);
  return read_tcp(6, source, seg, len, a, why);
}

int read_ip4_packet(const uint8_t *pkt, size_t len, struct answer *a, const char **why) {
  memset(a, 0, sizeof *a);
  if (len < 20) {
    *why = "truncated-ip-header";
    return -1;
  }
  if (pkt[0] >> 4 != 4) {
    *why = "not-ipv4";
    return -1;
  }
  size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) {
    *why = "truncated-ip-header";
    return -1;
  }
  size_t total = be16(pkt + 2);
  if (total < ihl || total > len) {
    *why = "truncated-packet";
    return -1;
  }
  len = total;
  if (be16(pkt + 6) & 0x3fff) {
    *why = "fragment";
    return -1;
  }
  struct ip_addr src;
  set_addr(&src, 4, pkt + 12);
  const uint8_t *body = pkt + ihl;
  size_t blen = len - ihl;
  if (pkt[9] == 6) return read_tcp(4, &src, body, blen, a, why);
  if (pkt[9] != 1) {
    *why = "not-icmp-or-tcp";
    return -1;
  }
  if (blen < 8) {
    *why = "truncated-icmp-header";
    return -1;
  }
  a->responder = src;
  uint8_t type = body[0], code = body[1];
  int param_problem = 0;
  switch (type) {
  case 0: /* echo reply */
    a->kind = ANSWER_REPLY;
    a->protocol = PROTO_ICMP;
    a->probe_dest = src;
    a->has_seq = 1;
    a->seq = be16(body + 6);
    read_payload_id(body + 8, blen - 8, a);
    read_ip4_options(pkt + 20, ihl - 20, a);
    return 0;
  case 11:
    a->kind = ANSWER_TTL_EXPIRED;
    break;
  case 3:
    /* Port unreachable: the target's own answer to a UDP probe (mtr-packet's "reply"). */
    a->kind = code == 3 ? ANSWER_REPLY : ANSWER_NO_ROUTE;
    break;
  case 12:
    a->kind = ANSWER_NO_ROUTE;
    param_problem = 1;
    break;
  default:
    *why = "not-an-answer-type";
    return -1;
  }
  size_t quote_len = split_extensions(body, blen, (size_t)body[5] * 4, a);
  return read_quote4(body + 8, quote_len, a, param_problem, why);
}

int read_icmp6_message(const uint8_t *msg, size_t len, const struct ip_addr *source, struct answer *a,
                       const char **why) {
  memset(a, 0, sizeof *a);
  if (len < 8) {
    *why = "truncated-icmp-header";
    return -1;
  }
  a->responder = *source;
  uint8_t type = msg[0], code = msg[1];
  size_t orig_len = 0;
  switch (type) {
  case 129: /* echo reply */
    a->kind = ANSWER_REPLY;
    a->protocol = PROTO_ICMP;
    a->probe_dest = *source;
    a->has_seq = 1;
    a->seq = be16(msg + 6);
    read_payload_id(msg + 8, len - 8, a);
    return 0;
  case 3:
    a->kind = ANSWER_TTL_EXPIRED;
    orig_len = (size_t)msg[4] * 8;
    break;
  case 1:
    a->kind = code == 4 ? ANSWER_REPLY : ANSWER_NO_ROUTE;
    orig_len = (size_t)msg[4] * 8;
    break;
  case 4: /* parameter problem: no RFC 4884 length field */
    a->kind = ANSWER_NO_ROUTE;
    return read_quote6(msg + 8, len - 8, a, why);
  default:
    *why = "not-an-answer-type";
    return -1;
  }
  size_t quote_len = split_extensions(msg, len, orig_len, a);
  return read_quote6(msg + 8, quote_len, a, why);
}

/* ---- answer lines ---- */

const char *answer_kind_name(int kind) {
  switch (kind) {
  case ANSWER_REPLY:
    return "reply";
  case ANSWER_TTL_EXPIRED:
    return "ttl-expired";
  default:
    return "no-route";
  }
}

struct out_buf {
  char *p;
  size_t cap, len;
};

static void out_printf(struct out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out_buf *o, const char *fmt, ...) {
  if (o->len >= o->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  o->len += (size_t)n;
  if (o->len >= o->cap) o->len = o->cap - 1;
}

static void out_addr(struct out_buf *o, const struct ip_addr *a) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, text, sizeof text);
  out_printf(o, "%s", text);
}

static void out_addr4(struct out_buf *o, const uint8_t *b) {
  struct ip_addr a;
  set_addr(&a, 4, b);
  out_addr(o, &a);
}

size_t format_answer_fields(char *out, size_t cap, const struct answer *a, int sent_checksum) {
  struct out_buf o = {out, cap, 0};
  if (cap == 0) return 0;
  out[0] = 0;
  if (a->mpls_count > 0) {
    out_printf(&o, " mpls ");
    for (int i = 0; i < a->mpls_count; i++) {
      uint32_t v = a->mpls[i];
      out_printf(&o, "%s%u,%u,%u,%u", i ? "," : "", v >> 12, (v >> 9) & 7, (v >> 8) & 1, v & 0xff);
    }
  }
  if (a->quoted) {
    out_printf(&o, " quoted-ttl %d quoted-source ", a->quoted_ttl);
    out_addr(&o, &a->quoted_source);
    if (a->has_ports) out_printf(&o, " quoted-ports %u,%u", a->quoted_sport, a->quoted_dport);
    if (a->has_checksum) {
      out_printf(&o, " quoted-checksum %u", a->quoted_checksum);
      if (sent_checksum >= 0) out_printf(&o, " sent-checksum %d", sent_checksum);
    }
    if (a->has_flow_label) out_printf(&o, " quoted-flow-label %u", a->quoted_flow_label);
  }
  if (a->has_record_route && a->record_route_count > 0) {
    out_printf(&o, " record-route ");
    for (int i = 0; i < a->record_route_count; i++) {
      if (i) out_printf(&o, ",");
      out_addr4(&o, a->record_route[i]);
    }
  }
  if (a->options_refused) out_printf(&o, " options refused");
  if (a->has_timestamps && a->timestamp_count > 0) {
    out_printf(&o, " timestamp ");
    for (int i = 0; i < a->timestamp_count; i++) {
      if (i) out_printf(&o, ",");
      out_addr4(&o, a->timestamp_addr[i]);
      if (a->timestamp_stamped[i]) out_printf(&o, "=%u", a->timestamp_ms[i]);
      else out_printf(&o, "=-");
    }
  }
  return o.len;
}
