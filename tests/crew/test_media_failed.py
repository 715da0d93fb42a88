"""When a file's processing fails for good, whoever added it is told (and the press head,
for a cut); a broken hook never breaks the pipeline."""

from __future__ import annotations

import pytest

from crew import workflow
from crew.models import Notification, NotificationKind, Status
from media_pipeline import services
from media_pipeline.models import AssetStatus
from tests import factories
from tests.media_pipeline.pipeline_fixtures import stored_asset

pytestmark = pytest.mark.django_db

REASON = "The file could not be converted; it may be damaged (moov atom not found)."


def _notes(user):
    return list(Notification.objects.filter(user=user, kind=NotificationKind.MEDIA_FAILED))


def test_it_tells_the_editor_and_the_press_head_when_a_cut_fails(
    make_request, users, django_capture_on_commit_callbacks
):
    request = make_request(Status.EDITING)
    version = request.versions.get()

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_failed(version.media, "review", REASON)

    for person in ("editor", "press"):
        [note] = _notes(users[person])
        assert note.request == request
        assert note.text == f"cut.mp4: {REASON}"
        assert note.url == f"/cuts/{version.pk}/"
        assert note.actor is None
    assert _notes(users["operator"]) == []
    assert _notes(users["health"]) == []


def test_it_tells_the_operator_who_added_a_clip_that_failed(
    make_request, users, django_capture_on_commit_callbacks
):
    request = make_request(Status.SCHEDULED)
    shoot = request.shoots.get()
    asset = factories.processing_asset(uploaded_by=users["operator"])
    workflow.attach_footage(shoot, by=users["operator"], asset=asset)

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_failed(str(asset.pk), "footage", REASON)  # the pipeline passes an id

    [note] = _notes(users["operator"])
    assert note.request == request
    assert REASON in note.text
    assert note.url == f"/shoots/{shoot.pk}/#footage"
    assert _notes(users["press"]) == []
    assert _notes(users["editor"]) == []


def test_it_tells_nobody_when_the_failure_is_rolled_back(
    make_request, users, django_capture_on_commit_callbacks
):
    version = make_request(Status.EDITING).versions.get()

    with django_capture_on_commit_callbacks(execute=False):
        services.notify_failed(version.media, "review", REASON)

    assert _notes(users["editor"]) == []


def exploding_hook(asset, purpose, reason):
    raise RuntimeError("the tracker is broken")


@pytest.mark.parametrize(
    "hook", ["tests.crew.test_media_failed.exploding_hook", "crew.no_such_module.hook", ""]
)
def test_it_never_breaks_the_pipeline_when_the_hook_fails(make_request, settings, hook):
    settings.KADR_MEDIA_FAILED_HOOK = hook
    version = make_request(Status.EDITING).versions.get()

    services.notify_failed(version.media, "review", REASON)  # does not raise
    services.notify_failed("00000000-0000-0000-0000-000000000000", "review", REASON)


def test_it_tells_the_operator_when_the_pipeline_refuses_a_clip(
    make_request, users, tmp_path, django_capture_on_commit_callbacks
):
    shoot = make_request(Status.SCHEDULED).shoots.get()
    notes = tmp_path / "notes.mp4"
    notes.write_text("Minutes of the meeting, not a video.\n" * 50)
    asset = stored_asset(notes, purpose="footage", name="notes.mp4")

    # Attaching queues the footage job after commit; Celery runs it eagerly here.
    with django_capture_on_commit_callbacks(execute=True):
        workflow.attach_footage(shoot, by=users["operator"], asset=asset)

    asset.refresh_from_db()
    assert asset.status == AssetStatus.FAILED
    [note] = _notes(users["operator"])
    assert note.text == f"notes.mp4: {asset.error}"
    assert note.url == f"/shoots/{shoot.pk}/#footage"
