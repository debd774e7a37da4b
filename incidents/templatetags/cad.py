"""Template helpers for the CAD console panels (reads only)."""

from django import template

from incidents.models import CallType
from units.models import Agency, UnitStatus

register = template.Library()


@register.simple_tag
def cad_call_types():
    return CallType.objects.filter(active=True).order_by("code")


@register.simple_tag
def cad_agencies():
    return Agency.objects.filter(active=True).exclude(kind="psap").order_by("code")


@register.simple_tag
def cad_unit_statuses():
    return UnitStatus.choices
