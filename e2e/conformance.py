#!/usr/bin/env python3
"""The Graph reference's documented T1 examples, sent to the real server.

Each example of ../shared/spec/doc-examples.jsonl whose tier is T1 is sent to workbookd with its
placeholders filled from a fixture workbook (a sheet, a table, names). Compared: the status code
(where the docs give two, either), and for JSON answers every property the example shows: present,
and of the same JSON type unless the example's value is a placeholder (`"name-value"`, `{}`).

The per-page pass counts are a table in docs/graph-compatibility.md between the markers below.
`--update` rewrites it; without it the run fails when a page passes fewer examples than the table
records (figures only go up).

Usage: e2e/conformance.py PATH/TO/workbookd PATH/TO/doc-examples.jsonl [--update]
"""

import io
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request

import openpyxl
from openpyxl.worksheet.table import Table

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import start  # noqa: E402

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "graph-compatibility.md")
BEGIN = "<!-- conformance:begin -->"
END = "<!-- conformance:end -->"

# Where the docs disagree with themselves, the statuses either reading allows.
ALSO_ACCEPTED = {
    "range-clear": {200, 204},
    "worksheet-delete": {200, 204},
    "tablerow-delete": {200, 204},
    "worksheetcollection-add": {200, 201},
    "worksheet-post-tables": {200, 201},
    "tablecollection-add": {200, 201},
}

# Examples that cannot pass as written, and why (a fact about the example, not about workbookd).
NOT_APPLICABLE = {
    ("workbook-createsession", 1): "posts createSession under /worksheets({id}): an erratum of the page"
    " (sessions belong to the workbook; workbookd answers that path 400 `badRequest` as an unknown one)",
    ("table-post-rows", 0): "its body's values is a string holding invalid JSON",
    ("table-post-rows", 1): "its body's values is a string holding invalid JSON",
    ("workbook-tablerowoperationresult", 0): "its key is an operation of the page's own tenant;"
    " the async row add, its operation and this result are run in crates/workbookd/tests/workbook_api.rs",
    ("workbookrange-rowsabove", 0): "rows above a whole worksheet lie outside it",
    ("workbookrange-rowsabove", 1): "rows above a whole worksheet lie outside it",
    ("workbookrange-rowsbelow", 0): "rows below a whole worksheet lie outside it",
    ("workbookrange-rowsbelow", 1): "rows below a whole worksheet lie outside it",
    ("workbookrange-columnsafter", 0): "columns after a whole worksheet lie outside it",
    ("workbookrange-columnsbefore", 0): "columns before a whole worksheet lie outside it",
    ("workbookrange-resizedrange", 0): "a whole worksheet cannot grow",
    ("worksheet-range", 1): "the whole worksheet's 17 billion cells: workbookd answers rangeExceedsLimit"
    " unless $select leaves the cells out",
    ("tablerow-update", 0): "PATCH rows/{index} is answered 400 ApiNotFound by Graph itself"
    " (msgraph-sdk-dotnet#2699, microsoft-graph-docs-contrib#8426 and #9041), and so by workbookd;"
    " rows/itemAt(index=n) is served",
    ("tablerow-range", 0): "rows/{index}/range is answered 400 ApiNotFound by Graph itself"
    " (microsoft-graph-docs#11463), and so by workbookd; rows/itemAt(index=n)/range is served",
}

# Values for a body's placeholders, by property name.
BODY_VALUES = {
    "applyTo": "Contents",
    "shift": "Down",
    "anotherRange": "B2:C3",
    "calculationType": "Full",
    "visibility": "Visible",
    "position": 0,
    "name": "Added",
    "style": "TableStyleLight1",
    "comment": "a note",
}


