from django.urls import path

from monitoring import views

urlpatterns = [
    path("<slug:name>/", views.monitoring_home, name="monitoring"),
]
