"""A footer that builds its keys once, with the screen, and again only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

Keys = tuple[tuple[str, str, str, str, bool, str], ...]


def shown_keys(screen: Screen) -> Keys:
    """What a footer on `screen` shows: each shown binding's key, label, action, state and tooltip."""
    return tuple(
        (binding.key, binding.key_display or "", binding.description, binding.action, enabled, tooltip)
        for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )


class SteadyFooter(Footer):
    """Textual's footer, built with its screen and rebuilt only when the keys it would show change.

    The stock footer composes empty, waits for the first bindings signal, then recomposes every
    key widget at each later one: a screen shown again, the focus moving between widgets with
    the same keys. Each rebuild mounts a key widget per binding and lays the screen out again,
    for a footer that looks the same. Keys that depend on the focus are best bound on the
    screen, so that the first build is already the right one.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys: Keys | None = None  # what the footer was built from
        # Footer's own guard against composing before the screen's bindings are known: a
        # screen's bindings are known as soon as the footer is composed in it.
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self) -> ComposeResult:
        self._keys = shown_keys(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)  # ignored there too: nothing to compare with
            return
        keys = shown_keys(screen)
        if keys == self._keys:
            return
        super().bindings_changed(screen)  # recomposes, which records the new keys
