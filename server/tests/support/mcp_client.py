"""The official MCP Python SDK (PyPI `mcp`) as a client of Sentinel's MCP server.

Usage: mcp_client.py stdio <sentinel binary>      (the server is `sentinel mcp`, spawned here)
       mcp_client.py http <url> <operator token>  (the server is `sentinel serve`'s POST /mcp)

Connects, lists the tools, calls them and checks the results; prints one JSON line of what
it saw and exits non-zero on the first failed check. Run by server/tests/mcp.rs.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

WANTED = {
    "list_incidents",
    "get_incident",
    "investigate_alert",
    "fetch_logs",
    "query_metrics",
    "list_changes",
    "search_past_incidents",
    "get_runbook",
    "correlate_changes",
    "metric_onsets",
}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def exercise(client):
    listed = await client.list_tools()
    names = {t.name for t in listed.tools}
    check(WANTED <= names, f"missing tools: {WANTED - names}")
    check(
        not any("approval" in n or n.startswith("draft_") for n in names),
        f"a deciding tool is offered: {names}",
    )

    r = await client.call_tool(
        "get_runbook", {"service": "payment-service", "failure_class": "db_pool"}
    )
    check(not r.is_error, f"get_runbook failed: {r.content}")
    check(r.structured_content["found"] is True, f"no runbook: {r.structured_content}")

    r = await client.call_tool(
        "investigate_alert",
        {"service": "payment-service", "summary": "payment-service error rate above 5%"},
    )
    check(not r.is_error, f"investigate_alert failed: {r.content}")
    inc = r.structured_content
    incident_id = inc["incident_id"]
    check(incident_id.startswith("inc-"), f"no incident id: {inc}")
    check(
        inc["status"] in ("escalated", "resolved", "awaiting_approval"),
        f"the investigation did not reach a decision: {inc['status']}",
    )
    check(inc["triage"] is not None and inc["diagnosis"] is not None, "no triage/diagnosis")
    # The text content carries the same JSON for clients that read only text.
    check(json.loads(r.content[0].text)["incident_id"] == incident_id, "text differs")

    r = await client.call_tool("list_incidents", {"service": "payment-service"})
    check(not r.is_error, f"list_incidents failed: {r.content}")
    ids = [i["incident_id"] for i in r.structured_content["incidents"]]
    check(incident_id in ids, f"{incident_id} not listed: {ids}")

    r = await client.call_tool("get_incident", {"id": incident_id})
    check(not r.is_error and r.structured_content["incident_id"] == incident_id, "get_incident")

    # Failures are tool results the model can read, not protocol errors.
    r = await client.call_tool("get_incident", {"id": "inc-000000000000"})
    check(r.is_error, "a missing incident must be an error result")
    r = await client.call_tool("list_incidents", {"status": "sideways"})
    check(r.is_error and "status" in r.content[0].text, f"bad status: {r.content}")

    # Telemetry through the configured connectors (the test's log files).
    r = await client.call_tool("fetch_logs", {"service": "payment-service", "hours_back": 1})
    check(not r.is_error, f"fetch_logs failed: {r.content}")
    sigs = r.structured_content["signatures"]
    check(any("HikariPool" in s["example"] for s in sigs), f"the pool errors are missing: {sigs}")
    r = await client.call_tool("search_past_incidents", {"query": "payment error rate"})
    check(not r.is_error, f"search_past_incidents failed: {r.content}")

    return {"tools": sorted(names), "incident": incident_id, "status": inc["status"]}


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[2], args=["mcp"], env=dict(os.environ))
        async with Client(params) as client:
            seen = await exercise(client)
    elif mode == "http":
        url, token = sys.argv[2], sys.argv[3]
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
        async with Client(streamable_http_client(url, http_client=http)) as client:
            seen = await exercise(client)
        # Without the operator's token the endpoint refuses.
        async with httpx2.AsyncClient(timeout=30) as anon:
            resp = await anon.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Accept": "application/json, text/event-stream"},
            )
            check(resp.status_code == 401, f"anonymous call got {resp.status_code}")
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"mode": mode, **seen}))


if __name__ == "__main__":
    asyncio.run(main())
