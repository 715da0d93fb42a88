"""Forms of the shoot pages: book or change a shoot, reschedule, cancel, mark done.

Times are typed in the browser's datetime-local inputs and read as Europe/Kyiv
(settings.TIME_ZONE); a wall time that does not exist (the hour skipped in
March) or is ambiguous (the hour repeated in October) is refused by Django's
DateTimeField with a message, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crew import permissions
from crew.models import Assignment, Kit, Shoot
from crew.workflow import CrewMember

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
INPUT_FORMATS = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def local_datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


def crew_people(also: Iterable[int] = ()) -> QuerySet:
    """Active members of the crew and press groups (plus anyone already on the shoot)."""
    return (
        get_user_model()
        .objects.filter(
            Q(is_active=True, groups__name__in=[permissions.CREW, permissions.PRESS])
            | Q(pk__in=list(also))
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class WindowMixin:
    """Both ends of the window present and in order."""

    def clean_window(self, cleaned: dict[str, Any]) -> None:
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))  # type: ignore[attr-defined]


class ShootForm(WindowMixin, forms.Form):
    """Book a shoot (or change one): window, place, one role per person, kit, notes."""

    starts_at = local_datetime_field(_("Starts"))
    ends_at = local_datetime_field(_("Ends"))
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    kit = forms.ModelMultipleChoiceField(
        label=_("Kit"),
        queryset=Kit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes for the crew"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, shoot: Shoot | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current_roles: dict[int, str] = {}
        current_kit: list[int] = []
        if shoot is not None:
            current_roles = {a.user_id: a.role for a in shoot.assignments.all()}
            current_kit = [k.pk for k in shoot.kit.all()]
        self.fields["kit"].queryset = Kit.objects.filter(  # type: ignore[attr-defined]
            Q(active=True) | Q(pk__in=current_kit)
        )
        self.people = list(crew_people(current_roles))
        choices = [("", _("— not going —")), *Assignment.Role.choices]
        for person in self.people:
            self.fields[f"role_{person.pk}"] = forms.ChoiceField(
                label=person.get_full_name() or person.get_username(),
                choices=choices,
                required=False,
                initial=current_roles.get(person.pk, ""),
            )

    def crew_rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(person, self[f"role_{person.pk}"]) for person in self.people]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.clean_window(cleaned)
        if not self.crew():
            raise forms.ValidationError(_("Assign at least one crew member."))
        return cleaned

    def crew(self) -> list[CrewMember]:
        data = getattr(self, "cleaned_data", {})
        return [
            CrewMember(person, data[f"role_{person.pk}"])
            for person in self.people
            if data.get(f"role_{person.pk}")
        ]


class RescheduleForm(WindowMixin, forms.Form):
    """Move a shoot in time; place, crew and kit stay."""

    starts_at = local_datetime_field(_("New start"))
    ends_at = local_datetime_field(_("New end"))
    note = forms.CharField(label=_("Why (the crew is told)"), max_length=1000, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.clean_window(cleaned)
        return cleaned


class ShootEditForm(ShootForm):
    """Change a planned shoot; the note goes to the audit and to the crew."""

    note = forms.CharField(label=_("Why (the crew is told)"), max_length=1000, required=False)


class CancelShootForm(forms.Form):
    note = forms.CharField(label=_("Reason"), max_length=1000)


class CompleteShootForm(forms.Form):
    log = forms.CharField(
        label=_("Shoot log"),
        help_text=_("Who was filmed, what, and anything the editor must know."),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
