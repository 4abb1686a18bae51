"""What every vendor emulator shares: the WSGI entry point, the request log and routing to methods.

A vendor emulator declares `routes` (method, path as a Werkzeug rule, endpoint `x` served by its method
`_x`) and `handle(request)`, where it applies its own auth, rate limit and error shapes around
`route(request)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response


class Emulator:
    routes: ClassVar[Sequence[tuple[str, str, str]]] = ()
    """(method, path, endpoint) per route; a path may hold Werkzeug converters such as `<int:call_id>`."""

    def __init__(self) -> None:
        self.url_map = Map(
            [Rule(path, endpoint=endpoint, methods=[method]) for method, path, endpoint in self.routes],
            strict_slashes=False,
        )
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
