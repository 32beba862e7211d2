"""Each URL's name is its view's name (tests/test_url_names.py checks it)."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("account/notifications/", views.notification_preferences, name="notification_preferences"),
    path(
        "account/notifications/save/",
        views.notification_preferences_save,
        name="notification_preferences_save",
    ),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery_redeliver"),
    path("waiting/count/", views.waiting_count, name="waiting_count"),
]
