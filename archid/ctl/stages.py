"""The names ``archid ctl`` shows for the export types and a sync's stages."""

from __future__ import annotations

from archid.records import ExportType

#: the stages of a sync, in the order they run (the portal's steps, then parse and apply)
STAGES = (
    "export",
    "browser",
    "login",
    "page_load",
    "survey",
    "grid",
    "menu",
    "download",
    "parse",
    "apply",
)

#: what the stages are called on screen
STAGE_LABELS = {
    "export": "exporting",
    "browser": "starting Chromium",
    "login": "logging in",
    "page_load": "opening the list",
    "survey": "checking the list for changes",
    "grid": "reading the newest rows",
    "menu": "export menu",
    "download": "downloading the PDF",
    "parse": "parsing",
    "apply": "applying to SQLite",
}

TYPE_NAMES = tuple(t.value for t in ExportType)