def fixture() -> bytes:
    """Sheet1: numbers in A1:H10 under the names `myrange` (A1:H10) and `narrow` (B2:C4), and
    beside them a table Table1 over J1:M7 (Fruit, Qty, Price, Cost; five rows and a total row)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in range(1, 11):
        for c in range(1, 9):
            ws.cell(row=r, column=c, value=r * 10 + c)
    table = [["Fruit", "Qty", "Price", "Cost"]]
    for i, row in enumerate([["pear", 3, 1.5], ["fig", 5, 2], ["plum", 7, 0.5], ["kiwi", 2, 3], ["lime", 9, 0.25]]):
        table.append(row + [f"=K{i + 2}*L{i + 2}"])
    table.append(["Total", "=SUBTOTAL(109,Table1[Qty])", None, "=SUBTOTAL(109,Table1[Cost])"])
    for r, row in enumerate(table, start=1):
        for c, value in enumerate(row, start=10):
            ws.cell(row=r, column=c, value=value)
    ws.add_table(Table(displayName="Table1", ref="J1:M7", totalsRowCount=1))
    wb.create_sheet("Sheet2")["A1"] = 1
    names = openpyxl.workbook.defined_name
    wb.defined_names["myrange"] = names.DefinedName("myrange", attr_text="Sheet1!$A$1:$H$10")
    wb.defined_names["narrow"] = names.DefinedName("narrow", attr_text="Sheet1!$B$2:$C$4")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def call(base, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer dev-token")
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def operation(base: str, item: str, variant: int) -> tuple:
    """An asynchronous createSession's operation id: as started (variant 0), after it succeeded
    (1), or after it failed on a file that is not a workbook (2)."""
    if variant == 2:
        broken = b"PK\x03\x04 not a package"
        req = urllib.request.Request(base + "/v1.0/me/drive/root:/NotABook.xlsx:/content", data=broken, method="PUT")
        req.add_header("Authorization", "Bearer dev-token")
        with urllib.request.urlopen(req) as r:
            item = json.loads(r.read())["id"]
    workbook = f"/v1.0/me/drive/items/{item}/workbook"
    _, h, _ = call(base, "POST", f"{workbook}/createSession", {"persistChanges": True}, {"Prefer": "respond-async"})
    op = (h.get("Location") or h.get("location") or "").rsplit("/", 1)[-1]
    for _ in range(200 if variant else 0):
        _, _, raw = call(base, "GET", f"{workbook}/operations/{op}")
        if json.loads(raw).get("status") not in ("notStarted", "running"):
            break
        time.sleep(0.05)
    return item, op


def fill_url(url: str, item: str) -> str:
    path = url.replace("https://graph.microsoft.com", "")
    path = re.sub(r"/me/drive/root/workbook", f"/me/drive/items/{item}/workbook", path)
    path = re.sub(r"/items/[^/]+/workbook", f"/items/{item}/workbook", path)
    subs = [
        (r"worksheets/\{[^}]*\}", "worksheets/Sheet1"),
        (r"tables/\{[^}]*\}", "tables/Table1"),
        (r"columns/\{[^}]*\}", "columns/Qty"),
        (r"names/\{[^}]*\}", "names/myrange"),
        (r"rows/\{[^}]*\}", "rows/1"),
        (r"<row>", "1"),
        (r"<column>", "1"),
        (r"<address>", "A1:B2"),
        (r"\{n\}", "1"),
    ]
    for pattern, value in subs:
        path = re.sub(pattern, value, path)
    return path.replace(" ", "%20")


# Whole bodies for pages whose example body is placeholders that need the fixture's shape.
BODIES = {
    "tablerow-update": {"index": 1, "values": [["fig", 6, 2, "=K3*L3"]]},
    # Rows as wide as the fixture's table (the page's rows have three values).
    "tablerowcollection-add": {"index": 5, "values": [["kiwi", 1, 2, 3], ["date", 4, 5, 6]]},
    # The shift placeholder filled for a delete (insert takes Down).
    "range-delete": {"shift": "Up"},
    # A column's values: one per row of the fixture's table (header, five rows, total row).
    "tablecolumncollection-add": {"index": 3, "values": [["Tax"], [1], [2], [3], [4], [5], [None]]},
    "table-post-columns": {"name": "Added", "index": 1, "values": [[None], [1], [2], [3], [4], [5], [None]]},
    "tablecolumn-update": {"name": "Amount", "values": [[None], [1], [2], [3], [4], [5], [None]]},
}


def fill_body(body, page=None):
    if page in BODIES:
        return BODIES[page]
    if isinstance(body, dict):
        return {k: fill_value(k, v) for k, v in body.items()}
    return body


def fill_value(key, value):
    placeholder = (isinstance(value, str) and value.endswith("-value")) or value == {} or value == 99
    if placeholder:
        return BODY_VALUES.get(key, value)
    return value


def is_placeholder(v) -> bool:
    return (isinstance(v, str) and v.endswith("-value")) or v == {} or v == 99


def json_type(v) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def compare(expected, actual, where="") -> list:
    """Problems with `actual` against the example's `expected` body."""
    problems = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where or 'body'} is {json_type(actual)}, not an object"]
        for k, v in expected.items():
            if k.startswith("@odata"):
                continue
            if k not in actual:
                problems.append(f"no {where}{k}")
            elif not is_placeholder(v) and v is not None:
                problems += compare(v, actual[k], f"{where}{k}.")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where[:-1]} is {json_type(actual)}, not an array"]
        if expected and actual and isinstance(expected[0], dict):
            problems += compare(expected[0], actual[0], where + "0.")
        return problems
    if json_type(expected) != json_type(actual) and actual is not None:
        return [f"{where[:-1]} is {json_type(actual)}, not {json_type(expected)}"]
    return []


