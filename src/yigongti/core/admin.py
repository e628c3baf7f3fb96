"""The admin site's share of the audit trail.

The audit log itself is read in its own page (auditors only); the admin offers no view of it, let alone
edits. What the admin shows of people — staff and account lists and detail pages — is recorded like any
other read of person-level data (``AuditedReadsMixin``), and every change of what an account may do (role,
groups, permissions, the unmask privilege, staff and superuser flags) is a chain event of its own
(``PrivilegeAuditMixin``, and the group admin below)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from . import audit

UNMASK = "orgs.unmask_personal_data"


class AuditedReadsMixin:
    """Audit the changelist (one ``list`` event per page shown) and the change form (one ``view``), and
    record deletions. Search terms stay out of the detail: they may be a name or an ID number."""

    audit_object_type = ""
    model: Any

    def _audit_type(self) -> str:
        return self.audit_object_type or self.model._meta.model_name

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if response.status_code == 200 and cl is not None:
            audit.record(request, "list", self._audit_type(), "", via="admin", shown=len(cl.result_list),
                         total=cl.result_count, page=cl.page_num, searched=bool(cl.query),
                         filters=sorted(k for k in request.GET if k not in ("q", "p", "o")))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.record(request, "view", self._audit_type(), object_id, via="admin")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(request, "update" if change else "create", self._audit_type(), obj.pk, via="admin",
                     fields=sorted(form.changed_data))

    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        audit.record(request, "delete", self._audit_type(), pk, via="admin")

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in ids:
            audit.record(request, "delete", self._audit_type(), pk, via="admin")


def account_privileges(user) -> dict:
    """What an account may do, as stored now: the fields and relations a privilege change touches."""
    direct = sorted(f"{a}.{c}" for a, c in user.user_permissions.values_list("content_type__app_label", "codename"))
    groups = sorted(user.groups.values_list("name", flat=True))
    via_groups = set(Group.objects.filter(user=user).values_list("permissions__content_type__app_label",
                                                                 "permissions__codename"))
    return {
        "role": getattr(user, "role", ""),
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "facility": getattr(user, "facility_id", None),
        "region": getattr(user, "region_id", None),
        "groups": groups,
        "permissions": direct,
        "unmask": user.is_superuser or UNMASK in direct or tuple(UNMASK.split(".")) in via_groups,
    }


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


class PrivilegeAuditMixin:
    """Snapshot an account's privileges before the admin saves it and compare after the many-to-many
    fields (groups, permissions) are saved too; any difference is one ``privilege`` event."""

    def save_model(self, request, obj, form, change):
        before = account_privileges(type(obj)._default_manager.get(pk=obj.pk)) if change else {}
        request._yigongti_privileges_before = before
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_yigongti_privileges_before", {})
        changes = _diff(before, account_privileges(form.instance))
        if changes:
            audit.record(request, "privilege", "account", form.instance.pk, via="admin", changes=changes,
                         new_account=not change)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit.record(request, "privilege", "account", id, via="admin", changes={"password": "reset"})
        return response


def _group_snapshot(group) -> dict:
    perms = sorted(f"{a}.{c}" for a, c in group.permissions.values_list("content_type__app_label", "codename"))
    return {"name": group.name, "permissions": perms}


class AuditedGroupAdmin(GroupAdmin):
    """A group's permissions reach every member: changes to them are privilege events too."""

    def save_model(self, request, obj, form, change):
        request._yigongti_group_before = _group_snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changes = _diff(getattr(request, "_yigongti_group_before", {}), _group_snapshot(form.instance))
        if changes:
            audit.record(request, "privilege", "group", form.instance.pk, via="admin", changes=changes,
                         members=form.instance.user_set.count())

    def delete_model(self, request, obj):
        pk, snapshot, members = obj.pk, _group_snapshot(obj), obj.user_set.count()
        super().delete_model(request, obj)
        audit.record(request, "privilege", "group", pk, via="admin", deleted=snapshot, members=members)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)
