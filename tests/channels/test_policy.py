"""Safe windows in the person's own time zone, and WhatsApp's 24-hour rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.channels.policy import next_safe_moment, outside_whatsapp_window, safe_hours


def test_inside_a_safe_window_the_moment_is_now():
    wednesday_11am = datetime(2027, 1, 6, 11, 0, tzinfo=UTC)

    assert (
        next_safe_moment(wednesday_11am, {"safe_days": ["wed"], "safe_times": ["morning"]}, "Europe/London")
        == wednesday_11am
    )


def test_summer_time_is_respected():
    # 16:30 UTC on a July Wednesday is 17:30 in London: inside "evening" there, not in UTC terms.
    july_wednesday = datetime(2027, 7, 7, 15, 30, tzinfo=UTC)  # 16:30 BST

    moment = next_safe_moment(july_wednesday, {"safe_times": ["evening"]}, "Europe/London")

    assert moment == datetime(2027, 7, 7, 16, 0, tzinfo=UTC)  # 17:00 BST


def test_the_next_allowed_day_is_found_across_the_week_end():
    saturday_noon = datetime(2027, 1, 9, 12, 0, tzinfo=UTC)

    moment = next_safe_moment(
        saturday_noon, {"safe_days": ["tue", "thu"], "safe_times": ["afternoon"]}, "Europe/London"
    )

    assert moment == datetime(2027, 1, 12, 12, 0, tzinfo=UTC)


def test_another_time_zone_is_used_when_the_person_lives_there():
    wednesday_8am_utc = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # 11:00 in Istanbul

    assert next_safe_moment(wednesday_8am_utc, {"safe_times": ["morning"]}, "Europe/Istanbul") == wednesday_8am_utc


def test_no_preference_means_daytime_and_any_means_the_offered_parts_of_the_day():
    assert safe_hours(None) == (frozenset(range(7)), [(9, 20)])
    assert safe_hours({"safe_days": ["any"], "safe_times": ["any"]}) == (frozenset(range(7)), [(9, 21)])
    assert safe_hours({"safe_days": "skip", "safe_times": ["skip"]}) == (frozenset(range(7)), [(9, 20)])


def test_whatsapp_window_is_24_hours_from_the_persons_last_message():
    now = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)

    assert outside_whatsapp_window(None, now)
    assert not outside_whatsapp_window(now - timedelta(hours=23, minutes=59), now)
    assert outside_whatsapp_window(now - timedelta(hours=24), now)
