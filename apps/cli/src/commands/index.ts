import type { Command } from "commander";
import { register as agent } from "./agent";
import { register as coordinator } from "./coordinator";
import { register as demo } from "./demo";
import { register as join } from "./join";
import { register as keys } from "./keys";
import { register as lab } from "./lab";
import { register as measure } from "./measure";
import { register as monitor } from "./monitor";
import { register as path } from "./path";
import { register as trace } from "./trace";
import { register as up } from "./up";

/** Each entry adds one subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  coordinator,
  agent,
  up,
  trace,
  measure,
  path,
  join,
  demo,
  lab,
  keys,
  monitor,
];
