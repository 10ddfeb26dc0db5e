"""Instructions per request, in process, counted by valgrind (issue 12): a figure that does not
move with the machine's load, for changes smaller than its noise (±30 % between runs, more on a
busy day).

    python bench/instructions.py [--endpoint session] [--before DIR] [--batches 20 220]

The app's ASGI callable is driven on uvloop, 16 requests at a time (their writes share a group
commit, as a server's concurrent requests do), with the bench's bodies (``bench/micro.py``'s
requests) and logging set up as ``serve`` sets it. ``callgrind`` counts the instructions of the
whole process twice, for the smaller and the larger number of batches: their difference divided by
the requests between them is the count per request, start-up left out. No uvicorn and no socket:
what is counted is the app's own work (and SQLite's, and the loop's). The SQLite checkpointer is
stopped so that a thread's timing changes nothing; ``PYTHONHASHSEED`` is fixed. With ``--before
DIR`` (a folder holding ``headless_redirects``, for example ``git archive <rev> src | tar -x -C
DIR``) the same count for that code, measured alike.

Instructions are not time: a change that trades instructions for memory traffic or system calls
shows here only in part. Each count takes about a minute (valgrind runs Python ~50 × slower).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 16


def drive(src: str, endpoint: str, batches: int) -> None:
    """Run ``batches`` batches of 16 requests of ``endpoint`` in process, with the code in ``src``."""
    sys.path[:0] = [src, str(ROOT)]
    import logging

    import uvloop

    from bench.micro import CHECKOUT, SESSION_PATH, Request
    from headless_redirects.logs import configure
    from headless_redirects.service.tenancy import create_tenant
    from headless_redirects.settings import Settings
    from headless_redirects.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "server.log"), "w") as log:
        configure("info")
        for handler in logging.getLogger("headless_redirects").handlers:
            handler.setStream(log)  # type: ignore[attr-defined]
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/count.db", public_url="http://127.0.0.1:8080",
                                  webhook_dispatcher=False))
        services = app.services  # type: ignore[attr-defined]
        checkpointer = services.db._checkpointer
        if checkpointer is not None:
            checkpointer.stop()
        tenant = create_tenant(services.store, name="Bench", public_url=None, allowed_domains=["shop.example.com"],
                               redirect_uris=["https://shop.example.com/callback"])
        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        json_type = {"content-type": "application/json"}
        anonymous = Request("POST", "/oauth2/token", json.dumps(
            {"clientId": tenant.client_id, "grantType": "anonymous"}).encode(), json_type)
        loop.run_until_complete(anonymous(app))
        access = json.loads(anonymous.response)["access_token"]
        body = json.dumps({"ecomCheckout": {"checkoutId": CHECKOUT},
                           "callbacks": {"postFlowUrl": "https://shop.example.com/after",
                                         "thankYouPageUrl": "https://shop.example.com/thanks"}}).encode()
        create = Request("POST", SESSION_PATH, body, {**json_type, "authorization": access})
        assert loop.run_until_complete(create(app)) == 200, create.response
        short = Request("GET", "/r/" + json.loads(create.response)["redirectSession"]["shortUrl"].rsplit("/", 1)[1])
        request = {"session": create, "anonymous": anonymous, "short": short}[endpoint]

        async def run() -> None:
            for _ in range(batches):
                await asyncio.gather(*(request(app) for _ in range(CONCURRENCY)))
                assert request.status in (200, 302), request.response

        loop.run_until_complete(run())
        loop.close()
        services.db.dispose()


def count(src: str, endpoint: str, batches: int) -> int:
    """The instructions of a whole process that drives ``batches`` batches."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is needed: apt-get install -y valgrind")
    out = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--drive", src,
         "--endpoint", endpoint, "--batches", str(batches), str(batches)],
        env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found is not None, out.stderr[-2000:]
    return int(found.group(1))


def per_request(src: str, endpoint: str, small: int, large: int) -> float:
    return (count(src, endpoint, large) - count(src, endpoint, small)) / ((large - small) * CONCURRENCY)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="session", choices=["session", "anonymous", "short"])
    parser.add_argument("--before", default="", help="a source folder (holding headless_redirects) to compare")
    parser.add_argument("--batches", nargs=2, type=int, default=[20, 220], metavar=("SMALL", "LARGE"))
    parser.add_argument("--drive", default="", help=argparse.SUPPRESS)  # the counted process itself
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.endpoint, args.batches[0])
        return 0
    small, large = args.batches
    this = per_request(str(ROOT / "src"), args.endpoint, small, large)
    print(f"{this:12,.0f} instructions per {args.endpoint} request  (this checkout)", flush=True)
    if args.before:
        before = per_request(args.before, args.endpoint, small, large)
        print(f"{before:12,.0f} instructions per {args.endpoint} request  ({args.before})")
        print(f"{this / before:12.3f} × before")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
