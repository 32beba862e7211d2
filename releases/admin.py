from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from releases import services
from releases.errors import ActionRefused
from releases.models import AuditEvent, Branch, Repository


class RepositoryAddForm(forms.ModelForm):
    """Registration from the admin goes through the same service as `repo add`."""

    class Meta:
        model = Repository
        fields = [
            "name",
            "origin",
            "production_branch",
            "development_branch",
            "required_approvals",
            "authors_may_approve",
            "manifest_path",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.request_user = kwargs.pop("request_user", None)
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.instance = services.repository_create(actor=self.request_user, **data)
        except ActionRefused as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "origin_display",
        "production_branch",
        "development_branch",
        "last_synced_at",
    ]
    readonly_fields = [
        "created_at",
        "last_synced_at",
        "last_sync_attempt_at",
        "last_sync_error",
        "refs_digest",
    ]

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            form = RepositoryAddForm

            class BoundForm(form):  # type: ignore[valid-type,misc]
                def __init__(self, *args: Any, **kw: Any) -> None:
                    super().__init__(*args, request_user=request.user, **kw)

            return BoundForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The origin and the clone belong together; change it by registering anew. It is
        # shown with its password or token redacted.
        return [*self.readonly_fields, "name", "origin_display", "refused_refs"] if obj else []

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["origin"] if obj else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            return  # the service saved it (with its audit event) during validation
        services.repository_update_settings(
            actor=request.user, repository=obj, fields=form.changed_data
        )
        messages.info(request, "Settings saved and audited.")


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "repository",
        "kind",
        "head",
        "ahead_of_production",
        "behind_production",
        "gone_at",
    ]
    list_filter = ["repository", "kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_name", "action", "object_repr"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
