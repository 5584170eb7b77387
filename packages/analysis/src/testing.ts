/**
 * Fixtures for other packages' tests (`@lg/analysis/testing`): the two traces and alias follow-ups
 * of small lab internets, for rendering real `compare()` output. Not part of the public entry.
 */
export { hop } from "./fixtures/build";
export { trace } from "./fixtures/paths";
export { alias, inboundLab, loopbackLab, path, routeBackAliases, routeBackLab } from "./fixtures/two-way";
