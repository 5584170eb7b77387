import { joinMain } from "./cli";

/**
 * Entry of the bundled join agent (`node lg-join.mjs <join-url>`), the one file a customer
 * downloads: it runs one reverse session and prints each leg's verdict.
 */
process.exitCode = await joinMain(process.argv[2]);
