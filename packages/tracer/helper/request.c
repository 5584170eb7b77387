/*
 * Request lines: "TOKEN COMMAND [NAME VALUE]...". Every field is checked here (numbers in range,
 * addresses by inet_pton, names known, combinations that make sense) before anything is sent.
 */
#include <arpa/inet.h>
#include <string.h>

#include "lg-probe.h"

#define MAX_WORDS 40

static int split_words(char *line, char **words, int max) {
  int n = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f') p++;
    if (*p == 0) return n;
    if (n == max) return -1;
    words[n++] = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\v' && *p != '\f') p++;
    if (*p) *p++ = 0;
  }
}

/* A decimal number of at most `digits` digits, no sign, in [min, max]. */
static int parse_number(const char *s, long min, long max, int digits, long *out) {
  long v = 0;
  int n = 0;
  for (; *s; s++, n++) {
    if (*s < '0' || *s > '9' || n >= digits) return -1;
    v = v * 10 + (*s - '0');
  }
  if (n == 0 || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int parse_int(const char *s, long min, long max, int *out) {
  long v;
  if (parse_number(s, min, max, 10, &v) != 0) return -1;
  *out = (int)v;
  return 0;
}

static int parse_address(int family, const char *s, struct ip_addr *out) {
  memset(out, 0, sizeof *out);
  out->family = family;
  return inet_pton(family == 4 ? AF_INET : AF_INET6, s, out->b) == 1 ? 0 : -1;
}

/* Multicast, broadcast, unspecified and reserved destinations are never probed. */
static int is_refused_destination(const struct ip_addr *a) {
  if (a->family == 4) {
    uint8_t first = a->b[0];
    return first == 0 || first >= 224; /* 0/8, multicast 224/4, reserved 240/4 and broadcast */
  }
  static const uint8_t unspecified[16];
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a->b[0] == 0xff || memcmp(a->b, unspecified, 16) == 0 || memcmp(a->b, mapped, 12) == 0;
}

enum field {
  F_IP4, F_IP6, F_TTL, F_PROTOCOL, F_PORT, F_LOCAL_PORT, F_SIZE, F_TOS, F_TIMEOUT, F_LOCAL_IP4,
  F_LOCAL_IP6, F_FLOW_ID, F_FLOW_LABEL, F_RECORD_ROUTE, F_TIMESTAMP, F_BIT_PATTERN, F_COUNT
};

static const char *const FIELD_NAMES[F_COUNT] = {
    "ip-4",     "ip-6",       "ttl",        "protocol",   "port",         "local-port",
    "size",     "tos",        "timeout",    "local-ip-4", "local-ip-6",   "flow-id",
    "flow-label", "record-route", "timestamp", "bit-pattern",
};

/* One word per field for `reason`. */
static const char *const BAD_FIELD[F_COUNT] = {
    "bad-ip-4",     "bad-ip-6",       "bad-ttl",        "bad-protocol",   "bad-port",
    "bad-local-port", "bad-size",     "bad-tos",        "bad-timeout",    "bad-local-ip-4",
    "bad-local-ip-6", "bad-flow-id",  "bad-flow-label", "bad-record-route", "bad-timestamp",
    "bad-bit-pattern",
};

static int parse_timestamps(char *value, struct probe_request *p) {
  int n = 0;
  char *item = value;
  for (;;) {
    char *comma = strchr(item, ',');
    if (comma) *comma = 0;
    if (n == MAX_TIMESTAMPS) return -1;
    struct ip_addr a;
    if (parse_address(4, item, &a) != 0) return -1;
    memcpy(p->timestamps[n++], a.b, 4);
    if (!comma) break;
    item = comma + 1;
  }
  p->timestamp_count = n;
  return 0;
}

static int set_field(int f, char *value, struct probe_request *p) {
  switch (f) {
  case F_IP4:
  case F_IP6:
    return parse_address(f == F_IP4 ? 4 : 6, value, &p->dest);
  case F_TTL:
    return parse_int(value, 1, 255, &p->ttl);
  case F_PROTOCOL:
    if (strcmp(value, "icmp") == 0) p->protocol = PROTO_ICMP;
    else if (strcmp(value, "udp") == 0) p->protocol = PROTO_UDP;
    else if (strcmp(value, "tcp") == 0) p->protocol = PROTO_TCP;
    else return -1;
    return 0;
  case F_PORT:
    return parse_int(value, 1, 65535, &p->port);
  case F_LOCAL_PORT:
    /* Privileged ports are never a probe's source (as mtr-packet, which ignores them). */
    return parse_int(value, 1024, 65535, &p->local_port);
  case F_SIZE:
    return parse_int(value, 0, MAX_PACKET, &p->size);
  case F_TOS:
    return parse_int(value, 0, 255, &p->tos);
  case F_TIMEOUT:
    return parse_int(value, 1, MAX_TIMEOUT_SEC, &p->timeout_sec);
  case F_LOCAL_IP4:
  case F_LOCAL_IP6:
    p->has_source = 1;
    return parse_address(f == F_LOCAL_IP4 ? 4 : 6, value, &p->source);
  case F_FLOW_ID:
    return parse_int(value, 0, 65535, &p->flow_id);
  case F_FLOW_LABEL:
    return parse_int(value, 0, 0xfffff, &p->flow_label);
  case F_RECORD_ROUTE:
    if (strcmp(value, "on") == 0) p->record_route = 1;
    else if (strcmp(value, "off") == 0) p->record_route = 0;
    else return -1;
    return 0;
  case F_TIMESTAMP:
    return parse_timestamps(value, p);
  case F_BIT_PATTERN:
    return parse_int(value, 0, 255, &p->bit_pattern);
  }
  return -1;
}

static int parse_send_probe(char **words, int n, struct probe_request *p, const char **reason) {
  memset(p, 0, sizeof *p);
  p->ttl = DEFAULT_TTL;
  p->protocol = PROTO_ICMP;
  p->port = -1;
  p->local_port = -1;
  p->size = -1;
  p->timeout_sec = DEFAULT_TIMEOUT_SEC;
  p->flow_id = -1;
  unsigned seen = 0;
  for (int i = 2; i < n; i += 2) {
    int f;
    for (f = 0; f < F_COUNT; f++)
      if (strcmp(words[i], FIELD_NAMES[f]) == 0) break;
    if (f == F_COUNT) {
      *reason = "unknown-argument";
      return -1;
    }
    if (seen & (1u << f)) {
      *reason = "duplicate-argument";
      return -1;
    }
    seen |= 1u << f;
    if (set_field(f, words[i + 1], p) != 0) {
      *reason = BAD_FIELD[f];
      return -1;
    }
  }
  int v4 = (seen >> F_IP4) & 1, v6 = (seen >> F_IP6) & 1;
  if (v4 + v6 != 1) {
    *reason = v4 + v6 == 0 ? "missing-address" : "two-addresses";
    return -1;
  }
  if (p->has_source && p->source.family != p->dest.family) {
    *reason = "source-family-differs";
    return -1;
  }
  if (is_refused_destination(&p->dest)) {
    *reason = "multicast-or-broadcast-destination";
    return -1;
  }
  if (p->has_source && is_refused_destination(&p->source)) {
    *reason = "bad-source";
    return -1;
  }
  if (p->protocol == PROTO_ICMP && (p->port >= 0 || p->local_port >= 0)) {
    *reason = "ports-need-udp-or-tcp";
    return -1;
  }
  if (p->flow_id >= 0 && p->protocol != PROTO_ICMP) {
    *reason = "flow-id-needs-icmp";
    return -1;
  }
  if (((seen >> F_FLOW_LABEL) & 1) && p->dest.family != 6) {
    *reason = "flow-label-needs-ip-6";
    return -1;
  }
  if ((p->record_route || p->timestamp_count) && p->dest.family != 4) {
    *reason = "ip-options-need-ip-4";
    return -1;
  }
  /* 40 bytes of IPv4 options: Record Route (39) leaves no room for a Timestamp option. */
  if (p->record_route && p->timestamp_count) {
    *reason = "options-do-not-fit";
    return -1;
  }
  return 0;
}

int parse_command(char *line, struct command *cmd, const char **reason) {
  char *words[MAX_WORDS];
  memset(cmd, 0, sizeof *cmd);
  *reason = NULL;
  int n = split_words(line, words, MAX_WORDS);
  long token;
  /* With too many words (n < 0) the token is still read, so the answer can carry it. */
  if (n == 0) return PARSE_EMPTY;
  if (parse_number(words[0], 0, 999999999999999L, 15, &token) != 0) return PARSE_NO_TOKEN;
  cmd->token = token;
  if (n < 0) {
    *reason = "too-many-arguments";
    return PARSE_INVALID;
  }
  if (n < 2) return PARSE_NO_TOKEN;
  int is_send = strcmp(words[1], "send-probe") == 0;
  int is_check = strcmp(words[1], "check-support") == 0;
  if (!is_send && !is_check) return PARSE_UNKNOWN_COMMAND;
  if (n % 2 != 0) {
    *reason = "missing-value";
    return PARSE_INVALID;
  }
  if (is_check) {
    cmd->kind = CMD_CHECK_SUPPORT;
    if (n != 4 || strcmp(words[2], "feature") != 0) {
      *reason = "expected-feature";
      return PARSE_INVALID;
    }
    /* A name too long to be a feature stays empty: it answers "support no". */
    size_t len = strlen(words[3]);
    if (len < sizeof cmd->feature) memcpy(cmd->feature, words[3], len + 1);
    return PARSE_OK;
  }
  cmd->kind = CMD_SEND_PROBE;
  return parse_send_probe(words, n, &cmd->probe, reason) == 0 ? PARSE_OK : PARSE_INVALID;
}
