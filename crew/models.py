"""The tracker: departments, shoot requests, shoots, cuts, publications and their audit.

Statuses are written by crew/workflow/ only (a test enforces it); forms,
serializers and the admin treat them as read-only.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{5,18}[0-9]$",
    _("Enter a phone number, for example +380 67 123 45 67."),
)


class Department(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", _("council department")
        ENTERPRISE = "enterprise", _("municipal enterprise")
        INSTITUTION = "institution", _("institution")
        MAYOR = "mayor", _("mayor's office")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COUNCIL)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What the tracker keeps about a person beyond auth: department and feed secret."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    ical_token = models.CharField(max_length=64, default="", blank=True, db_index=True)
    # The last language the person chose with the switch: their e-mails speak it too.
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Of the e-mails Kadr sends; empty: the site's language."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    def rotate_ical_token(self) -> str:
        self.ical_token = secrets.token_urlsafe(32)
        self.save(update_fields=["ical_token"])
        return self.ical_token


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    goal = models.TextField(_("goal"), blank=True)
    hashtag = models.CharField(_("hashtag"), max_length=100, blank=True)
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("information campaign")
        verbose_name_plural = _("information campaigns")

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Known limits of the platform's upload, to warn before posting; empty = none known.
    max_upload_bytes = models.BigIntegerField(_("upload limit, bytes"), null=True, blank=True)
    max_duration_seconds = models.PositiveIntegerField(
        _("duration limit, seconds"), null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    SCHEDULED = "scheduled", _("scheduled")
    SHOT = "shot", _("shot")
    EDITING = "editing", _("editing")
    IN_REVIEW = "in_review", _("in review")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    APPROVED = "approved", _("approved")
    PUBLISHED = "published", _("published")
    CANCELLED = "cancelled", _("cancelled")


# The states a request travels through in order, and those where its life has ended.
OPEN_STATUSES: tuple[str, ...] = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.SCHEDULED,
    Status.SHOT,
    Status.EDITING,
    Status.IN_REVIEW,
    Status.CHANGES_REQUESTED,
    Status.APPROVED,
)
CLOSED_STATUSES: tuple[str, ...] = (Status.PUBLISHED, Status.DECLINED, Status.CANCELLED)


class ShootRequest(models.Model):
    class Source(models.TextChoices):
        DEPARTMENT = "department", _("department")
        RESIDENT = "resident", _("resident request")
        PRESS = "press", _("press service")
        MAYOR = "mayor", _("mayor's office")

    class Priority(models.IntegerChoices):
        LOW = 1, _("low")
        NORMAL = 2, _("normal")
        HIGH = 3, _("high")
        URGENT = 4, _("urgent")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="requests", verbose_name=_("department")
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.DEPARTMENT
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_requests",
        verbose_name=_("requested by"),
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=30, blank=True, validators=[phone_validator]
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    desired_at = models.DateTimeField(_("desired date and time"), null=True, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    target_channels = models.ManyToManyField(
        Channel, blank=True, related_name="requests", verbose_name=_("target channels")
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        verbose_name=_("campaign"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    # The public page's address, given when the request is first published.
    slug = models.SlugField(max_length=220, unique=True, null=True, blank=True, allow_unicode=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("shoot request")
        verbose_name_plural = _("shoot requests")

    def __str__(self) -> str:
        return self.title


class Kit(models.Model):
    class Kind(models.TextChoices):
        CAMERA = "camera", _("camera")
        DRONE = "drone", _("drone")
        LIGHTS = "lights", _("lights")
        MICROPHONE = "microphone", _("microphone")
        CAR = "car", _("car")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("kit item")
        verbose_name_plural = _("kit")

    def __str__(self) -> str:
        return self.name


class ShootState(models.TextChoices):
    PLANNED = "planned", _("planned")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class Shoot(models.Model):
    request = models.ForeignKey(ShootRequest, on_delete=models.CASCADE, related_name="shoots")
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("location"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)  # planning notes
    log = models.TextField(_("shoot log"), blank=True)  # what the crew wrote on completing
    state = models.CharField(
        _("state"), max_length=20, choices=ShootState.choices, default=ShootState.PLANNED
    )
    crew: models.ManyToManyField = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Assignment", related_name="shoots"
    )
    kit = models.ManyToManyField(Kit, blank=True, related_name="shoots", verbose_name=_("kit"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("shoot")
        verbose_name_plural = _("shoots")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="shoot_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request} @ {self.starts_at:%Y-%m-%d %H:%M}"


class Assignment(models.Model):
    class Role(models.TextChoices):
        OPERATOR = "operator", _("camera operator")
        EDITOR = "editor", _("editor")
        JOURNALIST = "journalist", _("journalist")
        DRIVER = "driver", _("driver")

    shoot = models.ForeignKey(Shoot, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shoot", "user"], name="one_assignment_per_person")
        ]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Footage(models.Model):
    """A raw clip attached to a shoot."""

    shoot = models.ForeignKey(Shoot, on_delete=models.CASCADE, related_name="footage")
    media = models.ForeignKey(
        "media_pipeline.MediaAsset", on_delete=models.PROTECT, related_name="footage"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shoot", "media"], name="one_footage_row_per_media")
        ]
        verbose_name = _("footage")
        verbose_name_plural = _("footage")

    def __str__(self) -> str:
        return str(self.media)


class VersionState(models.TextChoices):
    DRAFT = "draft", _("draft")
    IN_REVIEW = "in_review", _("in review")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    APPROVED = "approved", _("approved")
    SUPERSEDED = "superseded", _("superseded")


class Version(models.Model):
    """A cut of a request's story: v1, v2, …"""

    request = models.ForeignKey(ShootRequest, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    media = models.ForeignKey(
        "media_pipeline.MediaAsset", on_delete=models.PROTECT, related_name="versions"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="versions"
    )
    notes = models.TextField(_("notes"), blank=True)
    state = models.CharField(
        max_length=20, choices=VersionState.choices, default=VersionState.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sha256 of exactly the file that was approved; publishing re-checks it.
    approved_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="one_version_number")
        ]
        verbose_name = _("cut")
        verbose_name_plural = _("cuts")

    def __str__(self) -> str:
        return f"{self.request} v{self.number}"


