"""The OpenAPI 3.1 document of the public API, served at /api/v1/openapi.json.

`DOCUMENT` is built once, when the module is imported, as a plain dict: it describes every path,
parameter and response of `register.api` exactly as the views answer them (the fields, their
types and which may be null), so a client can be generated from it and the tests can check the
API against it (tests/test_api_schema.py). Its URLs are relative (`servers: /api/v1`), so the
same document serves any host.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from register.api import blueprint

DOCUMENT_MAX_AGE = 3600
REGIONS = ["KG-GB", "KG-GO", "KG-B", "KG-C", "KG-J", "KG-Y", "KG-N", "KG-O", "KG-T"]
ENTRY_STATUSES = ["registered", "suspended", "struck_off"]


def _ref(kind: str, name: str) -> dict[str, str]:
    """A reference to a reusable component (`#/components/<kind>/<name>`)."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    """A reference to a schema of `components/schemas`."""
    return _ref("schemas", name)


def _nullable(kind: str, description: str, **constraints: Any) -> dict[str, Any]:
    """A value of one JSON type that may also be null."""
    return {"type": [kind, "null"], "description": description, **constraints}


def _strings(description: str) -> dict[str, Any]:
    """A list of codes or names (empty when none)."""
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _json(schema_name: str, description: str, **extra: Any) -> dict[str, Any]:
    """A JSON response whose body is the named schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": _schema(schema_name)}},
        **extra,
    }


def _header(name: str) -> dict[str, str]:
    """A reference to a response header of `components/headers`."""
    return _ref("headers", name)


# What a list gives of an entry; an entry (Holder) has these and more.
_SUMMARY_PROPERTIES: dict[str, Any] = {
    "registration_number": {
        "type": "string",
        "description": "The entry's registration number.",
        "examples": ["PDH-2026-000042"],
    },
    "legal_name": {"type": "string", "description": "The holder's full legal name."},
    "short_name": _nullable("string", "The short name, if the holder has one."),
    "tin": _nullable(
        "string",
        "The taxpayer identification number (14 digits); null for an individual entrepreneur, "
        "whose TIN is personal and never published.",
    ),
    "legal_form": _nullable("string", "Code of the legal form (reference list `legal_form`)."),
    "legal_form_label": {
        "type": "string",
        "description": "The legal form in the response's language ('' when there is none).",
    },
    "region": {
        "anyOf": [{"type": "string", "enum": REGIONS}, {"type": "null"}],
        "description": "ISO 3166-2 code of the region (reference list `region`).",
    },
    "region_label": {
        "type": "string",
        "description": "The region in the response's language ('' when there is none).",
    },
    "sector": _nullable("string", "Code of the sector (reference list `sector`)."),
    "sector_label": {
        "type": "string",
        "description": "The sector in the response's language ('' when there is none).",
    },
    "status": {
        "type": "string",
        "enum": ENTRY_STATUSES,
        "description": "The entry's standing in the register.",
    },
    "status_label": {"type": "string", "description": "The status in the response's language."},
    "registered_on": {
        "type": "string",
        "format": "date",
        "description": "Date of the first registration (agency time zone).",
    },
    "updated_on": {
        "type": "string",
        "format": "date",
        "description": "Date of the last publication or change of status.",
    },
    "cross_border": {
        "type": "boolean",
        "description": "Whether any array is transferred to other countries.",
    },
    "special_categories": {
        "type": "boolean",
        "description": "Whether any array holds special categories of personal data.",
    },
    "url": {"type": "string", "format": "uri", "description": "This entry in the API."},
}

_ENTRY_PROPERTIES: dict[str, Any] = {
    **_SUMMARY_PROPERTIES,
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": "Number of the published version.",
    },
    "status_changed_on": _nullable(
        "string", "Date of the last suspension, reinstatement or striking off.", format="date"
    ),
    "subordination": _nullable("string", "The parent body, if any."),
    "legal_address": _nullable("string", "The legal address."),
    "phone": _nullable("string", "The organisation's phone."),
    "email": _nullable("string", "The organisation's e-mail address."),
    "website": _nullable("string", "The organisation's website."),
    "responsible_person": {
        "anyOf": [_schema("ResponsiblePerson"), {"type": "null"}],
        "description": "The person responsible for personal data: only when he or she consents "
        "to the publication of the contact.",
    },
    "arrays": {
        "type": "array",
        "items": _schema("Array"),
        "description": "The personal data arrays, by name.",
    },
    "versions_url": {
        "type": "string",
        "format": "uri",
        "description": "The entry's published versions in the API.",
    },
}

