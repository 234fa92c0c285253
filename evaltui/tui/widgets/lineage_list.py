"""The Lineage tab's timeline list: an option list that measures and draws its options no more often than needed."""

from __future__ import annotations

from textual import events
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import OptionList


class LineageList(OptionList):
    """The timeline: version headings (not selectable) with their commits under them."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn_width = 0  # the width the options were last drawn at
        self._shown_region = Region()  # where the list was when last on screen

    @property
    def scrollable_content_region(self) -> Region:
        # Filled while its tab is hidden (the tab is drawn before it shows), the list measures its
        # options at the width it had when last shown, so that showing the tab lays the screen
        # out once; Textual's list would wait for the first frame, then lay it out again.
        region = super().scrollable_content_region
        if region:
            self._shown_region = region
            return region
        if self._shown_region or not self.is_attached:
            return self._shown_region
        # Never shown yet: the nearest container on screen, less the gutters down to the list.
        gutter = self.styles.gutter.width
        for node in self.ancestors:
            if not isinstance(node, Widget):
                break
            outer = node.scrollable_content_region if node.display else Region()
            if outer:
                return Region(outer.x, outer.y, max(0, outer.width - gutter), outer.height)
            gutter += node.styles.gutter.width
        return region

    def on_resize(self, event: events.Resize) -> None:
        # Textual's list forgets every drawn option on a resize; only a new width changes them.
        # Another eval's headline or details move the list's bottom edge: keeping the options
        # saves drawing them twice when the tab shows a new eval.
        width = self.scrollable_content_region.width
        if width == self._drawn_width:
            event.prevent_default()
        self._drawn_width = width
