"""Request parameters the way Mastodon clients send them.

Clients send parameters as a query string, a form, multipart, or JSON, and
arrays as ``key[]=a&key[]=b`` (or JSON lists); booleans as true/false/1/0.
``Params`` merges all of them and gives typed getters that raise a clear
400/422 instead of a 500.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from stoa.social.errors import BadRequest, NotFound, TooLarge, ValidationFailed
from stoa.social.paging import MAX_LIMIT, Page
from stoa.store import ids

TRUE = {"true", "1", "on", "yes"}
FALSE = {"false", "0", "off", "no", ""}


class Params:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    @classmethod
    async def read(cls, request: Request) -> Params:
        values: dict[str, Any] = {}
        for key in request.query_params:
            cls._put(values, key, request.query_params.getlist(key))
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type == "application/json":
                body = await request.body()
                if body.strip():
                    try:
                        data = orjson.loads(body)
                    except orjson.JSONDecodeError:
                        raise BadRequest("Malformed JSON body") from None
                    if not isinstance(data, dict):
                        raise BadRequest("The JSON body must be an object")
                    values.update(data)
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                try:
                    form = await request.form(max_files=8, max_fields=200)
                except TooLarge:
                    raise
                except Exception as exc:  # malformed multipart, too many parts
                    raise BadRequest(f"Malformed form body: {exc}") from None
                for key in form:
                    cls._put(values, key, form.getlist(key))
        _refuse_nul(values)
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


def _refuse_nul(value: Any, key: str = "request") -> None:
    """No text a database can store holds U+0000: refuse it up front, whatever the parameter."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationFailed(f"{key} must not contain NUL characters")
    elif isinstance(value, dict):
        for k, v in value.items():
            _refuse_nul(k, str(k))
            _refuse_nul(v, str(k))
    elif isinstance(value, list):
        for v in value:
            _refuse_nul(v, key)


def _raise(message: str) -> int:
    raise ValidationFailed(message)


def parse_id(value: Any) -> int:
    """Path IDs are decimal strings; anything else names no record: 404, as in Mastodon."""
    number = ids.parse(value)
    if number is None:
        raise NotFound()
    return number
