from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from yigongti.core.admin import AuditedReadsMixin, PrivilegeAuditMixin

from .models import (
    ApiToken,
    BoardMember,
    Department,
    Facility,
    HealthServiceGroup,
    MedicalCommunity,
    Region,
    Staff,
    User,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


class BoardInline(admin.TabularInline):
    model = BoardMember
    extra = 0


@admin.register(MedicalCommunity)
class MedicalCommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "lead_facility", "service_group")
    inlines = [BoardInline]
    raw_id_fields = ("region", "lead_facility")


@admin.register(HealthServiceGroup)
class HealthServiceGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "lead_facility")
    raw_id_fields = ("region", "lead_facility")


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "ownership", "level", "region", "open_beds", "is_active")
    list_filter = ("type", "ownership", "level", "community", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("region", "parent")
    inlines = [DepartmentInline]


@admin.register(Staff)
class StaffAdmin(AuditedReadsMixin, admin.ModelAdmin):
    list_display = ("name", "profession", "title", "work_facility", "establishment_facility", "certificate_number")
    list_filter = ("profession", "title")
    search_fields = ("name", "certificate_number")
    raw_id_fields = ("work_facility", "establishment_facility", "department")
    exclude = ("id_number",)


@admin.register(User)
class AccountAdmin(AuditedReadsMixin, PrivilegeAuditMixin, UserAdmin):
    audit_object_type = "account"
    list_display = ("username", "display_name", "role", "facility", "region", "is_active")
    list_filter = ("role", "is_active")
    raw_id_fields = ("staff", "facility", "region")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("医共体", {"fields": ("display_name", "role", "staff", "facility", "region")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created", "expires", "last_used", "revoked")
    readonly_fields = ("prefix", "digest", "created", "last_used")
