"""An incident as a NENA-STA-021 Emergency Incident Data Object (EIDO, JSON, version 1.0).

Component by component (schema: NENA911/EIDO-JSON `Schema/openapi.yaml`):
- the EIDO prologue (`$id` = the incident's URN, `lastUpdateTimeStamp`, `updatedByAgencyReference`),
  `eidoVersion` "1.0", `issuingElementIdentification` (this CAD);
- `agencyComponent`: the center (PSAP, owning agency) and every agency involved (units assigned or
  responsible for the zone and a discipline of the call type);
- `incidentComponent` with its `dispositionComponent` (the schema nests dispositions in the incident);
- `callComponent`: the call or report that opened the incident; `callbackComponent` and
  `personComponent` (the caller) only when caller data may be shared;
- `locationComponent`: the incident location as PIDF-LO (geodetic point and/or civic address);
- `agentComponent` + `emergencyResourceComponent` + `dispatchComponent`: the units and who sent them;
- `notesComponent`: the partner-visible narrative; `cautionComponent`: premise hazards at the location.

Registry values (incident types, unit statuses, resource types, agency types) follow the NENA
registries' published names where we know them; where the registry is silent we send the closest
name and the local code alongside in the matching `...Internal...` field.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.utils import timezone
from django.utils.html import escape as html_escape

from incidents.models import Incident, IncidentStatus, NarrativeEntry

EIDO_VERSION = "1.0"

INCIDENT_TYPE = {"law": "Law Enforcement", "fire": "Fire", "ems": "Medical", "animal": "Animal", "utility": "Public Works"}
INCIDENT_STATUS = {
    IncidentStatus.PENDING: "Pending",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.EN_ROUTE: "Enroute",
    IncidentStatus.ON_SCENE: "OnScene",
    IncidentStatus.CLOSED: "Closed",
}
UNIT_STATUS = {
    "available": "Available", "dispatched": "Dispatched", "en_route": "Enroute", "on_scene": "OnScene",
    "transporting": "Transporting", "at_hospital": "AtHospital", "out_of_service": "OutOfService",
    "off_duty": "OffDuty",
}
RESOURCE_TYPE = {
    "patrol": "Patrol Unit", "supervisor": "Supervisor", "sro": "Patrol Unit", "detective": "Investigator",
    "engine": "Engine", "ladder": "Ladder", "medic": "ALS Ambulance", "rescue": "Rescue", "brush": "Brush Truck",
    "tender": "Water Tender", "battalion": "Chief Officer", "animal_control": "Animal Control",
    "utility_crew": "Public Works",
}
AGENCY_TYPE = {"law": "police", "fire": "fire", "ems": "ems", "animal": "animal_control", "utility": "utility",
               "psap": "psap"}
CAUTION_SEVERITY = {"weapons": "highest", "officer_safety": "highest", "hazmat": "high", "dogs": "normal",
                    "oxygen": "high", "access": "low"}
CALL_TYPE_BY_SOURCE = {"911": "emergency", "text": "emergency", "admin": "nonEmergency"}


def _ts(value) -> str | None:
    return value.isoformat() if value else None


def _ref(identifier: str) -> dict:
    return {"$ref": identifier}


def agency_eido_id(code: str) -> str:
    return f"{code.lower()}.{settings.PSCC_EIDO_DOMAIN}"


def _pidf_lo(incident: Incident, entity: str) -> str:
    """A minimal PIDF-LO (RFC 4119 / 5139 / 5491) with the point and/or the civic address."""
    parts = []
    if incident.lat is not None and incident.lon is not None:
        parts.append(
            '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{incident.lat:.6f} {incident.lon:.6f}</gml:pos></gml:Point>"
        )
    address = incident.address
    if address is not None:
        civic = [("country", "US"), ("A1", address.state), ("A3", address.community), ("PRD", address.prefix),
                 ("RD", address.street_name), ("STS", address.suffix), ("POD", address.post),
                 ("HNO", str(address.house_number)), ("UNIT", address.unit), ("PC", address.zip),
                 ("NAM", address.place_name)]
        parts.append("<ca:civicAddress>" + "".join(f"<ca:{k}>{escape(v)}</ca:{k}>" for k, v in civic if v)
                     + "</ca:civicAddress>")
    return (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" '
        f"entity={quoteattr('pres:' + entity)}><tuple id=\"incident-location\"><status><gp:geopriv>"
        f"<gp:location-info>{''.join(parts)}</gp:location-info>"
        "<gp:usage-rules/></gp:geopriv></status></tuple></presence>"
    )


def incident_eido(incident: Incident, *, caller_data: bool, narrative: list[NarrativeEntry] | None = None,
                  hazards: list[dict] | None = None, redact=lambda text: text) -> dict:
    """The EIDO of one incident. Without `caller_data` it carries no caller name or callback number
    (no callbackComponent, no personComponent); `redact` is applied to every note's text."""
    from incidents.selectors import hazards_near

    domain = settings.PSCC_EIDO_DOMAIN
    center = settings.PSCC_EIDO_CENTER_ID
    number = incident.number
    now = timezone.now()
    owner = _ref(center)
    incident_id = f"urn:emergency:uid:incidentid:{number}:{domain}"
    call_id = f"urn:emergency:uid:callid:{number}-1:{domain}"
    location_id = f"urn:pscc:location:{number}:incident:{domain}"
    if narrative is None:
        narrative = list(incident.narrative.filter(visible_to_partners=True).order_by("at", "id"))
    if hazards is None:
        hazards = hazards_near(incident.lat, incident.lon, address_id=incident.address_id)
    assignments = list(incident.assignments.select_related("unit__agency").order_by("dispatched_at", "id"))
    stamps = [incident.created_at, incident.received_at, incident.first_dispatched_at, incident.first_en_route_at,
              incident.first_on_scene_at, incident.closed_at, *(e.at for e in narrative)]
    for a in assignments:
        stamps += [a.dispatched_at, a.en_route_at, a.on_scene_at, a.cleared_at]
    last_update = max(s for s in stamps if s)

    def prologue(identifier: str, at=None) -> dict:
        return {"$id": identifier, "lastUpdateTimeStamp": _ts(at or last_update), "updatedByAgencyReference": owner}

    # Agencies: the center, then every agency involved.
    involved: dict[str, object] = {}
    for a in assignments:
        involved.setdefault(a.unit.agency.code, a.unit.agency)
    if incident.esz_id:
        for discipline in incident.call_type.disciplines:
            agency = incident.esz.agency_for(discipline)
            if agency is not None:
                involved.setdefault(agency.code, agency)
    if incident.jurisdiction_agency_id:
        involved.setdefault(incident.jurisdiction_agency.code, incident.jurisdiction_agency)
    agencies = [{**prologue(center), "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
                 "agencyType": ["psap"], "incidentOwningAgencyIndicator": True}]
    for code, agency in sorted(involved.items()):
        kinds = [AGENCY_TYPE.get(d, d) for d in (agency.disciplines or [agency.kind])] or ["other"]
        agencies.append({**prologue(agency_eido_id(code)), "agencyRoleDescriptionRegistryText": ["Responding"],
                         "agencyType": sorted(set(kinds)), "incidentOwningAgencyIndicator": False})

    notes = []
    for entry in narrative:
        notes.append({**prologue(f"urn:pscc:note:{entry.pk}:{domain}", entry.at),
                      "notesActionComments": html_escape(redact(entry.text))})

    cautions = []
    for hazard in hazards:
        caution = {**prologue(f"urn:pscc:caution:{hazard['id']}:{domain}"),
                   "cautionTypeInternalText": hazard["kind_label"], "cautionTypeCommonRegistryText": hazard["kind"],
                   "cautionSeverity": CAUTION_SEVERITY.get(hazard["kind"], "normal"),
                   "cautionSource": center}
        cautions.append(caution)
        notes.append({**prologue(f"urn:pscc:note:caution-{hazard['id']}:{domain}"),
                      "notesActionComments": html_escape(hazard["text"]),
                      "cautionReference": [_ref(caution["$id"])]})

    location = {**prologue(location_id), "locationTypeDescriptionRegistryText": "Incident",
                "locationByValue": _pidf_lo(incident, f"{number}@{domain}")}
    if incident.location_text:
        location["locationDescriptionText"] = incident.location_text
    if incident.address_id:
        location["localIdentifier"] = [f"address:{incident.address_id}"]

    agents, resources, dispatches = [], [], {}
    for a in assignments:
        unit = a.unit
        agency_id = agency_eido_id(unit.agency.code)
        agent_id = f"urn:pscc:agent:{unit.call_sign}:{agency_id}"
        agents.append({**prologue(agent_id), "agentRoleRegistryText": ["Responder"],
                       "agencyReference": _ref(agency_id)})
        status = "cleared" if a.cleared_at else unit.status
        resource = {**prologue(f"urn:pscc:resource:{unit.call_sign}:{agency_id}"),
                    "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPE.get(unit.unit_type, "Other"),
                    "emergencyResourceTypeInternalText": unit.unit_type,
                    "emergencyResourceName": unit.call_sign,
                    "primaryUnitStatusRegistryText": "Cleared" if a.cleared_at else UNIT_STATUS.get(unit.status, "Other"),
                    "secondaryUnitStatusRegistryText": [],
                    "resourceAttributeRegistryText": [],
                    "unitStatusInternal": [status],
                    "agentReference": [_ref(agent_id)]}
        resources.append(resource)
        dispatches.setdefault(agency_id, []).append(_ref(resource["$id"]))

    incident_component = {
        **prologue(incident_id),
        "incidentTypeCommonRegistryText": INCIDENT_TYPE.get(
            (incident.call_type.disciplines or ["law"])[0], "Other"),
        "incidentTypeInternalCode": incident.call_type.code,
        "incidentTypeInternalText": incident.call_type.name,
        "incidentStatusInternalText": [incident.status],
        "incidentStatusCommonRegistryText": [INCIDENT_STATUS.get(incident.status, "Other")],
        "internalIncidentId": number,
        "incidentPriorityInternalText": str(incident.priority),
        "incidentCommonPriorityNumber": int(incident.priority),
        "locationReference": [_ref(location_id)],
        "notesReference": [_ref(n["$id"]) for n in notes],
    }
    if incident.beat_id:
        incident_component["beatOrDispatchGroupText"] = incident.beat.code
    if incident.disposition:
        incident_component["dispositionComponent"] = [{
            **prologue(f"urn:pscc:disposition:{number}:{domain}", incident.closed_at),
            "dispositionCommonRegistryCode": incident.disposition,
            "dispositionPrimaryIndicator": True,
            "dispositionDescriptionText": incident.disposition,
        }]

    call = {
        **prologue(call_id, incident.received_at),
        "standardPrimaryCallType": CALL_TYPE_BY_SOURCE.get(incident.source, "emergency"),
        "localCallType": incident.source,
        "direction": "incoming",
        "callStartTimestamp": _ts(incident.received_at),
        "callStateRegistryText": "callEnd" if incident.status == IncidentStatus.CLOSED else "callAnswered",
        "locationReference": [_ref(location_id)],
    }
    eido = {
        **prologue(incident_id),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": settings.PSCC_EIDO_ISSUING_ELEMENT,
        "agencyComponent": agencies,
        "incidentComponent": incident_component,
        "callComponent": [call],
        "locationComponent": [location],
        "emergencyResourceComponent": resources,
        "agentComponent": agents,
        "dispatchComponent": [
            {**prologue(f"urn:pscc:dispatch:{number}:{agency_id}"), "agencyReference": _ref(agency_id),
             "emergencyResourceReference": refs}
            for agency_id, refs in dispatches.items()
        ],
        "notesComponent": notes,
        "cautionComponent": cautions,
    }
    if caller_data and (incident.callback_number or incident.caller_name):
        person_id = f"urn:pscc:person:{number}:caller:{domain}"
        person = {**prologue(person_id), "personIncidentRoleRegistryText": ["Caller"], "callIdentifier": [call_id],
                  "locationReference": [_ref(location_id)]}
        if incident.caller_name:
            person["ncPersonComponent"] = {"name": [{"personFullName": [{"value": incident.caller_name}]}]}
        if incident.callback_number:
            callback_id = f"urn:pscc:callback:{number}:caller:{domain}"
            digits = "".join(ch for ch in incident.callback_number if ch.isdigit() or ch == "+")
            eido["callbackComponent"] = [{**prologue(callback_id), "callBackInformationUri": [f"tel:{digits}"]}]
            call["callBackReference"] = _ref(callback_id)
            person["callBackReference"] = _ref(callback_id)
        eido["personComponent"] = [person]
        call["personReference"] = [_ref(person_id)]
    eido["lastUpdateTimeStamp"] = _ts(last_update or now)
    return eido
