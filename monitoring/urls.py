"""Each URL's name is its view function's name (tests/test_url_names.py checks it)."""

from django.urls import path

from monitoring import chart_views, deployment_views, drift_views, secret_views, views

urlpatterns = [
    path("<slug:name>/", views.monitoring_home, name="monitoring_home"),
    path("<slug:name>/runs/start/", views.validation_run_start, name="validation_run_start"),
    path(
        "<slug:name>/runs/<int:run_id>/",
        views.validation_run_detail,
        name="validation_run_detail",
    ),
    path(
        "<slug:name>/runs/<int:run_id>/cancel/",
        views.validation_run_cancel,
        name="validation_run_cancel",
    ),
    path(
        "<slug:name>/runs/<int:run_id>/rerun/",
        views.validation_run_rerun,
        name="validation_run_rerun",
    ),
    path("<slug:name>/secrets/", secret_views.repository_secrets, name="repository_secrets"),
    path(
        "<slug:name>/secrets/set/",
        secret_views.repository_secret_set,
        name="repository_secret_set",
    ),
    path(
        "<slug:name>/secrets/<int:pk>/delete/",
        secret_views.repository_secret_delete,
        name="repository_secret_delete",
    ),
    path("<slug:name>/drift/", drift_views.drift_job_list, name="drift_job_list"),
    path("<slug:name>/drift/start/", drift_views.drift_job_start, name="drift_job_start"),
    path("<slug:name>/drift/<int:job_id>/", drift_views.drift_job_detail, name="drift_job_detail"),
    # The analyst pages.
    path("<slug:name>/health/", chart_views.model_health, name="model_health"),
    path(
        "<slug:name>/health/publish-outcomes/",
        chart_views.skill_demo_publish,
        name="skill_demo_publish",
    ),
    path(
        "<slug:name>/compare/<str:before>/<str:after>/",
        chart_views.release_compare,
        name="release_compare",
    ),
    path(
        "<slug:name>/compare/<str:before>/candidate/<int:pk>/",
        chart_views.candidate_compare,
        name="candidate_compare",
    ),
    path("<slug:name>/deployments/", deployment_views.deployment_status, name="deployment_status"),
    path("<slug:name>/drift/charts/", chart_views.drift_overview, name="drift_overview"),
    path(
        "<slug:name>/drift/<int:job_id>/charts/",
        chart_views.drift_job_charts,
        name="drift_job_charts",
    ),
    path(
        "<slug:name>/drift/<int:job_id>/results/<int:result_id>/",
        chart_views.drift_result,
        name="drift_result",
    ),
]
