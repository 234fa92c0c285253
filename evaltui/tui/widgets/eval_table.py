"""The eval table: rows drawn with the Line API, so thousands of evals cost about a screenful."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LazyRows(Sequence[Sequence[Text]]):
    """`count` rows, row `i` built by `build(i)` when asked for (the table keeps what it draws)."""

    def __init__(self, count: int, build: Callable[[int], Sequence[Text]]) -> None:
        self.length, self.build = count, build

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]  # Sequence's overloads
        if isinstance(index, slice):
            return [self.build(i) for i in range(*index.indices(self.length))]
        if not -self.length <= index < self.length:
            raise IndexError(index)
        return self.build(index % self.length)


class EvalTable(ScrollView, can_focus=True):
    """The table of evals, drawn with the Line API: each row is rendered once, only visible lines are cut.

    A `DataTable` lays out and re-renders every cell through Rich; this table measures its
    columns once per fill, turns a row into Segments the first time it is on screen and keeps
    them, so showing hundreds of evals costs about as much as showing a screenful.
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False, id="evals-up"),
        Binding("down", "cursor_down", "Down", show=False, id="evals-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="evals-page-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="evals-page-down"),
        Binding("home", "first", "First", show=False, id="evals-first"),
        Binding("end", "last", "Last", show=False, id="evals-last"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="evals-left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="evals-right"),
    ]
    """Cursor keys move the selected row; left and right scroll a table wider than its panel."""

    COMPONENT_CLASSES = {"evaltable--header", "evaltable--cursor"}
    """The header row and the cursor row, styled from the theme like a DataTable's."""

    DEFAULT_CSS = """
    EvalTable {
        background: $surface;
        color: $foreground;
        & > .evaltable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .evaltable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .evaltable--header {
                background-tint: $foreground 5%;
            }
            & > .evaltable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    PADDING = 1  # blank cells either side of every cell, as in a DataTable

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another row (keys, a click or `move_cursor`)."""

        table: EvalTable
        cursor_row: int

        @property
        def control(self) -> EvalTable:
            return self.table

    @dataclass
    class Painted(Message):
        """The rows filled in before `announce_paint` have been drawn in a frame."""

        table: EvalTable

        @property
        def control(self) -> EvalTable:
            return self.table

    def __init__(self, columns: Sequence[tuple[str, int | None]], **kwargs) -> None:
        """`columns`: (header label, fixed width or None to fit the widest cell)."""
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self._rows: Sequence[Sequence[Text]] = []
        self._given_widths: Sequence[int] | None = None  # `set_rows`' column widths
        self._segments: dict[int, list[Segment]] = {}  # row -> its cells as Segments, rendered on first show
        self._widths: list[int] = []
        self._header: list[Segment] | None = None
        self._cursor = 0
        self._announce = False

    def announce_paint(self) -> None:
        """Post `Painted` once the next frame has drawn this table (for work that must wait for it)."""
        self._announce = True
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def clear(self) -> None:
        """Drop every row; the cursor goes back to the top (silently, as nothing is under it)."""
        self._rows, self._segments, self._cursor, self._given_widths = [], {}, 0, None
        self.scroll_x = self.scroll_y = 0
        self.scroll_target_x = self.scroll_target_y = 0
        self._measure()

    def add_row(self, *cells: Text) -> None:
        """Append one row (`add_rows` measures the columns once for many)."""
        self.add_rows([cells])

    def add_rows(self, rows: Iterable[Sequence[Text]]) -> None:
        """Append rows of Text cells (never parsed as markup)."""
        self._rows = [*self._rows, *(tuple(cells) for cells in rows)]
        self._given_widths = None
        self._measure()

    def set_rows(self, count: int, row: Callable[[int], Sequence[Text]], widths: Sequence[int]) -> None:
        """Show `count` rows in columns `widths` wide, row `i` built by `row(i)` when it is first drawn.

        For long tables whose widths are known without building every cell: thousands of rows
        then cost what the few on screen do.
        """
        self._rows = LazyRows(count, row)
        self._given_widths = widths
        self._measure()

    def _measure(self) -> None:
        """Column widths from the header and every cell, and the scrollable size they make."""
        widths = [fixed if fixed is not None else len(label) for label, fixed in self.columns]
        for i, (_, fixed) in enumerate(self.columns):
            if self._given_widths is not None and i < len(self._given_widths):
                widths[i] = max(widths[i], self._given_widths[i]) if fixed is None else fixed
            elif fixed is None:
                widths[i] = max([widths[i], *(row[i].cell_len for row in self._rows if i < len(row))])
        self._widths = widths
        self._segments.clear()
        self._header = None
        self.virtual_size = Size(sum(widths) + 2 * self.PADDING * len(widths), len(self._rows) + 1)
        self.refresh()

    def _row_segments(self, cells: Sequence[Text]) -> list[Segment]:
        console = self.app.console
        pad = Segment(" " * self.PADDING)
        line: list[Segment] = []
        # A row may be shorter than the columns (see `add_rows`): its last columns stay blank.
        for width, cell in zip(self._widths, cells, strict=False):
            if "\n" in cell.plain:  # one line per row: a newline would break the grid
                cell = cell.copy()
                cell.plain = cell.plain.replace("\n", " ")
            segments = cell.render(console)  # the spans only: the Text's own style goes under them
            if cell.style:
                segments = Segment.apply_style(segments, console.get_style(cell.style))
            line.append(pad)
            line.extend(Segment.adjust_line_length(list(segments), width))
            line.append(pad)
        return line

    def render_line(self, y: int) -> Strip:
        if self._announce:  # a frame is being composed with this table in it: say so once it is out
            self._announce = False
            # Made in the table's own turn: a message made while the screen composes would be the
            # screen's, and would stop bubbling there.
            self.call_next(lambda: self.post_message(self.Painted(self)))
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:  # the header stays at the top however far the rows scroll
            header = self._header
            if header is None:
                header = self._header = self._row_segments([Text(label) for label, _ in self.columns])
            style = base + self.get_component_rich_style("evaltable--header")
            segments, post = header, None
        else:
            row = y - 1 + scroll_y
            if row >= len(self._rows):
                return Strip.blank(width, base)
            cached = self._segments.get(row)
            if cached is None:
                cached = self._segments[row] = self._row_segments(self._rows[row])
            segments = cached
            style, post = base, None
            if row == self._cursor:
                cursor = self.get_component_rich_style("evaltable--cursor")
                # The cursor's colours win over the cells' own, as in a DataTable: a coloured
                # badge stays readable on the cursor bar; bold and italic are kept.
                style, post = base + cursor, Style(color=cursor.color, bgcolor=cursor.bgcolor)
        strip = Strip(Segment.apply_style(segments, style, post))
        return strip.crop(scroll_x, scroll_x + width).adjust_cell_length(width, base)

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on `row` (clamped to the rows there are) and bring it into view."""
        if row is None or not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        old, self._cursor = self._cursor, row
        if scroll:
            self._scroll_to_cursor(animate)
        if old != row:
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
            self.post_message(self.CursorMoved(self, row))

    def _scroll_to_cursor(self, animate: bool = False) -> None:
        visible = self.scrollable_content_region.height - 1  # rows under the header
        if visible <= 0:
            return
        top = self.scroll_offset.y
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=animate, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=animate, immediate=True)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # the rows under the header

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page())

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        row = offset.y - 1 + self.scroll_offset.y if offset is not None and offset.y >= 1 else -1
        if 0 <= row < len(self._rows):
            self.move_cursor(row=row)
