"""The baseline every public-path figure is divided by: a bare FastAPI app with one
`async def` route returning a small JSON, served by the same uvicorn with the same options
as `licensing serve` (`python -m bench.bare --port N`)."""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The options `licensing serve` passes to uvicorn.run, so only the app differs.
    uvicorn.run(
        "bench.bare:app", host=args.host, port=args.port, log_level="info", workers=args.workers
    )


if __name__ == "__main__":
    main()
