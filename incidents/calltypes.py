"""The center's standard call types: the SOP's six 911 event codes and the natures it dispatches.

Priorities: 1 is the most urgent. Response goals: the seed's 5 minutes for the top three law
priorities (weapons discharge, robbery, physical disturbance); the fire and EMS goals are the
center's own choice (NFPA 1710-style 8 minutes) and editable in the admin.
"""

STANDARD_CALL_TYPES = [
    # code, name, priority, disciplines, goal seconds, sop code, plan {unit_type: count}
    ("911D", "911 hang-up / abandoned", 2, ["law"], None, True, {"patrol": 1}),
    ("911M", "911 misdial", 4, ["law"], None, True, {}),
    ("911O", "911 open line, no voice contact", 2, ["law"], None, True, {"patrol": 1}),
    ("911S", "911 open line, suspicious noises (duress)", 1, ["law"], 300, True, {"patrol": 2}),
    ("911T", "Received via Text to 9-1-1", 2, ["law"], None, True, {"patrol": 1}),
    ("911W", "911 call from a wireless phone", 2, ["law"], None, True, {"patrol": 1}),
    ("WEAPON", "Weapons discharge", 1, ["law"], 300, False, {"patrol": 2, "supervisor": 1}),
    ("ROBBERY", "Robbery in progress / just occurred", 1, ["law"], 300, False, {"patrol": 2}),
    ("DISTURB", "Physical disturbance / fight in progress", 1, ["law"], 300, False, {"patrol": 2}),
    ("STRFIRE", "Structure fire", 1, ["fire", "ems", "law"], 480, False, {"engine": 2, "ladder": 1, "medic": 1}),
    ("VEHFIRE", "Vehicle fire", 2, ["fire"], 480, False, {"engine": 1}),
    ("WILDFIRE", "Wildland fire", 1, ["fire"], 600, False, {"brush": 2, "engine": 1, "tender": 1}),
    ("MEDICAL", "Medical emergency", 1, ["ems", "fire"], 480, False, {"medic": 1, "engine": 1}),
    ("UNCONSC", "Unconscious person", 1, ["ems", "fire"], 480, False, {"medic": 1, "engine": 1}),
    ("CRASHINJ", "Crash with injuries", 1, ["law", "fire", "ems"], 480, False, {"patrol": 1, "engine": 1, "medic": 1}),
    ("CRASH", "Crash, no injuries / road blocked", 3, ["law"], None, False, {"patrol": 1}),
    ("HAZMAT", "Hazardous material spill", 1, ["fire", "law"], 480, False, {"engine": 2, "battalion": 1, "patrol": 1}),
    ("ALARM", "Alarm (burglary / fire)", 3, ["law"], None, False, {"patrol": 1}),
    ("WELFARE", "Welfare check", 3, ["law"], None, False, {"patrol": 1}),
    ("THEFT", "Theft report", 4, ["law"], None, False, {"patrol": 1}),
    ("VANDAL", "Vandalism report", 4, ["law"], None, False, {"patrol": 1}),
    ("ANIMAL", "Animal problem", 4, ["animal"], None, False, {"animal_control": 1}),
    ("UTILITY", "Utility problem (water, sewer, streets)", 4, ["utility"], None, False, {"utility_crew": 1}),
    ("SUSP", "Suspicious person / vehicle", 3, ["law"], None, False, {"patrol": 1}),
]


def load_call_types(data: dict | None = None) -> str:
    from incidents.models import CallType, ResponsePlanItem

    for code, name, priority, disciplines, goal, sop, plan in STANDARD_CALL_TYPES:
        call_type, _ = CallType.objects.update_or_create(
            code=code,
            defaults={"name": name, "default_priority": priority, "disciplines": disciplines,
                      "response_goal_seconds": goal, "sop_code": sop},
        )
        for unit_type, count in plan.items():
            ResponsePlanItem.objects.update_or_create(call_type=call_type, unit_type=unit_type, defaults={"count": count})
    return f"{len(STANDARD_CALL_TYPES)} call types"
