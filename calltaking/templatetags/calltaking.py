from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def call_greeting() -> str:
    """The SOP I.2 answer script, configured per center."""
    return settings.PSCC_CALL_GREETING
