from __future__ import annotations

import pytest

from branding.contrast import button_text_colour, contrast_failures, contrast_ratio


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.48),  # the classic grey just below AA
        ("#767676", "#ffffff", 4.54),  # and the one just above
        ("#0000ff", "#ffffff", 8.59),
        ("#ff0000", "#ffffff", 4.0),
    ],
)
def test_contrast_ratio_matches_wcag_on_known_pairs(first, second, expected):
    assert contrast_ratio(first, second) == pytest.approx(expected, abs=0.01)
    assert contrast_ratio(second, first) == pytest.approx(expected, abs=0.01)


def test_the_default_look_passes():
    assert (
        contrast_failures(
            background_color="#f3f5f9",
            header_color="#ffffff",
            primary_color="#1f4fd1",
            accent_color="#1f4fd1",
            text_color="#1b1f24",
        )
        == []
    )


def test_failing_pairs_are_named_by_the_field_to_change():
    failures = contrast_failures(
        background_color="#ffffff",
        header_color="#222222",
        primary_color="#1f4fd1",
        accent_color="#aaaaaa",
        text_color="#333333",
        layout="full_page",
    )
    assert {failure.field for failure in failures} == {"accent_color", "header_color"}
    assert all(failure.ratio < 4.5 for failure in failures)


def test_button_text_is_white_on_dark_buttons_and_dark_on_light_ones():
    assert button_text_colour("#1f4fd1") == "#ffffff"
    assert button_text_colour("#ffd400") == "#1b1f24"
