from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from releases import identities, services
from releases.errors import ActionRefused
from releases.models import AuditEvent, Branch, GitHubAccount, GitIdentity, Repository


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


class RepositoryChangeForm(forms.ModelForm):
    archive_with_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Archive this repository (it is never deleted): give the reason. Its "
        "history stays readable; nothing syncs or changes it again.",
    )

    class Meta:
        model = Repository
        # The origin is shown redacted, read-only (see get_readonly_fields).
        fields = [
            "production_branch",
            "development_branch",
            "tag_style",
            "required_approvals",
            "authors_may_approve",
            "manifest_path",
            "forge",
            "forge_project",
            "forge_token_env",
            "production_protected",
            "forge_reviews_approve",
            "require_signed_commits",
            "require_signed_tags",
            "allowed_signers",
            "gpg_public_keys",
            "partial_clone",
            "sign_tags",
        ]


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
        kwargs["form"] = RepositoryChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive instead: see RepositoryChangeForm

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The origin and the clone belong together; change it by registering anew. It is
        # shown with its password or token redacted.
        if obj is None:
            return []
        return [
            *self.readonly_fields,
            "name",
            "origin_display",
            "refused_refs",
            "archived_at",
            "archive_reason",
        ]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["origin"] if obj else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            return  # the service saved it (with its audit event) during validation
        settings_changed = [name for name in form.changed_data if name != "archive_with_reason"]
        if settings_changed:
            services.repository_update_settings(
                actor=request.user, repository=obj, fields=settings_changed
            )
            messages.info(request, "Settings saved and audited.")
        reason = form.cleaned_data.get("archive_with_reason", "")
        if reason.strip():
            try:
                services.repository_archive(actor=request.user, repository=obj, reason=reason)
            except ActionRefused as error:
                messages.error(request, str(error))
            else:
                messages.info(request, f"{obj.name} archived.")


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the admin site shows and never adds, changes or deletes (services write it)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor_name", "action", "object_repr"]
    list_filter = ["action"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Users are deactivated, never deleted; superuser status and per-user permissions are
    set only from the command line (`manage.py createsuperuser`, `manage.py shell`), so an
    admin cannot raise itself above the admin role."""

    readonly_fields = ["is_superuser", "user_permissions", "last_login", "date_joined"]
    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Deactivate the selected users (audited)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            try:
                identities.user_deactivate(actor=request.user, user=user)
            except ActionRefused as error:
                messages.error(request, f"{user}: {error}")
            else:
                messages.info(request, f"{user} deactivated.")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.is_active = True  # deactivation goes through the audited service
            super().save_model(request, obj, form, change)
            try:
                identities.user_deactivate(actor=request.user, user=obj)
            except ActionRefused as error:
                messages.error(request, str(error))
            return
        super().save_model(request, obj, form, change)


@admin.register(GitIdentity)
class GitIdentityAdmin(admin.ModelAdmin):
    """Identities are added and confirmed through the audited services; an admin cannot
    confirm their own."""

    list_display = ["email", "user", "confirmed_at", "confirmed_by"]
    list_filter = ["confirmed_at"]
    search_fields = ["email", "user__username"]
    fields = ["user", "email"]
    actions = ["confirm"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and request.user.has_perm("auth.change_user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("auth.change_user")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("auth.view_user")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            made = identities.identity_add(actor=request.user, user=obj.user, email=obj.email)
        except ActionRefused as error:
            messages.error(request, str(error))
            return
        obj.pk = made.pk

    @admin.action(description="Confirm the selected identities (audited)")
    def confirm(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for identity in queryset:
            try:
                identities.identity_confirm(actor=request.user, identity=identity)
            except ActionRefused as error:
                messages.error(request, f"{identity.email}: {error}")
            else:
                messages.info(request, f"{identity.email} confirmed for {identity.user}.")


@admin.register(GitHubAccount)
class GitHubAccountAdmin(admin.ModelAdmin):
    """Linking someone's GitHub login (their reviews may count as approvals) goes through
    the audited service; unlinking is deleting the link, audited too."""

    list_display = ["user", "github_login", "linked_by", "linked_at"]
    search_fields = ["github_login", "user__username"]
    fields = ["user", "github_login"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("auth.change_user")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("auth.change_user")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("auth.change_user")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("auth.view_user")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            made = identities.github_login_set(
                actor=request.user, user=obj.user, github_login=obj.github_login
            )
        except ActionRefused as error:
            messages.error(request, str(error))
            return
        if made is not None:
            obj.pk = made.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        identities.github_login_set(actor=request.user, user=obj.user, github_login="")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for account in queryset.select_related("user"):
            self.delete_model(request, account)
