// What the JS SDK scripts share: assertions, workbookd's control plane, the scenario bodies that
// do not depend on the SDK, and the loop that runs the list and prints one JSON line each.

export function assertEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

// workbookd's own control plane (not Graph: no SDK).
export async function control(base, method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    // Writes need a bearer token (any, in dev mode), which no cross-site page can send.
    headers: { "Content-Type": "application/json", Authorization: "Bearer dev" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

// A batch writing B1 in the session and reading it back after (dependsOn).
export function batchBody(workbookPath, session) {
  const b1 = `${workbookPath}/worksheets/Sheet1/range(address='B1')`;
  return {
    requests: [
      { id: "1", method: "PATCH", url: b1, headers: { "workbook-session-id": session, "Content-Type": "application/json" },
        body: { values: [["=A3*2"]] } },
      { id: "2", method: "GET", url: b1, headers: { "workbook-session-id": session }, dependsOn: ["1"] },
    ],
  };
}

export function checkBatch(out) {
  const byId = Object.fromEntries(out.responses.map((r) => [r.id, r]));
  assertEqual([byId["1"].status, byId["2"].body.values], [200, [[24]]], "batch");
}

// One worksheet list throttled once with Retry-After: the SDK's retry handler must wait and
// send it again (two matches, one fault).
export async function throttledOnce(base, listWorksheets) {
  await control(base, "PUT", "/_workbookd/faults", {
    rules: [{ fault: "throttle", method: "GET", path: "*/workbook/worksheets", times: 1, retryAfter: 1 }],
  });
  try {
    const sheets = await listWorksheets();
    assertEqual(sheets.value.map((w) => w.name), ["Sheet1", "Data"], "worksheets");
    const rule = (await control(base, "GET", "/_workbookd/faults")).rules[0];
    assertEqual([rule.matched, rule.injected], [2, 1], "the SDK retried once");
  } finally {
    await control(base, "DELETE", "/_workbookd/faults");
  }
}

// Against a server started with `--throttle-user 4/2s`: twelve calls in a row all succeed, since
// the SDK's retry handler waits out each 429's Retry-After; the server's metrics show the 429s.
export async function budgetHonoured(base, getDrive) {
  for (let i = 0; i < 12; i++) {
    await getDrive();
  }
  const metrics = await (await fetch(`${base}/_workbookd/metrics`)).text();
  const throttled = metrics
    .split("\n")
    .filter((l) => l.startsWith("workbookd_requests_total{") && l.includes('status="429"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  assertEqual(throttled >= 1, true, "the budget answered 429 at least once");
}

// Runs every scenario in order; a failure is recorded with its reason and the run goes on.
export async function run(scenarios) {
  for (const [scenario, step] of scenarios) {
    let result = "pass";
    try {
      await step();
    } catch (e) {
      const status = e && e.responseStatusCode ? ` (status ${e.responseStatusCode})` : "";
      result = `fail: ${String(e && e.message ? e.message : e).replace(/\s+/g, " ").slice(0, 200)}${status}`;
    }
    console.log(JSON.stringify({ scenario, result }));
  }
}
