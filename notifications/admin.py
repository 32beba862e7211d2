"""Admins manage channels and webhooks (their secrets write-only, shown redacted); the
deliveries' own page is /deliveries/ (notifications/views.py), the admin site lists them
read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from notifications import services
from notifications.delivery import url_redacted
from notifications.models import Channel, Delivery, Webhook
from releases.admin import ReadOnlyAdmin
from releases.errors import ActionRefused


class ChannelForm(forms.ModelForm):
    """The URL is never sent back to the browser: empty keeps the stored one."""

    url = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="An apprise URL (it may hold a token). Left empty, the stored URL is kept.",
    )

    class Meta:
        model = Channel
        fields = ["name", "url", "emails", "repository", "events", "enabled"]

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "").strip()
        if not url and self.instance.pk:
            return str(self.instance.url)
        return url


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "shown_url", "emails", "repository", "events", "enabled")
    list_filter = ("enabled",)
    readonly_fields = ("shown_url", "consecutive_failures")

    @admin.display(description="URL (redacted)")
    def shown_url(self, obj: Channel) -> str:
        return url_redacted(obj.url)

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        services.channel_save(channel=obj, actor=request.user, created=not change)

    def delete_model(self, request: HttpRequest, obj: Channel) -> None:
        services.channel_delete(channel=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for channel in queryset:
            services.channel_delete(channel=channel, actor=request.user)


class WebhookForm(forms.ModelForm):
    """The secret is write-only: typed once, stored encrypted, never shown again."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs every payload (HMAC-SHA256), at least 16 characters. "
        "Left empty on a saved webhook, the stored secret is kept.",
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "secret", "repository", "events", "enabled"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and not self.instance.pk:
            raise forms.ValidationError("A new webhook needs a secret.")
        if secret and len(secret) < services.MIN_SECRET_LENGTH:
            raise forms.ValidationError(f"At least {services.MIN_SECRET_LENGTH} characters.")
        return secret


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("name", "shown_url", "repository", "events", "enabled")
    list_filter = ("enabled",)
    readonly_fields = ("consecutive_failures",)

    @admin.display(description="URL (redacted)")
    def shown_url(self, obj: Webhook) -> str:
        return url_redacted(obj.url)

    def save_model(self, request: HttpRequest, obj: Webhook, form: Any, change: bool) -> None:
        try:
            services.webhook_save(
                webhook=obj,
                actor=request.user,
                created=not change,
                secret=form.cleaned_data.get("secret", ""),
            )
        except ActionRefused as error:
            messages.error(request, str(error))

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        services.webhook_delete(webhook=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for webhook in queryset:
            services.webhook_delete(webhook=webhook, actor=request.user)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "event_key", "title", "target_name", "status", "attempts", "last_error")
    list_filter = ("status", "event_key", "channel", "webhook")
    search_fields = ("title", "last_error")
    list_select_related = ("channel", "webhook", "recipient")
    readonly_fields = [field.name for field in Delivery._meta.fields] + ["attempt_log"]
