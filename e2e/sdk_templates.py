#!/usr/bin/env python3
"""Every workbook call shape msgraph-sdk can send, against the real server.

The source of truth is the SDK's own generated code: each request builder under
`drives/item/items/item/workbook` holds a Kiota URL template and the HTTP methods it sends. This
script enumerates them from the pinned msgraph-sdk (e2e/requirements.txt), checks that the
resolver's copy (crates/graph/src/sdk_url_templates.tsv) is the same list, expands each template
with real keys of a fixture workbook through Kiota's own RequestInformation (so the URL is
encoded exactly as the SDK encodes it), sends it, and sorts the answers:

  served        2xx: the operation ran
  refused       4xx from the operation itself (the response names the operation it resolved
                to in x-workbookd-operation): it ran its own checks on the fixture and said no,
                as Excel does (merging cells of a table, deleting a table's header row)
  501           notImplemented: a documented operation workbookd does not build yet
  apiNotFound   400 ApiNotFound: a shape Graph itself refuses (table rows by bare index for
                update and range; docs/graph-compatibility.md gives the sources)
  broken        anything else (a path not resolved: 400 unknown segment, 405; any 5xx)

The run fails on any broken call and when the served count drops below the figure recorded in
docs/graph-compatibility.md ("SDK URL templates served").

Usage: e2e/sdk_templates.py PATH/TO/workbookd            (run by .ci/run)
       e2e/sdk_templates.py --write                        (regenerate the resolver's list)
"""

import io
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request

import msgraph
import openpyxl
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from run import start

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TSV = os.path.join(REPO, "crates", "graph", "src", "sdk_url_templates.tsv")
FUNCTIONS = os.path.join(REPO, "crates", "graph", "src", "functions.tsv")
COMPAT = os.path.join(REPO, "docs", "graph-compatibility.md")
PREFIX = "{+baseurl}/drives/{drive%2Did}/items/{driveItem%2Did}/workbook"


def sdk_templates():
    """(method, template under /workbook without its query part), sorted."""
    root = os.path.join(os.path.dirname(msgraph.__file__), "generated", "drives", "item", "items", "item", "workbook")
    pairs = set()
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith("_request_builder.py"):
                continue
            src = open(os.path.join(folder, name), encoding="utf-8").read()
            found = re.search(r'super\(\).__init__\(request_adapter, "([^"]+)"', src)
            if not found:
                continue
            own = found.group(1)
            for method, tpl in re.findall(r"RequestInformation\(Method\.(\w+), (self\.url_template|'[^']*'|\"[^\"]*\")", src):
                tpl = own if tpl == "self.url_template" else tpl.strip("'\"")
                assert tpl.startswith(PREFIX), tpl
                path = re.sub(r"\{\?[^}]*\}$", "", tpl[len(PREFIX):])
                pairs.add((method, path))
    return sorted(pairs, key=lambda p: (p[1], p[0]))


def write_tsv(pairs):
    with open(TSV, "w", encoding="utf-8") as out:
        out.write(f"# msgraph-sdk {msgraph_version()}: every (method, URL template) under …/items/{{id}}/workbook in its\n")
        out.write("# generated request builders, query part removed. Regenerate: e2e/sdk_templates.py --write\n")
        for method, path in pairs:
            out.write(f"{method}\t{path}\n")


def read_tsv():
    with open(TSV, encoding="utf-8") as f:
        return [tuple(l.rstrip("\n").split("\t")) for l in f if l.strip() and not l.startswith("#")]


def msgraph_version():
    from importlib.metadata import version

    return version("msgraph-sdk")


# ---- the fixture and the keys ----