class Comment(models.Model):
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    timecode = models.FloatField(_("timecode, seconds"), null=True, blank=True)
    timecode_end = models.FloatField(_("end timecode, seconds"), null=True, blank=True)
    text = models.TextField(_("text"), max_length=5000)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [models.F("timecode").asc(nulls_last=True), "created_at"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.text[:50]


class Publication(models.Model):
    request = models.ForeignKey(ShootRequest, on_delete=models.CASCADE, related_name="publications")
    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="publications")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="publications")
    url = models.URLField(_("URL"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    caption = models.TextField(_("caption"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    taken_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    takedown_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return f"{self.request} → {self.channel}"


class StatusChange(models.Model):
    """The audit row: every state change of a request, shoot, cut or publication."""

    class Subject(models.TextChoices):
        REQUEST = "request", _("request")
        SHOOT = "shoot", _("shoot")
        VERSION = "version", _("cut")
        PUBLICATION = "publication", _("publication")

    request = models.ForeignKey(ShootRequest, on_delete=models.CASCADE, related_name="history")
    subject = models.CharField(max_length=20, choices=Subject.choices, default=Subject.REQUEST)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


class NotificationKind(models.TextChoices):
    CUT_AWAITS_REVIEW = "cut_awaits_review", _("a cut awaits review")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    CUT_APPROVED = "cut_approved", _("a cut was approved")
    REQUEST_SCHEDULED = "request_scheduled", _("request scheduled")
    REQUEST_PUBLISHED = "request_published", _("request published")
    SHOOT_CHANGED = "shoot_changed", _("a shoot was rescheduled or cancelled")
    NEW_COMMENT = "new_comment", _("a new comment")
    MEDIA_FAILED = "media_failed", _("media processing failed")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    request = models.ForeignKey(
        ShootRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"


class NotificationOptOut(models.Model):
    class Medium(models.TextChoices):
        IN_APP = "in_app", _("in the app")
        EMAIL = "email", _("by e-mail")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    medium = models.CharField(max_length=10, choices=Medium.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "medium"], name="one_opt_out")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}/{self.medium}"
