from django.urls import path

from releases import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit, name="audit"),
    path("r/<slug:name>/", views.repository_overview, name="repository"),
    path("r/<slug:name>/branches/", views.branches, name="branches"),
    path("r/<slug:name>/sync/", views.sync_now, name="sync-now"),
    path("r/<slug:name>/candidates/", views.candidates, name="candidates"),
    path("r/<slug:name>/releases/", views.releases_list, name="releases"),
]
