"""The public path against a bare FastAPI endpoint, both served in the same run.

Two processes side by side, each with the same uvicorn and the same options: `bench/bare.py`
(one `async def` returning a small JSON) and `licensing serve` (with `--demo` on a fresh
store, or on a store `bench/populate.py` filled). Load comes from `wrk` (Debian package
`wrk`; 2 threads, 32 connections, after a 1 s warm-up); without wrk it stops and says so.

Each case is measured in rounds, each right after a measurement of the bare endpoint (the
baseline of that round); the median round is reported. "hot" paths scan one licence again and again (what the scan cache serves from memory);
"spread" paths scan a different licence each time, from the sample of scan paths
`populate.py` wrote (each answer is composed afresh: the cache cannot help).
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
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import load_average, record

SPREAD_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str, accept: str, *, seconds: float, connections: int, script: str | None = None
) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 latency (ms)."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    argv += ["-H", f"Accept: {accept}", *(["-s", script] if script else []), url]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out or re.search(r"connect [1-9]|read [1-9]|write [1-9]", out):
        raise SystemExit(f"errors while measuring {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return rate, p50, p99


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--public-rate-limit",
        default="1000000/minute",
        help="LICENSING_PUBLIC_RATE_LIMIT of the server: counted but out of reach by default, "
        "so its cost is in the figures; `off` to measure without it",
    )
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds per case")
    parser.add_argument(
        "--data-dir", type=Path, help="a store populate.py filled (else: a fresh demo store)"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (both apps)")
    parser.add_argument("--record", action="store_true", help="write docs/benchmarks.md")
    parser.add_argument("--section", default="verify", help="its section there")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    bare_port, our_port = _free_port(), _free_port()
    bare, ours = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{our_port}"
    with tempfile.TemporaryDirectory() as scratch:
        logs = Path(scratch)
        data = args.data_dir or logs / "data"
        env = dict(os.environ)
        if args.data_dir is None:
            env = {k: v for k, v in env.items() if not k.startswith("LICENSING_")}
        elif (data / "bench.env").exists():  # the store populate.py filled
            for line in (data / "bench.env").read_text().splitlines():
                key, _, value = line.partition("=")
                env[key] = value
        env["LICENSING_DATA_DIR"] = str(data)
        env["LICENSING_PUBLIC_RATE_LIMIT"] = args.public_rate_limit
        command = shutil.which("licensing")
        argv = [command] if command else [sys.executable, "-m", "licensing.cli"]
        serve = [*argv, "serve", "--port", str(our_port)]
        serve += ["--demo"] if args.data_dir is None else []
        serve += ["--workers", str(args.workers)] if args.workers > 1 else []
        bare_argv = [sys.executable, "-m", "bench.bare", "--port", str(bare_port)]
        bare_argv += ["--workers", str(args.workers)]
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        servers = [
            _start(bare_argv, env | {"PYTHONPATH": root}, logs / "bare.log"),
            _start(serve, env, logs / "serve.log"),
        ]
        try:
            _wait(f"{bare}/ping", servers[0], logs / "bare.log")
            _wait(f"{ours}/livez", servers[1], logs / "serve.log")
            paths_file = data / "scan-paths.txt"
            if paths_file.exists():
                scans = paths_file.read_text().split()
            else:
                text = (logs / "serve.log").read_text()
                scans = re.findall(r"scan target\s*:\s*http://[^/]+(/v/\S+)", text)
            hot_scan = scans[0]
            hot_licence = f"/api/v1/licences/{_subject(hot_scan)}"
            cases: list[tuple[str, str, str, str | None]] = [
                ("our /livez (no I/O)", f"{ours}/livez", "application/json", None),
                ("/api/v1/licences/{uscc}, hot", ours + hot_licence, "application/json", None),
                ("/v/{token} HTML, hot", ours + hot_scan, "text/html", None),
                ("/v/{token} signed JSON, hot", ours + hot_scan, "application/json", None),
            ]
            if paths_file.exists() and len(scans) > 1:
                scan_lua = logs / "scans.lua"
                listed = logs / "scans.txt"
                listed.write_text("\n".join(scans) + "\n")
                scan_lua.write_text(SPREAD_LUA % listed)
                lic_lua = logs / "licences.lua"
                usccs = logs / "licences.txt"
                usccs.write_text("\n".join(f"/api/v1/licences/{_subject(s)}" for s in scans) + "\n")
                lic_lua.write_text(SPREAD_LUA % usccs)
                cases += [
                    (
                        f"/api/v1/licences/{{uscc}}, spread over {len(scans)}",
                        ours,
                        "application/json",
                        str(lic_lua),
                    ),
                    (
                        f"/v/{{token}} HTML, spread over {len(scans)}",
                        ours,
                        "text/html",
                        str(scan_lua),
                    ),
                    (
                        f"/v/{{token}} signed JSON, spread over {len(scans)}",
                        ours,
                        "application/json",
                        str(scan_lua),
                    ),
                ]

            def measure(url: str, accept: str, script: str | None) -> tuple[float, float, float]:
                return wrk(
                    url, accept, seconds=args.seconds, connections=args.connections, script=script
                )

            # Each case in rounds, each round right after its own bare-endpoint measurement:
            # the load on a shared machine moves within seconds, and only figures taken side
            # by side make an honest ratio. Reported: the median round (by ratio).
            results = []
            for name, url, accept, script in cases:
                wrk(url, accept, seconds=1, connections=args.connections, script=script)
                rounds = []
                for _ in range(args.rounds):
                    base = measure(f"{bare}/ping", "application/json", None)
                    rounds.append((base, measure(url, accept, script)))
                rounds.sort(key=lambda r: r[1][0] / r[0][0])
                results.append((name, *rounds[len(rounds) // 2]))
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)

    store = env.get("LICENSING_STORE", "sqlite")
    counted = data / "licences"
    size = counted.read_text().strip() if counted.exists() else "2 (demo)"
    print(
        f"store={store}, licences={size}, workers={args.workers}; wrk 2 threads, "
        f"{args.connections} connections, {args.seconds:g} s each after 1 s warm-up; "
        f"the median of {args.rounds} rounds, each right after its own bare-endpoint baseline; "
        f"public rate limit {args.public_rate_limit}"
    )
    rows = []
    for name, (base, _, _), (rate, p50, p99) in results:
        goal = "≥ 0.5" if "hot" in name or "spread" in name else "—"
        print(
            f"  {name:44s} {rate:7,.0f} req/s  bare {base:7,.0f}  ratio {rate / base:5.2f}"
            f"   p50 {p50:6.2f} ms  p99 {p99:7.2f} ms"
        )
        rows.append(
            [
                name,
                f"{rate:,.0f} req/s; p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                f"bare FastAPI `/ping` {base:,.0f} req/s",
                f"{rate / base:.2f}",
                goal,
            ]
        )
    print(f"  load average {load_average()}")
    if args.record:
        command = "python bench/verify.py " + " ".join(sys.argv[1:])
        title = f"Public path, store={store}, licences={size}, workers={args.workers}"
        record(args.section, title, command.strip(), rows)


def _subject(scan: str) -> str:
    import base64
    import json

    claims = scan.rsplit("/", 1)[1].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"])


if __name__ == "__main__":
    main()