_SCHEMAS: dict[str, Any] = {
    "HolderSummary": {
        "type": "object",
        "description": "An entry as a list gives it.",
        "properties": _SUMMARY_PROPERTIES,
        "required": list(_SUMMARY_PROPERTIES),
        "additionalProperties": False,
    },
    "Holder": {
        "type": "object",
        "description": "A whole public entry: the summary, the organisation's public fields, the "
        "arrays and the version.",
        "properties": _ENTRY_PROPERTIES,
        "required": list(_ENTRY_PROPERTIES),
        "additionalProperties": False,
    },
    "ResponsiblePerson": {
        "type": "object",
        "description": "The contact of the person responsible for personal data.",
        "properties": {
            "full_name": _nullable("string", "Full name."),
            "phone": _nullable("string", "Work phone."),
            "email": _nullable("string", "Work e-mail address."),
        },
        "required": ["full_name", "phone", "email"],
        "additionalProperties": False,
    },
    "Retention": {
        "description": "How long the data are kept: a period, or a condition in words.",
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "value": {"type": "integer", "description": "Number of units."},
                    "unit": {"type": "string", "enum": ["days", "months", "years"]},
                },
                "required": ["value", "unit"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "condition": {
                        "type": "string",
                        "description": "Until when, in words (e.g. until the contract ends).",
                    }
                },
                "required": ["condition"],
                "additionalProperties": False,
            },
        ],
    },
    "Array": {
        "type": "object",
        "description": "A personal data array: what is processed, why, about whom, for how long.",
        "properties": {
            "id": {
                "type": "string",
                "description": "The array's stable id (it never changes across versions).",
            },
            "name": _nullable("string", "The array's name."),
            "purposes": _strings("Codes of the purposes (reference list `purpose`)."),
            "purpose_other": _nullable("string", "Other purposes, in words."),
            "legal_bases": _strings("Codes of the legal bases (reference list `legal_basis`)."),
            "data_items": _strings("Codes of the data collected (reference list `data_item`)."),
            "data_item_other": _nullable("string", "Other data collected, in words."),
            "special_categories": {
                "type": "boolean",
                "description": "Whether the array holds special categories of personal data.",
            },
            "subject_categories": _strings(
                "Codes of the categories of data subjects (reference list `subject_category`)."
            ),
            "subject_bucket": _nullable(
                "string", "Code of the approximate number of data subjects (`subject_bucket`)."
            ),
            "sources": _strings("Codes of the sources of collection (reference list `source`)."),
            "recipient_categories": _strings(
                "Codes of the categories of recipients (reference list `recipient_category`)."
            ),
            "cross_border_countries": _strings(
                "ISO 3166-1 alpha-2 codes of the countries the data are transferred to."
            ),
            "retention": {
                "anyOf": [_schema("Retention"), {"type": "null"}],
                "description": "The retention period, if given.",
            },
            "storage_country": _nullable(
                "string", "ISO 3166-1 alpha-2 code of the country of storage."
            ),
        },
        "required": [
            "id",
            "name",
            "purposes",
            "purpose_other",
            "legal_bases",
            "data_items",
            "data_item_other",
            "special_categories",
            "subject_categories",
            "subject_bucket",
            "sources",
            "recipient_categories",
            "cross_border_countries",
            "retention",
            "storage_country",
        ],
        "additionalProperties": False,
    },
    "Change": {
        "type": "object",
        "description": "One public field that differs from the version before.",
        "properties": {
            "path": {
                "type": "string",
                "description": "The field's stable path: `organisation/<field>`, "
                "`people/responsible/<field>` or `arrays/<array id>/<field>`.",
                "examples": ["organisation/legal_address"],
            },
            "kind": {"type": "string", "enum": ["added", "changed", "removed"]},
            "old": {"description": "The value before (null when added); any JSON value."},
            "new": {"description": "The value after (null when removed); any JSON value."},
        },
        "required": ["path", "kind", "old", "new"],
        "additionalProperties": False,
    },
    "Version": {
        "type": "object",
        "description": "A published version: its number, date, changes and arrays.",
        "properties": {
            "version": {"type": "integer", "minimum": 1, "description": "The version's number."},
            "published_at": {
                "type": "string",
                "format": "date-time",
                "description": "When the version was published (UTC).",
            },
            "changes": {
                "type": "array",
                "items": _schema("Change"),
                "description": "What changed from the version before (empty for the first).",
            },
            "arrays": {
                "type": "array",
                "items": _schema("Array"),
                "description": "The version's personal data arrays.",
            },
        },
        "required": ["version", "published_at", "changes", "arrays"],
        "additionalProperties": False,
    },
    "VersionList": {
        "type": "object",
        "description": "Every published version of an entry, oldest first.",
        "properties": {
            "registration_number": {"type": "string", "description": "The entry's number."},
            "items": {"type": "array", "items": _schema("Version")},
        },
        "required": ["registration_number", "items"],
        "additionalProperties": False,
    },
    "HolderList": {
        "type": "object",
        "description": "One page of entries, in the order of the sort name and number.",
        "properties": {
            "items": {"type": "array", "items": _schema("HolderSummary")},
            "next_cursor": _nullable(
                "string", "Pass as `cursor` for the next page; null on the last page."
            ),
        },
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
    },
    "Verification": {
        "type": "object",
        "description": "What a certificate's code says about the entry.",
        "properties": {
            "code": {"type": "string", "description": "The certificate's code."},
            "status": {
                "type": "string",
                "enum": ["valid", "superseded", "suspended", "struck_off"],
                "description": "valid; superseded by a newer version; or the entry is "
                "suspended or struck off.",
            },
            "status_label": {"type": "string", "description": "The status in words."},
            "registration_number": {"type": "string", "description": "The entry's number."},
            "legal_name": {"type": "string", "description": "The holder's legal name."},
            "entry_status": {
                "type": "string",
                "enum": ENTRY_STATUSES,
                "description": "The entry's current standing.",
            },
            "certificate_version": {
                "type": "integer",
                "minimum": 1,
                "description": "The version the certificate was issued for.",
            },
            "current_version": {
                "type": "integer",
                "minimum": 1,
                "description": "The entry's published version now.",
            },
            "registered_on": {"type": "string", "format": "date"},
            "issued_at": {"type": "string", "format": "date-time"},
            "verification_url": {
                "type": "string",
                "format": "uri",
                "description": "The public verification page of the certificate.",
            },
        },
        "required": [
            "code",
            "status",
            "status_label",
            "registration_number",
            "legal_name",
            "entry_status",
            "certificate_version",
            "current_version",
            "registered_on",
            "issued_at",
            "verification_url",
        ],
        "additionalProperties": False,
    },
    "Problem": {
        "type": "object",
        "description": "An error, as RFC 9457 problem details.",
        "properties": {
            "type": {"type": "string", "description": "Always `about:blank`."},
            "title": {"type": "string", "description": "The kind of error, in words."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "What was wrong with this request."},
            "invalid-params": {
                "type": "array",
                "description": "The parameter that was refused (400 only).",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "The parameter's name."},
                        "reason": {"type": "string", "description": "Why it was refused."},
                    },
                    "required": ["name", "reason"],
                    "additionalProperties": False,
                },
            },
            "incident_id": {
                "type": "string",
                "description": "Quote it to the agency (server errors only).",
            },
        },
        "required": ["type", "title", "status"],
    },
}

