from django.urls import path

from monitoring import chart_views, drift_views, views

urlpatterns = [
    path("<slug:name>/", views.monitoring_home, name="monitoring"),
    path("<slug:name>/runs/start/", views.run_start, name="validation-start"),
    path("<slug:name>/runs/<int:run_id>/", views.run_detail, name="validation-run"),
    path("<slug:name>/runs/<int:run_id>/cancel/", views.run_cancel, name="validation-cancel"),
    path("<slug:name>/runs/<int:run_id>/rerun/", views.run_rerun, name="validation-rerun"),
    path("<slug:name>/drift/", drift_views.drift_job_list, name="drift-jobs"),
    path("<slug:name>/drift/start/", drift_views.drift_job_start, name="drift-job-start"),
    path("<slug:name>/drift/<int:job_id>/", drift_views.drift_job_detail, name="drift-job"),
    # The analyst pages (issue 7).
    path("<slug:name>/health/", chart_views.model_health, name="model-health"),
    path(
        "<slug:name>/compare/<str:before>/<str:after>/",
        chart_views.release_compare,
        name="release-compare",
    ),
    path(
        "<slug:name>/compare/<str:before>/candidate/<int:pk>/",
        chart_views.candidate_compare,
        name="candidate-compare",
    ),
    path("<slug:name>/deployments/", chart_views.deployments, name="deployments"),
    path("<slug:name>/drift/charts/", chart_views.drift_overview, name="drift-overview"),
    path("<slug:name>/drift/<int:job_id>/charts/", chart_views.drift_job, name="drift-job-charts"),
    path(
        "<slug:name>/drift/<int:job_id>/results/<int:result_id>/",
        chart_views.drift_result,
        name="drift-result",
    ),
]
