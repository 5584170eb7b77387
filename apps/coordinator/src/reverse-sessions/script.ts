/** Quotes a value for a POSIX shell (single quotes; an embedded quote is closed, escaped, reopened). */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * What the join command runs (with the script's URL as `$1`): it downloads the whole join script
 * first and runs it only when the download succeeded, so a failed or cut-off download (no curl, an
 * unreachable coordinator, a 404, a dropped connection) exits 1 with one line instead of running
 * nothing, or half a script, and exiting 0 as `curl … | sh` does. No single quote or backslash
 * inside, so the command reads the same in sh, bash, zsh and fish.
 */
const FETCH_THEN_RUN =
  's=$(curl -fsS "$1") || { echo "lg join: could not download the join script from $1" >&2; exit 1; }; exec sh -c "$s" lg-join';

/** The one command a customer runs: download the join script, then run it with sh. */
export function joinCommand(scriptUrl: string): string {
  return `sh -c '${FETCH_THEN_RUN}' lg-join ${shQuote(scriptUrl)}`;
}

/**
 * The join script (POSIX sh). It checks for Node 20+ and mtr-packet first and says exactly what is
 * missing, then downloads the join agent and runs it for this session: the bundled file for node,
 * or — on linux-x64 without Node 20+ — the single executable (Node.js with the agent inside).
 */
export function joinScript(opts: {
  bundleUrl: string;
  binaryUrl: string;
  joinUrl: string;
  sessionId: string;
}): string {
  return `#!/bin/sh
# lg: join reverse-test session ${opts.sessionId}. Needs mtr-packet, and Node.js 20+ unless this is
# linux-x64 (then the join agent comes as one executable); dials out only.
set -u
bundle_url=${shQuote(opts.bundleUrl)}
binary_url=${shQuote(opts.binaryUrl)}
join_url=${shQuote(opts.joinUrl)}
missing=""
node_ok=""
node_note="'node' is not installed"
if command -v node >/dev/null 2>&1; then
  major=$(node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0)
  if [ "$major" -ge 20 ] 2>/dev/null; then node_ok=1; else node_note="found $(node --version 2>/dev/null)"; fi
fi
use_binary=""
if [ -z "$node_ok" ]; then
  if [ "$(uname -sm 2>/dev/null)" = "Linux x86_64" ]; then
    use_binary=1
  else
    missing="$missing
  - Node.js 20 or newer: $node_note (Debian/Ubuntu: apt-get install nodejs; macOS: brew install node; others: https://nodejs.org)"
  fi
fi
mtr_packet=$(command -v mtr-packet 2>/dev/null || true)
if [ -z "$mtr_packet" ]; then
  for p in /usr/bin/mtr-packet /usr/sbin/mtr-packet /usr/local/bin/mtr-packet /usr/local/sbin/mtr-packet /opt/homebrew/sbin/mtr-packet; do
    if [ -x "$p" ]; then mtr_packet=$p; break; fi
  done
fi
if [ -z "$mtr_packet" ]; then
  missing="$missing
  - mtr-packet (sends the probes): not installed (Debian/Ubuntu: apt-get install mtr-tiny; Fedora: dnf install mtr; macOS: brew install mtr)"
fi
if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  missing="$missing
  - curl or wget (to download the join agent): neither is installed"
fi
if [ -n "$missing" ]; then
  printf 'lg join cannot start; missing:%s\n' "$missing" >&2
  exit 1
fi
dir=$(mktemp -d 2>/dev/null || mktemp -d -t lgjoin)
trap 'rm -rf "$dir"' EXIT INT TERM
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsS -o "$2" "$1"; else wget -q -O "$2" "$1"; fi
}
if [ -n "$use_binary" ]; then
  echo "lg join: no Node.js 20+ here ($node_note); using the join agent as one executable" >&2
  fetch "$binary_url" "$dir/lg-join" || { echo "lg join: could not download the join agent" >&2; exit 1; }
  chmod +x "$dir/lg-join"
  PATH="$(dirname "$mtr_packet"):$PATH" "$dir/lg-join" "$join_url"
else
  fetch "$bundle_url" "$dir/lg-join.mjs" || { echo "lg join: could not download the join agent" >&2; exit 1; }
  PATH="$(dirname "$mtr_packet"):$PATH" node "$dir/lg-join.mjs" "$join_url"
fi
`;
}