_PARAMETERS: dict[str, Any] = {
    "q": {
        "name": "q",
        "in": "query",
        "description": "Words of the name (Kyrgyz or Russian, any case; a word of 3 letters or "
        "more also matches as a prefix), or a whole TIN or registration number, which finds "
        "that entry exactly.",
        "schema": {"type": "string", "maxLength": 200},
        "example": "Ала-Тоо",  # noqa: RUF001 - a Kyrgyz name
    },
    "tin": {
        "name": "tin",
        "in": "query",
        "description": "Only the entry with this TIN (14 digits).",
        "schema": {"type": "string", "pattern": "^[0-9]{14}$"},
    },
    "region": {
        "name": "region",
        "in": "query",
        "description": "Only entries in this region: an ISO 3166-2 code of the reference list "
        "`region`.",
        "schema": {"type": "string", "enum": REGIONS},
    },
    "sector": {
        "name": "sector",
        "in": "query",
        "description": "Only entries in this sector: a code of the reference list `sector` "
        "(e.g. `it`, `health`, `education`); any other value is a 400.",
        "schema": {"type": "string", "maxLength": 40},
    },
    "status": {
        "name": "status",
        "in": "query",
        "description": "Only entries with this status.",
        "schema": {"type": "string", "enum": ENTRY_STATUSES},
    },
    "cross_border": {
        "name": "cross_border",
        "in": "query",
        "description": "Only entries that do (true) or do not (false) transfer data abroad.",
        "schema": {"type": "boolean"},
    },
    "special_categories": {
        "name": "special_categories",
        "in": "query",
        "description": "Only entries that do (true) or do not (false) hold special categories "
        "of personal data.",
        "schema": {"type": "boolean"},
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "description": "Opaque: the `next_cursor` of the page before. Anything else is a 400.",
        "schema": {"type": "string"},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "How many entries a page holds.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    "registration_number": {
        "name": "registration_number",
        "in": "path",
        "required": True,
        "description": "The entry's registration number (any case).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 40},
        "example": "PDH-2026-000042",
    },
    "code": {
        "name": "code",
        "in": "path",
        "required": True,
        "description": "The code printed on the certificate.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "description": "The ETag of a copy the client has: 304 when it is still current.",
        "schema": {"type": "string"},
    },
    "Accept-Language": {
        "name": "Accept-Language",
        "in": "header",
        "description": "The language of the labels: ky, ru or en.",
        "schema": {"type": "string"},
        "example": "ru",
    },
}

