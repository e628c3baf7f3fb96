from django.contrib import admin

from .models import CenterMember, DepartmentCapacity, GuidelineRule, ReferralCenter


@admin.register(GuidelineRule)
class GuidelineRuleAdmin(admin.ModelAdmin):
    """Guideline rules are reference data that admins maintain here."""

    list_display = ("name", "icd10_from", "icd10_to", "level", "treat_level", "designated", "active")
    list_filter = ("level", "treat_level", "active")
    search_fields = ("name", "icd10_from", "icd10_to")
    list_editable = ("active",)


class CenterMemberInline(admin.TabularInline):
    model = CenterMember
    raw_id_fields = ("user",)
    extra = 1


@admin.register(ReferralCenter)
class ReferralCenterAdmin(admin.ModelAdmin):
    list_display = ("__str__", "facility", "sla_green_minutes", "sla_urgent_minutes", "sla_routine_minutes",
                    "sla_down_hours")
    inlines = [CenterMemberInline]


@admin.register(DepartmentCapacity)
class DepartmentCapacityAdmin(admin.ModelAdmin):
    """How many referral appointments each receiving department offers per day."""

    list_display = ("department", "daily_slots", "slot_minutes")
    raw_id_fields = ("department",)

# Referrals themselves are person-level data: maintained through the scoped, audited pages and API only.
