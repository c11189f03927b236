from django.urls import path

from projects import views

urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create_view, name="project_create"),
    path("projects/<int:pk>/", views.project_detail_view, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/status/", views.project_status, name="project_status"),
    path(
        "projects/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="project_attachment",
    ),
    path(
        "projects/<int:pk>/attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="project_attachment_delete",
    ),
    path("my-activities/", views.my_activities, name="my_activities"),
    path("help/", views.help_page, name="help"),
    path("help/<slug:slug>/", views.help_page, name="help_page"),
]
