"""The SOP's COMTECH TEXT TO 9-1-1 QUICK MESSAGES, as this center's defaults, and their rendering."""

from __future__ import annotations

from django.conf import settings

from text911.models import QuickMessage

P = QuickMessage.Purpose

# number, purpose, label, text — the SOP's eight, with the center's name and number as placeholders,
# plus the standby message rule 26 requires before a transfer.
DEFAULT_QUICK_MESSAGES = [
    (1, P.LOCATION, "Location?", "{center}. What is the location of the emergency?"),
    (2, P.NATURE, "What emergency?", "{center}. What is the emergency you are reporting?"),
    (3, P.GPS_ONLY, "GPS only — emergency?",
     "{center}. We received a text message to 9-1-1 with your GPS coordinates only. Do you have an emergency?"),
    (4, P.VOICE, "Voice call?", "If possible, are you able to make a voice call now to {non_emergency_number}?"),
    (5, P.NON_EMERGENCY, "Not an emergency",
     "We received a message that does not appear to be an emergency. If you have an emergency, please call or "
     "text 9-1-1. No one is being dispatched at this time."),
    (6, P.FINAL, "Session concluded (final)",
     "Your text session with 9-1-1 has concluded. For future emergencies, call 9-1-1 if you can, text if you "
     "can't. For non-emergencies, please call {non_emergency_number}."),
    (7, P.ENGLISH_ONLY, "English only",
     "Only text messages in English can be accepted at this time. This text session is being ended. Please send "
     "text messages in English or make a voice call to 9-1-1."),
    (8, P.SPANISH, "Spanish",
     "Los mensajes de texto en espanol no pueden ser aceptados en esta momente. Envia mensajes en ingles. Si no "
     "puede, por favor llame al 9-1-1. Gracias."),
    (9, P.STANDBY, "Standby — transfer", "Please standby, I am connecting you to Fire/Medical services."),
]


def quick_messages_ensure(data: dict | None = None) -> str:
    """Create the default quick messages that are missing; never overwrite the PSAP's edits."""
    created = 0
    for number, purpose, label, text in DEFAULT_QUICK_MESSAGES:
        _, was_created = QuickMessage.objects.get_or_create(
            number=number, defaults={"purpose": purpose, "label": label, "text": text}
        )
        created += int(was_created)
    return f"{QuickMessage.objects.count()} quick messages ({created} new)"


def quick_message_render(text: str) -> str:
    """Fill in the placeholders; an unknown placeholder is left as written rather than failing a send."""
    values = {"center": settings.PSCC_TEXT_CENTER_LABEL, "non_emergency_number": settings.PSCC_NON_EMERGENCY_NUMBER}
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def quick_message_for(purpose: str) -> QuickMessage | None:
    return QuickMessage.objects.filter(purpose=purpose, active=True).order_by("number").first()
