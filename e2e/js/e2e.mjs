// The official JS Graph client (3.x) through workbookd's SDK scenario list (e2e/run.py names
// them). Prints one JSON line per scenario; a failure is recorded with its reason and the run
// goes on. Usage: node e2e.mjs BASE_URL BOOK.xlsx  (writes BOOK.xlsx.downloaded)

import { readFileSync, writeFileSync } from "node:fs";
import { Client, ResponseType } from "@microsoft/microsoft-graph-client";
import { assertEqual, batchBody, budgetHonoured, checkBatch, run, throttledOnce } from "./scenarios.mjs";

const [base, bookPath, mode] = process.argv.slice(2);
const host = new URL(base).host.split(":")[0];

// The documented set-up: an authProvider, and the custom host allowed to receive the token.
// The client's default middleware chain includes its RetryHandler (429/503/504, Retry-After).
const client = Client.init({
  authProvider: (done) => done(null, "dev-token"),
  baseUrl: base,
  customHosts: new Set([host]),
  defaultVersion: "v1.0",
});

const state = {};
const inSession = (request) => request.header("workbook-session-id", state.session);

const scenarios = [
  ["upload", async () => {
    const uploaded = await client
      .api("/me/drive/root:/js.xlsx:/content")
      .header("Content-Type", "application/octet-stream")
      .put(readFileSync(bookPath));
    assertEqual(uploaded.name, "js.xlsx", "name");
    state.item = `/me/drive/items/${uploaded.id}`;
    state.wb = `${state.item}/workbook`;
  }],
  ["persistent session", async () => {
    const session = await client.api(`${state.wb}/createSession`).post({ persistChanges: true });
    assertEqual(session.persistChanges, true, "persistChanges");
    state.session = session.id;
    const patched = await inSession(client.api(`${state.wb}/worksheets/Sheet1/range(address='A1')`)).patch({ values: [[10]] });
    assertEqual(patched.values, [[10]], "patched values");
    const read = await inSession(client.api(`${state.wb}/worksheets/Sheet1/range(address='A1:A3')`)).get();
    assertEqual(read.values, [[10], [2], [12]], "read back");
  }],
  ["non-persistent session", async () => {
    const session = await client.api(`${state.wb}/createSession`).post({ persistChanges: false });
    assertEqual(session.persistChanges, false, "persistChanges");
    const mine = (r) => r.header("workbook-session-id", session.id);
    await mine(client.api(`${state.wb}/worksheets/Sheet1/range(address='A2')`)).patch({ values: [[100]] });
    const own = await mine(client.api(`${state.wb}/worksheets/Sheet1/range(address='A3')`)).get();
    assertEqual(own.values, [[110]], "own copy");
    const shared = await inSession(client.api(`${state.wb}/worksheets/Sheet1/range(address='A3')`)).get();
    assertEqual(shared.values, [[12]], "the shared workbook");
    await mine(client.api(`${state.wb}/closeSession`)).post({});
  }],
  ["ranges", async () => {
    const r = await inSession(client.api(`${state.wb}/worksheets/Sheet1/range(address='A1:A3')`))
      .select(["formulas", "text"])
      .get();
    assertEqual([r.formulas[2], r.text[2], "values" in r], [["=A1+A2"], ["12"], false], "formulas, text, $select");
  }],
  ["table with rows", async () => {
    const ws = await inSession(client.api(`${state.wb}/worksheets/add`)).post({ name: "Data" });
    assertEqual(ws.name, "Data", "worksheet");
    await inSession(client.api(`${state.wb}/worksheets/Data/range(address='A1:B2')`)).patch({ values: [["Fruit", "Qty"], ["fig", 3]] });
    const table = await inSession(client.api(`${state.wb}/tables/add`)).post({ address: "Data!A1:B2", hasHeaders: true });
    await inSession(client.api(`${state.wb}/tables/${table.name}/rows/add`)).post({ values: [["pear", 4], ["plum", 5]] });
    const rows = await inSession(client.api(`${state.wb}/tables/${table.name}/rows`)).get();
    assertEqual(rows.value.map((r) => r.values), [[["fig", 3]], [["pear", 4]], [["plum", 5]]], "rows");
  }],
  ["names", async () => {
    const added = await inSession(client.api(`${state.wb}/names/add`)).post({ name: "Total", reference: "=Sheet1!$A$3" });
    assertEqual(added.name, "Total", "added");
    const listed = await inSession(client.api(`${state.wb}/names`)).get();
    assertEqual(listed.value.some((n) => n.name === "Total"), true, "listed");
    const r = await inSession(client.api(`${state.wb}/names/Total/range`)).get();
    assertEqual(r.values, [[12]], "name's range");
  }],
  ["$batch with a session", async () => {
    checkBatch(await client.api("/$batch").post(batchBody(state.wb, state.session)));
  }],
  ["429 with Retry-After honoured", () => throttledOnce(base, () => inSession(client.api(`${state.wb}/worksheets`)).get())],
  ["closeSession", async () => {
    await inSession(client.api(`${state.wb}/refreshSession`)).post({});
    await inSession(client.api(`${state.wb}/closeSession`)).post({});
    let status = 0;
    try {
      await inSession(client.api(`${state.wb}/worksheets`)).get();
    } catch (e) {
      status = e.statusCode;
    }
    assertEqual(status, 404, "a call in the closed session");
  }],
  ["download", async () => {
    const downloaded = await client.api(`${state.item}/content`).responseType(ResponseType.ARRAYBUFFER).get();
    writeFileSync(`${bookPath}.downloaded`, Buffer.from(downloaded));
  }],
];

// `throttled`: the server has a request budget; only that scenario runs.
await run(mode === "throttled" ? [["throttling budget honoured", () => budgetHonoured(base, () => client.api("/me/drive").get())]] : scenarios);
