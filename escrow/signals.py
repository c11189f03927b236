"""What escrow tells the apps above it, without importing them."""

from django.dispatch import Signal

# A verified gateway payment was credited to the payer's wallet; sent inside the crediting transaction with
# `payment=`, so what the payment was for (workspace funds a milestone's step) commits or rolls back with it.
payment_credited = Signal()
