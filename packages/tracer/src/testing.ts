/**
 * Test helpers for this package's and other packages' tests (`@lg/tracer/testing`): a scripted
 * network on a manual clock, so a test can say "hop 3 answers 7 of 10 probes" and assert exact
 * statistics without sending a packet. Not part of the public entry.
 */
export { ManualClock } from "./testing/manual-clock";
export { linearPath, type Script, type ScriptedAnswer, ScriptedPort } from "./testing/scripted-port";
