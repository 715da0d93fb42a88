"""Serializers for the tracker and shoots API.

`status` and `state` are always read-only: only crew.workflow changes them.
Writes go through the workflow; these classes validate input field by field
so a client gets `{"field": ["message"]}` for everything it can fix itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from crew import permissions
from crew.models import (
    Assignment,
    Campaign,
    Channel,
    Department,
    Footage,
    Kit,
    Shoot,
    ShootRequest,
    StatusChange,
)

User = get_user_model()

TITLE_MAX = ShootRequest._meta.get_field("title").max_length or 200


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()


class DepartmentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "kind", "kind_display"]


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "slug", "goal", "hashtag", "starts_on", "ends_on"]


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "slug", "name", "max_upload_bytes", "max_duration_seconds"]


class ActionNoteSerializer(serializers.Serializer):
    """Body of accept / decline / cancel: a note, required where the action says so."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ShootRequestSerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        error_messages={
            "does_not_exist": _("No such department."),
            "incorrect_type": _("Give the department's id (a number)."),
        },
    )
    department_name = serializers.CharField(source="department.name", read_only=True)
    title = serializers.CharField(
        max_length=TITLE_MAX,
        error_messages={
            "blank": _("Give the request a title."),
            "required": _("Give the request a title."),
            "max_length": _("Keep the title under {max_length} characters."),
        },
    )
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("No such campaign.")},
    )
    target_channels = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Channel.objects.all(),
        error_messages={"does_not_exist": _("No such channel: {value}.")},
    )
    requested_by = UserBriefSerializer(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = ShootRequest
        fields = [
            "id",
            "title",
            "description",
            "department",
            "department_name",
            "source",
            "requested_by",
            "contact_name",
            "contact_phone",
            "location",
            "desired_at",
            "deadline",
            "priority",
            "target_channels",
            "campaign",
            "status",
            "status_display",
            "slug",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "slug", "created_at", "updated_at"]

    def validate_deadline(self, value: Any) -> Any:
        if value and self.instance is None and value < timezone.localdate():
            raise serializers.ValidationError(_("The deadline cannot be in the past."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        if self.instance is None and "department" not in attrs:
            # A requester works for one department: it is the default.
            own = permissions.department_id_of(user)
            if not permissions.is_requester(user) or own is None:
                raise serializers.ValidationError({"department": _("Choose a department.")})
            attrs["department"] = Department.objects.get(pk=own)
        return attrs

    def create(self, validated_data: dict[str, Any]) -> ShootRequest:
        from crew import workflow

        channels = validated_data.pop("target_channels", [])
        return workflow.submit_request(
            by=self.context["request"].user, channels=channels, **validated_data
        )

    def update(self, instance: ShootRequest, validated_data: dict[str, Any]) -> ShootRequest:
        user = self.context["request"].user
        department = validated_data.get("department")
        if department is not None and department.pk != instance.department_id:
            permissions.require(permissions.can_create_request(user, department.pk))
        channels = validated_data.pop("target_channels", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        # Save only what was edited: a concurrent status change must not be overwritten.
        instance.save(update_fields=[*validated_data, "updated_at"])
        if channels is not None:
            instance.target_channels.set(channels)
        return instance


class StatusChangeSerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    to_display = serializers.SerializerMethodField()

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "subject",
            "subject_id",
            "from_status",
            "to_status",
            "to_display",
            "actor",
            "at",
            "note",
        ]

    def get_to_display(self, row: StatusChange) -> str:
        from crew.models import ShootState, Status, VersionState

        for choices in (Status, ShootState, VersionState):
            if row.to_status in choices.values:
                return str(choices(row.to_status).label)
        return row.to_status


# --- Shoots -----------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["user", "username", "name", "role"]

    def get_name(self, row: Assignment) -> str:
        return row.user.get_full_name() or row.user.get_username()


class FootageSerializer(serializers.ModelSerializer):
    media = serializers.UUIDField(source="media_id", read_only=True)
    original_name = serializers.CharField(source="media.original_name", read_only=True)
    sha256 = serializers.CharField(source="media.sha256", read_only=True)
    media_status = serializers.CharField(source="media.status", read_only=True)
    added_by = serializers.IntegerField(source="added_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Footage
        fields = [
            "id",
            "media",
            "original_name",
            "sha256",
            "media_status",
            "added_by",
            "created_at",
        ]


class ShootSerializer(serializers.ModelSerializer):
    request_title = serializers.CharField(source="request.title", read_only=True)
    crew = AssignmentSerializer(source="assignments", many=True, read_only=True)
    kit: serializers.PrimaryKeyRelatedField[Kit] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    footage = FootageSerializer(many=True, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Shoot
        fields = [
            "id",
            "request",
            "request_title",
            "starts_at",
            "ends_at",
            "location",
            "notes",
            "log",
            "state",
            "state_display",
            "crew",
            "kit",
            "footage",
            "created_by",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields


CREW_ENTRY_SCHEMA = {
    "oneOf": [
        {"type": "integer", "description": "a user id; the role is guessed"},
        {
            "type": "object",
            "properties": {
                "user": {"type": "integer"},
                "role": {"type": "string", "enum": list(Assignment.Role.values)},
            },
            "required": ["user"],
        },
    ]
}


@extend_schema_field(CREW_ENTRY_SCHEMA)
class CrewEntryField(serializers.Field):
    """A crew member: a user id, or {"user": id, "role": "operator"}."""

    default_error_messages = {
        "invalid": _("Give a user id, or an object with “user” and “role”."),
        "no_user": _("No such person: {value}."),
        "role": _("Unknown crew role “{value}”."),
    }

    def to_internal_value(self, data: Any) -> tuple[Any, str | None]:
        role = None
        if isinstance(data, dict):
            role = data.get("role") or None
            data = data.get("user")
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        if role is not None and role not in Assignment.Role.values:
            self.fail("role", value=role)
        try:
            user = User.objects.get(pk=int(data), is_active=True)
        except (User.DoesNotExist, ValueError):
            self.fail("no_user", value=data)
        return user, role

    def to_representation(self, value: Any) -> Any:
        return value


def default_role(user: Any) -> str:
    """The role a plain id gets: their last role on a shoot, else one their username names."""
    last = (
        Assignment.objects.filter(user=user).order_by("-shoot__starts_at").values_list("role")[:1]
    )
    if last:
        return last[0][0]
    if user.get_username() in Assignment.Role.values:
        return user.get_username()
    return Assignment.Role.OPERATOR


class ShootWriteSerializer(serializers.Serializer):
    """Shared fields of scheduling and rescheduling."""

    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    location = serializers.CharField(required=False, allow_blank=True, max_length=300)
    crew = serializers.ListField(child=CrewEntryField(), required=False)
    kit = serializers.PrimaryKeyRelatedField(
        queryset=Kit.objects.filter(active=True),
        many=True,
        required=False,
        error_messages={"does_not_exist": _("No such kit item: {pk_value}.")},
    )

    def validate_crew(self, value: list[tuple[Any, str | None]]) -> list[Any]:
        from crew.workflow import CrewMember

        if not value:
            raise serializers.ValidationError(_("Assign at least one crew member."))
        users = [user.pk for user, _role in value]
        if len(set(users)) != len(users):
            raise serializers.ValidationError(_("A person is listed twice."))
        return [CrewMember(user, role or default_role(user)) for user, role in value]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts_at = attrs.get("starts_at") or getattr(self.instance, "starts_at", None)
        ends_at = attrs.get("ends_at") or getattr(self.instance, "ends_at", None)
        if starts_at and ends_at and ends_at <= starts_at:
            raise serializers.ValidationError({"ends_at": _("The end must be after the start.")})
        if "starts_at" in attrs and attrs["starts_at"] < timezone.now():
            message = (
                _("A new shoot cannot start in the past.")
                if self.instance is None
                else _("A shoot cannot be moved into the past.")
            )
            raise serializers.ValidationError({"starts_at": message})
        return attrs


class ShootCreateSerializer(ShootWriteSerializer):
    request = serializers.IntegerField(help_text="The shoot request's id.")
    crew = serializers.ListField(child=CrewEntryField())
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ShootUpdateSerializer(ShootWriteSerializer):
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ShootCompleteSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class FootageAttachSerializer(serializers.Serializer):
    media = serializers.UUIDField(help_text="A media id from POST /api/v1/media/.")


class FootageAttachedSerializer(FootageSerializer):
    """The footage row, and whether this call attached it or it was already there."""

    created = serializers.SerializerMethodField()

    class Meta(FootageSerializer.Meta):
        fields = [*FootageSerializer.Meta.fields, "created"]

    def get_created(self, row: Footage) -> bool:
        return bool(self.context.get("created"))


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class ErrorSerializer(serializers.Serializer):
    # 400 may instead carry DRF field errors, {"field": ["message", ...]} (the API contract).
    detail = serializers.CharField(required=False)


# The answers every action may give besides success, for the schema.
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="invalid input (or DRF field errors)"),
    403: OpenApiResponse(ErrorSerializer, description="your role may not do this"),
    404: OpenApiResponse(ErrorSerializer, description="not visible to you"),
    409: OpenApiResponse(ErrorSerializer, description="not possible in the current state"),
}


class ClashSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["person", "kit"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    shoot = serializers.IntegerField()
    request = serializers.IntegerField()
    request_title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    message = serializers.CharField()


class ScheduleConflictSerializer(ErrorSerializer):
    clashes = ClashSerializer(many=True)
