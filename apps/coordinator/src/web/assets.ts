import { readFileSync } from "node:fs";

/** The stylesheet and the live-update script, served as files (the CSP allows no inline script). */
const read = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");

export const STYLE_CSS = read("style.css");
export const LIVE_JS = read("live.js");
