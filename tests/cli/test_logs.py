"""The buffered access-log handler: lines arrive whole, in order, in batches."""

from __future__ import annotations

import io
import logging

from dropscope.cli.logs import BufferedLineHandler


def test_lines_are_buffered_then_written_in_order() -> None:
    handler = BufferedLineHandler(interval=3600, batch=3)
    handler.stream = io.StringIO()
    log = logging.getLogger("test.buffered")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        log.info("one")
        log.info("two")
        assert handler.stream.getvalue() == ""  # still buffered
        log.info("three")  # the batch is full: written
        assert handler.stream.getvalue() == "one\ntwo\nthree\n"
        log.info("four")
        handler.flush()
        assert handler.stream.getvalue().splitlines() == ["one", "two", "three", "four"]
    finally:
        log.removeHandler(handler)
        handler.close()
