from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("profile/edit/<slug:tab>/", views.profile_edit, name="profile_edit_tab"),
    path("profile/experience/<int:pk>/delete/", views.experience_delete, name="experience_delete"),
    path("profile/education/<int:pk>/delete/", views.education_delete, name="education_delete"),
    path("profile/portfolio/<int:pk>/delete/", views.portfolio_delete, name="portfolio_delete"),
    path("freelancers/", views.freelancer_directory_view, name="freelancer_directory"),
    path("u/<str:username>/", views.profile_public_view, name="profile_public"),
    path("u/<str:username>/resume.pdf", views.resume_download, name="profile_resume"),
]
