"""localstripe, the stand-in for Stripe in development and tests: run it, wait for it, point
its webhooks at Kongres.

`python -m app.payments.stripe_dev --port 8420` serves localstripe on 127.0.0.1 only (its own
command listens on every interface) and keeps its data in memory (its own command writes
/tmp/localstripe.pickle after every request, shared by every copy running on the machine).
localstripe is a development dependency (the "dev" extra): only `serve` needs it.
"""

from __future__ import annotations

import argparse
import time
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = "127.0.0.1"
WEBHOOK_ID = "kongres"
# An event type Stripe never sends: a webhook registered for it receives nothing.
NO_EVENTS = "kongres.none"


def serve(port: int, host: str = LOOPBACK) -> None:
    """Run localstripe until interrupted, with its data in memory only."""
    from aiohttp import web  # localstripe's own server library
    from localstripe import server
    from localstripe.resources import store

    # Every POST would pickle the whole store to one file in /tmp shared by all copies.
    store.dump_to_disk = lambda: None
    web.run_app(server.app, host=host, port=port, print=None, access_log=None)


def wait_until_up(api_base: str, timeout: float = 15.0) -> None:
    """Wait until localstripe answers (it takes a moment to start)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{api_base}/js.stripe.com/v3/", timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"localstripe did not start at {api_base}") from error
            time.sleep(0.1)


def register_webhook(
    api_base: str,
    url: str,
    secret: str,
    *,
    webhook_id: str = WEBHOOK_ID,
    events: list[str] | None = None,
) -> None:
    """Tell localstripe to send (signed) events to `url`; registering the same id again
    replaces the earlier registration."""
    fields: list[tuple[str, str]] = [("url", url), ("secret", secret)]
    fields += [(f"events[{index}]", name) for index, name in enumerate(events or [])]
    request = urllib.request.Request(  # noqa: S310 (an http URL we were given)
        f"{api_base}/_config/webhooks/{urllib.parse.quote(webhook_id)}",
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


def silence_webhook(api_base: str, *, webhook_id: str = WEBHOOK_ID) -> None:
    """Stop sending events to a registered webhook (localstripe cannot delete one)."""
    register_webhook(
        api_base, "http://127.0.0.1:9/", "unused", webhook_id=webhook_id, events=[NO_EVENTS]
    )


def main() -> None:
    """Command line: serve localstripe on a loopback port."""
    parser = argparse.ArgumentParser(description="Run localstripe on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8420)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
