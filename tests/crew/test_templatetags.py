"""The shared template helpers other pages lean on: labels, durations, timecodes, ages."""

from __future__ import annotations

from datetime import timedelta

from django.template import Context, Template
from django.utils import timezone

from crew.templatetags import kadr


def test_it_formats_durations_and_timecodes():
    assert kadr.duration(None) == ""
    assert kadr.duration(59.6) == "1:00"
    assert kadr.duration(125) == "2:05"
    assert kadr.duration(3725) == "1:02:05"
    assert kadr.timecode(0) == "00:00.0"
    assert kadr.timecode(61.3) == "01:01.3"
    assert kadr.timecode(3661.5) == "1:01:01.5"


def test_it_tells_the_age_compactly():
    now = timezone.now()
    assert kadr.age(now) == "just now"
    assert kadr.age(now - timedelta(minutes=5)) == "5 min"
    assert kadr.age(now - timedelta(hours=3)) == "3 h"
    assert kadr.age(now - timedelta(days=2)) == "2 days"
    assert kadr.age(now - timedelta(days=60)) == "8 weeks"


def test_it_labels_states_of_every_subject():
    assert kadr.status_label("in_review") == "in review"
    assert kadr.status_label("cancelled", "shoot") == "cancelled"
    assert kadr.status_label("planned", "shoot") == "planned"
    assert kadr.status_label("superseded", "version") == "superseded"
    assert kadr.status_label("taken_down", "publication") == "taken down"
    assert kadr.status_label("something-new") == "something-new"


def test_it_renders_a_badge_with_escaped_text():
    html = Template("{% load kadr %}{% status_badge value %}").render(
        Context({"value": '"><script>x</script>'})
    )
    assert "<script>" not in html
    html = Template("{% load kadr %}{% status_badge 'changes_requested' %}").render(Context())
    assert html == '<span class="badge status-changes_requested">changes requested</span>'


def test_it_shows_pipeline_stages_in_words_of_the_interface_language():
    from django.utils import translation

    from crew.templatetags.kadr import stage_label

    with translation.override("uk"):
        assert stage_label("encoding") == "кодування"
        assert stage_label("probing") == "перевірка файлу"
    with translation.override("en"):
        assert stage_label("probing") == "checking the file"
    assert stage_label("") == ""
