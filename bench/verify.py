"""Public verification against a bare endpoint of the same server (ratios, same run).

The server runs as its own process (`licensing serve --demo`, as a user starts it); the load
comes from `wrk` when it is installed (Debian package `wrk`), else from a pool of Python
client processes. Both the baseline and the measured paths go through the same server.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from licensing.demo import HOTEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python_client(url: str, accept: str, seconds: float) -> int:
    done = 0
    stop = time.monotonic() + seconds
    with httpx.Client(headers={"Accept": accept}) as client:
        while time.monotonic() < stop:
            client.get(url).raise_for_status()
            done += 1
    return done


def measure(url: str, accept: str, *, seconds: float, connections: int) -> float:
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "-H",
                f"Accept: {accept}",
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if "Non-2xx" in out:
            raise SystemExit(f"errors while measuring {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    with ProcessPoolExecutor(connections) as pool:
        counts = pool.map(
            _python_client, [url] * connections, [accept] * connections, [seconds] * connections
        )
        return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--public-rate-limit",
        default="1000000/minute",
        help="LICENSING_PUBLIC_RATE_LIMIT of the server: counted but out of reach by default, "
        "so its cost is in the figures; `off` to measure without it",
    )
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSING_")}
        env |= {"LICENSING_DATA_DIR": data, "LICENSING_PUBLIC_RATE_LIMIT": args.public_rate_limit}
        command = shutil.which("licensing")
        argv = [command] if command else [sys.executable, "-m", "licensing.cli"]
        server = subprocess.Popen(
            [*argv, "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            licence = httpx.get(f"{base}/api/v1/licences/{HOTEL.uscc}").json()
            scan = licence["links"]["verification"]
            cases = [
                ("/livez  (baseline: same server, no I/O)", f"{base}/livez", "application/json"),
                (
                    "/api/v1/licences/{uscc}",
                    f"{base}/api/v1/licences/{HOTEL.uscc}",
                    "application/json",
                ),
                ("/v/{token}  HTML page", scan, "text/html"),
                ("/v/{token}  signed JSON", scan, "application/json"),
            ]
            tool = "wrk" if shutil.which("wrk") else "python clients"
            print(
                f"licensing serve (SQLite), {len(licence['permits'])}-permit licence; load: {tool}, "
                f"{args.connections} connections, {args.seconds:.0f} s each; public rate limit "
                f"{args.public_rate_limit}"
            )
            baseline = None
            for name, url, accept in cases:
                measure(url, accept, seconds=1, connections=args.connections)  # warm up
                per_second = measure(
                    url, accept, seconds=args.seconds, connections=args.connections
                )
                baseline = baseline or per_second
                print(f"  {name:42s} {per_second:8.0f} req/s  ratio {per_second / baseline:5.2f}")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