_HEADERS: dict[str, Any] = {
    "Access-Control-Allow-Origin": {
        "description": "Any web page may read the API.",
        "required": True,
        "schema": {"type": "string", "const": "*"},
    },
    "ETag": {
        "description": "The entry's version in this language; send it back in If-None-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
    },
    "EntryCacheControl": {
        "description": "Shared caches may keep an entry for 5 minutes.",
        "required": True,
        "schema": {"type": "string", "const": "public, max-age=300"},
    },
    "Vary": {
        "description": "Labels follow the language.",
        "required": True,
        "schema": {"type": "string"},
    },
}

_ENTRY_HEADERS = {
    "ETag": _header("ETag"),
    "Cache-Control": _header("EntryCacheControl"),
    "Vary": _header("Vary"),
    "Access-Control-Allow-Origin": _header("Access-Control-Allow-Origin"),
}


def _cache_control(value: str, description: str) -> dict[str, Any]:
    """A Cache-Control response header with one fixed value."""
    return {
        "description": description,
        "required": True,
        "schema": {"type": "string", "const": value},
    }


def _problem(description: str, *, cors: bool = True) -> dict[str, Any]:
    """A problem+json response."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": _schema("Problem")}},
    }
    if cors:
        response["headers"] = {
            "Access-Control-Allow-Origin": _header("Access-Control-Allow-Origin")
        }
    return response


_RESPONSES: dict[str, Any] = {
    "BadParameter": _problem("A parameter cannot be used; `invalid-params` names it and says why."),
    # Also the answer to a path that matches no route (there the CORS header is not added).
    "NotFound": _problem("No entry has this registration number.", cors=False),
    "NotModified": {
        "description": "The copy named by If-None-Match is current (no body).",
        "headers": _ENTRY_HEADERS,
    },
    "ServiceUnavailable": _problem(
        "The register cannot reach its database; try again in a few minutes.", cors=False
    ),
}

DESCRIPTION = """\
The public Register of Personal Data Holders of the Kyrgyz Republic, as JSON.

Everything here is public and read-only (GET only); no authentication. Any web page may read \
it (`Access-Control-Allow-Origin: *`).

