"""YAML/JSON/TOML documents as harnesses write them: unknown YAML tags, files without a suffix."""

from __future__ import annotations

import json
import re
from typing import Any

from evaltui.core.compat import tomllib
from evaltui.core.errors import VersionSourceError

FORMATS = ("yaml", "json", "toml")
_BY_SUFFIX = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
_TOML_LINE = re.compile(r"^\s*(\[\[?[^\]]+\]\]?|[A-Za-z0-9_\-\"'.]+\s*=)")
_YAML_KEY = re.compile(r"^\s*[^#\s=][^=]*?:(\s|$)")

_LOADER: Any = None
_TAGS: dict[tuple[str, Any], str] = {}  # (scalar text, implicit flags) -> the tag the resolver gives it


def yaml_loader() -> Any:
    """A safe YAML loader that reads any tag it does not know (`!function utils.x`) as a plain value.

    lm-eval task files tag Python callables; reading them as the text after the tag keeps
    the rest of the document readable and never constructs (let alone imports) anything.
    """
    global _LOADER
    if _LOADER is None:
        import yaml  # only when a YAML file is read: the library is slow to import

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when built with libyaml: ~8x faster

        class PlainTagLoader(base):  # type: ignore[misc, valid-type]
            """`SafeLoader` that turns unknown tags into the plain scalar, list or mapping they tag."""

            def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
                # A scalar's tag depends on its text and quoting alone (no path resolvers are
                # added), and the same keys and values come back in file after file.
                if kind is not yaml.ScalarNode:
                    return super().resolve(kind, value, implicit)
                key = (value, implicit)
                tag = _TAGS.get(key)
                if tag is None:
                    if len(_TAGS) > 50_000:
                        _TAGS.clear()
                    tag = _TAGS[key] = super().resolve(kind, value, implicit)
                return tag

            def construct_document(self, node: Any) -> Any:
                # Strings, mappings and lists (nearly all of a harness's file) are built in one
                # walk; any other node goes through the safe constructor itself.
                try:
                    return _Plain(self).build(node)
                except _Unusual:
                    return super().construct_document(node)
                finally:
                    self.constructed_objects.clear()
                    self.recursive_objects.clear()
                    self.deep_construct = False

        # The empty prefix matches every tag the safe constructor has no exact entry for.
        PlainTagLoader.add_multi_constructor("", construct_plain)
        _LOADER = PlainTagLoader
    return _LOADER


def construct_plain(loader: Any, _suffix: str, node: Any) -> Any:
    """The plain scalar, list or mapping a tag the loader does not know stands on (`!function x.y` is "x.y")."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_KEY_TAGS_OF_MERGES = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})


class _Unusual(Exception):
    """A document the short walk leaves to PyYAML's constructor (an alias of itself)."""


class _Plain:
    """What `PlainTagLoader` builds, without its per-node bookkeeping.

    A string (tagged `str`, or by a tag the loader does not know) is its text, a mapping
    tagged `map` a dict and a sequence tagged `seq` a list, as the safe constructor builds
    them; a node that is an alias of an earlier one gives the same object. Other scalars
    (numbers, booleans, dates) and other collections, a mapping with a merge key (`<<`) or a
    key that is not a scalar are handed to the loader's own constructor.
    """

    def __init__(self, loader: Any):
        import yaml

        self.loader = loader
        self.mapping, self.sequence = yaml.MappingNode, yaml.SequenceNode
        self.known = loader.yaml_constructors
        self.done: dict[Any, Any] = {}  # container nodes (by identity) -> what they became
        self.open: set[int] = set()

    def build(self, node: Any) -> Any:
        value = node.value
        if isinstance(value, str):  # a scalar node
            tag = node.tag
            if tag == _STR or tag not in self.known:
                return value
            return self.loader.construct_object(node, deep=True)
        done = self.done.get(node)
        if done is not None:
            return done
        if id(node) in self.open:
            raise _Unusual  # a collection inside itself: PyYAML reports it
        tag = node.tag
        plain = tag not in self.known
        if isinstance(node, self.mapping) and (tag == _MAP or plain):
            if any(k.tag in _KEY_TAGS_OF_MERGES or not isinstance(k.value, str) for k, _ in value):
                out: Any = self.loader.construct_object(node, deep=True)
            else:
                self.open.add(id(node))
                out = {}
                for k, v in value:
                    out[self.build(k)] = self.build(v)
                self.open.discard(id(node))
        elif isinstance(node, self.sequence) and (tag == _SEQ or plain):
            self.open.add(id(node))
            out = [self.build(v) for v in value]
            self.open.discard(id(node))
        else:
            out = self.loader.construct_object(node, deep=True)
        self.done[node] = out
        return out


def format_for(path: str, declared: str | None = None) -> str | None:
    """The format of `path`: the declared one, else by suffix; None when it must be sniffed."""
    if declared:
        return declared
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    return _BY_SUFFIX.get(suffix, None if not suffix else "?" + suffix)


def sniff(text: str) -> str:
    """Guess the format of a document without a suffix: JSON, TOML or (the default) YAML."""
    head = text.lstrip("\ufeff \t\r\n")
    # `[table]` on the first line is TOML; any other `[` or `{` opens JSON.
    if head[:1] == "{" or (head[:1] == "[" and not re.match(r"^\[[^\]\n]*\]\s*$", head.split("\n", 1)[0])):
        return "json"
    toml = yaml = 0
    for line in head.splitlines()[:40]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _TOML_LINE.match(line):
            toml += 1
        elif _YAML_KEY.match(line) or line.lstrip().startswith("- "):
            yaml += 1
    return "toml" if toml > yaml else "yaml"


def parse(content: bytes | str, fmt: str | None, *, filename: str = "<source>") -> Any:
    """Parse `content` as `fmt` ("yaml", "json", "toml", a suffix such as ".yml", or None to sniff)."""
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    if fmt and fmt.startswith("."):
        fmt = _BY_SUFFIX.get(fmt.lower(), "?" + fmt)
    if fmt and fmt.startswith("?"):
        raise VersionSourceError(f"{filename}: unsupported file type {fmt[1:]!r}; expected .yaml, .yml, .json or .toml")
    fmt = fmt or sniff(text)
    import yaml

    try:
        if fmt == "yaml":
            return yaml.load(text, Loader=yaml_loader())
        if fmt == "json":
            return json.loads(text)
        if fmt == "toml":
            return tomllib.loads(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise VersionSourceError(f"{filename}{line}: cannot parse YAML: {one_line(exc.problem or exc)}") from None
    except json.JSONDecodeError as exc:
        raise VersionSourceError(f"{filename}:{exc.lineno}: cannot parse JSON: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise VersionSourceError(f"{filename}: cannot parse TOML: {one_line(exc)}") from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        # PyYAML raises ValueError for impossible dates such as 2026-13-45, among others.
        raise VersionSourceError(f"{filename}: cannot parse {fmt.upper()}: {one_line(exc)}") from None
    raise VersionSourceError(f"{filename}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def one_line(message: Any) -> str:
    """An error message on one line."""
    return " ".join(str(message).split()) or "unknown error"
