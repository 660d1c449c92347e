"""Request parameters the way Mastodon clients send them.

Clients send parameters as a query string, a form, multipart, or JSON, and
arrays as ``key[]=a&key[]=b`` (or JSON lists); booleans as true/false/1/0.
``Params`` merges all of them and gives typed getters that raise a clear
400/422 instead of a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from stoa.core.errors import BadRequest, NotFound, TooLarge, ValidationFailed
from stoa.social.paging import MAX_LIMIT, Page
from stoa.store import ids

TRUE = {"true", "1", "on", "yes"}
FALSE = {"false", "0", "off", "no", ""}
MAX_DEPTH = 32  # Mastodon's deepest parameters are three levels; this leaves room and bounds every walk
MAX_FIELDS = 200
MAX_FILES = 8


class Params:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    @classmethod
    async def read(cls, request: Request) -> Params:
        values: dict[str, Any] = {}
        for key, items in _pairs(request.scope.get("query_string", b""), "The query string").items():
            cls._put(values, key, items)
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type == "application/json":
                body = await request.body()
                if body.strip():
                    data = _json_object(body)
                    values.update(data)
            elif content_type == "application/x-www-form-urlencoded":
                for key, items in _pairs(await request.body(), "The form body").items():
                    cls._put(values, key, items)
            elif content_type == "multipart/form-data":
                form = await _multipart(request)
                for key in form:
                    cls._put(values, key, form.getlist(key))
        _check_values(values)
        return cls(values)

    @staticmethod
    def _put(values: dict[str, Any], key: str, items: list[Any]) -> None:
        if key.endswith("[]"):
            values.setdefault(key[:-2], []).extend(items)
        elif "[" in key and key.endswith("]"):  # fields_attributes[0][name], home[last_read_id]
            outer, _, rest = key.partition("[")
            inner = rest[:-1]
            nested = values.setdefault(outer, {})
            if isinstance(nested, dict):
                if "][" in inner:
                    first, _, second = inner.partition("][")
                    nested.setdefault(first, {})[second] = items[-1]
                else:
                    nested[inner] = items[-1]
        else:
            values[key] = items[-1] if len(items) == 1 else items

    def raw(self, key: str) -> Any:
        return self.values.get(key)

    def text(self, key: str, default: str | None = None, max_length: int = 100_000) -> str | None:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, list | dict | UploadFile):
            raise ValidationFailed(f"{key} must be a string")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) > max_length:
            raise ValidationFailed(f"{key} is too long (maximum is {max_length} characters)")
        return text

    def required_str(self, key: str, max_length: int = 100_000) -> str:
        value = self.text(key, max_length=max_length)
        if value is None:
            raise BadRequest(f"Missing parameter: {key}")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool | None:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValidationFailed(f"{key} must be true or false")

    def integer(self, key: str, default: int | None = None, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool | list | dict):
            raise ValidationFailed(f"{key} must be an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed(f"{key} must be an integer") from None
        if minimum is not None and number < minimum:
            number = minimum if key == "limit" else _raise(f"{key} must be at least {minimum}")
        if maximum is not None and number > maximum:
            number = maximum if key == "limit" else _raise(f"{key} must be at most {maximum}")
        return number

    def id(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        number = ids.parse(value)
        if number is None:
            raise ValidationFailed(f"{key} must be a numeric id")
        return number

    def items(self, key: str, max_items: int = 100) -> list[str]:
        value = self.values.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if len(items) > max_items:
            raise ValidationFailed(f"{key}: at most {max_items} items")
        return [str(v) for v in items if not isinstance(v, UploadFile)]

    def file(self, key: str) -> UploadFile | None:
        value = self.values.get(key)
        return value if isinstance(value, UploadFile) else None

    def page(self, default_limit: int = 20, max_limit: int = MAX_LIMIT) -> Page:
        return Page(
            max_id=self.id("max_id"),
            since_id=self.id("since_id"),
            min_id=self.id("min_id"),
            limit=self.integer("limit", default_limit, minimum=1, maximum=max_limit) or default_limit,
        )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The JSON body is not valid UTF-8") from None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):  # orjson stops at 1024 levels; say what is wrong, as for shallower excess
            raise BadRequest(f"The JSON body is nested too deeply (at most {MAX_DEPTH} levels)") from None
        raise BadRequest("Malformed JSON body") from None
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object")
    return data


def _pairs(raw: bytes, what: str) -> dict[str, list[str]]:
    """A query string or urlencoded form, decoded as UTF-8 or refused (never read as Latin-1)."""
    if not raw:
        return {}
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not valid UTF-8") from None
    except ValueError:  # more than MAX_FIELDS
        raise BadRequest(f"{what} has too many fields (at most {MAX_FIELDS})") from None
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


class _StrictMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, except that a text field or a field name that is not valid in the
    part's charset (UTF-8 unless declared) is refused, where Starlette falls back to Latin-1."""

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        _, options = parse_options_header(self._current_part.content_disposition)
        _decode_strictly(options.get(b"name", b""), self._charset, "A multipart field name")

    def on_part_end(self) -> None:
        if self._current_part.file is None:
            _decode_strictly(bytes(self._current_part.data), self._charset,
                             f"The multipart field {self._current_part.field_name!r}")
        super().on_part_end()


def _decode_strictly(raw: bytes, charset: str, what: str) -> None:
    try:
        raw.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise BadRequest(f"{what} is not valid {charset.upper() if charset else 'UTF-8'}") from None


async def _multipart(request: Request) -> FormData:
    parser = _StrictMultiPartParser(request.headers, request.stream(), max_files=MAX_FILES, max_fields=MAX_FIELDS)
    try:
        return await parser.parse()
    except (TooLarge, BadRequest):
        raise
    except Exception as exc:  # malformed multipart, too many parts
        raise BadRequest(f"Malformed form body: {getattr(exc, 'message', exc)}") from None


def _check_values(values: dict[str, Any]) -> None:
    """One walk over every parameter, without recursion: nesting is bounded and no text holds U+0000
    (no text a database can store does)."""
    pending: list[tuple[Any, str, int]] = [(values, "request", 0)]
    while pending:
        value, key, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationFailed(f"{key} must not contain NUL characters")
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise BadRequest(f"The parameters are nested too deeply (at most {MAX_DEPTH} levels)")
            if isinstance(value, dict):
                for k, v in value.items():
                    pending.append((k, str(k), depth + 1))
                    pending.append((v, str(k), depth + 1))
            else:
                pending.extend((v, key, depth + 1) for v in value)


def _raise(message: str) -> int:
    raise ValidationFailed(message)


def parse_id(value: Any) -> int:
    """Path IDs are decimal strings; anything else names no record: 404, as in Mastodon."""
    number = ids.parse(value)
    if number is None:
        raise NotFound()
    return number