* **Lists** page by cursor: pass the `next_cursor` of a page as `cursor` to get the next one, \
until it is null. The order (by normalised name, then number) is stable, so paging is as deep \
as you like.
* **Entries** and their **versions** carry an `ETag` and `Cache-Control: public, max-age=300`; \
send the ETag back in `If-None-Match` to get `304 Not Modified` while nothing has changed.
* **Labels** (`*_label`) follow `Accept-Language` (ky, ru, en); codes never change.
* **Errors** are RFC 9457 problem details (`application/problem+json`): a parameter that \
cannot be used is a 400 whose `invalid-params` names it; an unknown number or code is a 404.
"""

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Register of Personal Data Holders: public API",
        "version": "1.0.0",
        "description": DESCRIPTION,
    },
    "servers": [{"url": "/api/v1", "description": "This host."}],
    "tags": [
        {"name": "holders", "description": "The register's entries."},
        {"name": "certificates", "description": "Checking a registration certificate."},
        {"name": "meta", "description": "This document."},
    ],
    "paths": {
        "/holders": {
            "get": {
                "operationId": "listHolders",
                "tags": ["holders"],
                "summary": "Search the register",
                "description": "Entries matching every filter given, `limit` at a time, in the "
                "order of the sort name and the registration number.",
                "parameters": [
                    _ref("parameters", name)
                    for name in (
                        "q",
                        "tin",
                        "region",
                        "sector",
                        "status",
                        "cross_border",
                        "special_categories",
                        "cursor",
                        "limit",
                        "Accept-Language",
                    )
                ],
                "responses": {
                    "200": _json(
                        "HolderList",
                        "One page of entries.",
                        headers={
                            "Cache-Control": _cache_control(
                                "public, max-age=60", "Shared caches may keep a page a minute."
                            ),
                            "Access-Control-Allow-Origin": _header("Access-Control-Allow-Origin"),
                        },
                    ),
                    "400": _ref("responses", "BadParameter"),
                    "503": _ref("responses", "ServiceUnavailable"),
                },
            }
        },
        "/holders/{registration_number}": {
            "get": {
                "operationId": "getHolder",
                "tags": ["holders"],
                "summary": "One entry",
                "description": "The whole public entry, with its arrays and version.",
                "parameters": [
                    _ref("parameters", "registration_number"),
                    _ref("parameters", "If-None-Match"),
                    _ref("parameters", "Accept-Language"),
                ],
                "responses": {
                    "200": _json("Holder", "The entry.", headers=_ENTRY_HEADERS),
                    "304": _ref("responses", "NotModified"),
                    "404": _ref("responses", "NotFound"),
                    "503": _ref("responses", "ServiceUnavailable"),
                },
            }
        },
        "/holders/{registration_number}/versions": {
            "get": {
                "operationId": "listHolderVersions",
                "tags": ["holders"],
                "summary": "An entry's history",
                "description": "Every published version of the entry, oldest first, with what "
                "changed in each.",
                "parameters": [
                    _ref("parameters", "registration_number"),
                    _ref("parameters", "If-None-Match"),
                    _ref("parameters", "Accept-Language"),
                ],
                "responses": {
                    "200": _json("VersionList", "The versions.", headers=_ENTRY_HEADERS),
                    "304": _ref("responses", "NotModified"),
                    "404": _ref("responses", "NotFound"),
                    "503": _ref("responses", "ServiceUnavailable"),
                },
            }
        },
        "/verify/{code}": {
            "get": {
                "operationId": "verifyCertificate",
                "tags": ["certificates"],
                "summary": "Check a certificate",
                "description": "Whether the certificate with this code is valid, superseded by a "
                "newer version, or its entry suspended or struck off.",
                "parameters": [_ref("parameters", "code"), _ref("parameters", "Accept-Language")],
                "responses": {
                    "200": _json(
                        "Verification",
                        "What the certificate says.",
                        headers={
                            "Cache-Control": _cache_control(
                                "no-cache", "The answer can change at any time."
                            ),
                            "Access-Control-Allow-Origin": _header("Access-Control-Allow-Origin"),
                        },
                    ),
                    "404": _problem("No certificate has this code.", cors=False),
                    "503": _ref("responses", "ServiceUnavailable"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "tags": ["meta"],
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document of the API.",
                        "headers": {
                            "Cache-Control": _cache_control(
                                f"public, max-age={DOCUMENT_MAX_AGE}",
                                "Shared caches may keep it an hour.",
                            ),
                            "Access-Control-Allow-Origin": _header("Access-Control-Allow-Origin"),
                        },
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["openapi", "info", "paths"],
                                }
                            }
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": _SCHEMAS,
        "parameters": _PARAMETERS,
        "responses": _RESPONSES,
        "headers": _HEADERS,
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI document (built once at import; callers must not change it)."""
    return DOCUMENT


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The document itself, cacheable for an hour."""
    response = jsonify(document())
    response.headers["Cache-Control"] = f"public, max-age={DOCUMENT_MAX_AGE}"
    return response
