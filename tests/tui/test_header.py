"""The main screen's top line fits the terminal: at 80 columns it shortens its labels before HEAD falls off."""

from __future__ import annotations

from evaltui.tui.screens.main import MainScreen
from evaltui.tui.widgets.header import LEVELS, HeaderParts, TopBar, fitted, header_text
from tests.tui.helpers import NARROW, SIZE, pinned_app, settle

EVERYTHING = HeaderParts(
    project="support-bot-evals", evals=2000, counts=(3, 12, 140, 27), head="1a2b3c4", reading=False, notes=2
)


def drawn(app) -> str:
    """The top line as it is drawn on screen (not the whole text it keeps)."""
    bar = next(s for s in app.screen_stack if isinstance(s, MainScreen)).query_one(TopBar)
    return "".join(segment.text for segment in bar.render_line(0)).strip()


def test_each_level_is_shorter_and_keeps_what_needs_attention_and_head():
    lengths = [header_text(EVERYTHING, level).cell_len for level in range(LEVELS)]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) == LEVELS
    for level in range(LEVELS):
        text = header_text(EVERYTHING, level).plain
        assert "1a2b3c4" in text and "2000 evals" in text
        assert all(str(n) in text for n in EVERYTHING.counts)


def test_the_fullest_form_that_fits_is_chosen_and_nothing_is_cut_at_80_columns():
    assert fitted(EVERYTHING, 300).plain == header_text(EVERYTHING).plain
    at_80 = fitted(EVERYTHING, 78)  # 80 columns less the bar's padding
    assert at_80.cell_len <= 78 and "…" not in at_80.plain and "HEAD 1a2b3c4" in at_80.plain
    tiny = fitted(EVERYTHING, 20)
    assert tiny.cell_len <= 20 and tiny.plain.endswith("…")


async def test_a_long_project_name_shortens_the_line_at_80_by_24_and_head_stays(demo_copy):
    toml = demo_copy / "evals.toml"
    toml.write_text(toml.read_text().replace('name = "support-bot"', 'name = "support-bot-for-the-eu-shops"', 1))
    app = pinned_app(demo_copy)
    async with app.run_test(size=NARROW) as pilot:
        await settle(app, pilot)
        head = app.state.lineage.head[:7]
        line = drawn(app)
        assert f"HEAD {head}" in line and "! 1 silent" in line and "◇ 1 blind" in line, line
        assert "…" not in line and not line.startswith("evaltui"), line  # the app's name went first
        await pilot.resize_terminal(*SIZE)
        await settle(app, pilot)
        wide = drawn(app)
        assert wide.startswith("evaltui · support-bot-for-the-eu-shops") and "◇ 1 blind spot ·" in wide, wide
