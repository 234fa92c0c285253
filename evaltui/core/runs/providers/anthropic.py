"""The `anthropic` provider: the Messages API through the official client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic

from evaltui.core.runs.providers.base import Answer, ChatRequest, ClientErrors, ClientProvider, parse_json_answer

ERRORS = ClientErrors(
    anthropic.APIStatusError, anthropic.APITimeoutError, anthropic.APIConnectionError, anthropic.AnthropicError
)


class AnthropicProvider(ClientProvider):
    """`POST {base_url}/v1/messages`; the client's own retries are off (the runner retries and counts)."""

    def __init__(self, model_id: str, params: Mapping[str, Any], api_key: str, base_url: str | None):
        client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=anthropic.DefaultAioHttpClient()
        )
        super().__init__(client, ERRORS, model_id)
        rest = dict(params)
        self.max_tokens = int(rest.pop("max_tokens", 1024))
        self.params = rest

    async def send(self, request: ChatRequest, timeout: float, idempotency_key: str) -> Answer:
        messages = [dict(m) for m in request.messages if m.get("role") != "system"]
        # The Messages API takes the system prompt apart from the turns.
        systems = [str(m.get("content")) for m in request.messages if m.get("role") == "system"]
        system = "\n\n".join(([request.system] if request.system else []) + systems)
        body: dict[str, Any] = {
            **self.params,
            "model": self.model_id,
            "max_tokens": self.max_tokens,
            "messages": messages,
        }
        if system:
            body["system"] = system
        return parse_message(await self.post("/v1/messages", body, timeout, idempotency_key))


def parse_message(body: str | bytes) -> Answer:
    """The answer in a Messages API body; `MalformedAnswer` (raw text kept) when it is not one."""
    return parse_json_answer(body, "message", _read_message)


def _read_message(obj: Any) -> Answer:
    blocks = obj["content"]
    if not isinstance(blocks, list):
        raise TypeError("content is not a list of blocks")
    answer = "".join(str(b["text"]) for b in blocks if isinstance(b, dict) and b.get("type") == "text")
    usage = obj.get("usage") or {}
    return Answer(answer, int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))
