from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from releases.access import access_repository


@require_GET
def monitoring_home(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    return render(request, "monitoring/home.html", {"repository": repository})
