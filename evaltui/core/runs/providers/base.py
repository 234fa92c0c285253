"""What every provider speaks: a rendered request in, an answer (or a classified failure) out."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx2  # the clients' HTTP layer, imported with them: a run without endpoint models never loads it


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


class ClientProvider:
    """What the providers on an official client share: its retries off, one POST an attempt, close.

    The client is built as usual (its base URL, auth and headers, its aiohttp transport) and
    each attempt goes out on that transport with the client's own headers. The client's request
    builder is left out: per request it copies its options model, parses the URL twice, merges
    headers and copies the body (measured: 0.27 ms of CPU a request, a quarter of a cold run's
    CPU), and the runner already does what it adds (retries, backoff, error classes).
    """

    def __init__(self, client: Any, http: httpx2.AsyncClient, model_id: str) -> None:
        import httpx2  # loaded already, with the client

        self.client = client
        self.http = http  # the transport the client was given, which it closes
        self.model_id = model_id
        self.base_url = str(client.base_url).rstrip("/")  # as the client resolved it
        # Built once, as httpx objects (which it copies rather than parses again): the client's
        # properties rebuild their dicts on every read. Unset optional headers are the client's
        # `Omit` markers, which it drops too.
        headers = {**client.default_headers, **client.auth_headers}
        self.headers = httpx2.Headers({k: v for k, v in headers.items() if isinstance(v, str)})
        self.urls: dict[str, httpx2.URL] = {}
        self.timeouts: dict[float, httpx2.Timeout] = {}

    async def post(self, path: str, body: Mapping[str, Any], timeout: float, idempotency_key: str) -> bytes:
        """The answer's body as bytes, or the failure classified.

        The body goes as the JSON bytes the client's own encoder writes. The answer is parsed
        by the caller so a malformed one keeps its raw text, and its bytes go to `json.loads` as
        they are (JSON is UTF-8): decoding them to text first would run charset detection on
        every answer.
        """
        import httpx2

        url = self.urls.get(path) or self.urls.setdefault(path, httpx2.URL(self.base_url + path))
        limit = self.timeouts.get(timeout) or self.timeouts.setdefault(timeout, httpx2.Timeout(timeout))
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        try:
            answer = await self.http.post(url, content=content, headers=self.headers, timeout=limit)
        except httpx2.TimeoutException:  # the aiohttp transport reports a dropped connection as one too
            raise RetryableError(f"timed out after {timeout:g} s") from None
        except httpx2.TransportError as exc:
            raise RetryableError(f"connection failed ({type(exc.__cause__ or exc).__name__})") from None
        except httpx2.HTTPError as exc:
            raise FatalError(f"{type(exc).__name__}: {exc}") from None
        if not answer.is_success:
            raise classify_status(answer.status_code, response_text(answer), answer.headers.get("retry-after"))
        return answer.content

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
