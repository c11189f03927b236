from django.urls import path

from invitations import views

urlpatterns = [
    path("freelancers/<str:username>/invite/", views.invitation_send_view, name="invitation_send"),
    path("invitations/<int:pk>/decline/", views.invitation_decline_view, name="invitation_decline"),
]
