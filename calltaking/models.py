"""911 and administrative lines, and the calls that ring on them."""

from __future__ import annotations

from django.db import models

from units.models import Agency


class Line(models.Model):
    class Kind(models.TextChoices):
        EMERGENCY = "911", "911 line"
        ADMIN = "admin", "Administrative line"

    code = models.CharField(max_length=16, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(max_length=120)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"
