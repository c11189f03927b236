from django.urls import path

from workspace import views

urlpatterns = [
    path("workspace/<int:pk>/", views.workspace, name="workspace"),
    path("workspace/<int:pk>/fund/", views.fund, name="workspace_fund"),
    path("workspace/<int:pk>/upload/", views.upload, name="workspace_upload"),
    path("workspace/<int:pk>/dispute/", views.dispute_create, name="workspace_dispute"),
    path("workspace/<int:pk>/revise/", views.request_changes, name="workspace_revise"),
    path("workspace/<int:pk>/disputes/<int:dispute_pk>/<slug:operation>/", views.dispute_action, name="dispute_action"),
    path("workspace/<int:pk>/cancel-late/", views.cancel_late, name="workspace_cancel_late"),
    path("workspace/<int:pk>/offers/", views.offer_create, name="workspace_offer"),
    path("workspace/<int:pk>/offers/<int:offer_pk>/<slug:operation>/", views.offer_action, name="offer_action"),
    path("workspace/<int:pk>/release-part/", views.release_part, name="workspace_release_part"),
    path("workspace/<int:pk>/bonus/", views.bonus, name="workspace_bonus"),
    path("workspace/<int:pk>/changes/", views.change_create, name="workspace_change"),
    path("workspace/<int:pk>/changes/<int:change_pk>/<slug:operation>/", views.change_action, name="change_action"),
    path("workspace/<int:pk>/files/<int:deliverable_pk>/", views.deliverable_download, name="deliverable_download"),
    path("workspace/<int:pk>/<slug:operation>/", views.operate, name="workspace_operate"),
    path("proposals/<int:proposal_pk>/select/", views.select_proposal, name="proposal_select"),
]
