import { numberedLink as link, type Topology } from "./topology";

/**
 * For tests: a chain p - a - xr - xi - xl - t where each x router answers ICMP errors its own way
 * (`route`, `inbound`, `loopback`) and routes p's LAN back over a side router b, so that the
 * interface a probe came in on, the interface of the route back and the loopback all differ:
 *
 * ```
 *  p --1-- a --2-- xr --3-- xi --4-- xl --5-- t
 *          |        \6       |7      /8
 *          +---9---- b ------+------+
 * ```
 * Link L is 198.18.L.0/24 and 2001:2:0:L::/64 (.1 on the left end); xl's loopback is
 * 198.18.99.1/32 and 2001:2:0:99::1/128.
 */
export function conventionsTopology(): Topology {
  const back = (via: number) => [
    { to: "198.18.1.0/24", via: `198.18.${via}.2` },
    { to: "2001:2:0:1::/64", via: `2001:2:0:${via}::2` },
  ];
  return {
    autoRoutes: true,
    nodes: {
      p: {},
      // The way there is the chain (b would be shorter).
      a: {
        router: true,
        routes: [
          { to: "198.18.5.0/24", via: "198.18.2.2" },
          { to: "2001:2:0:5::/64", via: "2001:2:0:2::2" },
        ],
      },
      xr: { router: true, answerFrom: "route", routes: back(6) },
      xi: { router: true, answerFrom: "inbound", routes: back(7) },
      xl: {
        router: true,
        answerFrom: "loopback",
        loopback: ["198.18.99.1/32", "2001:2:0:99::1/128"],
        routes: back(8),
      },
      b: { router: true },
      t: {},
    },
    links: [
      link(1, "p", "a"),
      link(2, "a", "xr"),
      link(3, "xr", "xi"),
      link(4, "xi", "xl"),
      link(5, "xl", "t"),
      link(6, "xr", "b"),
      link(7, "xi", "b"),
      link(8, "xl", "b"),
      link(9, "b", "a"),
    ],
  };
}
