from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "ewsdash administration"
admin.site.site_title = "ewsdash"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("monitoring/", include("monitoring.urls")),
    path("", include("api.urls")),
    path("", include("notifications.urls")),
    path("", include("releases.urls")),
]
