"""Who a person is at the organisation's identity provider."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OidcAccount(models.Model):
    """The identity provider's account (issuer and subject) an ewsdash user signs in as.

    Single sign-on finds its user through this link only, never by user name or e-mail:
    an account at the provider can never take over a local (break-glass) account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oidc_account"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OpenID Connect account"
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="oidc_account_unique_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
