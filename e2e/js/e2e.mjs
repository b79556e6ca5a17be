// The official JS Graph client (3.x) through one session lifecycle against workbookd.
// Usage: node e2e.mjs BASE_URL BOOK.xlsx PERSIST(true|false)
// Writes BOOK.xlsx.original (the stored file before the session) and BOOK.xlsx.downloaded.

import { readFileSync, writeFileSync } from "node:fs";
import { Client, ResponseType } from "@microsoft/microsoft-graph-client";

const [base, bookPath, persistArg] = process.argv.slice(2);
const persist = persistArg === "true";
const host = new URL(base).host.split(":")[0];

// The documented set-up: an authProvider, and the custom host allowed to receive the token.
const client = Client.init({
  authProvider: (done) => done(null, "dev-token"),
  baseUrl: base,
  customHosts: new Set([host]),
  defaultVersion: "v1.0",
});

function assertEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

const name = `js-${persist}.xlsx`;
const uploaded = await client
  .api(`/me/drive/root:/${name}:/content`)
  .header("Content-Type", "application/octet-stream")
  .put(readFileSync(bookPath));
const item = `/me/drive/items/${uploaded.id}`;
const original = await client.api(`${item}/content`).responseType(ResponseType.ARRAYBUFFER).get();
writeFileSync(`${bookPath}.original`, Buffer.from(original));

const session = await client.api(`${item}/workbook/createSession`).post({ persistChanges: persist });
assertEqual(session.persistChanges, persist, "persistChanges");

const range = `${item}/workbook/worksheets/Sheet1/range(address='A1:A3')`;
const patched = await client
  .api(`${item}/workbook/worksheets/Sheet1/range(address='A1')`)
  .header("workbook-session-id", session.id)
  .patch({ values: [[10]] });
assertEqual(patched.values, [[10]], "patched values");

const read = await client.api(range).header("workbook-session-id", session.id).get();
assertEqual(read.values, [[10], [2], [12]], "read back");

await client.api(`${item}/workbook/refreshSession`).header("workbook-session-id", session.id).post({});
await client.api(`${item}/workbook/closeSession`).header("workbook-session-id", session.id).post({});

const downloaded = await client.api(`${item}/content`).responseType(ResponseType.ARRAYBUFFER).get();
writeFileSync(`${bookPath}.downloaded`, Buffer.from(downloaded));
console.log(`js ${name}: ok`);
