"""Every state of PRODUCT.md's diagram is reachable through the workflow, with an audit row a step."""

import pytest

from crew.models import Status, StatusChange


@pytest.mark.parametrize("state", [s.value for s in Status])
def test_it_reaches_every_state_with_audit_rows(make_request, state):
    request = make_request(state)
    request.refresh_from_db()
    assert request.status == state
    rows = StatusChange.objects.filter(request=request, subject=StatusChange.Subject.REQUEST)
    assert rows.last().to_status == state
    assert all(row.actor_id for row in rows)


def test_it_audits_a_resubmitted_cut_from_the_state_it_really_left(make_request, users):
    from crew import workflow

    request = make_request("changes_requested")
    version = request.versions.get()
    workflow.submit_version(version, by=users["editor"], note="Вступ скорочено")
    row = StatusChange.objects.filter(
        request=request, subject=StatusChange.Subject.VERSION, subject_id=version.pk
    ).last()
    assert (row.from_status, row.to_status, row.note) == (
        "changes_requested",
        "in_review",
        "Вступ скорочено",
    )
