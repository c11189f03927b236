from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/new/", views.saved_search_create_view, name="saved_search_create"),
    path("alerts/profile/", views.alert_settings_view, name="alert_settings"),
    path("alerts/<int:pk>/", views.saved_search_update_view, name="saved_search_update"),
    path("alerts/<int:pk>/delete/", views.saved_search_delete_view, name="saved_search_delete"),
]
