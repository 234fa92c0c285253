"""The `[models.NAME]` fields of endpoint models (`provider = "openai" | "anthropic"`) and their checks."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from evaltui.core.errors import Problem
from evaltui.core.registry.model import Model
from evaltui.core.registry.tomlpos import describe, suggest

if TYPE_CHECKING:
    from evaltui.core.registry.model import Registry
    from evaltui.core.registry.reporting import Reporter

PROVIDERS = ("openai", "anthropic")
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
ENDPOINT_KEYS = (
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "params",
    "concurrency",
    "rpm",
    "tpm",
    "timeout",
    "retries",
    "prices",
    "description",
)
PRICE_KEYS = ("input_per_mtok", "output_per_mtok")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def endpoint_model(reader: Reporter, name: str, t: Mapping[str, Any]) -> Model | None:
    """Validate an endpoint model table; every problem goes to `reader` with its key and line."""
    key = ("models", name)
    reader.unknown_keys(t, ENDPOINT_KEYS, key)
    ok = True
    provider = t.get("provider")
    if provider not in PROVIDERS:
        hint = suggest(str(provider), PROVIDERS) if isinstance(provider, str) else None
        reader.error(
            (*key, "provider"),
            f"unknown provider {provider!r}; expected one of "
            f"{', '.join(repr(p) for p in PROVIDERS)}" + (f" (did you mean {hint!r}?)" if hint else ""),
            "unknown-provider",
        )
        ok = False
    model_id = reader.typed(t, "model", (str,), 'the provider\'s model id, e.g. "gpt-4.1-mini"', key)
    if not model_id:
        if "model" not in t:
            reader.error(key, "an endpoint model needs 'model', the provider's model id, e.g. model = \"gpt-4.1-mini\"")
        ok = False
    base_url = reader.typed(t, "base_url", (str,), 'a URL, e.g. "http://localhost:8000/v1"', key)
    if base_url is not None and not re.match(r"^https?://[^\s/]+", base_url):
        reader.error(
            (*key, "base_url"), f'expected an http(s) URL such as "http://localhost:8000/v1", got {base_url!r}'
        )
        ok = False
    key_env = reader.typed(t, "api_key_env", (str,), 'the name of an environment variable, e.g. "OPENAI_API_KEY"', key)
    if key_env is not None and not _ENV_NAME.match(key_env):
        reader.error(
            (*key, "api_key_env"),
            f"expected the name of an environment variable (letters, digits, _), "
            f'e.g. "OPENAI_API_KEY", got {key_env!r}; the key itself never goes in evals.toml',
        )
        ok = False
    params = reader.typed(
        t, "params", (dict,), "an inline table, e.g. { temperature = 0.0, max_tokens = 256 }", key, {}
    )
    if provider == "anthropic" and "max_tokens" not in params:
        reader.error(
            (*key, "params"), "the anthropic provider needs params.max_tokens, e.g. params = { max_tokens = 256 }"
        )
        ok = False
    if "max_tokens" in params and (
        not isinstance(params["max_tokens"], int) or isinstance(params["max_tokens"], bool) or params["max_tokens"] < 1
    ):
        reader.error(
            (*key, "params", "max_tokens"), f"expected a positive whole number, got {describe(params['max_tokens'])}"
        )
        ok = False
    numbers: dict[str, Any] = {}
    for field, kinds, what in (
        ("concurrency", (int,), "a whole number of requests in flight, e.g. 32"),
        ("rpm", (int,), "requests per minute, e.g. 500"),
        ("tpm", (int,), "tokens per minute, e.g. 200000"),
        ("timeout", (int, float), "seconds per request, e.g. 60"),
        ("retries", (int,), "a whole number of retries, e.g. 6"),
    ):
        value = reader.typed(t, field, kinds, what, key)
        if value is not None and (value < 0 or (value == 0 and field != "retries")):
            reader.error((*key, field), f"expected {what} (more than 0), got {value}")
            value = None
            ok = False
        numbers[field] = value
    prices = reader.typed(
        t, "prices", (dict,), "an inline table, e.g. { input_per_mtok = 0.4, output_per_mtok = 1.6 }", key, {}
    )
    clean_prices: dict[str, float] = {}
    for pkey, value in prices.items():
        if pkey not in PRICE_KEYS:
            reader.problem(
                "warning",
                "unknown-key",
                (*key, "prices", pkey),
                f"unknown price {pkey!r}; expected {' and '.join(PRICE_KEYS)} (US dollars per million tokens)",
            )
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            reader.error(
                (*key, "prices", pkey), f"expected dollars per million tokens (a number ≥ 0), got {describe(value)}"
            )
            ok = False
        else:
            clean_prices[pkey] = float(value)
    if not ok:
        return None
    return Model(
        name=name,
        kind="endpoint",
        params=MappingProxyType(dict(params)),
        timeout=numbers["timeout"],
        description=reader.typed(t, "description", (str,), "a string", key, ""),
        provider=provider,
        model=model_id,
        base_url=base_url,
        api_key_env=key_env or DEFAULT_KEY_ENV[str(provider)],
        concurrency=numbers["concurrency"] or 8,
        rpm=numbers["rpm"],
        tpm=numbers["tpm"],
        retries=6 if numbers["retries"] is None else numbers["retries"],
        prices=MappingProxyType(clean_prices),
        line=reader.table_line("models", name),
    )


def key_problems(registry: Registry, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """An error per endpoint model whose key variable is not set in the environment."""
    from evaltui.core.registry.tomlpos import KeyLocator, render_key

    env = os.environ if environ is None else environ
    problems = []
    locator: KeyLocator | None = None
    for model in registry.models.values():
        if model.kind != "endpoint" or not model.api_key_env or env.get(model.api_key_env):
            continue
        if locator is None:
            try:
                locator = KeyLocator(registry.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                locator = KeyLocator("")
        key = ("models", model.name, "api_key_env")
        line, col = locator.find(key)  # the model's header when the default variable is used
        problems.append(
            Problem(
                "error",
                "missing-key",
                f"model {model.name}: the environment variable "
                f"{model.api_key_env} is not set; export the {model.provider} API key in it "
                "(servers that need no key accept any value)",
                file=registry.path.name,
                line=line,
                column=col,
                key=render_key(key),
            )
        )
    return problems