def run(binary: str, examples_path: str):
    examples = [json.loads(line) for line in open(examples_path) if line.strip()]
    counts = {}
    failures = []
    with tempfile.TemporaryDirectory() as data:
        # Asynchronous createSession always answers 202, so that operations can be read.
        proc, addr = start(binary, data, "--force-async-sessions")
        base = addr if addr.startswith("http") else f"http://{addr}"
        try:
            variant = {}
            for ex in examples:
                if ex["tier"] != "T1":
                    continue
                page = ex["page"].split("/")[-1][: -len(".md")]
                n = variant.get(page, 0)
                variant[page] = n + 1
                passed, total, na = counts.get(page, (0, 0, 0))
                reason = NOT_APPLICABLE.get((page, n))
                if reason:
                    counts[page] = (passed, total, na + 1)
                    continue
                # Every example gets a fresh copy of the fixture and, for the session calls, a session.
                req = urllib.request.Request(
                    base + "/v1.0/me/drive/root:/Conformance.xlsx:/content", data=fixture(), method="PUT"
                )
                req.add_header("Authorization", "Bearer dev-token")
                with urllib.request.urlopen(req) as r:
                    item = json.loads(r.read())["id"]
                headers = {}
                if page in ("workbook-closesession", "workbook-refreshsession", "workbook-tablerowoperationresult"):
                    _, _, s = call(base, "POST", f"/v1.0/me/drive/items/{item}/workbook/createSession", {})
                    headers["workbook-session-id"] = json.loads(s)["id"]
                url = fill_url(ex["request"]["url"], item)
                if page == "range-entirecolumn":
                    # Eight whole columns would be over the 5,000,000-cell read limit.
                    url = url.replace("names/myrange", "names/narrow")
                if page == "workbookoperation-get":
                    op_item, op = operation(base, item, n)
                    url = re.sub(r"operations/\{[^}]*\}", f"operations/{op}", url).replace(item, op_item)
                body = fill_body(ex["request"].get("body"), page)
                status, _, raw = call(base, ex["request"]["method"], url, body, headers)
                expected_status = ex["response"]["status"]
                problems = []
                accepted = ALSO_ACCEPTED.get(page, set()) | {expected_status}
                if page == "workbookoperation-get":
                    accepted = {200}
                if status not in accepted:
                    problems.append(f"status {status}, not {expected_status}")
                elif ex["response"].get("body") and raw:
                    try:
                        problems += compare(ex["response"]["body"], json.loads(raw))
                    except json.JSONDecodeError:
                        problems.append("the answer is not JSON")
                if problems:
                    failures.append(f"{page} #{n} {ex['request']['method']} {url}: {'; '.join(problems)}")
                    counts[page] = (passed, total + 1, na)
                else:
                    counts[page] = (passed + 1, total + 1, na)
        finally:
            proc.kill()
    return counts, failures


def table(counts) -> str:
    lines = [
        BEGIN,
        "| page | examples passing | not applicable |",
        "|---|---|---|",
    ]
    for page in sorted(counts):
        passed, total, na = counts[page]
        lines.append(f"| {page} | {passed} / {total} | {na or ''} |")
    passed = sum(c[0] for c in counts.values())
    total = sum(c[1] for c in counts.values())
    na = sum(c[2] for c in counts.values())
    lines.append(f"| **all T1** | **{passed} / {total}** | {na} |")
    lines.append("")
    lines.append("Examples that cannot pass as the page writes them:")
    lines.append("")
    for (page, n), reason in sorted(NOT_APPLICABLE.items()):
        lines.append(f"- {page} (example {n + 1}): {reason}.")
    lines.append(END)
    return "\n".join(lines)


def recorded() -> dict:
    text = open(DOC).read()
    out = {}
    if BEGIN not in text:
        return out
    section = text[text.index(BEGIN) : text.index(END)]
    for m in re.finditer(r"^\| ([a-z0-9-]+) \| (\d+) / (\d+) \|", section, re.M):
        out[m.group(1)] = int(m.group(2))
    return out


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    counts, failures = run(sys.argv[1], sys.argv[2])
    for f in failures:
        print("  not yet:", f)
    passed = sum(c[0] for c in counts.values())
    total = sum(c[1] for c in counts.values())
    print(f"conformance: {passed} / {total} T1 examples pass")
    if "--update" in sys.argv:
        text = open(DOC).read()
        new = table(counts)
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + new + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip() + "\n\n" + new + "\n"
        open(DOC, "w").write(text)
        return
    dropped = [
        f"{page}: {counts.get(page, (0, 0, 0))[0]} pass, {was} recorded"
        for page, was in recorded().items()
        if counts.get(page, (0, 0, 0))[0] < was
    ]
    if dropped:
        raise SystemExit("conformance dropped below docs/graph-compatibility.md:\n" + "\n".join(dropped))


if __name__ == "__main__":
    main()
