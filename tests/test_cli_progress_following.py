"""Following a deployment (``bluegreen.cli._progress.following``): which reporter
``--output`` and the terminal pick."""

from __future__ import annotations

import io

from bluegreen.cli._progress.following import reporter_for
from bluegreen.cli._progress.plain_lines import PlainLines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_live_view_a_pipe_plain_lines_and_json_stays_json():
    assert type(reporter_for("text", stream=_Terminal())).__name__ == "LiveView"
    assert isinstance(reporter_for("text", stream=io.StringIO()), PlainLines)
    assert type(reporter_for("json", stream=_Terminal())).__name__ == "JsonLines"
