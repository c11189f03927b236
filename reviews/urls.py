from django.urls import path

from reviews import views

urlpatterns = [
    path("workspace/<int:pk>/review/", views.review_create, name="review_create"),
    path("reviews/<int:pk>/reply/", views.reply_create, name="review_reply"),
]
