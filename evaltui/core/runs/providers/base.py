"""What every provider speaks: a rendered request in, an answer (or a classified failure) out."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ChatRequest:
    """One rendered request: chat messages and an optional system prompt (the cache keys on it)."""

    messages: tuple[Mapping[str, Any], ...]
    system: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"messages": [dict(m) for m in self.messages], "system": self.system}

    def text_length(self) -> int:
        """Characters of prompt text, for estimating input tokens before anything is sent."""
        total = len(self.system or "")
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                total += len(content)
            elif isinstance(content, list):
                total += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
        return total


@dataclass(frozen=True)
class Answer:
    """A well-formed answer: its text and the tokens the endpoint counted."""

    text: str
    input_tokens: int
    output_tokens: int


class RetryableError(Exception):
    """A failure worth another attempt: 429, 408/409, 5xx, a timeout, a dropped connection."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(Exception):
    """A failure another attempt will not fix (400, 401, 404...): the case's error."""


class MalformedAnswer(Exception):
    """The endpoint answered 200 with a body that is not the protocol's shape; the raw text is kept."""

    def __init__(self, message: str, raw: str):
        super().__init__(message)
        self.raw = raw


class Provider(Protocol):
    """An async client for one endpoint model; `send` makes exactly one HTTP request."""

    async def send(self, request: ChatRequest, timeout: float, idempotency_key: str) -> Answer:
        """One attempt: an `Answer`, or `RetryableError` / `FatalError` / `MalformedAnswer`.

        The attempts of one case share an `idempotency_key`, for a provider whose API takes
        one; neither official client sends one for chat completions or messages (their
        idempotency header is unset), so these providers do not either.
        """
        ...

    async def close(self) -> None:
        """Close the connection pool."""
        ...


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils
        import time

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return None if math.isnan(seconds) else max(0.0, seconds)


def raw_text(body: str | bytes) -> str:
    """A body as text for the record, whatever bytes it holds."""
    return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


RETRY_STATUSES = frozenset({408, 409, 429})


def classify_status(status: int, body: str, retry_after: str | None) -> Exception:
    """The exception for a non-2xx answer: retryable for 408/409/429/5xx, fatal otherwise."""
    snippet = " ".join(body.split())[:200]
    if status in RETRY_STATUSES or status >= 500:
        return RetryableError(f"HTTP {status}: {snippet}", retry_after_seconds(retry_after))
    return FatalError(f"HTTP {status}: {snippet}")


@dataclass(frozen=True)
class ClientErrors:
    """The exception classes of one official client (both clients name theirs alike)."""

    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]
    any: type[Exception]


class ClientProvider:
    """What the providers on an official client share: its retries off, one raw POST an attempt, close."""

    def __init__(self, client: Any, errors: ClientErrors, model_id: str) -> None:
        self.client = client
        self.errors = errors
        self.model_id = model_id

    async def post(self, path: str, body: Mapping[str, Any], timeout: float, idempotency_key: str) -> bytes:
        """The answer's body as bytes, or the failure classified.

        The client's documented low-level `post` (its auth, headers, base URL, transport and
        errors) without its typed request transform, which costs more CPU than the rest of a
        request together; the body is parsed by the caller so a malformed one keeps its raw text.
        The bytes go to `json.loads` as they are (JSON is UTF-8): decoding them to text first
        would run charset detection on every answer.
        """
        import httpx2  # loaded already, with the client

        try:
            raw = await self.client.post(
                path,
                body=body,
                cast_to=httpx2.Response,
                options={"timeout": timeout, "idempotency_key": idempotency_key},
            )
            content: bytes = raw.content
        except self.errors.status as exc:
            failure: Any = exc  # the client's status error: `status_code` and `response`
            raise classify_status(
                failure.status_code, response_text(failure.response), failure.response.headers.get("retry-after")
            ) from None
        except self.errors.timeout:
            raise RetryableError(f"timed out after {timeout:g} s") from None
        except self.errors.connection as exc:
            raise RetryableError(f"connection failed ({type(exc.__cause__ or exc).__name__})") from None
        except self.errors.any as exc:
            raise FatalError(f"{type(exc).__name__}: {exc}") from None
        return content

    async def close(self) -> None:
        await self.client.close()


def response_text(response: Any) -> str:
    """An error response's body as text, empty when it was never read or is not text."""
    import httpx2

    try:
        return str(response.text)
    except (httpx2.ResponseNotRead, UnicodeDecodeError):
        return ""


def parse_json_answer(body: str | bytes, what: str, read: Callable[[Any], Answer]) -> Answer:
    """`read` applied to the parsed body; `MalformedAnswer` (raw text kept) when it is not a `what`."""
    try:
        return read(json.loads(body))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise MalformedAnswer(f"malformed {what} ({type(exc).__name__}: {exc})", raw_text(body)) from None