def fixture() -> bytes:
    """Sheet1: a table T1 over C4:D8 (header, three rows, a total row), so that ranges around it
    have rows above and columns before; values in F2:G3 with a workbook name over them."""
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for i, row in enumerate([["Item", "Qty"], ["a", 1], ["b", 2], ["c", 3], ["Total", "=SUBTOTAL(109,D5:D7)"]]):
        ws.cell(row=4 + i, column=3, value=row[0])
        ws.cell(row=4 + i, column=4, value=row[1])
    table = Table(displayName="T1", ref="C4:D8")
    table.totalsRowCount = 1
    ws.add_table(table)
    for r, c, v in [(1, 1, "title"), (2, 6, 10), (2, 7, 11), (3, 6, 20), (3, 7, 21)]:
        ws.cell(row=r, column=c, value=v)
    # The same name in the workbook's scope and in Sheet1's (worksheets/{w}/names lists the latter).
    wb.defined_names["Total"] = DefinedName("Total", attr_text="Sheet1!$F$2:$G$3")
    ws.defined_names["Total"] = DefinedName("Total", attr_text="Sheet1!$F$2:$F$3")
    wb.create_sheet("Sheet2")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


KEYS = {
    "workbookWorksheet%2Did": "Sheet1",
    "workbookTable%2Did": "T1",
    "workbookTableColumn%2Did": "Qty",
    "workbookTableRow%2Did": "0",
    "workbookNamedItem%2Did": "Total",
    "address": "F2:G3",
    "anotherRange": "A1:H9",
    "row": "0",
    "row1": "0",
    "column": "0",
    "column1": "0",
    "count": "1",
    "rowOffset": "1",
    "columnOffset": "1",
    "deltaRows": "1",
    "deltaColumns": "1",
    "valuesOnly": "true",
    "index": "0",
    "key": "none",
    "width": "400",
    "height": "300",
    "fittingMode": "Fit",
}


def expand(base_url, drive_id, item_id, template):
    info = RequestInformation(Method.GET, PREFIX + template, {})
    names = set(re.findall(r"\{([^}?+]+)\}", template))
    params = {"baseurl": base_url, "drive%2Did": drive_id, "driveItem%2Did": item_id}
    for n in names:
        params[n] = KEYS.get(n, "x1")
    info.path_parameters = params
    return info.url


def function_body(name, signatures):
    """Every parameter of the function given a number (lists: two numbers)."""
    params = signatures.get(name, [])
    body = {}
    for p in params:
        body[p.rstrip("*")] = [1, 2] if p.endswith("*") else 1
    return body


def body_for(method, template):
    last = template.rstrip("/").rsplit("/", 1)[-1].split("(")[0]
    if method == "PATCH":
        if "range" in template.lower() and last in ("range", "usedRange", "dataBodyRange", "headerRowRange", "totalRowRange", "cell", "lastCell", "lastRow", "lastColumn"):
            return {"values": None}
        if "/rows/" in template:
            return {"values": [["z", 9]]}
        if template.endswith("/columns/{workbookTableColumn%2Did}"):
            return {"name": "Qty"}
        return {}
    if method != "POST":
        return None
    return {
        "add": {"values": [["d", 4]]} if "/rows/" in template else {"name": "Added"} if "/columns/" in template else {"address": "F1:G3", "hasHeaders": True} if "/tables/" in template else {"name": "Added", "reference": "=Sheet1!$D$1"} if "/names/" in template else {"name": "Added"},
        "addFormulaLocal": {"name": "AddedLocal", "formula": "=Sheet1!$D$1"},
        "insert": {"shift": "Down"},
        "delete": {"shift": "Up"},
        "clear": {"applyTo": "Formats"},
        "merge": {"across": False},
        "createSession": {"persistChanges": False},
        "calculate": {"calculationType": "Recalculate"},
    }.get(last, {})


def call(method, url, body=None, headers=None, raw=None, with_headers=False):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer dev")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as r:
            answer = (r.status, r.read(), r.headers)
    except urllib.error.HTTPError as e:
        answer = (e.code, e.read(), e.headers)
    return answer if with_headers else answer[:2]


def classify(status, payload, operation):
    if 200 <= status < 300:
        return "served"
    try:
        err = json.loads(payload)["error"]
    except Exception:
        err = {}
    if status == 501 and err.get("code") == "notImplemented":
        return "501"
    if status == 400 and err.get("code") == "ApiNotFound":
        return "apiNotFound"
    if operation and 400 <= status < 500 and status not in (404, 405):
        return "refused"
    return "broken"


def recorded_served():
    with open(COMPAT, encoding="utf-8") as f:
        m = re.search(r"SDK URL templates served: \*\*(\d+)\*\*", f.read())
    return int(m.group(1)) if m else 0


