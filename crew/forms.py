"""Browser forms of the tracker: the request form, the board filters, the note for a decision.

Forms validate and clean; they never write a status (the workflow does).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crew import permissions
from crew.models import (
    CLOSED_STATUSES,
    Assignment,
    Campaign,
    Department,
    Shoot,
    ShootRequest,
    Status,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
# A desired date a little in the past is a slow typist, not a mistake.
PAST_GRACE = timedelta(minutes=5)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class RequestForm(forms.ModelForm):
    """A shoot request. Requesters file for their own department; the press head for any,
    and also says where the request came from."""

    class Meta:
        model = ShootRequest
        fields = [
            "title",
            "department",
            "source",
            "description",
            "location",
            "desired_at",
            "deadline",
            "priority",
            "contact_name",
            "contact_phone",
            "campaign",
            "target_channels",
        ]
        widgets = {
            "desired_at": DateTimeLocalInput(),
            "deadline": DateInput(),
            "description": forms.Textarea(attrs={"rows": 5}),
            "target_channels": forms.CheckboxSelectMultiple(),
            "contact_phone": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+380 67 123 45 67"}
            ),
        }
        help_texts = {
            "desired_at": _("When the event happens or when you would like the shoot."),
            "deadline": _("When the video must be out at the latest."),
        }
        error_messages = {
            "title": {
                "required": _("Give the request a title."),
                "max_length": _(
                    "Keep the title under %(limit_value)d characters (it has %(show_value)d)."
                ),
            },
            "department": {
                "invalid_choice": _("Unknown department; pick one from the list."),
                "required": _("Choose the department."),
            },
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["title"].widget.attrs.update({"autofocus": True, "maxlength": 200})
        cast(forms.ModelChoiceField, self.fields["campaign"]).queryset = Campaign.objects.order_by(
            "name"
        )
        cast(forms.DateTimeField, self.fields["desired_at"]).input_formats = [
            DATETIME_FORMAT,
            "%Y-%m-%d %H:%M",
        ]
        if not permissions.is_press(user):
            # A requester files for their own department and as that department.
            del self.fields["department"]
            del self.fields["source"]

    def clean_desired_at(self) -> Any:
        value = self.cleaned_data.get("desired_at")
        unchanged = self.instance.pk and value == self.instance.desired_at
        if value and not unchanged and value < timezone.now() - PAST_GRACE:
            raise forms.ValidationError(_("The desired date is in the past."), code="past")
        return value

    def clean_deadline(self) -> Any:
        value = self.cleaned_data.get("deadline")
        unchanged = self.instance.pk and value == self.instance.deadline
        if value and not unchanged and value < timezone.localdate():
            raise forms.ValidationError(_("The deadline is in the past."), code="past")
        return value

    def clean_title(self) -> str:
        title = (self.cleaned_data.get("title") or "").strip()
        if not title:
            raise forms.ValidationError(_("Give the request a title."), code="required")
        return title

    def workflow_fields(self) -> dict[str, Any]:
        """Cleaned data shaped for workflow.submit_request (channels passed apart)."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "target_channels"}
        return data


class NoteForm(forms.Form):
    """The reason that goes with a decision (decline, cancel) into the audit trail."""

    note = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please give a reason.")},
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = required
        if not required:
            self.fields["note"].label = _("Note (optional)")

    def clean_note(self) -> str:
        note = (self.cleaned_data.get("note") or "").strip()
        if self.fields["note"].required and not note:
            raise forms.ValidationError(_("Please give a reason."), code="required")
        return note


def _text_query(text: str) -> Q:
    # SQLite's LIKE folds case for ASCII only, so Cyrillic needs its common spellings.
    variants = {text, text.lower(), text.upper(), text.capitalize()}
    q = Q()
    for v in variants:
        for field in ("title", "description", "location", "contact_name"):
            q |= Q(**{f"{field}__icontains": v})
    return q


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class RequestFilterForm(forms.Form):
    """The board's and the request list's filters, as a GET form."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any")), *Status.choices]
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        required=False,
        queryset=Department.objects.all(),
        empty_label=_("all"),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        required=False,
        queryset=Campaign.objects.order_by("name"),
        empty_label=_("all"),
    )
    assignee = PersonChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=get_user_model()
        .objects.filter(is_active=True, groups__name__in=[permissions.PRESS, permissions.CREW])
        .distinct()
        .order_by("first_name", "last_name", "username"),
        empty_label=_("anyone"),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, user: Any, with_status: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_status:
            del self.fields["status"]
        if not permissions.is_crew(user):
            # A requester sees one department's work; the other filters would only leak names.
            del self.fields["department"]
            del self.fields["assignee"]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(
            v not in (None, "", False) for v in self.cleaned_data.values()
        )

    def apply(self, qs: QuerySet[ShootRequest]) -> QuerySet[ShootRequest]:
        """Narrow a request queryset. Relations go through subqueries so the board's
        aggregates stay one row per request."""
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("q"):
            qs = qs.filter(_text_query(data["q"]))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("department"):
            qs = qs.filter(department=data["department"])
        if data.get("campaign"):
            qs = qs.filter(campaign=data["campaign"])
        if data.get("assignee"):
            qs = qs.filter(
                pk__in=Assignment.objects.filter(user=data["assignee"]).values("shoot__request_id")
            )
        start, end = data.get("date_from"), data.get("date_to")
        if start or end:
            # A request is "on" a day when it is wanted, due or shot that day.
            dates: dict[str, Any] = {}
            if start:
                dates["gte"] = start
            if end:
                dates["lte"] = end
            shoots = Shoot.objects.all()
            for op, day in dates.items():
                shoots = shoots.filter(**{f"starts_at__date__{op}": day})
            desired = Q(desired_at__isnull=False)
            deadline = Q(deadline__isnull=False)
            for op, day in dates.items():
                desired &= Q(**{f"desired_at__date__{op}": day})
                deadline &= Q(**{f"deadline__{op}": day})
            qs = qs.filter(desired | deadline | Q(pk__in=shoots.values("request_id")))
        if data.get("overdue"):
            qs = qs.filter(deadline__lt=timezone.localdate()).exclude(status__in=CLOSED_STATUSES)
        return qs

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
