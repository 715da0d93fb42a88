"""Django admin for the IT department: users' departments, departments, channels,
campaigns and kit. Statuses are read-only here; they change through the workflow."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from crew.models import (
    Campaign,
    Channel,
    Department,
    Kit,
    Profile,
    Publication,
    ShootRequest,
    StatusChange,
)

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("department", "phone", "language")


admin.site.unregister(User)


@admin.register(User)
class KadrUserAdmin(UserAdmin):
    inlines = [ProfileInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "max_upload_bytes", "max_duration_seconds", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "hashtag", "starts_on", "ends_on")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Kit)
class KitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("at", "subject", "subject_id", "from_status", "to_status", "actor", "note")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ShootRequest)
class ShootRequestAdmin(admin.ModelAdmin):
    list_display = ("title", "department", "status", "priority", "created_at")
    list_filter = ("status", "department", "campaign")
    search_fields = ("title", "description")
    readonly_fields = ("status", "slug", "created_at", "updated_at")
    inlines = [StatusChangeInline]


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("request", "channel", "url", "published_at", "taken_down_at")
    readonly_fields = ("taken_down_at", "taken_down_by", "takedown_reason")
