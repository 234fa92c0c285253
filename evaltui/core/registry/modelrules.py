"""`[models.NAME]` tables and `[runner]`: how evals.toml says what answers and where jobs run."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from evaltui.core.registry.pathrules import PathRules
from evaltui.core.registry.records import Model, RayResources, Runner
from evaltui.core.registry.tomlpos import KeyPath, describe


class ModelRules(PathRules):
    """Checks of model tables (endpoints are read in `endpoints`) and of the Ray executor's keys."""

    def model(self, name: str, t: Mapping[str, Any]) -> Model | None:
        key = ("models", name)
        if "provider" in t:
            from evaltui.core.registry.endpoints import endpoint_model

            return endpoint_model(self, name, t)
        self.unknown_keys(t, ("predictions", "callable", "command", "params", "timeout", "description", "ray"), key)
        kinds = [k for k in ("predictions", "callable", "command") if k in t]
        if len(kinds) != 1:
            self.error(
                key,
                "a model needs exactly one of 'predictions' (a JSONL file), 'callable' "
                "('file.py:function'), 'command' (a list of arguments) or 'provider' (\"openai\" or "
                '"anthropic", an endpoint)'
                + (f"; this one has {' and '.join(kinds)}" if kinds else "; this one has none"),
            )
            return None
        kind = kinds[0]
        predictions = callable_ = None
        command: tuple[str, ...] = ()
        if kind == "predictions":
            predictions = self.typed(t, "predictions", (str,), 'a path to a JSONL file, e.g. "runs/base.jsonl"', key)
            predictions = predictions and self.path_value(predictions, (*key, "predictions"))
            if not predictions:
                return None
        elif kind == "callable":
            callable_ = self.typed(t, "callable", (str,), "'file.py:function', e.g. \"app/model.py:answer\"", key)
            callable_ = callable_ and self.function_ref(callable_, (*key, "callable"))
            if not callable_:
                return None
        else:
            raw = t["command"]
            if isinstance(raw, str):
                raw = raw.split()
            if not isinstance(raw, list) or not raw or not all(isinstance(a, str) for a in raw):
                self.error(
                    (*key, "command"),
                    'expected a non-empty list of strings, e.g. command = ["python", '
                    f'"bot.py"], got {describe(t["command"])}',
                )
                return None
            command = tuple(raw)
        timeout = self.typed(t, "timeout", (int, float), "a number of seconds, e.g. 30", key)
        if timeout is not None and timeout <= 0:
            self.error((*key, "timeout"), f"expected a positive number of seconds, e.g. 30, got {timeout}")
            timeout = None
        params = self.typed(t, "params", (dict,), "an inline table, e.g. { temperature = 0.0 }", key, {})
        return Model(
            name=name,
            kind=kind,
            predictions=predictions,
            callable=callable_,
            command=command,
            params=MappingProxyType(dict(params)),
            timeout=timeout,
            description=self.typed(t, "description", (str,), "a string", key, ""),
            ray=self.ray_resources(t, key),
        )

    # -- the Ray executor: [runner] and a model's `ray` resources --------------------------------

    def runner(self, t: Mapping[str, Any]) -> Runner:
        key = ("runner",)
        self.unknown_keys(t, ("executor", "address", "shard_size"), key)
        executor = self.typed(t, "executor", (str,), '"local" or "ray"', key, "local")
        if executor not in ("local", "ray"):
            self.error((*key, "executor"), f'expected "local" or "ray", got {executor!r}')
            executor = "local"
        shard_size = self.typed(t, "shard_size", (int,), "a number of cases per shard, e.g. 500", key)
        if shard_size is not None and shard_size < 1:
            self.error((*key, "shard_size"), f"expected at least 1 case per shard, got {shard_size}")
            shard_size = None
        return Runner(
            executor=executor,
            shard_size=shard_size,
            address=self.typed(t, "address", (str,), 'a Ray address, e.g. "auto" or "ray://head:10001"', key),
        )

    def ray_resources(self, t: Mapping[str, Any], key: KeyPath) -> RayResources | None:
        table = self.typed(t, "ray", (dict,), "an inline table, e.g. { num_gpus = 1, num_cpus = 2 }", key)
        if table is None:
            return None
        rkey = (*key, "ray")
        self.unknown_keys(table, ("num_cpus", "num_gpus", "memory", "resources"), rkey)
        amounts: dict[str, float | None] = {}
        for name in ("num_cpus", "num_gpus", "memory"):
            value = self.typed(table, name, (int, float), "a number, e.g. 1", rkey)
            if value is not None and value < 0:
                self.error((*rkey, name), f"expected a number of at least 0, got {value}")
                value = None
            amounts[name] = value
        extra = self.typed(
            table, "resources", (dict,), "an inline table of custom resources, e.g. { a100 = 1 }", rkey, {}
        )
        custom = []
        for name, value in extra.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                self.error((*rkey, "resources", name), f"expected a number of at least 0, got {describe(value)}")
            else:
                custom.append((name, value))
        return RayResources(amounts["num_cpus"], amounts["num_gpus"], amounts["memory"], tuple(custom))
