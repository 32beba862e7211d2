from django.urls import path

from releases import promotion_views as pv
from releases import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit, name="audit"),
    path("r/<slug:name>/", views.repository_overview, name="repository"),
    path("r/<slug:name>/branches/", views.branches, name="branches"),
    path("r/<slug:name>/sync/", views.sync_now, name="sync-now"),
    path("r/<slug:name>/hotfix/", pv.hotfix_cut, name="hotfix-cut"),
    path("r/<slug:name>/back-merge/", pv.back_merge, name="back-merge"),
    path("r/<slug:name>/freezes/", pv.freeze_create, name="freeze-create"),
    path("r/<slug:name>/freezes/<int:pk>/end/", pv.freeze_end, name="freeze-end"),
    path("r/<slug:name>/candidates/", pv.candidate_list, name="candidates"),
    path("r/<slug:name>/candidates/new/", pv.candidate_create, name="candidate-create"),
    path("r/<slug:name>/candidates/<int:pk>/", pv.candidate_detail, name="candidate"),
    path(
        "r/<slug:name>/candidates/<int:pk>/approve/", pv.candidate_approve, name="candidate-approve"
    ),
    path("r/<slug:name>/candidates/<int:pk>/reject/", pv.candidate_reject, name="candidate-reject"),
    path("r/<slug:name>/candidates/<int:pk>/rerun/", pv.candidate_rerun, name="candidate-rerun"),
    path("r/<slug:name>/candidates/<int:pk>/waive/", pv.candidate_waive, name="candidate-waive"),
    path("r/<slug:name>/candidates/<int:pk>/cancel/", pv.candidate_cancel, name="candidate-cancel"),
    path(
        "r/<slug:name>/candidates/<int:pk>/promote/", pv.candidate_promote, name="candidate-promote"
    ),
    path("r/<slug:name>/releases/", views.releases_list, name="releases"),
    path("r/<slug:name>/releases/<str:version>/", views.release_detail, name="release"),
    path(
        "r/<slug:name>/releases/<str:version>/rollback/",
        pv.rollback_preview,
        name="rollback-preview",
    ),
    path(
        "r/<slug:name>/releases/<str:version>/rollback/confirm/",
        pv.rollback_confirm,
        name="rollback-confirm",
    ),
]
