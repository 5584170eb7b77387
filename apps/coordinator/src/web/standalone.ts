import type { MeasurementView } from "@lg/protocol";
import { html, raw } from "hono/html";
import { STYLE_CSS } from "./assets";

/**
 * `/m/{id}.html`: one file that opens anywhere — the page's own stylesheet inlined, the tables,
 * findings and pictures as rendered, no script and no link it needs.
 */
export function standaloneHtml(m: MeasurementView, body: string): string {
  return String(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Route to ${m.target} · lg measurement ${m.id}</title>
<style>${raw(STYLE_CSS)}</style>
</head>
<body class="standalone">
<main id="main">${raw(body)}</main>
<footer class="foot">Exported from the lg looking glass · measurement ${m.id} · ${m.created} · Origin AS data: <a href="https://db-ip.com">IP to ASN by DB-IP</a> (CC BY 4.0) and RouteViews · Places: <a href="https://db-ip.com">IP Geolocation by DB-IP</a> (CC BY 4.0) · Map: <a href="https://www.naturalearthdata.com">Natural Earth</a> (public domain)</footer>
</body>
</html>
`);
}
