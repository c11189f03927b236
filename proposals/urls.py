from django.urls import path

from proposals import views

urlpatterns = [
    path("projects/<int:pk>/proposals/", views.project_proposals, name="project_proposals"),
    path("projects/<int:pk>/proposals/new/", views.proposal_create, name="proposal_create"),
    path("proposals/<int:pk>/edit/", views.proposal_update, name="proposal_update"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw_view, name="proposal_withdraw"),
    path("proposals/<int:pk>/review/", views.proposal_review_view, name="proposal_review"),
    path("projects/<int:pk>/chat/", views.project_chat, name="project_chat"),
    path("proposals/<int:pk>/phasing/", views.phasing_offer, name="phasing_offer"),
    path("phasing/<int:offer_pk>/<slug:operation>/", views.phasing_answer, name="phasing_answer"),
    path("messages/", views.conversation_list, name="conversation_list"),
    path("messages/<int:pk>/", views.conversation_view, name="conversation_detail"),
    path("messages/<int:pk>/poll/", views.conversation_poll, name="conversation_poll"),
    path("messages/<int:pk>/send/", views.message_create, name="message_create"),
    path("messages/<int:pk>/read/", views.conversation_read, name="conversation_read"),
    path("messages/<int:pk>/typing/", views.conversation_typing_view, name="conversation_typing"),
    path("messages/<int:pk>/files/<int:message_id>/", views.message_attachment, name="message_attachment"),
]
