/*
 * lg-probe: lg's privileged probe helper. Shared types of the request parser (request.c),
 * the packet builder and reader (wire.c) and the main loop (lg-probe.c).
 * The line protocol is PROTOCOL.md beside this file.
 */
#ifndef LG_PROBE_H
#define LG_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define LG_PROBE_VERSION "lg-probe-1"

/* Probes in flight per process; one more answers probes-exhausted. */
#define MAX_PROBES 16384
/* Largest probe (the whole IP packet). */
#define MAX_PACKET 9000
#define MAX_TIMEOUT_SEC 3600
#define DEFAULT_TIMEOUT_SEC 10
#define DEFAULT_TTL 255
#define DEFAULT_SIZE 64
#define MAX_TIMESTAMPS 4
#define RECORD_ROUTE_SLOTS 9
#define MAX_MPLS_LABELS 16
/* First port of mtr's sequence-numbered ports (free flows). */
#define FREE_PORT_BASE 33434
#define FREE_PORT_COUNT (65536 - FREE_PORT_BASE)
#define DEFAULT_TCP_PORT 80
/* Probe payload: nonce (4), sequence (2), ICMP checksum compensation (2), then the pattern. */
#define PAYLOAD_NONCE 0
#define PAYLOAD_SEQ 4
#define PAYLOAD_COMP 6
#define PAYLOAD_ID_LEN 8

enum probe_protocol { PROTO_ICMP = 1, PROTO_UDP = 2, PROTO_TCP = 3 };

/* An address of either family; IPv4 uses the first 4 bytes. */
struct ip_addr {
  int family; /* 4 or 6 */
  uint8_t b[16];
};

/* One validated send-probe request. */
struct probe_request {
  struct ip_addr dest;
  int ttl;
  int protocol;
  int port;       /* -1: none */
  int local_port; /* -1: none */
  int size;       /* -1: default */
  int tos;
  int timeout_sec;
  int has_source;
  struct ip_addr source;
  int flow_id;    /* -1: none */
  int flow_label; /* IPv6 only, 0 by default */
  int record_route;
  int timestamp_count;
  uint8_t timestamps[MAX_TIMESTAMPS][4];
  int bit_pattern;
};

enum command_kind { CMD_SEND_PROBE, CMD_CHECK_SUPPORT };

/* A parsed request line. `token` is valid whenever the parse got that far. */
struct command {
  long token;
  int kind;
  struct probe_request probe;
  char feature[32];
};

enum parse_result {
  PARSE_OK = 0,
  PARSE_EMPTY,           /* a blank line: no answer */
  PARSE_NO_TOKEN,        /* no numeric token: "0 command-parse-error" */
  PARSE_UNKNOWN_COMMAND, /* TOKEN unknown-command */
  PARSE_INVALID,         /* TOKEN invalid-argument reason ... */
};

/* Parses one request line (modified in place). On PARSE_INVALID `reason` names the problem. */
int parse_command(char *line, struct command *cmd, const char **reason);

/* What one received packet says, before it is matched to a probe. */
enum answer_kind { ANSWER_REPLY = 1, ANSWER_TTL_EXPIRED, ANSWER_NO_ROUTE };

struct answer {
  int kind;
  struct ip_addr responder;
  /* Identification of the probe this packet answers. */
  int protocol;           /* PROTO_* of that probe */
  struct ip_addr probe_dest;
  int has_seq;            /* sequence number read from the probe's identification field */
  uint16_t seq;
  int has_payload_id;     /* payload nonce and sequence were read */
  uint32_t payload_nonce;
  uint16_t payload_seq;
  int has_tcp_seq;
  uint32_t tcp_seq;       /* the probe's TCP sequence number (ack - 1 for a direct answer) */
  /* The quote of an ICMP error. */
  int quoted;
  int quoted_ttl;
  struct ip_addr quoted_source;
  int has_ports;
  uint16_t quoted_sport, quoted_dport;
  int has_checksum;
  uint16_t quoted_checksum;
  int has_flow_label;
  uint32_t quoted_flow_label;
  /* RFC 4950 MPLS label stack entries (raw 32-bit words). */
  int mpls_count;
  uint32_t mpls[MAX_MPLS_LABELS];
  /* IPv4 options of the echo reply or of the quoted header. */
  int has_record_route;
  int record_route_count;
  uint8_t record_route[RECORD_ROUTE_SLOTS][4];
  int has_timestamps;
  int timestamp_count;
  uint8_t timestamp_addr[MAX_TIMESTAMPS][4];
  uint32_t timestamp_ms[MAX_TIMESTAMPS];
  int timestamp_stamped[MAX_TIMESTAMPS];
  int options_refused;
};

/*
 * Readers of received packets. Each returns 0 when the packet is an answer to some probe
 * (filled into `a`), or -1 with `why` naming what is wrong or why it is not one.
 */
int read_ip4_packet(const uint8_t *pkt, size_t len, struct answer *a, const char **why);
int read_icmp6_message(const uint8_t *msg, size_t len, const struct ip_addr *source, struct answer *a,
                       const char **why);
int read_tcp6_segment(const uint8_t *seg, size_t len, const struct ip_addr *source, struct answer *a,
                      const char **why);

/* What the builder needs beyond the request. */
struct probe_identity {
  uint16_t seq;
  uint32_t nonce;
  uint16_t icmp_id;  /* echo identifier of free ICMP flows */
  uint16_t pid_port; /* source port of UDP probes without port and local-port (mtr's) */
  struct ip_addr source;
};

/* The packet a probe leaves as, and the fields a match reads back. */
struct built_probe {
  uint8_t packet[MAX_PACKET];
  size_t len;
  uint16_t sport, dport;
  uint16_t checksum; /* transport checksum as sent */
  uint32_t tcp_seq;
};

/* Builds the whole IP packet of a probe. Returns 0, or -1 with `reason` (invalid-argument). */
int build_probe(const struct probe_request *req, const struct probe_identity *id, struct built_probe *out,
                const char **reason);

/* The smallest whole-packet size of this probe; smaller `size` requests are raised to it. */
int minimum_probe_size(const struct probe_request *req);

uint16_t free_port(uint16_t seq);
uint32_t tcp_sequence(uint32_t nonce, uint16_t seq);

/* Appends the answer's fields after "KIND ip-N ADDRESS round-trip-time N" (leading space each). */
size_t format_answer_fields(char *out, size_t cap, const struct answer *a, int sent_checksum);
const char *answer_kind_name(int kind);

/* Internet checksum helpers. */
uint32_t sum16(const uint8_t *data, size_t len, uint32_t sum);
uint16_t fold16(uint32_t sum);

#endif
