import { parseMtrCsvText } from "./mtr-csv";
import { parseMtrJsonText } from "./mtr-json";
import { parseMtrReportText } from "./mtr-report";
import { parseMtrXmlText } from "./mtr-xml";
import { quoted, UPLOAD_FORMATS, type UploadedTrace, UploadParseError } from "./types";
import { parseWinMtrHtml, parseWinMtrText } from "./winmtr";

export type { UploadedTrace, UploadFormat } from "./types";
export { UPLOAD_FORMATS, UploadParseError } from "./types";

/** Which tool wrote `text`, from what each writes first; undefined: none of them. */
export function detectFormat(text: string): keyof typeof UPLOAD_FORMATS | undefined {
  const head = text.trimStart();
  if (head.startsWith("{")) return "mtr-json";
  if (/^(<\?xml[^>]*\?>\s*)?<MTR[\s>]/.test(head)) return "mtr-xml";
  if (/^(<!DOCTYPE[^>]*>\s*)?<html[\s>]/i.test(head) || /^<table[\s>]/i.test(head)) return "winmtr-html";
  if (/^Mtr_Version,/i.test(head) || /^MTR\.[\d.]+,/.test(head)) return "mtr-csv";
  if (/^\|[-_]+\|/.test(head) || /^\|\s*WinMTR statistics/i.test(head)) return "winmtr-text";
  if (/^(Start:|HOST:)/.test(head)) return "mtr-report";
  return undefined;
}

const PARSERS: Record<keyof typeof UPLOAD_FORMATS, (text: string) => UploadedTrace> = {
  "mtr-report": parseMtrReportText,
  "mtr-json": parseMtrJsonText,
  "mtr-csv": parseMtrCsvText,
  "mtr-xml": parseMtrXmlText,
  "winmtr-text": parseWinMtrText,
  "winmtr-html": parseWinMtrHtml,
};

/**
 * Reads an uploaded trace: mtr's report, JSON, CSV or XML, or a WinMTR text or HTML export, told
 * apart by how each begins. Nothing in the text is run or interpreted beyond its columns. Throws
 * {@link UploadParseError} naming what could not be read and where (the line, or the JSON path).
 *
 * @example
 *   const trace = readUpload(await readFile("mtr.json", "utf8"));
 *   trace.format; // "mtr-json"
 */
export function readUpload(text: string): UploadedTrace {
  const body = text.replace(/^\uFEFF/, "");
  if (!body.trim()) throw new UploadParseError("the upload is empty");
  const format = detectFormat(body);
  if (!format) {
    const first = body.trimStart().split(/\r?\n/)[0] ?? "";
    throw new UploadParseError(
      `not a trace this looking glass reads: expected ${Object.values(UPLOAD_FORMATS).join(", ")}; the text begins ${quoted(first)}`,
      1,
    );
  }
  return PARSERS[format](body);
}
