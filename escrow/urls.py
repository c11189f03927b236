from django.urls import path

from escrow import views

urlpatterns = [
    path("settings/payments/", views.payment_settings, name="payment_settings"),
    path("settings/payments/top-up/", views.top_up, name="top_up"),
    path("settings/payments/withdraw/", views.withdraw, name="withdraw"),
    path("payments/callback/<slug:gateway>/", views.callback, name="payment_callback"),
    path("payments/webhook/<slug:gateway>/", views.webhook, name="payment_webhook"),
    path("sandbox-bank/<str:reference>/", views.sandbox_bank, name="sandbox_bank"),
]
