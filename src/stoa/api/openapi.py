"""The OpenAPI description: what each route reads and answers, declared beside the route.

Routes read their parameters through ``Params`` (query, form, multipart or JSON, as Mastodon clients
send them) and answer with ``JSON``, so FastAPI sees neither. ``doc(...)`` declares both from
Pydantic models — a model of the parameters (query, or body), the entity answered — and ``install``
adds what every route's dependencies imply: the bearer token and its scopes, and the errors that
authentication (401, 403), parameter parsing (400, 422), path IDs (404), bodies (413), the rate
limit (429) and an unreachable region (503) answer, all in Mastodon's ``{"error": ...}`` shape.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from stoa.api.deps import get_params, optional_auth
from stoa.api.mastodon.entities import Error

JSON_TYPE = "application/json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_TYPES = (JSON_TYPE, *FORM_TYPES)
FORM_ARRAY_INDEXES = 4  # fields_attributes[0][name] … [3][value]: Mastodon's four profile fields
ERROR_MEANING = {
    400: "Malformed request: a missing parameter, a body that cannot be parsed",
    401: "Missing, invalid or revoked access token",
    403: "The token's scopes do not cover the action, or the action is not allowed",
    404: "Record not found (or not visible to the requester)",
    413: "Request body too large",
    422: "Validation failed",
    429: "Too many requests (Retry-After says when to try again)",
    503: "The region's store is unreachable (Retry-After)",
}
ID_PATTERN = "^[0-9]{1,18}$"  # a subset of the IDs accepted (up to 2**63 - 1), as a pattern can say

NumericId = Annotated[str, Field(pattern=ID_PATTERN)]
Flag = Annotated[bool, Field(description="true/false (also 1/0, on/off, yes/no)")]


class Page(BaseModel):
    """Mastodon's pagination of a timeline (and the ``Link`` header's next/prev pages)."""

    max_id: NumericId | None = Field(None, description="Only items older than this ID")
    since_id: NumericId | None = Field(None, description="Only items newer than this ID")
    min_id: NumericId | None = Field(None, description="The oldest items newer than this ID")
    limit: int | None = Field(None, ge=1, le=40, description="Default 20; values outside the range are clamped")


class AccountPage(Page):
    """Pagination of a list of accounts (or notifications): larger pages."""

    limit: int | None = Field(None, ge=1, le=80, description="Default 40; values outside the range are clamped")


def doc(ok: Any = None, *, query: type[BaseModel] | None = None,
        body: type[BaseModel] | Mapping[str, type[BaseModel]] | None = None,
        also: Mapping[int, Any] | None = None, errors: Iterable[int] = (),
        content: Mapping[str, dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None,
        pages: Mapping[int, str] | None = None) -> dict[str, Any]:
    """Route decorator keywords that describe a route reading ``Params`` and answering ``JSON``.

    ``ok`` is the 200 answer's type (a model or ``list[Model]``); ``also`` other success codes;
    ``content`` the 200 answer's media types when they are not JSON; ``query``/``body`` models of
    the parameters (a body model serves JSON, form and multipart alike, unless given per media type);
    ``errors`` the error codes the route's own logic adds to those its dependencies imply;
    ``headers`` request headers the route reads (name: meaning); ``pages`` codes answered with an HTML
    page (code: meaning). A value of ``also`` may be a whole OpenAPI response object (a redirect).
    """
    responses: dict[int | str, dict[str, Any]] = {}
    if content is not None:
        responses[200] = {"description": "Success", "content": dict(content)}
    elif ok is not None:
        responses[200] = {"description": "Success", "model": ok}
    for code, model in (also or {}).items():
        responses[code] = dict(model) if isinstance(model, Mapping) else {"description": "Success", "model": model}
    for code, meaning in (pages or {}).items():
        responses[code] = {"description": meaning, "content": {"text/html": {"schema": {"type": "string"}}}}
    for code in errors:
        responses[code] = {"description": ERROR_MEANING[code], "model": Error}
    extra: dict[str, Any] = {}
    parameters = query_parameters(query) if query is not None else []
    parameters += [{"name": name, "in": "header", "required": False, "schema": {"type": "string"},
                    "description": meaning} for name, meaning in (headers or {}).items()]
    if parameters:
        extra["parameters"] = parameters
    if body is not None:
        per_type = body if isinstance(body, Mapping) else dict.fromkeys(BODY_TYPES, body)
        extra["requestBody"] = {"required": any(_required(m) for m in per_type.values()), "content": {
            media: {"schema": (json_schema(model) if media == JSON_TYPE else form_schema(model))}
            for media, model in per_type.items()}}
    return {"responses": responses, "openapi_extra": extra or None}


def _required(model: type[BaseModel]) -> bool:
    return any(f.is_required() for f in model.model_fields.values())


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with every reference resolved in place (parameter models are small)."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})
    return _inline(schema, defs)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
            return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return {k: _inline(v, defs) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A form or query string has no null: ``X | None`` (absent) is just ``X`` there."""
    options = schema.get("anyOf")
    if options is not None:
        kept = [o for o in options if o.get("type") != "null"]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(kept) == 1:
            return {**kept[0], **rest}
        return {**rest, "anyOf": kept}
    return schema


