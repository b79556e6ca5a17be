// The Kiota JS Graph SDK (@microsoft/msgraph-sdk, preview) through workbookd's SDK scenario list
// (e2e/run.py names them). Its fluent API has no drive-item paths (no drives package is
// published), so workbook calls go through the SDK's own request adapter with Kiota URL
// templates, as its users write them: drive-id paths, and keys such as `root:/kiota.xlsx:` and
// `A1:A3` percent-encoded by Kiota. The adapter's default middleware retries 429/503/504 after
// Retry-After. Prints one JSON line per scenario.
// Usage: node kiota.mjs BASE_URL BOOK.xlsx  (writes BOOK.xlsx.downloaded)

import { readFileSync, writeFileSync } from "node:fs";
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
  HttpMethod,
  RequestInformation,
} from "@microsoft/kiota-abstractions";
import { GraphRequestAdapter, createGraphServiceClient } from "@microsoft/msgraph-sdk";
import "@microsoft/msgraph-sdk-users";
import { assertEqual, batchBody, budgetHonoured, checkBatch, run, throttledOnce } from "./scenarios.mjs";

const [base, bookPath, mode] = process.argv.slice(2);
const host = new URL(base).host;

// A static token, the documented way to give a Kiota client a token of one's own.
const tokens = {
  getAuthorizationToken: async () => "dev-token",
  getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([host])),
};
const adapter = new GraphRequestAdapter(new BaseBearerTokenAuthenticationProvider(tokens));
adapter.baseUrl = `${base}/v1.0`;
const client = createGraphServiceClient(adapter);

const ITEM = "/drives/{drive%2Did}/items/{driveItem%2Did}";
const WB = `${ITEM}/workbook`;
const state = {};

// One request through the SDK's adapter: a Kiota URL template and its parameters.
async function call(method, template, params = {}, { json, bytes, session } = {}) {
  const info = new RequestInformation(HttpMethod[method], `{+baseurl}${template}`);
  info.pathParameters = { "drive%2Did": state.drive, "driveItem%2Did": state.id, ...params };
  if (session) info.headers.add("workbook-session-id", session);
  if (json !== undefined) info.setStreamContent(new TextEncoder().encode(JSON.stringify(json)).buffer, "application/json");
  if (bytes !== undefined) info.setStreamContent(bytes, "application/octet-stream");
  const out = await adapter.sendPrimitive(info, "ArrayBuffer", undefined);
  if (!out || out.byteLength === 0) return null;
  return bytes === undefined && method !== "GET_BYTES" ? JSON.parse(new TextDecoder().decode(out)) : out;
}
const range = (sheet, address) => [`${WB}/worksheets/{sheet}/range(address='{address}')`, { sheet, address }];

