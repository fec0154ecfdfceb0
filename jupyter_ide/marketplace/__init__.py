"""The extension store: signed packages with declared permissions, per-user installs.

HTTP API under /ide/api/marketplace (handlers.py; permissions marketplace:use for everyone,
marketplace:publish for instructors and admins, marketplace:admin for admins):

- ``GET packages?q=&category=&sort=downloads|rating|date|name&limit=&offset=``: search.
- ``POST packages?signature=<base64>&key=<key id>``: publish; the body is the archive (a zip
  with manifest.json, a .vsix, or an npm .tgz of a declarative VS Code package). The
  signature is Ed25519 over ``signing.CONTEXT + sha256 hex`` of the body.
- ``GET packages/<ns.name>``: detail, versions, permissions, integrity hashes.
- ``GET packages/<ns.name>/versions/<v>/download``: the archive (Digest, X-Content-SHA256).
- ``POST|DELETE packages/<ns.name>/versions/<v>/yank``; ``PUT packages/<ns.name>/rating``.
- ``GET|POST publishers``; ``PATCH publishers/<ns>`` (admins: status, forbidden_permissions);
  ``POST publishers/<ns>/keys``; ``DELETE publishers/<ns>/keys/<key id>`` (revoke).
- ``GET quarantine?status=``; ``PATCH quarantine/<id>`` (reviewed); ``POST
  quarantine/<id>/release`` (publish after review); ``POST quarantine/<id>/reject`` {note?}
  (admins). Uploads a review may release keep their bytes (``<packages>/quarantine``).
- ``GET|POST installs``; ``PATCH|DELETE installs/<ns.name>``;
  ``POST installs/<ns.name>/calls`` (the runtime's permission check, runtime_api.py).
- ``GET lists``; ``PUT|DELETE lists/allow|block/<namespace or ns.name>`` (admins).
- ``GET courses/<course>/extensions``; ``PUT|DELETE courses/<course>/extensions/<ns.name>``.

Packages are kept in the IDE's blob store (``MarketplaceSettings.storage_url``, by default the
IDE's storage with ``/marketplace`` added); every change is written to the audit log.
Example packages and their build: ``python -m jupyter_ide.marketplace.examples build``.
"""
