"""What every vendor emulator shares: the WSGI entry point, the request log and routing to methods.

A vendor emulator marks each handler method with the routes it serves (`@serves(method, path)`, the path a
Werkzeug rule) and defines `handle(request)`, where it applies its own auth, rate limit and error shapes
around `route(request)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

Handler = TypeVar("Handler", bound=Callable[..., Response])

_ROUTES = "_served_routes"
"""The attribute `serves` keeps a handler's (method, path) routes under."""


def serves(method: str, path: str) -> Callable[[Handler], Handler]:
    """Route `method` requests to `path` (a Werkzeug rule; converters such as `<int:call_id>` become the
    handler's keyword arguments) to the decorated method; stacked, it serves every route given."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _ROUTES, (*getattr(handler, _ROUTES, ()), (method, path)))
        return handler

    return mark


class Emulator:
    def __init__(self) -> None:
        self.url_map = Map(
            [
                Rule(path, endpoint=name, methods=[method])
                for name in dir(type(self))
                for method, path in getattr(getattr(type(self), name), _ROUTES, ())
            ],
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
        response: Response = getattr(self, endpoint)(request, **arguments)
        return response


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
