"""Your notification settings, the deliveries page (admins), and the header's count."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from notifications import selectors, services
from notifications.audiences import preferences_of
from notifications.catalogue import EVENT_KEYS
from notifications.models import Delivery, DeliveryStatus
from releases import candidate_selectors
from releases.access import require_reader
from releases.errors import ActionRefused
from releases.models import Repository


def _require_deliveries_reader(request: HttpRequest) -> None:
    require_reader(request)
    if not request.user.has_perm("notifications.view_delivery"):
        raise PermissionDenied("Only admins read the deliveries.")


@require_safe
def notification_preferences(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    email = getattr(request.user, "email", "")  # require_reader let only signed-in users in
    context = {
        "rows": preferences_of(user=request.user),
        "email": email,
        "own": selectors.personal_settings_of(user=request.user),
        "repositories": Repository.objects.order_by("name"),
    }
    return render(request, "notifications/preferences.html", context)


@require_POST
def notification_preferences_save(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    try:
        changed = services.preferences_save(
            user=request.user,
            email_on=set(request.POST.getlist("email")),
            chat_on=set(request.POST.getlist("chat")),
            repository_ids={int(pk) for pk in request.POST.getlist("repositories") if pk.isdigit()},
            chat_url=request.POST.get("chat_url", ""),
            chat_url_remove=bool(request.POST.get("chat_url_remove")),
        )
    except ActionRefused as error:
        messages.error(request, str(error))
        return redirect("notification_preferences")
    messages.success(
        request, f"Saved: {', '.join(changed)} changed." if changed else "Saved: nothing changed."
    )
    return redirect("notification_preferences")


@require_safe
def delivery_list(request: HttpRequest) -> HttpResponse:
    _require_deliveries_reader(request)
    filters = {key: request.GET.get(key, "").strip() for key in ("status", "event", "target")}
    rows = selectors.deliveries(
        status=filters["status"], event_key=filters["event"], target=filters["target"]
    )
    context = {
        "page": Paginator(rows, 50).get_page(request.GET.get("page")),
        "filters": filters,
        "statuses": DeliveryStatus.values,
        "event_keys": EVENT_KEYS,
        "targets": selectors.TARGET_KINDS,
        "may_redeliver": request.user.has_perm("notifications.redeliver_delivery"),
    }
    return render(request, "notifications/deliveries.html", context)


@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    _require_deliveries_reader(request)
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.delivery_redeliver(delivery=delivery, actor=request.user)
        messages.success(request, f"Delivery #{pk} queued again.")
    except ActionRefused as error:
        messages.error(request, str(error))
    return redirect("delivery_list")


@require_safe
def waiting_count(request: HttpRequest) -> HttpResponse:
    """The header's badge, fetched by the page once it has loaded (so no page pays its
    queries): what waits for the reader across every repository."""
    require_reader(request)
    waiting = candidate_selectors.waiting_for(user=request.user)
    return render(request, "notifications/_waiting_count.html", {"waiting": waiting})
