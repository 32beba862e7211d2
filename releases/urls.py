"""Each URL's name is its view function's name (tests/test_url_names.py checks it)."""

from django.urls import path

from releases import attestation_views as av
from releases import operation_views as ov
from releases import promotion_views as pv
from releases import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit, name="audit"),
    path("r/<slug:name>/", views.repository_overview, name="repository_overview"),
    path("r/<slug:name>/branches/", views.branch_list, name="branch_list"),
    path("r/<slug:name>/sync/", views.sync_now, name="sync_now"),
    path("r/<slug:name>/hotfix/", pv.hotfix_cut, name="hotfix_cut"),
    path("r/<slug:name>/back-merge/", pv.back_merge, name="back_merge"),
    path("r/<slug:name>/backports/<int:item_id>/wont/", pv.backport_wont, name="backport_wont"),
    path("r/<slug:name>/freezes/", pv.freeze_create, name="freeze_create"),
    path("r/<slug:name>/freezes/<int:pk>/end/", pv.freeze_end, name="freeze_end"),
    path("r/<slug:name>/candidates/", pv.candidate_list, name="candidate_list"),
    path("r/<slug:name>/candidates/new/", pv.candidate_create, name="candidate_create"),
    path("r/<slug:name>/candidates/<int:pk>/", pv.candidate_detail, name="candidate_detail"),
    path(
        "r/<slug:name>/candidates/<int:pk>/approve/",
        pv.candidate_approve,
        name="candidate_approve",
    ),
    path("r/<slug:name>/candidates/<int:pk>/reject/", pv.candidate_reject, name="candidate_reject"),
    path("r/<slug:name>/candidates/<int:pk>/rerun/", pv.candidate_rerun, name="candidate_rerun"),
    path("r/<slug:name>/candidates/<int:pk>/waive/", pv.candidate_waive, name="candidate_waive"),
    path(
        "r/<slug:name>/candidates/<int:pk>/approve-manifest/",
        pv.candidate_approve_manifest,
        name="candidate_approve_manifest",
    ),
    path("r/<slug:name>/candidates/<int:pk>/cancel/", pv.candidate_cancel, name="candidate_cancel"),
    path(
        "r/<slug:name>/candidates/<int:pk>/promote/",
        pv.candidate_promote,
        name="candidate_promote",
    ),
    path("r/<slug:name>/operations/", ov.operation_list, name="operation_list"),
    path("r/<slug:name>/operations/<int:pk>/", ov.operation_detail, name="operation_detail"),
    path(
        "r/<slug:name>/operations/<int:pk>/reconcile/",
        ov.operation_reconcile,
        name="operation_reconcile",
    ),
    path("r/<slug:name>/incidents/", ov.incident_list, name="incident_list"),
    path(
        "r/<slug:name>/incidents/<int:pk>/acknowledge/",
        ov.incident_acknowledge,
        name="incident_acknowledge",
    ),
    path("r/<slug:name>/releases/", views.release_list, name="release_list"),
    path("r/<slug:name>/releases/<str:version>/", views.release_detail, name="release_detail"),
    path(
        "r/<slug:name>/releases/<str:version>/attestation/",
        av.release_attestation,
        name="release_attestation",
    ),
    path("r/<slug:name>/releases/<str:version>/verify/", av.release_verify, name="release_verify"),
    path(
        "r/<slug:name>/releases/<str:version>/rollback/",
        pv.rollback_preview,
        name="rollback_preview",
    ),
    path(
        "r/<slug:name>/releases/<str:version>/rollback/confirm/",
        pv.rollback_confirm,
        name="rollback_confirm",
    ),
]
