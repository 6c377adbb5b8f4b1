"""Fallback load generator for bench/api.py when `wrk` is not installed: an async httpx
client run as its own process, printing the same JSON line as bench/wrk_report.lua.

    python bench/loadgen.py URL --connections 32 --duration 10

One Python process generates far less load than wrk; figures from it understate fast servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def run(
    url: str, connections: int, duration: float, headers: dict[str, str]
) -> dict[str, object]:
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    nbytes = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=5.0, headers=headers) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal nbytes
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await client.get(url)
                except httpx.TimeoutException:
                    errors["timeout"] += 1
                    continue
                except httpx.ConnectError:
                    errors["connect"] += 1
                    continue
                except httpx.HTTPError:
                    errors["read"] += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                nbytes += len(r.content)
                if r.status_code >= 400:  # like wrk: any status over 399 counts
                    errors["status"] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> int:
        if not latencies:
            return 0
        return int(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6)

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "bytes": nbytes,
        "p50_us": pct(50),
        "p99_us": pct(99),
        "mean_us": sum(latencies) / len(latencies) * 1e6 if latencies else 0.0,
        "max_us": int(latencies[-1] * 1e6) if latencies else 0,
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    args = ap.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    result = asyncio.run(run(args.url, args.connections, args.duration, headers))
    print("WRKJSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
