import io

from engine.terminal import ProgressLine, bar


def test_the_bar_fills_with_the_fraction_and_stays_in_bounds():
    assert bar(0.25, 8) == "[##......]"
    assert bar(1.7, 4) == "[####]"
    assert bar(-1, 4) == "[....]"


def test_a_progress_line_is_redrawn_in_place_at_most_ten_times_a_second_but_always_at_the_end():
    stream = io.StringIO()
    line = ProgressLine(stream)
    for step in range(1, 101):  # a hundred updates in well under a tenth of a second
        line.draw(f"{step}/100", force=step == 100)
    line.finish()
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0].startswith("1/100") and frames[-1] == "100/100 \n"
    assert len(frames) == 2  # the first and the forced last; the rest were throttled


def test_a_disabled_line_writes_nothing_not_even_the_newline():
    stream = io.StringIO()
    line = ProgressLine(stream, enabled=False)
    line.draw("1/2", force=True)
    line.finish()
    assert stream.getvalue() == ""