def form_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model as a form sends it: ``key[]`` for lists, ``key[sub]`` and ``key[0][sub]`` for nesting."""
    schema = json_schema(model)
    properties: dict[str, Any] = {}
    required = [_form_key(name, _not_null(p)) for name, p in schema.get("properties", {}).items()
                if name in schema.get("required", [])]
    for name, prop in schema.get("properties", {}).items():
        prop = _not_null(prop)
        items = _not_null(prop.get("items", {}))
        if prop.get("type") == "object" and "properties" in prop:
            for sub, sub_schema in prop["properties"].items():
                properties[f"{name}[{sub}]"] = _not_null(sub_schema)
        elif prop.get("type") == "array" and items.get("type") == "object":
            for index in range(FORM_ARRAY_INDEXES):
                for sub, sub_schema in items.get("properties", {}).items():
                    properties[f"{name}[{index}][{sub}]"] = _not_null(sub_schema)
        else:
            properties[_form_key(name, prop)] = prop
    form: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        form["required"] = required
    return form


def _form_key(name: str, prop: dict[str, Any]) -> str:
    return f"{name}[]" if prop.get("type") == "array" else name


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = json_schema(model)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _not_null(prop)
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {"name": _form_key(name, prop), "in": "query", "required": name in required,
                                     "schema": prop}
        if prop.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


# --- what every route's dependencies imply ------------------------------------------------------

def _dependency_calls(route: APIRoute) -> list[Any]:
    calls, pending = [], list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        calls.append(dependant.call)
        pending.extend(dependant.dependencies)
    return calls


def _required_scope(call: Any) -> str | None:
    """The scope a ``deps.require(scope)`` dependency checks (read off its closure)."""
    if getattr(call, "__qualname__", "") != "require.<locals>.dependency":
        return None
    return str(inspect.getclosurevars(call).nonlocals["scope"])


def _implied(route: APIRoute, operation: dict[str, Any]) -> tuple[set[int], list[dict[str, list[str]]] | None]:
    codes = {429, 503}
    security: list[dict[str, list[str]]] | None = None
    calls = _dependency_calls(route)
    scopes = [s for s in (_required_scope(c) for c in calls) if s is not None]
    if scopes:
        codes |= {401, 403}
        security = [{"bearer": scopes}]
    elif optional_auth in calls:
        codes.add(401)  # an invalid token is refused even where none is needed
        security = [{}, {"bearer": []}]
    if get_params in calls:
        codes |= {400, 422}
    if "requestBody" in operation:
        codes.add(413)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    return codes, security


def build(app: FastAPI, routers: Iterable[APIRouter]) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = Error.model_json_schema(
        ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "An OAuth 2 access token (Mastodon scopes)"}}
    for route in (r for router in routers for r in router.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            ok = operation.get("responses", {}).get("200", {}).get("content", {})
            if len(ok) > 1 and ok.get(JSON_TYPE) == {"schema": {}}:
                del ok[JSON_TYPE]  # FastAPI's default, on a route doc() says answers another type
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"].endswith("_id"):
                    # Any other text names no record: 404, as in Mastodon (documented, not refused).
                    parameter["description"] = "A numeric ID (anything else answers 404)"
                elif parameter.get("in") == "path" and parameter["name"] == "region":
                    parameter["schema"]["enum"] = list(app.state.store.region_names)
            codes, security = _implied(route, operation)
            responses = operation.setdefault("responses", {})
            for code, entry in list(responses.items()):
                if "HTTPValidationError" in str(entry):  # FastAPI's own, for parameters it never validates
                    del responses[code]
            for code in sorted(codes):
                # Merged into a page the route answers with the same code: a dependency answers JSON.
                entry = responses.setdefault(str(code), {"description": ERROR_MEANING[code]})
                error_body = {"schema": {"$ref": "#/components/schemas/Error"}}
                entry.setdefault("content", {}).setdefault(JSON_TYPE, error_body)
            if security is not None:
                operation["security"] = security
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(schema["paths"]):
            components["schemas"].pop(unused, None)
    return schema


def install(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Serve ``build(app, routers)`` (computed once) at the app's OpenAPI URL; ``routers`` are those the
    app includes, read for what their routes depend on."""
    routers = list(routers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
