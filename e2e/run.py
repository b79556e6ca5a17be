#!/usr/bin/env python3
"""End to end with the official SDKs: Python msgraph-sdk over http, JS graph-client over https.

Each client uploads a workbook written by openpyxl, creates a session, patches a range, reads it
back, refreshes, closes and downloads the file; openpyxl (an independent reader) checks the
download. A second run with persistChanges=false checks the stored file did not change.

Usage: e2e/run.py PATH/TO/workbookd   (run by .ci/run, which installs the SDKs first)
"""

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile

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
from msgraph.graph_request_adapter import GraphRequestAdapter

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


async def python_flow(base: str, persist: bool, name: str) -> tuple:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    drive = await client.me.drive.get()
    items = client.drives.by_drive_id(drive.id).items
    uploaded = await items.by_drive_item_id(f"root:/{name}:").content.put(fixture())
    original = await items.by_drive_item_id(uploaded.id).content.get()
    item = items.by_drive_item_id(uploaded.id)

    session = await item.workbook.create_session.post(CreateSessionPostRequestBody(persist_changes=persist))
    assert session.persist_changes is persist, session.persist_changes
    config = session_config(session.id)

    # msgraph-sdk has no PATCH on range(address=…) (msgraph-sdk-python#844): users send it
    # through the SDK's own request adapter, as here.
    patch = RequestInformation(Method.PATCH)
    patch.url = f"{base}/v1.0/drives/{drive.id}/items/{uploaded.id}/workbook/worksheets/Sheet1/range(address='A1')"
    patch.headers = HeadersCollection()
    patch.headers.add("workbook-session-id", session.id)
    patch.headers.add("Content-Type", "application/json")
    patch.content = json.dumps({"values": [[10]]}).encode()
    patched = json.loads(await adapter.send_primitive_async(patch, "bytes", None))
    assert patched["values"] == [[10]], patched

    sheet = item.workbook.worksheets.by_workbook_worksheet_id("Sheet1")
    read = await sheet.range_with_address("A1:A3").get(request_configuration=config)
    # msgraph-sdk's WorkbookRange has no `values`: they arrive in additional_data.
    values = plain(read.additional_data.get("values"))
    assert values == [[10], [2], [12]], values

    await item.workbook.refresh_session.post(request_configuration=config)
    await item.workbook.close_session.post(request_configuration=config)
    downloaded = await item.content.get()
    return original, downloaded


def check(label: str, persist: bool, original: bytes, downloaded: bytes):
    if persist:
        got = cells(downloaded)
        assert got == (10, 12), f"{label}: the download shows {got}, expected (10, 12)"
    else:
        assert downloaded == original, f"{label}: a non-persistent session changed the stored file"
    print(f"{label} persistChanges={str(persist).lower()}: ok")


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(binary, data)
        try:
            for persist in (True, False):
                original, downloaded = asyncio.run(python_flow(base, persist, f"py-{persist}.xlsx"))
                check("python msgraph-sdk", persist, original, downloaded)
        finally:
            proc.terminate()
            proc.wait()

    # The JS client sends tokens only over https: the server runs with --tls and Node trusts
    # its certificate through NODE_EXTRA_CA_CERTS.
    with tempfile.TemporaryDirectory() as data:
        proc, base = start(binary, data, "--tls")
        try:
            for persist in (True, False):
                book = os.path.join(data, f"js-{persist}.xlsx")
                with open(book, "wb") as f:
                    f.write(fixture())
                env = dict(os.environ, NODE_EXTRA_CA_CERTS=os.path.join(data, "tls", "cert.pem"))
                run = subprocess.run(
                    ["node", os.path.join(HERE, "js", "e2e.mjs"), base, book, str(persist).lower()],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if run.returncode != 0:
                    raise SystemExit(f"JS client failed:\n{run.stdout}\n{run.stderr}")
                with open(book + ".original", "rb") as f:
                    original = f.read()
                with open(book + ".downloaded", "rb") as f:
                    downloaded = f.read()
                check("js graph-client", persist, original, downloaded)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
