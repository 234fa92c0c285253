"""A footer that rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    """Textual's footer, rebuilt only when the keys it would show change.

    The stock footer recomposes every key widget at each bindings signal: a screen shown again,
    the focus moving between widgets with the same keys. Each rebuild mounts a dozen widgets and
    lays the screen out again, for a footer that looks the same.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys: tuple[tuple[str, str, str, str, bool, str], ...] | None = None  # what the footer was built from

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)  # ignored there too: nothing to compare with
            return
        keys = tuple(
            (binding.key, binding.key_display or "", binding.description, binding.action, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        if keys == self._keys and self.is_attached:
            return
        self._keys = keys
        super().bindings_changed(screen)
