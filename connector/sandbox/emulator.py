"""What every vendor emulator shares: the WSGI entry point, the request log and routing to methods.

A vendor emulator declares `url_map` (Werkzeug rules whose endpoint `x` is served by method `_x`) and
`handle(request)`, where it applies its own auth, rate limit and error shapes around `route(request)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response


class Emulator:
    url_map: Map

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        """Every request (method, path with query), for tests to assert what a client asked."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self.record(request)
        return self.handle(request)(environ, start_response)

    def record(self, request: Request) -> None:
        self.requests.append((request.method, request.full_path))

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def route(self, request: Request) -> Response:
        """Call the method of the matching rule; raises Werkzeug's HTTPException (404, 405) otherwise."""
        endpoint, arguments = self.url_map.bind_to_environ(request.environ).match()
        response: Response = getattr(self, f"_{endpoint}")(request, **arguments)
        return response


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
