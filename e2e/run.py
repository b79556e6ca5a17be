#!/usr/bin/env python3
"""End to end with the official SDKs, as their users run them: the same scenario list through
Python msgraph-sdk (over http), the JS graph-client and the Kiota JS msgraph-sdk (both over https
with NODE_EXTRA_CA_CERTS).

Each scenario passes or fails with its reason; the results are compared with the checked-in
e2e/sdk-scenarios.tsv, so a regression (or a fix) shows up as a difference. openpyxl, an
independent reader, checks the downloaded files.

Usage: e2e/run.py PATH/TO/workbookd [--update]   (run by .ci/run, which installs the SDKs first)
"""

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import openpyxl
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.headers_collection import HeadersCollection
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphServiceClient
from msgraph.generated.drives.item.items.item.workbook.create_session.create_session_post_request_body import (
    CreateSessionPostRequestBody,
)
from msgraph.generated.drives.item.items.item.workbook.worksheets.add.add_post_request_body import (
    AddPostRequestBody as WorksheetAddBody,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

HERE = os.path.dirname(os.path.abspath(__file__))


def fixture() -> bytes:
    """Sheet1: A1 = 1, A2 = 2, A3 = A1+A2, written by openpyxl (no cached values)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws["A1"] = 1
    ws["A2"] = 2
    ws["A3"] = "=A1+A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def cells(data: bytes):
    """(A1, A3) of a downloaded file, as openpyxl reads the cached values."""
    ws = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["Sheet1"]
    return ws["A1"].value, ws["A3"].value


def start(binary: str, data_dir: str, *extra: str):
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data", data_dir, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline().strip()
    prefix = "workbookd listening on "
    if not line.startswith(prefix):
        proc.kill()
        raise SystemExit(f"unexpected ready line: {line!r}")
    return proc, line[len(prefix):]


class StaticToken(AccessTokenProvider):
    """The documented way to give a Kiota client a token of one's own."""

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return "dev-token"

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


def plain(node):
    """Kiota's untyped JSON nodes as Python values."""
    if hasattr(node, "get_value"):
        node = node.get_value()
    if isinstance(node, list):
        return [plain(n) for n in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def session_config(session_id: str) -> RequestConfiguration:
    config = RequestConfiguration()
    config.headers.add("workbook-session-id", session_id)
    return config


SCENARIOS = [
    "upload",
    "persistent session",
    "non-persistent session",
    "ranges",
    "table with rows",
    "names",
    "$batch with a session",
    "429 with Retry-After honoured",
    "closeSession",
    "download",
    "throttling budget honoured",
]
SDKS = ["python msgraph-sdk", "js microsoft-graph-client", "js msgraph-sdk (Kiota)"]
RESULTS = os.path.join(HERE, "sdk-scenarios.tsv")


def control(base: str, method: str, path: str, body=None):
    """A control-plane call (no SDK: these are workbookd's own endpoints). Writes need a bearer
    token (any, in dev mode), which no cross-site page can send."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer dev"})
    with urllib.request.urlopen(request, context=ssl_context()) as r:
        text = r.read()
        return json.loads(text) if text else None


def ssl_context():
    import ssl
    ca = os.environ.get("WORKBOOKD_CA")
    return ssl.create_default_context(cafile=ca) if ca else None


class Scenarios:
    """Runs named scenarios in order; a failure is recorded with its reason and the run goes on."""

    def __init__(self):
        self.results = {}

    async def run(self, name, step):
        try:
            await step()
            self.results[name] = "pass"
        except Exception as e:  # noqa: BLE001 - every failure is a result to record
            reason = f"{type(e).__name__}: {e}".replace("\t", " ").replace("\n", " ")[:200]
            self.results[name] = f"fail: {reason}"


async def python_scenarios(base: str) -> dict:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    s = Scenarios()
    state = {}

    async def raw(method, path, body=None, session=None):
        # Calls msgraph-sdk has no model for (PATCH on range(address=…), msgraph-sdk-python#844;
        # $batch content), sent through the SDK's own request adapter as its users do.
        info = RequestInformation(method)
        info.url = f"{base}/v1.0{path}"
        info.headers = HeadersCollection()
        if session:
            info.headers.add("workbook-session-id", session)
        if body is not None:
            info.headers.add("Content-Type", "application/json")
            info.content = json.dumps(body).encode()
        out = await adapter.send_primitive_async(info, "bytes", None)
        return json.loads(out) if out else None

    async def upload():
        drive = await client.me.drive.get()
        items = client.drives.by_drive_id(drive.id).items
        uploaded = await items.by_drive_item_id("root:/py.xlsx:").content.put(fixture())
        assert uploaded.id and uploaded.name == "py.xlsx", uploaded
        state.update(drive=drive.id, id=uploaded.id, item=items.by_drive_item_id(uploaded.id))
        state["path"] = f"/drives/{drive.id}/items/{uploaded.id}/workbook"
        state["original"] = await state["item"].content.get()

    async def persistent():
        session = await state["item"].workbook.create_session.post(CreateSessionPostRequestBody(persist_changes=True))
        assert session.persist_changes is True
        state["session"] = session.id
        patched = await raw(Method.PATCH, f"{state['path']}/worksheets/Sheet1/range(address='A1')", {"values": [[10]]},
                            session.id)
        assert patched["values"] == [[10]], patched
        sheet = state["item"].workbook.worksheets.by_workbook_worksheet_id("Sheet1")
        read = await sheet.range_with_address("A1:A3").get(request_configuration=session_config(session.id))
        values = plain(read.additional_data.get("values"))
        assert values == [[10], [2], [12]], values

    async def nonpersistent():
        session = await state["item"].workbook.create_session.post(CreateSessionPostRequestBody(persist_changes=False))
        assert session.persist_changes is False
        await raw(Method.PATCH, f"{state['path']}/worksheets/Sheet1/range(address='A2')", {"values": [[100]]}, session.id)
        mine = await raw(Method.GET, f"{state['path']}/worksheets/Sheet1/range(address='A3')", session=session.id)
        assert mine["values"] == [[110]], mine
        shared = await raw(Method.GET, f"{state['path']}/worksheets/Sheet1/range(address='A3')", session=state["session"])
        assert shared["values"] == [[12]], f"the non-persistent write leaked: {shared}"
        await state["item"].workbook.close_session.post(request_configuration=session_config(session.id))

    async def ranges():
        r = await raw(Method.GET, f"{state['path']}/worksheets/Sheet1/range(address='A1:A3')?$select=formulas,text",
                      session=state["session"])
        assert r["formulas"][2] == ["=A1+A2"] and r["text"][2] == ["12"], r
        assert "values" not in r, "$select"

    async def table_rows():
        ws = await state["item"].workbook.worksheets.add.post(WorksheetAddBody(name="Data"),
                                                              request_configuration=session_config(state["session"]))
        assert ws.name == "Data"
        await raw(Method.PATCH, f"{state['path']}/worksheets/Data/range(address='A1:B2')",
                  {"values": [["Fruit", "Qty"], ["fig", 3]]}, state["session"])
        table = await raw(Method.POST, f"{state['path']}/tables/add", {"address": "Data!A1:B2", "hasHeaders": True},
                          state["session"])
        state["table"] = table["name"]
        await raw(Method.POST, f"{state['path']}/tables/{table['name']}/rows/add",
                  {"values": [["pear", 4], ["plum", 5]]}, state["session"])
        rows = await state["item"].workbook.tables.by_workbook_table_id(table["name"]).rows.get(
            request_configuration=session_config(state["session"]))
        # msgraph-sdk's WorkbookTableRow has no `values` either: they arrive in additional_data.
        got = [plain(r.additional_data.get("values")) for r in rows.value]
        assert got == [[["fig", 3]], [["pear", 4]], [["plum", 5]]], got

    async def names():
        added = await raw(Method.POST, f"{state['path']}/names/add", {"name": "Total", "reference": "=Sheet1!$A$3"},
                          state["session"])
        assert added["name"] == "Total", added
        listed = await state["item"].workbook.names.get(request_configuration=session_config(state["session"]))
        assert "Total" in [n.name for n in listed.value]
        r = await raw(Method.GET, f"{state['path']}/names/Total/range", session=state["session"])
        assert r["values"] == [[12]], r

    async def batch():
        # The SDK's own batch API (BatchRequestContent, `client.batch`): items carry their full
        # URL and `depends_on`. It drops JSON bodies of the answers (microsoft/kiota-python#737),
        # so the statuses come from the batch and the value from a read after it.
        patch = RequestInformation(Method.PATCH)
        patch.url = f"{base}/v1.0{state['path']}/worksheets/Sheet1/range(address='B1')"
        patch.headers = HeadersCollection()
        patch.headers.add("workbook-session-id", state["session"])
        patch.headers.add("Content-Type", "application/json")
        patch.content = json.dumps({"values": [["=A3*2"]]}).encode()
        sheet = state["item"].workbook.worksheets.by_workbook_worksheet_id("Sheet1")
        read = sheet.range_with_address("B1").to_get_request_information(session_config(state["session"]))
        first = BatchRequestItem(patch, id="1")
        content = BatchRequestContent({"1": first, "2": BatchRequestItem(read, id="2", depends_on=[first])})
        out = await client.batch.post(content)
        assert out.get_response_status_codes() == {"1": 200, "2": 200}, out.get_response_status_codes()
        after = await sheet.range_with_address("B1").get(request_configuration=session_config(state["session"]))
        assert plain(after.additional_data.get("values")) == [[24]], after.additional_data

    async def retry_429():
        control(base, "PUT", "/_workbookd/faults",
                {"rules": [{"fault": "throttle", "method": "GET", "path": "*/workbook/worksheets", "times": 1,
                            "retryAfter": 1}]})
        try:
            sheets = await state["item"].workbook.worksheets.get(request_configuration=session_config(state["session"]))
            assert [w.name for w in sheets.value] == ["Sheet1", "Data"], sheets.value
            rule = control(base, "GET", "/_workbookd/faults")["rules"][0]
            assert (rule["matched"], rule["injected"]) == (2, 1), f"the SDK did not retry: {rule}"
        finally:
            control(base, "DELETE", "/_workbookd/faults")

    async def close():
        config = session_config(state["session"])
        await state["item"].workbook.refresh_session.post(request_configuration=config)
        await state["item"].workbook.close_session.post(request_configuration=config)
        try:
            await state["item"].workbook.worksheets.get(request_configuration=config)
        except Exception as e:  # noqa: BLE001
            assert getattr(e, "response_status_code", None) == 404, e
        else:
            raise AssertionError("the closed session still answers")

    async def download():
        data = await state["item"].content.get()
        assert cells(data) == (10, 12), cells(data)

    for name, step in zip(SCENARIOS, [upload, persistent, nonpersistent, ranges, table_rows, names, batch, retry_429,
                                      close, download]):
        await s.run(name, step)
    return s.results


async def python_throttled(base: str) -> dict:
    """Against a server with a per-user budget of 4 requests per 2 s: twelve calls in a row all
    succeed, because the SDK's retry handler waits out each 429's Retry-After."""
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    s = Scenarios()

    async def budget():
        for _ in range(12):
            root = await client.me.drive.get()
            assert root is not None
        with urllib.request.urlopen(f"{base}/_workbookd/metrics") as r:
            metrics = r.read().decode()
        throttled = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                        if line.startswith("workbookd_requests_total{") and 'status="429"' in line)
        assert throttled >= 1, "the budget never answered 429"

    await s.run("throttling budget honoured", budget)
    return s.results


def js_scenarios(binary: str, sdk: str, script: str) -> dict:
    """A JS client's scenarios against a --tls server (the JS clients send tokens over https only;
    Node trusts the certificate through NODE_EXTRA_CA_CERTS), then the throttling scenario
    against one with a request budget."""
    results = js_run(binary, sdk, script, [], SCENARIOS[:-1])
    results.update(js_run(binary, sdk, script, ["--throttle-user", "4/2s"], SCENARIOS[-1:], "throttled"))
    return results


def js_run(binary: str, sdk: str, script: str, flags: list, names: list, *mode: str) -> dict:
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(binary, data, "--tls", *flags)
        try:
            book = os.path.join(data, "book.xlsx")
            with open(book, "wb") as f:
                f.write(fixture())
            ca = os.path.join(data, "tls", "cert.pem")
            env = dict(os.environ, NODE_EXTRA_CA_CERTS=ca)
            run = subprocess.run(["node", os.path.join(HERE, "js", script), base, book, *mode], env=env,
                                 capture_output=True, text=True, timeout=300)
            results = {}
            for line in run.stdout.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    results[r["scenario"]] = r["result"]
            if not results:
                return {name: f"fail: the {sdk} script did not run: {run.stderr.strip()[-200:]}" for name in names}
            if results.get("download") == "pass":
                with open(book + ".downloaded", "rb") as f:
                    got = cells(f.read())
                if got != (10, 12):
                    results["download"] = f"fail: the download shows {got}"
            return results
        finally:
            proc.terminate()
            proc.wait()


def table(results: dict) -> str:
    lines = ["# scenario\t" + "\t".join(SDKS)]
    for name in SCENARIOS:
        lines.append("\t".join([name] + [results.get(sdk, {}).get(name, "not run") for sdk in SDKS]))
    return "\n".join(lines) + "\n"


def main():
    binary = os.path.abspath(sys.argv[1])
    results = {}
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(binary, data)
        try:
            results["python msgraph-sdk"] = asyncio.run(python_scenarios(base))
        finally:
            proc.terminate()
            proc.wait()
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(binary, data, "--throttle-user", "4/2s")
        try:
            results["python msgraph-sdk"].update(asyncio.run(python_throttled(base)))
        finally:
            proc.terminate()
            proc.wait()
    results["js microsoft-graph-client"] = js_scenarios(binary, "graph-client", "e2e.mjs")
    results["js msgraph-sdk (Kiota)"] = js_scenarios(binary, "Kiota", "kiota.mjs")
    got = table(results)
    with open(RESULTS) as f:
        expected = f.read()
    if "--update" in sys.argv:
        with open(RESULTS, "w") as f:
            f.write(got)
    print(got)
    if got != expected and "--update" not in sys.argv:
        raise SystemExit(f"the SDK scenario results differ from {RESULTS} (run with --update after a fix):\n"
                         f"expected:\n{expected}\ngot:\n{got}")


if __name__ == "__main__":
    main()
