import type { Command } from "commander";
import { register as agent } from "./agent";
import { register as coordinator } from "./coordinator";

/** Each entry adds one subcommand to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [coordinator, agent];