def main():
    pairs = sdk_templates()
    if "--write" in sys.argv:
        write_tsv(pairs)
        print(f"wrote {len(pairs)} templates to {TSV}")
        return
    if read_tsv() != pairs:
        raise SystemExit(f"{TSV} differs from msgraph-sdk {msgraph_version()}: run e2e/sdk_templates.py --write")
    binary = sys.argv[1]
    signatures = {}
    for line in open(FUNCTIONS, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        name, *params = line.rstrip("\n").split("\t")
        signatures[name] = params
    book = fixture()
    counts = {"served": 0, "refused": 0, "501": 0, "apiNotFound": 0, "broken": 0}
    broken = []
    refusals = {}
    with tempfile.TemporaryDirectory() as data_dir:
        proc, base = start(binary, data_dir)
        try:
            v1 = base + "/v1.0"
            status, drive = call("GET", v1 + "/me/drive")
            drive_id = json.loads(drive)["id"]
            # Keys that only the server hands out: a session id (sessionInfoResource) and the
            # id of an asynchronous row add (operations/{id}, tableRowOperationResult).
            status, item = call("PUT", v1 + "/me/drive/root:/sdk.xlsx:/content", raw=book,
                                headers={"Content-Type": "application/octet-stream"})
            item_id = json.loads(item)["id"]
            status, created = call("POST", expand(v1, drive_id, item_id, "/createSession"), {"persistChanges": False})
            KEYS["key"] = json.loads(created)["id"]
            rows_add = expand(v1, drive_id, item_id, "/tables/{workbookTable%2Did}/rows/add")
            async_headers = {"Prefer": "respond-async", "workbook-session-id": KEYS["key"]}
            status, _, answer = call("POST", rows_add, {"values": [["d", 4]]}, async_headers, with_headers=True)
            assert status == 202, status
            operation_id = answer["Location"].rstrip("/").rsplit("/", 1)[-1]
            KEYS["workbookOperation%2Did"] = operation_id
            for method, template in pairs:
                # A fresh copy of the fixture for each call: deletes and inserts change it.
                status, item = call("PUT", v1 + "/me/drive/root:/sdk.xlsx:/content", raw=book,
                                    headers={"Content-Type": "application/octet-stream"})
                item_id = json.loads(item)["id"]
                url = expand(v1, drive_id, item_id, template)
                if "tableRowOperationResult" in template:
                    url = url.replace(f"key='{KEYS['key']}'", f"key='{operation_id}'")
                if "/functions/" in template:
                    body = function_body(template.rsplit("/", 1)[-1], signatures)
                else:
                    body = body_for(method, template)
                headers = {}
                # A session for the calls that need one (the upload above ended any before it).
                if template.endswith(("/closeSession", "/refreshSession")) or "sessionInfoResource" in template:
                    s, created = call("POST", expand(v1, drive_id, item_id, "/createSession"), {"persistChanges": False})
                    session_id = json.loads(created)["id"]
                    headers["workbook-session-id"] = session_id
                    url = url.replace(f"key='{KEYS['key']}'", f"key='{session_id}'")
                status, payload, answer_headers = call(method, url, body, headers, with_headers=True)
                kind = classify(status, payload, answer_headers.get("x-workbookd-operation"))
                counts[kind] += 1
                if kind == "broken":
                    broken.append(f"{method} {template} -> {status} {payload[:200]!r}")
                if kind == "refused":
                    try:
                        message = json.loads(payload)["error"]["message"][:60]
                    except Exception:
                        message = payload[:60]
                    refusals[(status, message)] = refusals.get((status, message), 0) + 1
        finally:
            proc.kill()
            proc.wait()
    total = len(pairs)
    print(f"msgraph-sdk {msgraph_version()}: {total} workbook call shapes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for (status, message), n in sorted(refusals.items(), key=lambda r: -r[1]):
        print(f"  refused by the operation {n}x: {status} {message}")
    for b in broken:
        print("  broken:", b)
    floor = recorded_served()
    if counts["served"] < floor:
        broken.append(f"served {counts['served']} < {floor} recorded in docs/graph-compatibility.md")
        print(f"served count dropped: {counts['served']} < {floor}")
    print(f"{total - len(broken)} passed, {len(broken)} failed")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
