"""Admins manage channels and read every delivery attempt (the deliveries page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications import services
from notifications.models import Channel, Delivery
from releases.admin import ReadOnlyAdmin


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "repository", "events", "enabled")
    list_filter = ("enabled",)

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        services.channel_save(channel=obj, actor=request.user, created=not change)

    def delete_model(self, request: HttpRequest, obj: Channel) -> None:
        services.channel_delete(channel=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for channel in queryset:
            services.channel_delete(channel=channel, actor=request.user)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "event_key", "title", "channel", "status", "attempts", "last_error")
    list_filter = ("status", "event_key", "channel")
    search_fields = ("title", "last_error")
    readonly_fields = [field.name for field in Delivery._meta.fields] + ["attempt_log"]
