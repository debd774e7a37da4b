from django.conf import settings

from pscc.roles import role_of


def center(request):
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    return {"center_name": settings.PSCC_CENTER_NAME, "user_role": role.value if role else ""}
