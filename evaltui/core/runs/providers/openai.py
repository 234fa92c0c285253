"""The `openai` provider: chat completions through the official client, on any OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from evaltui.core.runs.providers.base import Answer, ChatRequest, ClientErrors, ClientProvider, parse_json_answer

ERRORS = ClientErrors(openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError, openai.OpenAIError)


class OpenAIProvider(ClientProvider):
    """`POST {base_url}/chat/completions`; the client's own retries are off (the runner retries and counts)."""

    def __init__(self, model_id: str, params: Mapping[str, Any], api_key: str, base_url: str | None):
        # The aiohttp transport keeps up with a local server at 1,000+ requests/s on one core;
        # the default one does not.
        client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, http_client=openai.DefaultAioHttpClient()
        )
        super().__init__(client, ERRORS, model_id)
        # Sent as given, so server-specific parameters (vLLM's top_k, ...) pass unchanged.
        self.params = dict(params)

    async def send(self, request: ChatRequest, timeout: float, idempotency_key: str) -> Answer:
        messages = [dict(m) for m in request.messages]
        if request.system:
            messages.insert(0, {"role": "system", "content": request.system})
        body = {**self.params, "model": self.model_id, "messages": messages}
        return parse_chat_completion(await self.post("/chat/completions", body, timeout, idempotency_key))


def parse_chat_completion(body: str | bytes) -> Answer:
    """The answer in a chat-completion body; `MalformedAnswer` (raw text kept) when it is not one."""
    return parse_json_answer(body, "chat completion", _read_chat_completion)


def _read_chat_completion(obj: Any) -> Answer:
    message = obj["choices"][0]["message"]
    content = message.get("content")
    if content is None:
        content = message.get("refusal") or ""
    if not isinstance(content, str):
        raise TypeError("content is not text")
    usage = obj.get("usage") or {}
    return Answer(content, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