const scenarios = [
  ["upload", async () => {
    const me = await client.users.byUserId("dev").drive.get();
    state.drive = me.id;
    const file = readFileSync(bookPath);
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
    state.id = "root:/kiota.xlsx:";
    const uploaded = await call("PUT", `${ITEM}/content`, {}, { bytes: buffer });
    const item = JSON.parse(new TextDecoder().decode(uploaded));
    assertEqual(item.name, "kiota.xlsx", "name");
    state.id = item.id;
  }],
  ["persistent session", async () => {
    const session = await call("POST", `${WB}/createSession`, {}, { json: { persistChanges: true } });
    assertEqual(session.persistChanges, true, "persistChanges");
    state.session = session.id;
    const patched = await call("PATCH", ...range("Sheet1", "A1"), { json: { values: [[10]] }, session: state.session });
    assertEqual(patched.values, [[10]], "patched values");
    const read = await call("GET", ...range("Sheet1", "A1:A3"), { session: state.session });
    assertEqual(read.values, [[10], [2], [12]], "read back");
  }],
  ["non-persistent session", async () => {
    const session = await call("POST", `${WB}/createSession`, {}, { json: { persistChanges: false } });
    assertEqual(session.persistChanges, false, "persistChanges");
    await call("PATCH", ...range("Sheet1", "A2"), { json: { values: [[100]] }, session: session.id });
    const own = await call("GET", ...range("Sheet1", "A3"), { session: session.id });
    assertEqual(own.values, [[110]], "own copy");
    const shared = await call("GET", ...range("Sheet1", "A3"), { session: state.session });
    assertEqual(shared.values, [[12]], "the shared workbook");
    await call("POST", `${WB}/closeSession`, {}, { session: session.id });
  }],
  ["ranges", async () => {
    const [template, params] = range("Sheet1", "A1:A3");
    const r = await call("GET", `${template}{?%24select}`, { ...params, "%24select": ["formulas", "text"] }, { session: state.session });
    assertEqual([r.formulas[2], r.text[2], "values" in r], [["=A1+A2"], ["12"], false], "formulas, text, $select");
  }],
  ["table with rows", async () => {
    const ws = await call("POST", `${WB}/worksheets/add`, {}, { json: { name: "Data" }, session: state.session });
    assertEqual(ws.name, "Data", "worksheet");
    await call("PATCH", ...range("Data", "A1:B2"), { json: { values: [["Fruit", "Qty"], ["fig", 3]] }, session: state.session });
    const table = await call("POST", `${WB}/tables/add`, {}, { json: { address: "Data!A1:B2", hasHeaders: true }, session: state.session });
    await call("POST", `${WB}/tables/{table}/rows/add`, { table: table.name }, { json: { values: [["pear", 4], ["plum", 5]] }, session: state.session });
    const rows = await call("GET", `${WB}/tables/{table}/rows`, { table: table.name }, { session: state.session });
    assertEqual(rows.value.map((r) => r.values), [[["fig", 3]], [["pear", 4]], [["plum", 5]]], "rows");
  }],
  ["names", async () => {
    const added = await call("POST", `${WB}/names/add`, {}, { json: { name: "Total", reference: "=Sheet1!$A$3" }, session: state.session });
    assertEqual(added.name, "Total", "added");
    const listed = await call("GET", `${WB}/names`, {}, { session: state.session });
    assertEqual(listed.value.some((n) => n.name === "Total"), true, "listed");
    const r = await call("GET", `${WB}/names/{name}/range`, { name: "Total" }, { session: state.session });
    assertEqual(r.values, [[12]], "name's range");
  }],
  ["$batch with a session", async () => {
    const workbook = `/drives/${state.drive}/items/${state.id}/workbook`;
    checkBatch(await call("POST", "/$batch", {}, { json: batchBody(workbook, state.session) }));
  }],
  ["429 with Retry-After honoured", () => throttledOnce(base, () => call("GET", `${WB}/worksheets`, {}, { session: state.session }))],
  ["closeSession", async () => {
    await call("POST", `${WB}/refreshSession`, {}, { session: state.session });
    await call("POST", `${WB}/closeSession`, {}, { session: state.session });
    let status = 0;
    try {
      await call("GET", `${WB}/worksheets`, {}, { session: state.session });
    } catch (e) {
      status = e.responseStatusCode;
    }
    assertEqual(status, 404, "a call in the closed session");
  }],
  ["download", async () => {
    const info = new RequestInformation(HttpMethod.GET, `{+baseurl}${ITEM}/content`);
    info.pathParameters = { "drive%2Did": state.drive, "driveItem%2Did": state.id };
    const bytes = await adapter.sendPrimitive(info, "ArrayBuffer", undefined);
    writeFileSync(`${bookPath}.downloaded`, Buffer.from(bytes));
  }],
];

// `throttled`: the server has a request budget; only that scenario runs.
await run(mode === "throttled" ? [["throttling budget honoured", () => budgetHonoured(base, () => call("GET", "/me/drive"))]] : scenarios);
