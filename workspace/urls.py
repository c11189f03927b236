from django.urls import path

from workspace import views

urlpatterns = [
    path("workspace/<int:pk>/", views.workspace, name="workspace"),
    path("workspace/<int:pk>/fund/", views.fund, name="workspace_fund"),
    path("workspace/<int:pk>/upload/", views.upload, name="workspace_upload"),
    path("workspace/<int:pk>/dispute/", views.dispute_create, name="workspace_dispute"),
    path("workspace/<int:pk>/revise/", views.request_changes, name="workspace_revise"),
    path("workspace/<int:pk>/disputes/<int:dispute_pk>/<slug:operation>/", views.dispute_action, name="dispute_action"),
    path("workspace/<int:pk>/files/<int:deliverable_pk>/", views.deliverable_download, name="deliverable_download"),
    path("workspace/<int:pk>/<slug:operation>/", views.operate, name="workspace_operate"),
    path("proposals/<int:proposal_pk>/select/", views.select_proposal, name="proposal_select"),
]
