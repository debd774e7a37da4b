from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def call_greeting() -> str:
    """The SOP I.2 answer script, configured per center."""
    return settings.PSCC_CALL_GREETING


@register.simple_tag
def transfer_agencies() -> list:
    """The agencies and neighbouring PSAPs a voice call may be transferred to (SOP I.5), for the
    console's transfer form; any other target can still be typed by name."""
    from units.models import Agency

    return list(Agency.objects.filter(active=True).order_by("kind", "code").only("code", "name", "kind"))
